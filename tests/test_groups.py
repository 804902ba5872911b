"""The groups an early-stopping split keeps whole: duplicates, merges, the grouped holdout."""

from __future__ import annotations

import os

import numpy as np
import pytest

from skinlesion._groups import (
    check_groups,
    duplicate_groups,
    merge_groups,
    stratified_group_holdout,
)


def _same(groups: np.ndarray, i: int, j: int) -> bool:
    return bool(groups[i] == groups[j])


# ----------------------------------------------------------------------- duplicates


def test_identical_image_arrays_share_a_group_and_others_do_not(rng):
    X = rng.integers(0, 256, size=(6, 8, 8, 3), dtype=np.uint8)
    X[4] = X[1]
    X[5] = X[1]
    X[3] = X[0]
    X[3, 7, 7, 2] ^= 1  # one bit off: another image
    groups = duplicate_groups(X)
    assert _same(groups, 1, 4) and _same(groups, 1, 5)
    assert len(set(groups.tolist())) == 4  # {0}, {1, 4, 5}, {2}, {3}


def test_repeated_files_share_a_group_by_path_link_or_bytes(tmp_path):
    a, b, c, d = (tmp_path / f"{name}.jpg" for name in "abcd")
    a.write_bytes(b"x" * 100)
    b.write_bytes(b"x" * 100)  # the same bytes under another name
    c.write_bytes(b"y" * 100)  # the same size, other bytes
    d.write_bytes(b"x" * 99)
    link = tmp_path / "link.jpg"
    os.symlink(c, link)
    paths = np.array(
        [str(a), str(c), str(tmp_path / "." / "c.jpg"), str(b), str(link), str(d), str(a)],
        dtype=object,
    )
    groups = duplicate_groups(paths)
    assert groups[0] == groups[3] == groups[6]  # a twice, and b (a's bytes)
    assert groups[1] == groups[2] == groups[4]  # c, another spelling of c, a link to c
    assert len({groups[0], groups[1], groups[5]}) == 3


def test_only_files_whose_size_matches_another_are_read(tmp_path, monkeypatch):
    from skinlesion import _groups

    files = []
    for i, size in enumerate([10, 11, 12, 12]):
        path = tmp_path / f"{i}.png"
        path.write_bytes(bytes([i]) * size)
        files.append(str(path))
    read = []
    real_digest = _groups._file_digest
    monkeypatch.setattr(_groups, "_file_digest", lambda p: read.append(p) or real_digest(p))
    groups = duplicate_groups(np.array(files, dtype=object))
    assert sorted(read) == sorted(files[2:])
    assert len(set(groups.tolist())) == 4


# ----------------------------------------------------------------------------- merge


def test_merge_joins_chains_across_labellings():
    lesions = np.array(["L1", "L1", "L2", "L3", "L4", "L5"], dtype=object)
    copies = np.array([0, 1, 1, 2, 3, 3])  # 2 is a copy of 1; 5 of 4
    merged = merge_groups(lesions, copies)
    # 0-1 by lesion, 1-2 by copy: one group; 3 alone; 4-5 by copy
    assert merged[0] == merged[1] == merged[2]
    assert merged[4] == merged[5]
    assert len(set(merged.tolist())) == 3
    np.testing.assert_array_equal(merge_groups(None, copies), merge_groups(copies))


# --------------------------------------------------------------------------- holdout


def _holdout(y, groups, test_size=0.2, seed=0):
    return stratified_group_holdout(
        np.asarray(y), np.asarray(groups), test_size, np.random.RandomState(seed)
    )


def test_holdout_keeps_groups_whole_and_classes_in_proportion():
    rng = np.random.default_rng(0)
    # three classes of 300, 120 and 60 images in groups of 1 to 6 images
    y = np.repeat([0, 1, 2], [300, 120, 60])
    sizes = rng.integers(1, 7, size=len(y))
    groups = np.repeat(np.arange(len(y)), sizes)[: len(y)]
    groups = groups + 1000 * y  # no group spans two classes
    train, val = _holdout(y, groups, test_size=0.2)
    assert not set(groups[train]) & set(groups[val])
    np.testing.assert_array_equal(np.sort(np.concatenate([train, val])), np.arange(len(y)))
    held = np.bincount(y[val], minlength=3)
    np.testing.assert_allclose(held, [60, 24, 12], atol=3)


def test_holdout_is_repeatable_with_a_seed_and_varies_with_it():
    y = np.repeat([0, 1], 50)
    groups = np.arange(100) // 2
    first = _holdout(y, groups, seed=3)[1]
    np.testing.assert_array_equal(first, _holdout(y, groups, seed=3)[1])
    assert not np.array_equal(first, _holdout(y, groups, seed=4)[1])


def test_holdout_never_takes_the_last_images_of_a_class():
    # class 1 is one group: holding it out would leave training without class 1
    y = np.array([0] * 8 + [1] * 4)
    groups = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 8, 8, 8])
    for seed in range(20):
        train, val = _holdout(y, groups, test_size=0.6, seed=seed)
        assert set(y[train]) == {0, 1}
        assert len(val)


def test_holdout_takes_the_closest_group_when_every_group_overshoots():
    # 3 groups of 10 with a 10 % target of 3 images: none brings the count closer
    y = np.zeros(30, dtype=int)
    y[::2] = 1
    groups = np.arange(30) // 10
    _, val = _holdout(y, groups, test_size=0.1)
    assert len(val) == 10 and len(set(groups[val])) == 1


def test_holdout_with_groups_that_mix_classes():
    y = np.tile([0, 1], 40)
    groups = np.arange(80) // 4  # every group holds two images of each class
    train, val = _holdout(y, groups, test_size=0.25)
    assert not set(groups[train]) & set(groups[val])
    assert np.bincount(y[val]).tolist() == [10, 10]


# ------------------------------------------------------------------------ validation


def test_check_groups_refuses_a_wrong_length_and_missing_values():
    with pytest.raises(ValueError, match=r"one value per image.*shape \(2,\) for 3 images"):
        check_groups([1, 2], 3)
    with pytest.raises(ValueError, match=r"1 missing value.*row 1"):
        check_groups([1.0, np.nan, 2.0], 3)
    with pytest.raises(ValueError, match=r"missing value.*row 0.*lesion id"):
        check_groups(np.array([None, "HAM_1"], dtype=object), 2)
    np.testing.assert_array_equal(check_groups(["a", "b"], 2), ["a", "b"])
