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
