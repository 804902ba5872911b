"""Tests for skinlesion.Augmenter: Augmentor's operations as a seeded sampler."""

from __future__ import annotations

import pickle
import random
from collections import Counter

import numpy as np
import pytest
from PIL import Image
from sklearn.base import clone

from skinlesion import Augmenter
from skinlesion.augmentation import OPERATIONS
from skinlesion.images import list_image_files


def _data(counts: dict[str, int], size: int = 16, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = np.array([c for c, n in counts.items() for _ in range(n)])
    # smooth random images, so that geometric operations change pixels measurably
    X = rng.integers(0, 256, size=(len(y), size // 4, size // 4, 3), dtype=np.uint8)
    X = np.repeat(np.repeat(X, 4, axis=1), 4, axis=2)
    return X, y


COUNTS = {"melanoma": 2, "nevus": 6}
RECIPE = {"rotate": 10, "flip": True, "zoom": 0.2}


def test_perturbing_replaces_every_image_and_keeps_shape_and_dtype():
    X, y = _data(COUNTS)
    augmenter = Augmenter(**RECIPE, probability=1.0, random_state=0)
    X_res, y_res = augmenter.fit_resample(X, y)
    assert X_res.shape == X.shape
    assert X_res.dtype == np.uint8
    np.testing.assert_array_equal(y_res, y)
    np.testing.assert_array_equal(augmenter.sample_indices_, np.arange(len(y)))
    assert augmenter.sampling_strategy_ is None
    changed = [not np.array_equal(a, b) for a, b in zip(X_res, X, strict=True)]
    assert all(changed)


def test_growing_classes_keeps_originals_and_adds_new_images():
    X, y = _data(COUNTS)
    augmenter = Augmenter(**RECIPE, sampling_strategy=5, random_state=0)
    X_res, y_res = augmenter.fit_resample(X, y)
    assert Counter(y_res) == {"melanoma": 5, "nevus": 6}
    n = len(y)
    np.testing.assert_array_equal(X_res[:n], X)  # originals first, untouched
    sources = augmenter.sample_indices_
    np.testing.assert_array_equal(sources[:n], np.arange(n))
    np.testing.assert_array_equal(y_res, y[sources])
    # every new image is made from an image of its own class, and is not a copy of it
    for new, source in zip(X_res[n:], sources[n:], strict=True):
        assert not np.array_equal(new, X[source])


def test_auto_grows_every_class_to_the_largest():
    X, y = _data(COUNTS)
    _, y_res = Augmenter(rotate=5, sampling_strategy="auto", random_state=0).fit_resample(X, y)
    assert Counter(y_res) == {"melanoma": 6, "nevus": 6}


def test_notebook_recipe_bring_every_class_to_a_count_in_one_line():
    X, y = _data({"melanoma": 3, "nevus": 7, "seborrheic keratosis": 1})
    X_res, y_res = Augmenter(
        rotate=10, flip=True, zoom=0.2, sampling_strategy=8, random_state=0
    ).fit_resample(X, y)
    assert Counter(y_res) == {"melanoma": 8, "nevus": 8, "seborrheic keratosis": 8}
    assert X_res.shape == (24, *X.shape[1:])


def test_randomness_comes_from_random_state_only():
    X, y = _data(COUNTS)
    augmenter = Augmenter(**RECIPE, distortion=2, skew=0.3, brightness=0.3, random_state=7)
    random.seed(1)
    np.random.seed(1)  # noqa: NPY002 (the global state is the point)
    expected_globals = (random.random(), np.random.random())  # noqa: NPY002
    random.seed(1)
    np.random.seed(1)  # noqa: NPY002 (the global state is the point)
    first = augmenter.fit_resample(X, y)[0]
    # the caller's global generators were neither read nor advanced
    assert (random.random(), np.random.random()) == expected_globals  # noqa: NPY002
    random.seed(12345)
    np.random.seed(54321)  # noqa: NPY002
    again = augmenter.fit_resample(X, y)[0]
    np.testing.assert_array_equal(first, again)
    other = clone(augmenter).set_params(random_state=8).fit_resample(X, y)[0]
    assert not np.array_equal(first, other)


def test_threads_do_not_change_the_output():
    X, y = _data({"melanoma": 5, "nevus": 20})
    params = {**RECIPE, "distortion": 2, "brightness": 0.3, "sampling_strategy": "auto"}
    serial = Augmenter(**params, random_state=0).fit_resample(X, y)[0]
    threaded = Augmenter(**params, n_jobs=2, random_state=0).fit_resample(X, y)[0]
    np.testing.assert_array_equal(serial, threaded)


def test_augmentor_module_is_restored_afterwards():
    import Augmentor.Operations

    X, y = _data(COUNTS)
    Augmenter(**RECIPE, random_state=0).fit_resample(X, y)
    assert Augmentor.Operations.random is random
    assert Augmentor.Operations.np is np


def test_augmentor_used_directly_meanwhile_keeps_the_global_generators():
    import Augmentor.Operations

    from skinlesion._compat import augmentor_own_randomness

    with augmentor_own_randomness():  # as while an Augmenter runs in another thread
        random.seed(3)
        drawn = Augmentor.Operations.random.random()
        assert Augmentor.Operations.np.random is np.random
    random.seed(3)
    assert drawn == random.random()


def test_random_state_instance_gives_fresh_images_each_call():
    X, y = _data(COUNTS)
    augmenter = Augmenter(**RECIPE, random_state=np.random.RandomState(0))
    first = augmenter.fit_resample(X, y)[0]
    second = augmenter.fit_resample(X, y)[0]
    assert not np.array_equal(first, second)


@pytest.mark.parametrize(
    "params",
    [
        {"rotate": 15},
        {"flip": True},
        {"zoom": 0.5},
        {"crop": 0.5},
        {"distortion": 3},
        {"skew": 0.5},
        {"brightness": 0.5},
        {"contrast": 0.5},
        {"color": 0.5},
    ],
    ids=lambda p: next(iter(p)),
)
def test_each_operation_changes_images_and_keeps_their_size(params):
    X, y = _data(COUNTS, size=32)
    X_res, _ = Augmenter(**params, probability=1.0, random_state=0).fit_resample(X, y)
    assert X_res.shape == X.shape
    assert np.mean([not np.array_equal(a, b) for a, b in zip(X_res, X, strict=True)]) > 0.5


@pytest.mark.parametrize(
    ("flip", "expected"),
    [("horizontal", lambda X: X[:, :, ::-1]), ("vertical", lambda X: X[:, ::-1])],
)
def test_flips_are_the_mirror_images(flip, expected):
    X, y = _data(COUNTS)
    X_res, _ = Augmenter(flip=flip, probability=1.0, random_state=0).fit_resample(X, y)
    np.testing.assert_array_equal(X_res, expected(X))


def test_probability_zero_disables_an_operation_and_dict_sets_it_per_operation():
    X, y = _data(COUNTS)
    X_res, _ = Augmenter(
        flip="horizontal",
        brightness=0.5,
        probability={"brightness": 0.0, "flip": 1.0},
        random_state=0,
    ).fit_resample(X, y)
    np.testing.assert_array_equal(X_res, X[:, :, ::-1])


def test_float_grayscale_and_rgba_inputs_keep_dtype_and_channels():
    X, y = _data(COUNTS)
    X_float = (X / 255.0).astype(np.float32)
    out, _ = Augmenter(rotate=10, sampling_strategy="auto", random_state=0).fit_resample(X_float, y)
    assert out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    np.testing.assert_array_equal(out[: len(X)], X_float)
    gray, _ = Augmenter(rotate=10, random_state=0).fit_resample(X[..., :1], y)
    assert gray.shape == (*X.shape[:3], 1)
    rgba = np.concatenate([X, np.full((*X.shape[:3], 1), 255, np.uint8)], axis=-1)
    out, _ = Augmenter(rotate=10, sampling_strategy="auto", random_state=0).fit_resample(rgba, y)
    assert out.shape[-1] == 3  # alpha is dropped, as everywhere in skinlesion


def test_user_data_is_not_modified():
    X, y = _data(COUNTS)
    X_before = X.copy()
    Augmenter(**RECIPE, sampling_strategy="auto", random_state=0).fit_resample(X, y)
    np.testing.assert_array_equal(X, X_before)


def test_path_list_gives_a_uint8_array_at_image_size(tmp_path):
    X, y = _data(COUNTS, size=20)
    paths = []
    for i, image in enumerate(X):
        path = tmp_path / f"lesion{i}.png"
        Image.fromarray(image).save(path)
        paths.append(str(path))
    augmenter = Augmenter(**RECIPE, sampling_strategy="auto", image_size=12, random_state=0)
    X_res, y_res = augmenter.fit_resample(paths, list(y))
    assert isinstance(X_res, np.ndarray)
    assert X_res.shape == (12, 12, 12, 3)
    assert X_res.dtype == np.uint8
    assert isinstance(y_res, list)
    assert Counter(y_res) == {"melanoma": 6, "nevus": 6}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"rotate": 40}, r"rotate=40.*at most 25"),
        ({"crop": 0.95}, r"crop=0.95.*between 0 and 0.9"),
        ({"skew": 1.5}, r"skew=1.5"),
        ({"brightness": 1.5}, r"brightness=1.5"),
        ({"rotate": -5}, "'rotate' parameter"),
        ({"zoom": -0.2}, "'zoom' parameter"),
        ({"rotate": 10.5}, "'rotate' parameter"),
        ({"contrast": -0.1}, "'contrast' parameter"),
        ({"rotate": 10, "probability": -0.5}, "'probability' parameter"),
        ({"rotate": 10, "probability": 1.5}, "'probability' parameter"),
        ({"rotate": 10, "probability": {"rotation": 0.5}}, r"unknown operation.*'rotate'"),
        ({"rotate": 10, "probability": {"rotate": -1}}, "not a probability"),
        ({"flip": "diagonal"}, "'flip' parameter"),
        ({}, "no operation enabled"),
        ({"rotate": 10, "probability": 0.0}, "no operation enabled"),
        ({"distortion": 2, "distortion_grid": 40}, "distortion_grid=40"),
        ({"rotate": 5, "sampling_strategy": {"melanoma": 1}}, "below the 2 images"),
        ({"rotate": 5, "sampling_strategy": {"basal cell": 9}}, "not in y"),
    ],
)
def test_bad_parameters_give_clear_errors_at_fit(params, message):
    X, y = _data(COUNTS)
    augmenter = Augmenter(**params)  # __init__ only stores
    with pytest.raises(ValueError, match=message):
        augmenter.fit_resample(X, y)


def test_a_broken_augmentor_operation_is_reported_at_fit(monkeypatch):
    import Augmentor.Operations

    def broken(self, images):
        raise AttributeError("module 'PIL.Image' has no attribute 'BICUBIC'")

    monkeypatch.setattr(Augmentor.Operations.Zoom, "perform_operation", broken)
    X, y = _data(COUNTS)
    with pytest.raises(ValueError, match=r"Zoom operation fails with Pillow .*Set zoom"):
        Augmenter(zoom=0.2, random_state=0).fit_resample(X, y)


def test_clone_and_pickle():
    X, y = _data(COUNTS)
    augmenter = Augmenter(**RECIPE, probability={"rotate": 0.9}, random_state=0)
    assert clone(augmenter).get_params() == augmenter.get_params()
    restored = pickle.loads(pickle.dumps(augmenter))
    np.testing.assert_array_equal(restored.fit_resample(X, y)[0], augmenter.fit_resample(X, y)[0])


def test_operation_names_are_the_parameters():
    params = Augmenter().get_params()
    assert all(name in params for name in OPERATIONS)
    assert not hasattr(Augmenter(), "transform")


@pytest.mark.realdata
def test_grows_isic9_minority_classes_from_files(shared_data):
    root = shared_data / "isic9" / "Train"
    if not root.is_dir():
        pytest.skip(f"{root} not found")
    paths, y = [], []
    for name in ["seborrheic keratosis", "dermatofibroma"]:
        files = list_image_files(root / name)[:6]
        paths += [str(p) for p in files]
        y += [name] * len(files)
    X_res, y_res = Augmenter(
        rotate=10, flip=True, zoom=0.2, sampling_strategy=10, image_size=32, random_state=0
    ).fit_resample(paths, y)
    assert X_res.shape == (20, 32, 32, 3)
    assert Counter(y_res) == {"seborrheic keratosis": 10, "dermatofibroma": 10}
