"""Tests for skinlesion.datasets.make_lesions."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.utils import Bunch

from skinlesion.datasets import LESION_CLASSES, make_lesions


def test_shapes_dtypes_and_labels():
    X, y = make_lesions(n_samples=30, image_size=32, random_state=0)
    assert X.shape == (30, 32, 32, 3)
    assert X.dtype == np.uint8
    assert y.shape == (30,)
    assert y.dtype.kind == "U"
    assert set(y) == {"melanoma", "nevus", "seborrheic keratosis"}
    # the images use the intensity range and are not constant
    assert X.std() > 10
    assert X.max() > 150


def test_rectangular_size_and_seven_classes():
    X, y = make_lesions(n_samples=21, n_classes=7, image_size=(24, 40), random_state=0)
    assert X.shape == (21, 24, 40, 3)
    assert set(y) == set(LESION_CLASSES)
    assert [int((y == c).sum()) for c in LESION_CLASSES] == [3] * 7


def test_repeatable_with_random_state_and_different_without():
    X1, y1 = make_lesions(n_samples=12, image_size=16, random_state=3)
    X2, y2 = make_lesions(n_samples=12, image_size=16, random_state=3)
    X3, _ = make_lesions(n_samples=12, image_size=16, random_state=4)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)
    rs = np.random.RandomState(0)
    Xa, _ = make_lesions(n_samples=4, image_size=16, random_state=rs)
    Xb, _ = make_lesions(n_samples=4, image_size=16, random_state=rs)
    assert not np.array_equal(Xa, Xb)  # a RandomState instance advances


def test_global_random_state_untouched():
    np.random.seed(123)  # noqa: NPY002 - the legacy global state is what is checked
    before = np.random.get_state()[1].copy()  # noqa: NPY002
    make_lesions(n_samples=5, image_size=16)
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # noqa: NPY002


def test_each_image_differs():
    X, _ = make_lesions(n_samples=20, image_size=16, random_state=0)
    flat = X.reshape(len(X), -1)
    assert len(np.unique(flat, axis=0)) == len(X)


@pytest.mark.parametrize(
    ("weights", "n", "expected"),
    [([0.8, 0.2], 20, [16, 4]), ([1, 1, 2], 100, [25, 25, 50]), ([0.5, 0.3, 0.2], 7, [4, 2, 1])],
)
def test_weights_give_exact_proportions(weights, n, expected):
    _, y = make_lesions(
        n_samples=n, n_classes=len(weights), image_size=8, weights=weights, random_state=0
    )
    assert [int((y == c).sum()) for c in LESION_CLASSES[: len(weights)]] == expected


def test_zero_weight_class_absent():
    _, y = make_lesions(n_samples=10, image_size=8, weights=[1, 0, 1], random_state=0)
    assert "nevus" not in set(y)


def test_bunch_form():
    data = make_lesions(n_samples=9, image_size=16, return_X_y=False, random_state=0)
    assert isinstance(data, Bunch)
    assert data.images.shape == (9, 16, 16, 3)
    assert list(data.target_names) == ["melanoma", "nevus", "seborrheic keratosis"]
    assert "melanoma: 3" in data.DESCR
    X, y = make_lesions(n_samples=9, image_size=16, random_state=0)
    np.testing.assert_array_equal(X, data.images)
    np.testing.assert_array_equal(y, data.target)


def test_masks_mark_the_lesions_without_changing_the_images():
    X, y = make_lesions(n_samples=12, image_size=32, random_state=0)
    X2, y2, masks = make_lesions(n_samples=12, image_size=32, return_masks=True, random_state=0)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert masks.shape == (12, 32, 32) and masks.dtype == bool
    share = masks.mean(axis=(1, 2))
    assert share.min() > 0 and share.max() < 1
    brightness = X.astype(float).mean(axis=-1)
    inside = np.array([b[m].mean() for b, m in zip(brightness, masks, strict=True)])
    outside = np.array([b[~m].mean() for b, m in zip(brightness, masks, strict=True)])
    assert (inside < outside).mean() >= 0.9  # lesions are darker than the skin around them
    data = make_lesions(n_samples=12, image_size=32, return_X_y=False, return_masks=True,
                        random_state=0)  # fmt: skip
    np.testing.assert_array_equal(data.masks, masks)


def test_knobs_change_images():
    kw = dict(n_samples=8, image_size=32, random_state=0)
    plain = make_lesions(noise=0, hairs=False, vignetting=False, **kw)[0].astype(float)
    noisy = make_lesions(noise=0.2, hairs=False, vignetting=False, **kw)[0].astype(float)
    # pixel noise raises the local (neighbouring pixel) differences
    assert np.abs(np.diff(noisy, axis=2)).mean() > 2 * np.abs(np.diff(plain, axis=2)).mean()
    vign = make_lesions(noise=0, hairs=False, vignetting=True, **kw)[0].astype(float)
    assert vign[:, :2, :2].mean() < plain[:, :2, :2].mean() - 20  # darker corners
    hairy = make_lesions(noise=0, hairs=True, vignetting=False, **kw)[0].astype(float)
    assert hairy.min() < plain.min()  # dark hair pixels


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(n_samples=0), "n_samples"),
        (dict(n_samples=2.5), "n_samples"),
        (dict(n_classes=1), "n_classes"),
        (dict(n_classes=8), "n_classes"),
        (dict(image_size=0), "image_size"),
        (dict(image_size=(4, 4, 3)), "image_size"),
        (dict(weights=[1, 2]), "one entry per class"),
        (dict(weights=[1, -1, 1]), "non-negative"),
        (dict(weights=[0, 0, 0]), "not all zero"),
        (dict(weights="abc"), "weights"),
        (dict(noise=-0.1), "noise"),
        (dict(noise=2), "noise"),
        (dict(hairs="yes"), "hairs"),
        (dict(return_X_y=None), "return_X_y"),
    ],
)
def test_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_lesions(**kwargs)


def _colour_shape_features(X):
    """Cheap hand-made features: coarse pixels plus colour statistics of the centre."""
    Xf = X.astype(np.float32) / 255
    n, h, w, _ = X.shape
    coarse = Xf.reshape(n, 8, h // 8, 8, w // 8, 3).mean(axis=(2, 4)).reshape(n, -1)
    centre = Xf[:, h // 4 : 3 * h // 4, w // 4 : 3 * w // 4].reshape(n, -1, 3)
    stats = np.concatenate(
        [
            centre.std(axis=1),
            np.percentile(centre, [5, 50, 95], axis=1).transpose(1, 0, 2).reshape(n, -1),
        ],
        axis=1,
    )
    return np.concatenate([coarse, stats], axis=1)


def test_classes_learnable_but_not_trivial():
    X, y = make_lesions(n_samples=450, image_size=32, random_state=0)
    Xt, yt = make_lesions(n_samples=300, image_size=32, random_state=1)
    clf = LogisticRegression(max_iter=3000).fit(_colour_shape_features(X), y)
    acc = clf.score(_colour_shape_features(Xt), yt)
    assert acc > 0.5, acc  # chance is 1/3
    assert acc < 0.99, acc
