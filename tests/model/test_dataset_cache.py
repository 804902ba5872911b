"""Decoded-image caching when training from file paths (``skinlesion._dataset``)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from skinlesion.datasets import make_lesions
from skinlesion.model import _tfdata as _dataset


@pytest.fixture
def paths(tmp_path):
    X, _ = make_lesions(n_samples=12, image_size=24, random_state=0, return_X_y=True)
    out = []
    for i, image in enumerate(X):
        path = tmp_path / f"img_{i}.png"
        Image.fromarray(image).save(path)
        out.append(str(path))
    return np.array(out, dtype=object), X


@pytest.fixture
def counted(monkeypatch):
    calls = []
    read = _dataset.read_image

    def counting_read(path, size):
        calls.append(path)
        return read(path, size)

    monkeypatch.setattr(_dataset, "read_image", counting_read)
    return calls


def _epochs(ds, n):
    return [np.concatenate([x.numpy() for x, _ in ds]) for _ in range(n)]


def test_training_paths_that_fit_are_decoded_once(paths, counted):
    X_paths, X = paths
    y = np.arange(len(X_paths)) % 3
    ds = _dataset.make_dataset(X_paths, y, size=(24, 24), batch_size=5, shuffle=True, seed=0)
    epochs = _epochs(ds, 3)
    assert len(counted) == len(X_paths)  # three epochs, one decode per file
    # every epoch delivers every image once (as a set), reshuffled between epochs
    for images in epochs:
        assert sorted(map(bytes, images)) == sorted(map(bytes, X))
    assert not np.array_equal(epochs[1], epochs[2])


def test_paths_over_the_cache_budget_are_streamed(paths, counted):
    X_paths, X = paths
    y = np.arange(len(X_paths)) % 3
    ds = _dataset.make_dataset(
        X_paths, y, size=(24, 24), batch_size=5, shuffle=True, seed=0, cache_bytes=100
    )
    epochs = _epochs(ds, 2)
    assert len(counted) == 2 * len(X_paths)
    assert sorted(map(bytes, epochs[0])) == sorted(map(bytes, X))


def test_unshuffled_data_is_cached_only_on_request(paths, counted):
    X_paths, X = paths
    y = np.zeros(len(X_paths), dtype=int)
    plain = _dataset.make_dataset(X_paths, y, size=(24, 24), batch_size=5)
    _epochs(plain, 2)
    assert len(counted) == 2 * len(X_paths)
    counted.clear()
    cached = _dataset.make_dataset(X_paths, y, size=(24, 24), batch_size=5, cache=True)
    epochs = _epochs(cached, 2)
    assert len(counted) == len(X_paths)
    np.testing.assert_array_equal(epochs[0], X)  # order kept without shuffle
    np.testing.assert_array_equal(epochs[1], X)
