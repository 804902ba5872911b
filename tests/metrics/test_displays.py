"""The displays draw without error on a non-interactive backend and have the expected axes."""

from __future__ import annotations

import numpy as np
import pytest

from .._subprocess import run_python

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
    out = run_python("-c", code)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip() == "False"


def test_confusion_matrix_display(data):
    y, proba, _ = data
    disp = ConfusionMatrixDisplay.from_probabilities(y, proba, classes=CLASSES)
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


# ---- scikit-learn's contracts: predictions, artists, ax=, X in one place -------------


def test_confusion_matrix_from_predictions_takes_labels_as_sklearn(data):
    from sklearn.metrics import confusion_matrix

    y, proba, _ = data
    pred = CLASSES[proba.argmax(axis=1)]
    disp = ConfusionMatrixDisplay.from_predictions(y, pred)
    np.testing.assert_array_equal(disp.confusion_matrix, confusion_matrix(y, pred))
    assert disp.display_labels == CLASSES.tolist()
    order = CLASSES[::-1]
    disp = ConfusionMatrixDisplay.from_predictions(y, pred, labels=order, display_labels="ABC")
    np.testing.assert_array_equal(disp.confusion_matrix, confusion_matrix(y, pred, labels=order))
    assert disp.display_labels == ["A", "B", "C"]
    same = ConfusionMatrixDisplay.from_probabilities(y, proba, classes=CLASSES)
    np.testing.assert_array_equal(same.confusion_matrix, confusion_matrix(y, pred))


def test_confusion_matrix_from_predictions_refuses_probabilities(data):
    y, proba, _ = data
    with pytest.raises(ValueError, match="from_probabilities"):
        ConfusionMatrixDisplay.from_predictions(y, proba)
    with pytest.raises(ValueError, match="from_probabilities"):
        ConfusionMatrixDisplay.from_predictions(y, proba[:, 1])
    with pytest.raises(ValueError, match="different lengths"):
        ConfusionMatrixDisplay.from_predictions(y, y[:-1])


def test_confusion_matrix_from_estimator_uses_predict(data):
    y, _, _ = data

    class AlwaysMelanoma:
        classes_ = CLASSES

        def predict(self, X):
            return np.full(len(X), "melanoma")

    disp = ConfusionMatrixDisplay.from_estimator(AlwaysMelanoma(), np.zeros((len(y), 1)), y)
    assert disp.confusion_matrix[:, 1].sum() == len(y)  # every image in the melanoma column
    assert disp.display_labels == CLASSES.tolist()  # the estimator's classes, all of them
    with pytest.raises(TypeError, match="predict"):
        ConfusionMatrixDisplay.from_estimator(object(), np.zeros((2, 1)), y[:2])


def test_confusion_matrix_exposes_its_artists_and_takes_ax():
    fig, ax = plt.subplots(1, 2)
    disp = ConfusionMatrixDisplay(np.array([[3, 1], [0, 2]]), display_labels=["a", "b"])
    assert disp.plot(ax=ax) is disp
    assert disp.figure_ is fig and list(disp.ax_) == list(ax)
    assert disp.im_.shape == (2,) and disp.text_.shape == (2, 2, 2)
    assert disp.text_[0, 0, 1].get_text() == "1" and disp.text_[1, 0, 1].get_text() == "0.25"
    assert disp.im_[0].get_array().tolist() == [[3, 1], [0, 2]]
    assert ConfusionMatrixDisplay(np.eye(2, dtype=int)).display_labels == ["0", "1"]  # as sklearn
    with pytest.raises(ValueError, match="2 Axes"):
        disp.plot(ax=ax[0])


def test_roc_display_takes_sklearn_constructor_arguments():
    fpr, tpr = np.array([0.0, 0.0, 0.5, 1.0]), np.array([0.0, 0.5, 1.0, 1.0])
    one = RocCurveDisplay(fpr=fpr, tpr=tpr, roc_auc=0.875, name="melanoma").plot()
    assert one.line_.get_label() == "melanoma (AUC 0.875)"
    np.testing.assert_array_equal(one.line_.get_xdata(), fpr)
    assert list(one.curves) == ["melanoma"] and one.curves["melanoma"][2] == 0.875
    several = RocCurveDisplay(
        fpr=[fpr, np.array([0.0, 0.5, 0.5, 1.0])],
        tpr=[tpr, tpr],
        roc_auc=[0.875, 0.6],
        name=["a", "b"],
    ).plot()
    assert [line.get_label() for line in several.line_] == ["a (AUC 0.875)", "b (AUC 0.600)"]
    assert several.chance_level_.get_xdata().tolist() == [0, 1] and several.marker_ is None
    with pytest.raises(ValueError, match="same curves"):
        _ = RocCurveDisplay(fpr=[fpr, fpr], tpr=[tpr], name=["a", "b"]).curves


def test_roc_display_draws_on_the_given_axes(data):
    y, proba, _ = data
    fig, ax = plt.subplots()
    disp = RocCurveDisplay.from_predictions(
        y, proba, classes=CLASSES, positive="melanoma", n_bootstraps=10, random_state=0, ax=ax
    )
    assert disp.ax_ is ax and disp.figure_ is fig
    assert len(disp.line_) == 3 and set(disp.fill_) == {"melanoma"}
    _, fpr, tpr, _ = disp.operating_point
    assert disp.marker_.get_xdata().tolist() == [fpr] and disp.marker_.get_ydata().tolist() == [tpr]


def test_reliability_display_exposes_artists_and_positive_ece(data):
    y, proba, _ = data
    fig, ax = plt.subplots(2, 1)
    disp = ReliabilityDisplay.from_predictions(
        y, proba, classes=CLASSES, positive="melanoma", n_bins=10, ax=ax
    )
    assert disp.figure_ is fig and len(disp.hist_) == disp.curve.count.size
    np.testing.assert_allclose(disp.line_.get_ydata(), disp.curve.fraction_positive)
    c = disp.curve  # the ECE drawn is the one of the curve drawn (here the positive class's)
    expected = np.sum(c.count / c.count.sum() * np.abs(c.fraction_positive - c.mean_predicted))
    assert disp.ece == pytest.approx(expected)


def test_history_and_image_displays_take_ax(data):
    y, proba, images = data
    fig, ax = plt.subplots(1, 2)
    history = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "accuracy": [0.5, 0.7]}
    disp = TrainingHistoryDisplay.from_history(history, ax=ax)
    assert disp.figure_ is fig and set(disp.lines_) == {"loss", "val_loss", "accuracy"}
    assert disp.lines_["val_loss"].get_ydata().tolist() == [1.1, 0.7]

    fig, ax = plt.subplots(3, 2)
    grid = SampleImagesDisplay.from_images(images, y, n_per_class=2, random_state=0, ax=ax)
    assert grid.figure_ is fig and grid.im_.shape == (3, 2)
    np.testing.assert_array_equal(grid.im_[0, 0].get_array(), grid.images[0])
    with pytest.raises(ValueError, match="6 Axes"):
        SampleImagesDisplay.from_images(images, y, n_per_class=2, ax=ax[0])

    fig, ax = plt.subplots(1, 4)
    worst = WorstMistakesDisplay.from_predictions(
        images, y, proba, classes=CLASSES, n_images=4, ax=ax
    )
    assert worst.figure_ is fig and len(worst.im_) == len(worst.indices) <= 4
    with pytest.raises(ValueError, match="at least"):
        WorstMistakesDisplay.from_predictions(images, y, proba, classes=CLASSES, ax=ax[:1])


def test_every_display_signature_puts_x_in_one_place_and_takes_ax():
    import inspect

    from skinlesion.metrics import ClinicalReport

    for cls in (ConfusionMatrixDisplay, RocCurveDisplay, ReliabilityDisplay, WorstMistakesDisplay):
        params = list(inspect.signature(cls.from_estimator).parameters)
        assert params[:3] == ["estimator", "X", "y"], cls
    assert list(inspect.signature(ClinicalReport.from_estimator).parameters)[:3] == [
        "estimator",
        "X",
        "y",
    ]
    displays = (
        ConfusionMatrixDisplay,
        RocCurveDisplay,
        ReliabilityDisplay,
        TrainingHistoryDisplay,
        SampleImagesDisplay,
        WorstMistakesDisplay,
    )
    for cls in displays:
        for name in ("plot", "from_predictions", "from_probabilities", "from_estimator",
                     "from_history", "from_images"):  # fmt: skip
            if hasattr(cls, name):
                assert "ax" in inspect.signature(getattr(cls, name)).parameters, (cls, name)
