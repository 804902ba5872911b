"""Mixup in the training pipeline (``make_dataset(mixup=...)``): blended images
carry blended labels. The classifier's ``mixup`` parameter is tested in
test_classifier.py."""

from __future__ import annotations

import numpy as np
import pytest

from skinlesion.datasets import make_lesions
from skinlesion.model import _tfdata as _dataset


@pytest.fixture(scope="module")
def onehot_lesions():
    X, y = make_lesions(n_samples=20, image_size=8, random_state=0)
    return X, np.eye(3, dtype=np.float32)[np.unique(y, return_inverse=True)[1]]


def _batches(ds):
    return [(x.numpy(), t.numpy()) for x, t in ds]


def test_each_mixed_image_is_the_blend_its_label_says():
    """With one class per image, a target row names the two images blended and
    their weights; the pixels must be that blend (to rounding)."""
    rng = np.random.RandomState(0)
    n = 12
    X = rng.randint(0, 256, size=(n, 8, 8, 3)).astype(np.uint8)
    onehot = np.eye(n, dtype=np.float32)
    ds = _dataset.make_dataset(
        X, onehot, size=(8, 8), batch_size=6, shuffle=True, seed=3, mixup=1.0
    )
    blended = 0
    for images, targets in _batches(ds) + _batches(ds):  # two epochs
        assert images.dtype == np.uint8
        np.testing.assert_allclose(targets.sum(axis=1), 1.0, atol=1e-5)
        assert (targets >= 0).all()
        expected = np.einsum("bn,nhwc->bhwc", targets, X.astype(np.float64))
        assert np.abs(images - expected).max() <= 1.0  # rounding to uint8
        blended += int(((targets > 0.05) & (targets < 0.95)).any(axis=1).sum())
    assert blended > n // 2  # Beta(1, 1): most weights are far from 0 and 1


def test_mixup_is_seeded_and_new_every_epoch(onehot_lesions):
    X, onehot = onehot_lesions

    def make(seed):
        return _dataset.make_dataset(
            X, onehot, size=(8, 8), batch_size=10, shuffle=True, seed=seed, mixup=0.4
        )

    first, again = make(1), make(1)
    epoch1, epoch2 = _batches(first), _batches(first)
    for (xa, ta), (xb, tb) in zip(epoch1, _batches(again), strict=True):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ta, tb)
    assert not all(np.array_equal(ta, tb) for (_, ta), (_, tb) in zip(epoch1, epoch2, strict=True))


def test_without_mixup_the_targets_are_untouched(onehot_lesions):
    X, onehot = onehot_lesions
    ds = _dataset.make_dataset(X, onehot, size=(8, 8), batch_size=10, shuffle=True, seed=1)
    targets = np.concatenate([t for _, t in _batches(ds)])
    assert set(np.unique(targets)) == {0.0, 1.0}
