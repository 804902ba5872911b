"""Tests for the folder loaders (load_image_folder, load_ham10000, load_isic2017, load_labelled)."""

from __future__ import annotations

import sqlite3
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.model_selection import StratifiedGroupKFold

from skinlesion.datasets import (
    labelled_layout,
    load_ham10000,
    load_image_folder,
    load_isic2017,
    load_labelled,
)
from skinlesion.images import ImageReadError


def _save(path: Path, value: int, size=(20, 16), mode="RGB", fmt=None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = size
    rng = np.random.default_rng(value)
    arr = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    img = Image.fromarray(arr)
    if mode != "RGB":
        img = img.convert(mode)
    img.save(path, format=fmt)
    return path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "Train"
    _save(root / "melanoma" / "a.jpg", 1)
    _save(root / "melanoma" / "b.JPG", 2, fmt="JPEG")
    _save(root / "melanoma" / "c.PNG", 3, fmt="PNG")
    _save(root / "nevus" / "d.jpeg", 4)
    _save(root / "nevus" / "e.png", 5, mode="L")  # grayscale file
    _save(root / "nevus" / "f.tif", 6, mode="RGBA")
    (root / "nevus" / "notes.txt").write_text("not an image")
    (root / "nevus" / ".hidden.jpg").write_bytes(b"junk")
    _save(root / ".ipynb_checkpoints" / "x.jpg", 7)  # hidden folder: not a class
    return root


def test_loads_classes_with_case_insensitive_endings(tree):
    data = load_image_folder(tree)
    assert data.images.shape == (6, 20, 16, 3)
    assert data.images.dtype == np.uint8
    assert list(data.target) == ["melanoma"] * 3 + ["nevus"] * 3
    assert list(data.target_names) == ["melanoma", "nevus"]
    assert [Path(f).name for f in data.filenames] == [
        "a.jpg",
        "b.JPG",
        "c.PNG",
        "d.jpeg",
        "e.png",
        "f.tif",
    ]
    assert [Path(f).name for f in data.ignored_files] == ["notes.txt"]
    # the grayscale PNG became RGB with equal channels
    e = data.images[4].astype(int)
    assert np.array_equal(e[..., 0], e[..., 1])


def test_as_paths_and_resize(tree):
    data = load_image_folder(tree, as_paths=True)
    assert "images" not in data
    assert data.paths.dtype == object and len(data.paths) == 6
    assert all(Path(p).is_file() for p in data.paths)
    small = load_image_folder(tree, image_size=(8, 12))
    assert small.images.shape == (6, 8, 12, 3)


def test_files_untouched(tree):
    before = {p: p.read_bytes() for p in tree.rglob("*") if p.is_file()}
    load_image_folder(tree, image_size=8)
    assert {p: p.read_bytes() for p in tree.rglob("*") if p.is_file()} == before


def test_corrupt_file_raises_naming_it(tree):
    bad = tree / "nevus" / "broken.jpg"
    good = (tree / "nevus" / "d.jpeg").read_bytes()
    bad.write_bytes(good[: len(good) // 3])  # truncated JPEG
    with pytest.raises(ImageReadError, match="broken.jpg"):
        load_image_folder(tree)
    bad.unlink()
    (tree / "nevus" / "text.png").write_text("hello")
    with pytest.raises(ImageReadError, match="text.png"):
        load_image_folder(tree, as_paths=True)  # header check catches a non-image


def test_corrupt_file_skipped_with_warning(tree):
    (tree / "nevus" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.warns(UserWarning, match="broken.jpg"):
        data = load_image_folder(tree, errors="warn")
    assert len(data.images) == 6
    assert [Path(p).name for p, _ in data.skipped] == ["broken.jpg"]
    assert not any("broken" in f for f in data.filenames)


def test_augmentor_output_folder_reported_not_mixed_in(tree):
    _save(tree / "melanoma" / "output" / "melanoma_original_a.jpg_1234.jpg", 9)
    with pytest.warns(UserWarning, match="output"):
        data = load_image_folder(tree)
    assert len(data.images) == 6
    assert [Path(p).name for p in data.nested_folders] == ["output"]


def test_different_sizes_need_image_size(tree):
    _save(tree / "nevus" / "big.png", 11, size=(30, 30))
    with pytest.raises(ValueError, match="image_size"):
        load_image_folder(tree)
    assert load_image_folder(tree, image_size=10).images.shape == (7, 10, 10, 3)


def test_folder_of_splits_gives_clear_error(tmp_path):
    _save(tmp_path / "train" / "melanoma" / "a.jpg", 1)
    _save(tmp_path / "test" / "melanoma" / "b.jpg", 2)
    with pytest.raises(ValueError, match="load one of them"):
        load_image_folder(tmp_path)


def test_bad_roots(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_image_folder(tmp_path / "nope")
    _save(tmp_path / "flat" / "a.jpg", 1)
    with pytest.raises(ValueError, match="no class folders"):
        load_image_folder(tmp_path / "flat")
    with pytest.raises(NotADirectoryError):
        load_image_folder(tmp_path / "flat" / "a.jpg")
    (tmp_path / "empty" / "melanoma").mkdir(parents=True)
    with pytest.raises(ValueError, match="no image files"):
        load_image_folder(tmp_path / "empty")
    with pytest.raises(ValueError, match="errors"):
        load_image_folder(tmp_path / "flat", errors="ignore")


def _cache_entries(folder: Path) -> int:
    with sqlite3.connect(folder / "decoded.sqlite") as con:
        return con.execute("SELECT COUNT(*) FROM images").fetchone()[0]


def test_cache_second_load_reads_no_pixels(tree, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    first = load_image_folder(tree, image_size=8, cache=cache)
    assert _cache_entries(cache) == 6
    import skinlesion.datasets._cache as cache_mod

    def fail(*args, **kwargs):
        raise AssertionError("decoded a file that was cached")

    monkeypatch.setattr(cache_mod, "read_image", fail)
    second = load_image_folder(tree, image_size=8, cache=cache)
    np.testing.assert_array_equal(first.images, second.images)
    monkeypatch.undo()
    # another size is another cache entry; an edited file is decoded again
    assert load_image_folder(tree, image_size=6, cache=cache).images.shape[1:3] == (6, 6)
    _save(tree / "melanoma" / "a.jpg", 99)
    third = load_image_folder(tree, image_size=8, cache=cache)
    assert not np.array_equal(third.images[0], first.images[0])
    np.testing.assert_array_equal(third.images[1:], first.images[1:])


def test_cache_true_uses_skinlesion_data(tree, tmp_path, monkeypatch):
    monkeypatch.setenv("SKINLESION_DATA", str(tmp_path / "home"))
    load_image_folder(tree, image_size=8, cache=True)
    assert _cache_entries(tmp_path / "home" / "decoded") == 6


def test_damaged_cache_warns_and_still_loads(tree, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "decoded.sqlite").write_bytes(b"this is not a database" * 100)
    with pytest.warns(RuntimeWarning, match="cache"):
        data = load_image_folder(tree, image_size=8, cache=cache)
    assert data.images.shape == (6, 8, 8, 3)


# -- HAM10000 ----------------------------------------------------------------

HEADER = "lesion_id,image_id,dx,dx_type,age,sex,localization\n"


@pytest.fixture
def ham(tmp_path: Path) -> Path:
    root = tmp_path / "ham"
    rows = []
    for i in range(12):
        lesion = f"HAM_{i // 2:07d}"  # two images per lesion
        dx = ["mel", "nv", "bkl"][i // 2 % 3]
        rows.append(f"{lesion},ISIC_{i:07d},{dx},histo,{40 + i}.0,male,back\n")
        folder = "HAM10000_images_part_1" if i < 6 else "HAM10000_images_part_2"
        _save(root / folder / f"ISIC_{i:07d}.jpg", i, size=(15, 20))
    rows.append("HAM_0000099,ISIC_0000099,vasc,consensus,,female,face\n")  # no image file
    root.mkdir(exist_ok=True)
    (root / "HAM10000_metadata.csv").write_text(HEADER + "".join(rows))
    return root


def test_ham10000_loads_metadata_and_groups(ham):
    with pytest.warns(UserWarning, match="1 of 13"):
        data = load_ham10000(ham, image_size=10)
    assert data.images.shape == (12, 10, 10, 3)
    assert list(data.target[:4]) == ["mel", "mel", "nv", "nv"]
    assert list(data.groups[:4]) == ["HAM_0000000", "HAM_0000000", "HAM_0000001", "HAM_0000001"]
    assert data.missing == ["ISIC_0000099"]
    assert data.metadata["age"][3] == 43.0
    assert set(data.metadata) >= {
        "lesion_id",
        "image_id",
        "dx",
        "dx_type",
        "age",
        "sex",
        "localization",
    }
    with pytest.warns(UserWarning, match="missing"):
        named = load_ham10000(ham, as_paths=True, labels="name", as_frame=True)
    assert named.target[0] == "melanoma"
    assert list(named.frame.columns)[:3] == ["lesion_id", "image_id", "dx"]
    assert len(named.frame) == 12


def test_ham10000_group_split_keeps_lesions_apart(ham):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = load_ham10000(ham, as_paths=True)
    cv = StratifiedGroupKFold(n_splits=2, shuffle=True, random_state=0)
    for train, test in cv.split(data.paths, data.target, groups=data.groups):
        assert not set(data.groups[train]) & set(data.groups[test])


def test_ham10000_errors(tmp_path, ham):
    with pytest.raises(FileNotFoundError, match="HAM10000_metadata.csv"):
        load_ham10000(tmp_path / "ham" / "HAM10000_images_part_1")
    (ham / "HAM10000_metadata.csv").write_text("image,label\nISIC_1,mel\n")
    with pytest.raises(ValueError, match="lesion_id"):
        load_ham10000(ham)
    (ham / "HAM10000_metadata.csv").write_text(HEADER + "HAM_1,ISIC_9999999,mel,histo,1,male,x\n")
    with pytest.raises(FileNotFoundError, match="none of the 1 images"):
        load_ham10000(ham)
    with pytest.raises(ValueError, match="labels"):
        load_ham10000(ham, labels="long")


# -- ISIC 2017 ---------------------------------------------------------------


def test_isic2017_layout(tmp_path):
    root = tmp_path / "isic2017"
    _save(root / "train" / "melanoma" / "ISIC_0000001.jpg", 1)
    _save(root / "train" / "seborrheic_keratosis" / "ISIC_0000002.jpg", 2)
    _save(root / "val" / "nevus" / "ISIC_0000003.jpg", 3)
    (root / "labels.csv").write_text(
        "split,image_id,melanoma,seborrheic_keratosis,label\n"
        "train,ISIC_0000001,1,0,melanoma\ntrain,ISIC_0000002,0,1,nevus\n"
    )
    with pytest.warns(UserWarning, match="ISIC_0000002"):
        data = load_isic2017(root, "train", image_size=8)
    assert list(data.target) == ["melanoma", "seborrheic keratosis"]
    assert list(data.image_ids) == ["ISIC_0000001", "ISIC_0000002"]
    assert list(load_isic2017(root, "val", as_paths=True).target) == ["nevus"]
    with pytest.raises(FileNotFoundError, match="'test'"):
        load_isic2017(root, "test")
    with pytest.raises(ValueError, match="subset"):
        load_isic2017(root, "dev")


# -- any layout --------------------------------------------------------------


def test_load_labelled_recognises_each_layout(tree, ham, tmp_path):
    folder = load_labelled(tree, as_paths=True)
    assert (folder.layout, folder.groups, folder.metadata) == ("class-per-folder", None, None)
    assert list(folder.paths) == list(load_image_folder(tree, as_paths=True).paths)
    with pytest.warns(UserWarning, match="missing"):
        data = load_labelled(ham, as_paths=True)
    assert data.layout == labelled_layout(ham) == "HAM10000"
    assert (data.target[0], data.groups[0], data.metadata["sex"][0]) == (
        "melanoma",
        "HAM_0000000",
        "male",
    )
    isic = tmp_path / "isic2017"
    _save(isic / "train" / "seborrheic_keratosis" / "ISIC_0000002.jpg", 2)
    _save(isic / "val" / "nevus" / "ISIC_0000003.jpg", 3)
    with pytest.raises(ValueError, match="subset='train'"):
        load_labelled(isic)
    data = load_labelled(isic, subset="train", image_size=8)
    assert (data.layout, list(data.target)) == ("ISIC 2017", ["seborrheic keratosis"])
    assert data.images.shape == (1, 8, 8, 3)
    with pytest.raises(ValueError, match="leave subset out"):
        load_labelled(tree, subset="val")


# -- real data ---------------------------------------------------------------


@pytest.mark.realdata
def test_real_isic9_paths(shared_data):
    data = load_image_folder(shared_data / "isic9" / "Train", as_paths=True)
    counts = {c: int((data.target == c).sum()) for c in data.target_names}
    on_disk = {
        p.name: sum(1 for f in p.iterdir() if f.suffix.lower() == ".jpg")
        for p in (shared_data / "isic9" / "Train").iterdir()
        if p.is_dir()
    }
    assert counts == on_disk
    assert len(data.target_names) == 9


@pytest.mark.realdata
def test_real_isic2017_val(shared_data):
    data = load_isic2017(shared_data / "isic2017", "val", image_size=32)
    assert data.images.shape[1:] == (32, 32, 3)
    assert list(data.target_names) == ["melanoma", "nevus", "seborrheic keratosis"]
    n_files = sum(1 for _ in (shared_data / "isic2017" / "val").rglob("*.jpg"))
    assert len(data.images) == n_files


@pytest.mark.realdata
def test_real_ham10000_paths(shared_data):
    data = load_ham10000(shared_data / "ham10000", as_paths=True)
    n_files = sum(1 for _ in (shared_data / "ham10000" / "images").glob("*.jpg"))
    assert len(data.paths) == n_files
    assert set(data.target_names) <= {"akiec", "bcc", "bkl", "df", "mel", "nv", "vasc"}
    # several images per lesion: fewer groups than images
    assert len(set(data.groups)) < len(data.groups)


@pytest.mark.slow
@pytest.mark.realdata
def test_real_ham10000_decoded(shared_data):
    data = load_ham10000(shared_data / "ham10000", image_size=32)
    assert data.images.shape[1:] == (32, 32, 3)
    assert data.images.std() > 10
