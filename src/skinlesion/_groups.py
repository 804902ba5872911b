"""Images that must stay on one side of a split: copies, duplicates and lesions.

:class:`~skinlesion.LesionClassifier` holds out part of its training images to
watch early stopping. An image and its copy (a repeat made by
:class:`~skinlesion.Rebalancer`, an augmented version made by
:class:`~skinlesion.Augmenter`, the same file listed twice, two photographs of
one lesion) must land on the same side of that split, or early stopping and
``history_`` score the network on images it learns from. This module turns
every such relation into one group label per image, and draws a validation
split that keeps groups whole and classes in proportion.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

from skinlesion.images import is_path_array

__all__ = ["check_groups", "duplicate_groups", "merge_groups", "stratified_group_holdout"]

_CHUNK = 1 << 20


def _factorize(values: Sequence[Hashable] | np.ndarray) -> np.ndarray:
    """Integer codes, equal where the values are equal (any hashable values)."""
    arr = np.asarray(values)
    if arr.dtype.kind in "biuSU":
        return np.unique(arr, return_inverse=True)[1].ravel().astype(np.intp)
    codes: dict[Any, int] = {}
    return np.fromiter(
        (codes.setdefault(v, len(codes)) for v in arr.tolist()), dtype=np.intp, count=len(arr)
    )


def check_groups(groups: Any, n_images: int) -> np.ndarray:
    """Validate ``groups``: one hashable, non-missing value per image.

    Examples
    --------
    >>> from skinlesion._groups import check_groups
    >>> check_groups(["HAM_1", "HAM_1", "HAM_2"], 3).tolist()
    ['HAM_1', 'HAM_1', 'HAM_2']
    """
    arr = np.asarray(groups)
    if arr.shape != (n_images,):
        raise ValueError(
            f"groups must hold one value per image: got shape {arr.shape} for {n_images} "
            "images. Pass one group (such as HAM10000's lesion_id) per row of X; in a "
            "skinlesion.Pipeline give them for the pipeline's input, and the pipeline hands "
            "every resampled image its source image's group."
        )
    if arr.dtype.kind == "f":
        missing = np.flatnonzero(~np.isfinite(arr))
    elif arr.dtype.kind == "O":
        missing = np.flatnonzero([v is None or (isinstance(v, float) and v != v) for v in arr])
    else:
        missing = np.empty(0, dtype=np.intp)
    if len(missing):
        raise ValueError(
            f"groups has {len(missing)} missing value(s) (NaN or None), for example at row "
            f"{int(missing[0])}. Give every image a group: its lesion id, or its own image id "
            "when the lesion is unknown."
        )
    try:
        _factorize(arr)
    except TypeError as err:
        raise ValueError(
            f"groups must hold hashable values such as strings or ints ({err})."
        ) from None
    return arr


def merge_groups(*labelings: Any) -> np.ndarray:
    """One group per image, joining images that any of ``labelings`` puts together.

    Two images end up in the same group when they share a label in at least one
    labelling, directly or through a chain of images (connected components).

    Parameters
    ----------
    *labelings : array-like of shape (n,)
        Group labels of the same ``n`` images; ``None`` entries are skipped.

    Returns
    -------
    groups : ndarray of int of shape (n,)

    Examples
    --------
    >>> from skinlesion._groups import merge_groups
    >>> merge_groups([0, 0, 1, 2, 3], ["a", "b", "b", "c", "d"]).tolist()
    [0, 0, 0, 1, 2]
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    codes = [_factorize(labels) for labels in labelings if labels is not None]
    if not codes:
        raise ValueError("merge_groups needs at least one labelling.")
    n = len(codes[0])
    if len(codes) == 1:
        return np.unique(codes[0], return_inverse=True)[1].ravel().astype(np.intp)
    # A graph of images and labels: each image is linked to its label in every labelling.
    offsets = np.cumsum([n] + [int(c.max()) + 1 if n else 0 for c in codes])
    rows = np.concatenate([np.arange(n)] * len(codes))
    cols = np.concatenate([c + offset for c, offset in zip(codes, offsets[:-1], strict=True)])
    graph = coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(offsets[-1],) * 2)
    _, components = connected_components(graph, directed=False)
    return np.unique(components[:n], return_inverse=True)[1].ravel().astype(np.intp)


def _file_digest(path: str) -> bytes:
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.digest()


def duplicate_groups(X: np.ndarray) -> np.ndarray:
    """One group per distinct image: repeated files or identical pixel arrays share one.

    Parameters
    ----------
    X : ndarray
        Validated images (see :func:`skinlesion.images.check_images`): a uint8
        array of shape (n, h, w, 3), or a 1-D object array of file paths.

    Returns
    -------
    groups : ndarray of int of shape (n,)
        Equal for the same file (the same path, also through a link or another
        spelling of it) or the same bytes in two files, and for image arrays with
        identical pixels. Only files whose size matches another file's are read.

    Examples
    --------
    >>> import numpy as np
    >>> from skinlesion._groups import duplicate_groups
    >>> X = np.zeros((3, 4, 4, 3), dtype=np.uint8)
    >>> X[1] = 255
    >>> duplicate_groups(X).tolist()
    [0, 1, 0]
    """
    if is_path_array(X):
        real = [os.path.realpath(os.fspath(p)) for p in X]
        distinct = sorted(set(real))
        by_size: dict[int, list[str]] = {}
        for path in distinct:
            by_size.setdefault(os.stat(path).st_size, []).append(path)
        key: dict[str, Any] = {path: path for path in distinct}
        for same_size in by_size.values():
            if len(same_size) > 1:  # identical bytes need identical sizes: read only these
                for path in same_size:
                    key[path] = _file_digest(path)
        return _factorize(np.array([key[p] for p in real], dtype=object))
    pixels = np.ascontiguousarray(X)
    return _factorize(
        np.array(
            [hashlib.blake2b(image.data, digest_size=16).digest() for image in pixels],
            dtype=object,
        )
    )


def stratified_group_holdout(
    y: np.ndarray, groups: np.ndarray, test_size: float, rng: np.random.RandomState
) -> tuple[np.ndarray, np.ndarray]:
    """Split rows into training and validation, whole groups only, classes in proportion.

    Groups are visited in a random order (from ``rng``) and each is held out when
    that brings every class's held-out count closer to ``test_size`` times the
    class's count (the squared distance to those targets shrinks); a group whose
    hold-out would leave a class without training images is never held out. If
    no group was held out, the one that comes closest is. This is the greedy
    assignment of :class:`~sklearn.model_selection.StratifiedGroupKFold`, for one
    split of any size instead of ``k`` equal folds.

    Parameters
    ----------
    y : ndarray of int of shape (n,)
        Encoded class of each row.
    groups : ndarray of shape (n,)
        Group of each row.
    test_size : float in (0, 1)
        Share of the rows of each class to hold out.
    rng : numpy.random.RandomState

    Returns
    -------
    train, validation : ndarray of int
        Sorted row numbers; no group has rows in both.

    Examples
    --------
    >>> import numpy as np
    >>> from skinlesion._groups import stratified_group_holdout
    >>> y = np.array([0] * 10 + [1] * 10)
    >>> groups = np.arange(20) // 2
    >>> train, val = stratified_group_holdout(y, groups, 0.2, np.random.RandomState(0))
    >>> len(val), np.bincount(y[val]).tolist()
    (4, [2, 2])
    >>> set(groups[train]) & set(groups[val])
    set()
    """
    codes = _factorize(groups)
    n_groups, n_classes = int(codes.max()) + 1, int(y.max()) + 1
    counts = np.zeros((n_groups, n_classes))
    np.add.at(counts, (codes, y), 1)
    totals = counts.sum(axis=0)
    target = test_size * totals
    held = np.zeros(n_classes)
    chosen = np.zeros(n_groups, dtype=bool)
    order = rng.permutation(n_groups)
    best, best_cost = -1, np.inf
    for group in order:
        after = held + counts[group]
        if np.any((after >= totals) & (totals > 0)):  # a class would lose its last image
            continue
        cost = np.sum((after - target) ** 2)
        if cost < np.sum((held - target) ** 2):
            held, chosen[group] = after, True
        elif cost < best_cost:
            best, best_cost = group, cost
    if not chosen.any() and best >= 0:
        chosen[best] = True
    in_validation = chosen[codes]
    return np.flatnonzero(~in_validation), np.flatnonzero(in_validation)
