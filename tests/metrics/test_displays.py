"""The displays draw without error on a non-interactive backend and have the expected axes."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from skinlesion.metrics import (  # noqa: E402
    ConfusionMatrixDisplay,
    ReliabilityDisplay,
    RocCurveDisplay,
    SampleImagesDisplay,
    TrainingHistoryDisplay,
    WorstMistakesDisplay,
)

CLASSES = np.array(["actinic keratosis", "melanoma", "pigmented benign keratosis"])


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    codes = np.r_[np.arange(3), rng.integers(0, 3, size=57)]
    logits = rng.normal(size=(60, 3)) + 1.5 * np.eye(3)[codes]
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    images = rng.integers(0, 256, size=(60, 12, 12, 3), dtype=np.uint8)
    return CLASSES[codes], proba, images


def test_import_does_not_load_matplotlib():
    code = "import sys, skinlesion.metrics; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_confusion_matrix_display(data):
    y, proba, _ = data
    disp = ConfusionMatrixDisplay.from_predictions(y, proba, classes=CLASSES)
    pred = CLASSES[proba.argmax(axis=1)]
    for i, t in enumerate(CLASSES):
        for j, p in enumerate(CLASSES):
            assert disp.confusion_matrix[i, j] == np.sum((y == t) & (pred == p))
    assert len(disp.ax_) == 2
    assert disp.ax_[0].get_title() == "Counts"
    assert "Row-normalised" in disp.ax_[1].get_title()
    ticks = [t.get_text() for t in disp.ax_[0].get_xticklabels()]
    assert ticks[2] == "pigmented benign\nkeratosis"  # long names wrapped
    texts = [t.get_text() for t in disp.ax_[1].texts]
    rows = disp.confusion_matrix.sum(axis=1)
    assert texts[0] == f"{disp.confusion_matrix[0, 0] / rows[0]:.2f}"


def test_confusion_matrix_from_estimator(data):
    from sklearn.linear_model import LogisticRegression

    y, _, _ = data
    X = (y[:, None] == CLASSES) * 2.0
    clf = LogisticRegression().fit(X, y)
    disp = ConfusionMatrixDisplay.from_estimator(clf, X, y)
    assert disp.confusion_matrix.trace() == len(y)


def test_roc_display_marks_operating_point_and_band(data):
    y, proba, _ = data
    disp = RocCurveDisplay.from_predictions(
        y,
        proba,
        classes=CLASSES,
        positive="melanoma",
        threshold=0.5,
        n_bootstraps=30,
        random_state=0,
    )
    assert disp.ax_.get_xlabel() == "False positive rate (1 - specificity)"
    assert disp.ax_.get_ylabel() == "True positive rate (sensitivity)"
    assert set(disp.curves) == set(CLASSES.tolist())
    assert set(disp.bands) == {"melanoma"}
    grid, low, high = disp.bands["melanoma"]
    assert np.all(low <= high + 1e-12) and grid.size == low.size
    name, fpr, tpr, threshold = disp.operating_point
    s, is_mel = proba[:, 1], y == "melanoma"
    assert name == "melanoma" and threshold == 0.5
    assert tpr == pytest.approx(np.mean(s[is_mel] >= 0.5))
    assert fpr == pytest.approx(np.mean(s[~is_mel] >= 0.5))
    labels = [t.get_text() for t in disp.ax_.get_legend().get_texts()]
    assert any(label.startswith("operating point") for label in labels)
    assert any("95 % band" in label for label in labels)


def test_roc_display_without_positive_bands_every_class(data):
    y, proba, _ = data
    disp = RocCurveDisplay.from_predictions(
        y, proba, classes=CLASSES, n_bootstraps=10, random_state=0
    )
    assert set(disp.bands) == set(CLASSES.tolist()) and disp.operating_point is None


def test_reliability_display(data):
    y, proba, _ = data
    disp = ReliabilityDisplay.from_predictions(y, proba, classes=CLASSES, n_bins=10)
    assert len(disp.ax_) == 2
    assert disp.ax_[0].get_ylabel() == "Observed frequency"
    assert disp.ax_[1].get_ylabel() == "Images"
    assert disp.curve.count.sum() == len(y)
    from skinlesion.metrics import expected_calibration_error

    assert disp.ece == pytest.approx(
        expected_calibration_error(y, proba, classes=CLASSES, n_bins=10)
    )
    disp = ReliabilityDisplay.from_predictions(y, proba, classes=CLASSES, positive="melanoma")
    assert disp.curve.label == "melanoma"


def test_training_history_display():
    history = {
        "loss": [1.2, 0.8, 0.6, 0.5],
        "accuracy": [0.4, 0.6, 0.7, 0.75],
        "val_loss": [1.3, 0.9, 0.85, 0.95],
        "val_accuracy": [0.35, 0.55, 0.6, 0.58],
    }
    disp = TrainingHistoryDisplay.from_history(history)
    assert [a.get_ylabel() for a in disp.ax_] == ["loss", "accuracy"]
    assert [a.get_xlabel() for a in disp.ax_] == ["epoch", "epoch"]
    labels = [t.get_text() for t in disp.ax_[0].get_legend().get_texts()]
    assert labels == ["training", "validation", "best validation epoch (3)"]
    line = disp.ax_[0].get_lines()[0]
    assert line.get_ydata().tolist() == history["loss"]

    class Fitted:
        history_ = {"loss": [1.0, 0.5]}

    disp = TrainingHistoryDisplay.from_estimator(Fitted())
    assert len(disp.ax_) == 1
    with pytest.raises(ValueError, match="different lengths"):
        TrainingHistoryDisplay.from_history({"loss": [1, 2], "val_loss": [1]})
    with pytest.raises(ValueError, match="dict of per-epoch lists"):
        TrainingHistoryDisplay.from_history([0.1, 0.2])
    with pytest.raises(TypeError, match="history_"):
        TrainingHistoryDisplay.from_estimator(object())


def test_sample_images_display(data):
    y, _, images = data
    disp = SampleImagesDisplay.from_images(images, y, n_per_class=4, random_state=0)
    assert disp.ax_.shape == (3, 4)
    assert len(disp.images) == 12
    assert [lab for lab in disp.labels].count("melanoma") == 4
    first = disp.ax_[0, 0].get_images()[0].get_array()
    assert any(np.array_equal(first, im) for im in images[y == CLASSES[0]])
    with pytest.raises(ValueError, match="labels"):
        SampleImagesDisplay.from_images(images, y[:-1])


def test_sample_images_from_paths(tmp_path, data):
    from PIL import Image

    y, _, images = data
    paths = []
    for i, im in enumerate(images[:9]):
        p = tmp_path / f"{i}.png"
        Image.fromarray(im).save(p)
        paths.append(str(p))
    disp = SampleImagesDisplay.from_images(
        paths, y[:9], n_per_class=2, image_size=12, random_state=0
    )
    assert disp.images.shape[1:] == (12, 12, 3)


def test_worst_mistakes_display(data):
    y, proba, images = data
    disp = WorstMistakesDisplay.from_predictions(images, y, proba, classes=CLASSES, n_images=5)
    pred = proba.argmax(axis=1)
    wrong = np.flatnonzero(CLASSES[pred] != y)
    expected = wrong[np.argsort(-proba.max(axis=1)[wrong], kind="stable")][:5]
    assert disp.indices.tolist() == expected.tolist()
    assert np.all(np.diff(disp.confidences) <= 0)
    assert all(t != p for t, p in zip(disp.true_labels, disp.predicted_labels, strict=True))
    title = disp.ax_.ravel()[0].get_title()
    assert title.startswith("true: ") and "pred: " in title
    np.testing.assert_array_equal(disp.images[0], images[expected[0]])


def test_worst_mistakes_with_no_mistakes():
    y = np.array(["a", "b"])
    disp = WorstMistakesDisplay.from_predictions(
        np.zeros((2, 8, 8, 3), np.uint8), y, [[0.9, 0.1], [0.2, 0.8]]
    )
    assert disp.indices.size == 0


@pytest.mark.realdata
def test_image_displays_read_real_image_paths(shared_data):
    from skinlesion.images import list_image_files

    folder = shared_data / "isic2017" / "val"
    paths, labels = [], []
    for name in ("melanoma", "nevus"):
        files = list_image_files(folder / name)[:4]
        paths += [str(p) for p in files]
        labels += [name] * len(files)
    if len(paths) < 8:
        pytest.skip("isic2017/val holds fewer images than expected")
    y = np.array(labels)
    proba_mel = np.array([0.9] * 4 + [0.9, 0.8, 0.7, 0.2])  # three nevi called melanoma
    proba = np.column_stack([proba_mel, 1 - proba_mel])
    disp = WorstMistakesDisplay.from_predictions(paths, y, proba, n_images=3, image_size=48)
    assert disp.images.shape == (3, 48, 48, 3)
    assert disp.true_labels == ["nevus"] * 3 and disp.predicted_labels == ["melanoma"] * 3
    assert disp.indices.tolist() == [4, 5, 6]
    grid = SampleImagesDisplay.from_images(paths, y, n_per_class=2, image_size=32, random_state=0)
    assert grid.images.shape == (4, 32, 32, 3) and grid.ax_.shape == (2, 2)
