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

from skinlesion.datasets import audit, load_image_folder, make_lesions
from skinlesion.datasets.audit import perceptual_hash


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
