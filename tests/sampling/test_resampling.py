"""Tests for skinlesion.Rebalancer: class balancing by resampling indices."""

from __future__ import annotations

import pickle
from collections import Counter

import numpy as np
import pytest
from sklearn.base import clone

from skinlesion import Rebalancer
from skinlesion.images import list_image_files


def _data(counts: dict[str, int], size: int = 8, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = np.array([c for c, n in counts.items() for _ in range(n)])
    X = rng.integers(0, 256, size=(len(y), size, size, 3), dtype=np.uint8)
    return X, y


COUNTS = {"melanoma": 3, "nevus": 9, "seborrheic keratosis": 5}


def test_auto_over_sampling_equalises_classes_with_rows_of_the_input():
    X, y = _data(COUNTS)
    sampler = Rebalancer(random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    assert Counter(y_res) == {"melanoma": 9, "nevus": 9, "seborrheic keratosis": 9}
    np.testing.assert_array_equal(X_res, X[sampler.sample_indices_])
    np.testing.assert_array_equal(y_res, y[sampler.sample_indices_])
    # over-sampling keeps every original image
    assert set(sampler.sample_indices_) == set(range(len(y)))
    assert sampler.sampling_strategy_ == {"melanoma": 9, "nevus": 9, "seborrheic keratosis": 9}


def test_under_sampling_drops_images_without_repeating_any():
    X, y = _data(COUNTS)
    sampler = Rebalancer(method="under", random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    assert Counter(y_res) == {"melanoma": 3, "nevus": 3, "seborrheic keratosis": 3}
    assert len(set(sampler.sample_indices_)) == len(sampler.sample_indices_)
    np.testing.assert_array_equal(X_res, X[sampler.sample_indices_])


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("over", {"melanoma": 5, "nevus": 9, "seborrheic keratosis": 5}),
        ("under", {"melanoma": 3, "nevus": 5, "seborrheic keratosis": 5}),
        ("both", {"melanoma": 5, "nevus": 5, "seborrheic keratosis": 5}),
    ],
)
def test_int_target_means_at_least_at_most_or_exactly(method, expected):
    X, y = _data(COUNTS)
    _, y_res = Rebalancer(5, method=method, random_state=0).fit_resample(X, y)
    assert Counter(y_res) == expected


def test_dict_strategy_sets_named_classes_and_leaves_the_others():
    X, y = _data(COUNTS)
    _, y_res = Rebalancer({"melanoma": 7}, random_state=0).fit_resample(X, y)
    assert Counter(y_res) == {"melanoma": 7, "nevus": 9, "seborrheic keratosis": 5}
    _, y_res = Rebalancer({"melanoma": 6, "nevus": 4}, method="both", random_state=0).fit_resample(
        X, y
    )
    assert Counter(y_res) == {"melanoma": 6, "nevus": 4, "seborrheic keratosis": 5}


def test_path_list_stays_a_path_list(tmp_path):
    paths = [str(tmp_path / f"img{i}.jpg") for i in range(6)]  # never opened
    y = ["nevus"] * 4 + ["melanoma"] * 2
    sampler = Rebalancer(random_state=0)
    X_res, y_res = sampler.fit_resample(paths, y)
    assert isinstance(X_res, list)
    assert isinstance(y_res, list)
    assert all(isinstance(p, str) for p in X_res)
    assert X_res == [paths[i] for i in sampler.sample_indices_]
    assert Counter(y_res) == {"nevus": 4, "melanoma": 4}
    # an object array of paths gives an array back
    X_arr, _ = Rebalancer(random_state=0).fit_resample(np.array(paths, dtype=object), y)
    assert isinstance(X_arr, np.ndarray)
    assert X_arr.tolist() == X_res


@pytest.mark.parametrize("dtype", [np.float32, np.uint16, np.uint8])
def test_input_dtype_and_channels_are_kept(dtype):
    X, y = _data(COUNTS)
    X = (X[..., :1] / 255.0).astype(dtype) if dtype == np.float32 else X.astype(dtype)
    X_res, _ = Rebalancer(random_state=0).fit_resample(X, y)
    assert X_res.dtype == X.dtype
    assert X_res.shape[1:] == X.shape[1:]


def test_user_data_is_not_modified():
    X, y = _data(COUNTS)
    X_before, y_before = X.copy(), y.copy()
    X_res, _ = Rebalancer(random_state=0).fit_resample(X, y)
    X_res[:] = 0
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)


def test_random_state_makes_it_repeatable_and_seeds_differ():
    X, y = _data(COUNTS)
    first = Rebalancer(random_state=1).fit_resample(X, y)[0]
    again = Rebalancer(random_state=1).fit_resample(X, y)[0]
    other = Rebalancer(random_state=2).fit_resample(X, y)[0]
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_labels_keep_their_type():
    pd = pytest.importorskip("pandas")
    X, y = _data(COUNTS)
    series = pd.Series(y, name="diagnosis")
    _, y_res = Rebalancer(random_state=0).fit_resample(X, series)
    assert isinstance(y_res, pd.Series)
    assert y_res.name == "diagnosis"
    _, y_int = Rebalancer(random_state=0).fit_resample(X, (y == "nevus").astype(np.int32))
    assert y_int.dtype == np.int32


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sampling_strategy": {"melanomma": 10}}, r"not in y.*'melanoma'"),
        ({"sampling_strategy": {"nevus": 4}}, r"below the 9 images.*only adds"),
        ({"sampling_strategy": {"melanoma": 5}, "method": "under"}, r"above the 3 images"),
        ({"sampling_strategy": {"melanoma": 0}, "method": "both"}, "empty"),
        ({"sampling_strategy": {"melanoma": 2.5}}, "whole number"),
        ({"sampling_strategy": "auto", "method": "both"}, "needs target counts"),
        ({"sampling_strategy": True}, "not a strategy"),
        ({"sampling_strategy": -3}, "sampling_strategy"),
        ({"sampling_strategy": "balanced"}, "sampling_strategy"),
        ({"method": "smote"}, "method"),
    ],
)
def test_bad_strategies_give_clear_errors(kwargs, message):
    X, y = _data(COUNTS)
    with pytest.raises(ValueError, match=message):
        Rebalancer(**kwargs).fit_resample(X, y)


def test_bad_input_gives_clear_errors():
    X, y = _data(COUNTS)
    with pytest.raises(ValueError, match="one class only"):
        Rebalancer().fit_resample(X[:4], ["nevus"] * 4)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        Rebalancer().fit_resample(X, y[:-1])
    with pytest.raises(ValueError, match="one class label per image"):
        Rebalancer().fit_resample(X, np.eye(3)[np.arange(len(y)) % 3])
    with pytest.raises(ValueError, match="requires y to be passed"):
        Rebalancer().fit_resample(X, None)
    with pytest.raises(ValueError, match="4-D"):
        Rebalancer().fit_resample(X.reshape(len(X), -1), y)
    with pytest.raises(ValueError, match="empty"):
        Rebalancer().fit_resample(np.empty((0, 8, 8, 3), dtype=np.uint8), [])


def test_one_class_with_an_int_target_is_fine():
    X, _ = _data({"nevus": 3})
    _, y_res = Rebalancer(5, random_state=0).fit_resample(X, ["nevus"] * 3)
    assert len(y_res) == 5


def test_clone_and_pickle_keep_parameters_and_results():
    X, y = _data(COUNTS)
    sampler = Rebalancer({"melanoma": 4}, method="both", random_state=3)
    twin = clone(sampler)
    assert twin.get_params() == sampler.get_params()
    sampler.fit_resample(X, y)
    restored = pickle.loads(pickle.dumps(sampler))
    np.testing.assert_array_equal(restored.sample_indices_, sampler.sample_indices_)
    np.testing.assert_array_equal(restored.fit_resample(X, y)[0], sampler.fit_resample(X, y)[0])


def test_has_no_transform_outside_a_scikit_learn_pipeline():
    # imbalanced-learn's Pipeline refuses steps with both fit_resample and transform
    assert not hasattr(Rebalancer(), "transform")
    assert hasattr(Rebalancer(), "fit_resample")


@pytest.mark.realdata
def test_isic9_seborrheic_keratosis_grows_to_the_largest_class(shared_data):
    root = shared_data / "isic9" / "Train"
    if not root.is_dir():
        pytest.skip(f"{root} not found")
    paths, y = [], []
    for name in ["seborrheic keratosis", "pigmented benign keratosis"]:
        files = list_image_files(root / name)
        paths += [str(p) for p in files]
        y += [name] * len(files)
    X_res, y_res = Rebalancer(random_state=0).fit_resample(paths, y)
    assert Counter(y_res) == {"seborrheic keratosis": 462, "pigmented benign keratosis": 462}
    assert set(X_res) == set(paths)  # only the user's files, no pixels read or written


@pytest.mark.parametrize(
    ("old", "name", "new"),
    [
        ("skinlesion.resampling", "Rebalancer", "skinlesion.sampling._rebalancer"),
        ("skinlesion.augmentation", "Augmenter", "skinlesion.sampling._augmenter"),
    ],
)
def test_the_old_module_paths_still_import_and_unpickle_the_samplers(old, name, new):
    import importlib

    import skinlesion

    cls = getattr(importlib.import_module(old), name)
    assert cls is getattr(skinlesion, name)
    # a pickle written before the sampling/ package names the old module
    data = pickle.dumps(cls(random_state=3), protocol=2)
    assert new.encode() in data
    restored = pickle.loads(data.replace(new.encode(), old.encode()))
    assert type(restored) is cls and restored.random_state == 3
