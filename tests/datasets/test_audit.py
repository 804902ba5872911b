"""Tests for skinlesion.datasets.audit."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from skinlesion.datasets import audit, load_ham10000, load_image_folder, make_lesions
from skinlesion.datasets._diagnoses import agree
from skinlesion.datasets.audit import isic_id, perceptual_hash


@pytest.fixture(scope="module")
def lesions():
    return make_lesions(n_samples=24, image_size=48, random_state=0)


def _write(root: Path, X: np.ndarray, y: np.ndarray, quality: int = 95) -> list[Path]:
    paths = []
    for i, (image, label) in enumerate(zip(X, y, strict=True)):
        path = root / str(label) / f"img_{i:03d}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(path, quality=quality)
        paths.append(path)
    return paths


def test_clean_data_set_has_no_findings(lesions):
    X, y = lesions
    report = audit((X, y))
    assert report.ok
    assert not report.exact_duplicates and not report.near_duplicates
    assert sum(report.class_counts["train"].values()) == 24
    assert "no duplicates" in str(report)


def test_finds_byte_copies_conflicts_and_near_copies(tmp_path, lesions):
    X, y = lesions
    paths = _write(tmp_path / "Train", X, y)
    # a "(1)" byte copy in the same class
    shutil.copy(paths[0], paths[0].with_name(paths[0].stem + "(1).jpg"))
    # the same bytes filed under another class (label conflict)
    other = next(c for c in sorted(set(y)) if c != y[1])
    shutil.copy(paths[1], tmp_path / "Train" / other / paths[1].name)
    # a re-encoded, slightly brightened copy: near-identical, not byte-identical
    near = np.clip(X[2].astype(int) + 4, 0, 255).astype(np.uint8)
    Image.fromarray(near).save(tmp_path / "Train" / y[2] / "reencoded.jpg", quality=80)

    report = audit(tmp_path / "Train")
    assert len(report.sources) == 27
    exact = report.exact_duplicates
    assert len(exact) == 2
    kinds = {g.category for g in exact}
    assert kinds == {"within class", "conflict"}
    conflict = next(g for g in exact if g.conflicting)
    assert {Path(s).name for s in conflict.sources} == {paths[1].name}
    assert sorted(conflict.labels) == sorted([y[1], other])
    assert len(report.near_duplicates) == 1
    assert {Path(s).name for s in report.near_duplicates[0].sources} == {
        paths[2].name,
        "reencoded.jpg",
    }
    text = str(report)
    assert "conflicting labels" in text and "within one class" in text

    d = json.loads(json.dumps(report.to_dict()))
    assert d["duplicates"]["exact"]["conflicting_labels"] == 1
    assert d["duplicates"]["exact"]["within_class"] == 1
    assert d["duplicates"]["near"]["groups"] == 1

    clean = report.deduplicated()
    # one of each copy pair dropped; both conflicting copies dropped
    assert len(clean.paths) == 27 - 1 - 2 - 1
    assert len(clean.dropped) == 4
    assert all(Path(p).exists() for p in clean.dropped)  # files are never touched
    assert audit((clean.paths, clean.target)).ok


def test_train_test_leakage_keeps_test_intact(lesions):
    X, y = lesions
    train = (X[:16], y[:16])
    test = (np.concatenate([X[16:], X[:3]]), np.concatenate([y[16:], y[:3]]))
    report = audit(train, test)
    assert len(report.leaks) == 3
    assert all(set(g.splits) == {"train", "test"} for g in report.leaks)
    clean_train, clean_test = report.deduplicated()
    assert len(clean_test.images) == 11  # the test set keeps its images
    assert len(clean_train.images) == 13  # the training copies go
    assert (
        audit(
            (clean_train.images, clean_train.target), (clean_test.images, clean_test.target)
        ).leaks
        == []
    )


def test_folder_of_splits_is_audited_for_leaks(tmp_path, lesions):
    X, y = lesions
    _write(tmp_path / "train", X[:12], y[:12])
    paths = _write(tmp_path / "test", X[12:], y[12:])
    shutil.copy(paths[0], tmp_path / "train" / y[12] / "copy.jpg")
    report = audit(tmp_path)
    assert set(report.class_counts) == {"train", "test"}
    assert len(report.leaks) == 1


def test_image_properties(tmp_path, lesions):
    X, y = lesions
    root = tmp_path / "data"
    _write(root, X[:6], y[:6])
    Image.fromarray(X[6]).convert("L").save(root / y[0] / "grey.png")
    Image.fromarray(X[7][:20, :20]).save(root / y[0] / "tiny.png")
    (root / y[0] / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    report = audit(root, min_size=32)
    assert [Path(s).name for s, _ in report.unreadable] == ["broken.jpg"]
    assert "broken.jpg" not in {Path(p).name for p in report.deduplicated().paths}
    assert [Path(s).name for s in report.grayscale] == ["grey.png"]
    assert [Path(s).name for s in report.tiny] == ["tiny.png"]
    assert [Path(s).name for s in report.odd_size] == ["tiny.png"]
    assert report.sizes == {"48x48": 7, "20x20": 1}


def test_class_counts_and_imbalance():
    X, y = make_lesions(
        n_samples=20, image_size=16, weights=[0.8, 0.2], n_classes=2, random_state=0
    )
    report = audit((X, y))
    assert report.class_counts == {"train": {"melanoma": 16, "nevus": 4}}
    assert report.imbalance_ratio == pytest.approx(4.0)


def test_bunch_input_and_argument_errors(tmp_path, lesions):
    X, y = lesions
    _write(tmp_path / "d", X[:4], y[:4])
    bunch = load_image_folder(tmp_path / "d", as_paths=True)
    assert len(audit(bunch).sources) == 4
    with pytest.raises(TypeError, match="folder path"):
        audit(42)
    with pytest.raises(ValueError, match="max_distance"):
        audit((X, y), max_distance=100)
    with pytest.raises(ValueError, match="labels"):
        audit((X, y[:3]))


def test_perceptual_hash_robust_to_small_changes(lesions):
    X, _ = lesions
    h = perceptual_hash(X)
    brighter = perceptual_hash(np.clip(X.astype(int) + 8, 0, 255).astype(np.uint8))
    same = np.bitwise_count(h ^ brighter)
    others = np.bitwise_count(h[:, None] ^ h[None, :])[~np.eye(len(h), dtype=bool)]
    assert same.max() <= 4
    assert np.median(others) > 16


@pytest.mark.realdata
@pytest.mark.slow
def test_real_isic9_duplicates(shared_data):
    root = shared_data / "isic9" / "Train"
    # expected findings, worked out here from the file listing alone
    folders_of = defaultdict(set)
    for path in root.glob("*/*.jpg"):
        folders_of[path.stem].add(path.parent.name)
    in_two = {stem for stem, f in folders_of.items() if len(f) == 2}
    digest = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in root.glob("*/*(1).jpg")}
    suffix_copies = {
        p.name
        for p in digest
        if (p.parent / p.name.replace("(1)", "")).read_bytes() == p.read_bytes()
    }
    assert len(suffix_copies) == 2

    report = audit(root)
    conflict_ids = {
        Path(s).stem for g in report.exact_duplicates if g.conflicting for s in g.sources
    }
    assert conflict_ids == in_two
    redundant = {
        Path(s).name
        for g in report.exact_duplicates
        if g.category == "within class"
        for s in g.sources
    }
    assert suffix_copies <= redundant
    clean = report.deduplicated()
    assert not set(map(str, clean.paths)) & {s for g in report.conflicts for s in g.sources}


# ----------------------------------------------------------------------------------------
# across data sets: other layouts, sizes and class names
# ----------------------------------------------------------------------------------------
def _write_ham(root: Path, images: list[np.ndarray], ids: list[str], dx: list[str]) -> Path:
    """A HAM10000 layout: images/<image_id>.jpg and HAM10000_metadata.csv."""
    (root / "images").mkdir(parents=True)
    lines = ["lesion_id,image_id,dx,dx_type,age,sex,localization"]
    for k, (image, iid, code) in enumerate(zip(images, ids, dx, strict=True)):
        Image.fromarray(image).save(root / "images" / f"{iid}.jpg", quality=90)
        lines.append(f"HAM_{k // 2:07d},{iid},{code},histo,50.0,male,back")
    (root / "HAM10000_metadata.csv").write_text("\n".join(lines) + "\n")
    return root


def _resized(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``image`` squeezed to (width, height), as an uploader's copy at another resolution."""
    return np.asarray(Image.fromarray(image).resize(size, Image.Resampling.LANCZOS))


@pytest.fixture(scope="module")
def two_sets(tmp_path_factory):
    """An ISIC class-per-folder set (48 x 48) and a HAM10000 folder (64 x 48) sharing 4 images.

    Shared: ISIC_0000000 (melanoma = mel), ISIC_0000001 (seborrheic keratosis = bkl),
    ISIC_0000002 (nevus in the ISIC set, mel in HAM10000: the labels disagree), and
    the image of ISIC_0000003, renamed ``scan_003`` in HAM10000 (no id: only the
    perceptual hash can find it).
    """
    root = tmp_path_factory.mktemp("two_sets")
    X, _ = make_lesions(n_samples=16, image_size=48, random_state=1)
    names = ["melanoma", "seborrheic keratosis", "nevus", "nevus"] + ["nevus", "melanoma"] * 6
    isic = root / "isic" / "Train"
    for i, (image, label) in enumerate(zip(X[:10], names, strict=False)):
        (isic / label).mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(isic / label / f"ISIC_{i:07d}.jpg", quality=95)
    ham_images = [_resized(X[i], (64, 48)) for i in [0, 1, 2, 3, 10, 11, 12, 13, 14, 15]]
    ham_ids = ["ISIC_0000000", "ISIC_0000001", "ISIC_0000002", "scan_003"] + [
        f"ISIC_{i:07d}" for i in range(100, 106)
    ]
    ham_dx = ["mel", "bkl", "mel", "nv", "nv", "nv", "mel", "bkl", "nv", "df"]
    ham = _write_ham(root / "ham", ham_images, ham_ids, ham_dx)
    return isic, ham


def test_isic_id_from_file_names():
    assert isic_id("Train/melanoma/ISIC_0000139.jpg") == "ISIC_0000139"
    assert isic_id("ISIC_0025509(1).jpg") == "ISIC_0025509"
    assert isic_id("isic-0024306_downsampled.png") == "ISIC_0024306"
    assert isic_id(Path("ISIC_0024306") / "scan.jpg") is None  # the name, not the folder
    assert isic_id("ISIC_00243060.jpg") is None  # eight digits: not an ISIC id
    assert isic_id("XISIC_0024306.jpg") is None


def test_audit_across_layouts_and_sizes(two_sets):
    isic, ham = two_sets
    report = audit(isic, test=ham)
    assert report.class_counts["test"] == {"bkl": 2, "df": 1, "mel": 3, "nv": 4}  # HAM's codes
    assert report.odd_size == []  # each set has its own size: no image is odd within its split
    assert report.sizes == {"48x48": 10, "48x64": 10}
    leaks = {Path(s).stem: g for g in report.leaks for s in g.sources if "Train" in s}
    assert set(leaks) == {"ISIC_0000000", "ISIC_0000001", "ISIC_0000002", "ISIC_0000003"}
    # matched by id where the names carry one, by the perceptual hash alone for the renamed copy
    assert all("id" in leaks[f"ISIC_000000{i}"].matched_by for i in range(3))
    assert leaks["ISIC_0000003"].matched_by == ("hash",)
    # class names differ across the sets; only a real disagreement is a conflict
    assert not leaks["ISIC_0000000"].conflicting  # melanoma = mel
    assert not leaks["ISIC_0000001"].conflicting  # seborrheic keratosis is one of bkl
    assert leaks["ISIC_0000002"].conflicting  # nevus against mel
    assert not leaks["ISIC_0000003"].conflicting  # nevus = nv
    shared = {tuple(d["labels"]): d["agree"] for d in report.shared_labels()}
    assert shared == {
        ("melanoma", "mel"): True,
        ("seborrheic keratosis", "bkl"): True,
        ("nevus", "mel"): False,
        ("nevus", "nv"): True,
    }
    text = str(report)
    assert "3 matched by ISIC id, 1 by perceptual hash alone" in text
    assert "disagree: nevus [train] = mel [test] 1" in text
    d = report.to_dict()
    assert d["leaked_images"] == 4
    assert d["duplicates"]["near"]["leaks_with_conflicting_labels"] == 1

    # the training set without the test images; the test set whole, lesion ids kept
    train, test = report.without_leaks()
    assert sorted(Path(p).stem for p in train.dropped) == [f"ISIC_000000{i}" for i in range(4)]
    assert len(train.paths) == 6 and len(test.paths) == 10 and test.dropped == []
    assert list(test.groups) == [f"HAM_{k // 2:07d}" for k in range(10)]
    assert audit((train.paths, train.target), test=ham).leaks == []
    # deduplicated() also drops the copies whose labels disagree, the test copy included
    train, test = report.deduplicated()
    assert len(train.paths) == 6 and len(test.paths) == 9
    assert "ISIC_0000002" not in {Path(p).stem for p in test.paths}


def test_match_by_id_alone_and_switched_off(tmp_path, lesions):
    X, _ = lesions
    a = tmp_path / "a" / "nevus"
    b = tmp_path / "b" / "nevus"
    a.mkdir(parents=True)
    b.mkdir(parents=True)
    Image.fromarray(X[0]).save(a / "ISIC_0000007.jpg")
    Image.fromarray(X[1]).save(a / "ISIC_0000008.jpg")
    # the same ISIC id over other pixels (a crop the hash cannot follow)
    Image.fromarray(X[0][8:40, 4:44]).save(b / "ISIC_0000007_downsampled.png")
    Image.fromarray(X[2]).save(b / "ISIC_0000009.jpg")
    report = audit(tmp_path / "a", test=tmp_path / "b")
    assert [g.matched_by for g in report.leaks] == [("id",)]
    assert audit(tmp_path / "a", test=tmp_path / "b", match_ids=False).leaks == []


def test_test_folder_of_splits_stays_whole(tmp_path, lesions):
    X, y = lesions
    _write(tmp_path / "mine", X[:6], y[:6])
    test = tmp_path / "isic2017"
    _write(test / "train", X[6:12], y[6:12])
    val = _write(test / "val", X[12:16], y[12:16])
    shutil.copy(val[0], test / "train" / y[12] / "copy_in_train.jpg")  # a leak inside the test set
    Image.fromarray(X[1]).save(test / "val" / y[1] / "copy_of_mine.jpg")
    report = audit(tmp_path / "mine", test=test)
    assert list(report.class_counts) == ["train", "test/train", "test/val"]
    assert len(report.leaks) == 2
    train, test_train, test_val = report.without_leaks()
    assert [Path(p).name for p in train.dropped] == ["img_001.jpg"]
    assert test_train.dropped == [] and test_val.dropped == []  # the test side is never cut
    # deduplicated() keeps one copy of the leak inside the test set
    assert len(report.deduplicated()[1].dropped) + len(report.deduplicated()[2].dropped) == 1


def test_label_agreement_across_vocabularies():
    assert agree("melanoma", "mel") and agree("Seborrheic_Keratosis", "seborrheic keratosis")
    assert agree("seborrheic keratosis", "bkl") and agree("pigmented benign keratosis", "bkl")
    assert agree("squamous cell carcinoma", "akiec")  # akiec holds intraepithelial carcinoma
    assert agree("actinic keratosis", "akiec") and agree("nevus", "melanocytic nevus")
    assert not agree("nevus", "akiec") and not agree("melanoma", "nv")
    assert not agree("cancer", "melanoma")  # unknown names agree only when equal
    assert agree("cancer", "melanoma", label_map={"cancer": "melanoma"})
    # one set that also uses the other's name shares its vocabulary: a different name disagrees
    isic9 = ["melanoma", "pigmented benign keratosis", "seborrheic keratosis"]
    assert not agree("pigmented benign keratosis", "seborrheic_keratosis", isic9, ["melanoma"])
    assert agree("pigmented benign keratosis", "bkl", isic9, ["bkl", "mel"])


def test_label_map_across_splits(lesions):
    X, y = lesions
    report = audit((X[:4], ["cancer"] * 4), test=(X[:1], ["melanoma"]))
    assert report.leaks[0].conflicting
    mapped = audit(
        (X[:4], ["cancer"] * 4), test=(X[:1], ["melanoma"]), label_map={"cancer": "melanoma"}
    )
    assert not mapped.leaks[0].conflicting
    assert mapped.to_dict()["settings"]["label_map"] == {"cancer": "melanoma"}
    with pytest.raises(ValueError, match="label_map must be a dict"):
        audit((X, y), label_map=["cancer", "melanoma"])
    with pytest.raises(ValueError, match="match_ids"):
        audit((X, y), match_ids="yes")


def test_ham10000_folder_is_read_with_its_codes_and_lesions(two_sets):
    _, ham = two_sets
    report = audit(ham)  # not one class named "images"
    assert report.class_counts == {"train": {"bkl": 2, "df": 1, "mel": 3, "nv": 4}}
    clean = report.deduplicated()
    assert list(clean.image_ids[:4]) == ["ISIC_0000000", "ISIC_0000001", "ISIC_0000002", "scan_003"]
    assert len(clean.groups) == len(clean.paths) == 10
    # a loader's Bunch keeps its per-image fields through the cleaning too
    bunch = load_ham10000(ham, as_paths=True)
    assert list(audit(bunch).deduplicated().groups) == list(bunch.groups)


def test_sizes_are_the_files_not_the_decoded_draft(tmp_path):
    folder = tmp_path / "d" / "nevus"
    folder.mkdir(parents=True)
    image = make_lesions(n_samples=1, image_size=64, random_state=0)[0][0]
    Image.fromarray(image).resize((300, 200)).save(folder / "wide.jpg")
    exif = Image.Exif()
    exif[0x0112] = 6  # shown rotated by 90 degrees
    Image.fromarray(image).resize((300, 200)).save(folder / "rotated.jpg", exif=exif)
    report = audit(tmp_path / "d")
    assert report.sizes == {"200x300": 1, "300x200": 1}


def test_decompression_bomb_is_listed_not_raised(tmp_path, lesions, monkeypatch):
    X, y = lesions
    paths = _write(tmp_path / "d", X[:3], y[:3])
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 500)  # 48 x 48 is over twice this
    report = audit((paths, y[:3]))
    assert len(report.unreadable) == 3
    assert all("decompression bomb" in reason for _, reason in report.unreadable)


@pytest.mark.realdata
@pytest.mark.slow
def test_real_isic9_against_ham10000(shared_data):
    isic9, ham = shared_data / "isic9" / "Train", shared_data / "ham10000"
    # expected, from the file listing alone: the isic9 files named after a HAM10000 image here
    ham_ids = {p.stem for p in (ham / "images").glob("*.jpg")}
    expected = {str(p) for p in isic9.glob("*/*.jpg") if p.stem.replace("(1)", "") in ham_ids}
    assert len(expected) == 1021

    def train_side(report, evidence):
        return {
            s
            for g in report.leaks
            if evidence in g.matched_by
            for s, split in zip(g.sources, g.splits, strict=True)
            if split == "train"
        }

    report = audit(isic9, test=ham)
    assert train_side(report, "id") == expected
    assert report.class_counts["test"]["mel"] == 728  # HAM10000's own codes
    train, test = report.without_leaks()
    assert expected <= set(train.dropped) and len(train.dropped) <= 1021 + 2
    assert len(test.paths) == 7001 and test.dropped == []
    # the perceptual hash alone finds them too, at 180 x 180 against 200 x 150
    hashed = audit(isic9, test=ham, match_ids=False)
    found = train_side(hashed, "hash")
    assert expected <= found and len(found - expected) <= 2


def test_verbose_shows_how_many_files_were_read(tmp_path, lesions, capsys):
    X, y = lesions
    paths = _write(tmp_path / "d", X[:12], y[:12])
    quiet = audit((paths, y[:12]))
    assert capsys.readouterr().err == ""
    shown = audit((paths, y[:12]), verbose=1)
    assert "audit: read 12 train files in" in capsys.readouterr().err
    assert shown.to_dict() == quiet.to_dict()  # the same findings
