"""LesionClassifier on real dermoscopic images from ../shared/data (skipped when absent)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split

from skinlesion import LesionClassifier
from skinlesion.images import list_image_files

CLASSES = ["melanoma", "nevus", "pigmented benign keratosis", "basal cell carcinoma"]


@pytest.mark.slow
@pytest.mark.realdata
def test_trains_on_isic9_subset_from_paths_and_beats_chance(shared_data):
    root = shared_data / "isic9" / "Train"
    if not root.is_dir():
        pytest.skip(f"{root} not found")
    paths, labels = [], []
    for name in CLASSES:
        files = list_image_files(root / name)[:90]
        paths += [str(p) for p in files]
        labels += [name] * len(files)
    paths, labels = np.array(paths, dtype=object), np.array(labels)
    train_paths, test_paths, y_train, y_test = train_test_split(
        paths, labels, test_size=0.3, stratify=labels, random_state=0
    )
    clf = LesionClassifier(image_size=48, epochs=12, patience=4, random_state=0)
    clf.fit(list(train_paths), y_train)  # file paths, streamed and decoded lazily
    proba = clf.predict_proba(list(test_paths))
    assert proba.shape == (len(test_paths), len(CLASSES))
    score = balanced_accuracy_score(y_test, clf.classes_[proba.argmax(axis=1)])
    chance = 1 / len(CLASSES)
    assert score > chance + 0.1, f"balanced accuracy {score:.3f} vs chance {chance:.3f}"


@pytest.mark.slow
@pytest.mark.realdata
def test_isic9_rebalanced_pipeline_holds_out_no_copy_of_a_training_image(shared_data):
    """In make_pipeline(Rebalancer(), LesionClassifier()) early stopping used to be
    scored on copies of training images (259 of 416 validation images on isic9/Train)."""
    import hashlib

    from skinlesion import Rebalancer, make_pipeline
    from skinlesion.datasets import load_image_folder

    root = shared_data / "isic9" / "Train"
    if not root.is_dir():
        pytest.skip(f"{root} not found")
    data = load_image_folder(root, as_paths=True)
    paths, labels = np.asarray(data.paths, dtype=object), np.asarray(data.target)
    pipe = make_pipeline(
        Rebalancer(random_state=0),
        LesionClassifier(image_size=16, filters=(4,), dense_units=(8,), epochs=1, random_state=0),
    ).fit(paths, labels)
    origins, validation = pipe.sample_indices_, pipe[-1].validation_indices_
    held_out = np.zeros(len(origins), dtype=bool)
    held_out[validation] = True
    assert 0.09 < held_out.mean() < 0.11
    assert not set(origins[held_out]) & set(origins[~held_out])  # no repeat of a source
    # nor the same bytes under two names (isic9/Train has 139 such files)
    digest = [hashlib.blake2b(open(p, "rb").read()).digest() for p in paths]
    digests = np.array(digest, dtype=object)[origins]
    assert not set(digests[held_out]) & set(digests[~held_out])
