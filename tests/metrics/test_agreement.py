"""Every figure of the clinical report agrees with scikit-learn's function for it."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve

from skinlesion.metrics import (
    clinical_report,
    reliability_curve,
    sensitivity_at_specificity,
    specificity_at_sensitivity,
)

CLASSES = np.array(["basal cell carcinoma", "melanoma", "nevus", "seborrheic keratosis"])


def _predictions(seed: int, n: int = 150, k: int = 4, ties: bool = True):
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, k, size=n)
    codes[:k] = np.arange(k)  # every class present
    logits = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[codes]
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    if ties:  # rounding makes tied scores, the hard case for curves
        proba = np.round(proba, 2)
        proba[:, -1] = 1.0 - proba[:, :-1].sum(axis=1)
        proba = np.clip(proba, 0.0, 1.0)
        proba /= proba.sum(axis=1, keepdims=True)
    return CLASSES[:k][codes], proba


@pytest.fixture(scope="module", params=[0, 1])
def case(request):
    y, proba = _predictions(request.param)
    report = clinical_report(
        y, proba, classes=CLASSES, positive="melanoma", n_bootstraps=20, random_state=0
    )
    return y, proba, report


def test_per_class_figures_match_sklearn(case):
    y, proba, report = case
    pred = CLASSES[proba.argmax(axis=1)]
    for i, c in enumerate(CLASSES):
        figs = report.per_class[c]
        is_c, called = y == c, pred == c
        assert figs["support"].value == is_c.sum()
        assert figs["sensitivity"].value == pytest.approx(skm.recall_score(is_c, called))
        assert figs["specificity"].value == pytest.approx(skm.recall_score(~is_c, ~called))
        assert figs["ppv"].value == pytest.approx(skm.precision_score(is_c, called))
        assert figs["npv"].value == pytest.approx(skm.precision_score(~is_c, ~called))
        assert figs["f1"].value == pytest.approx(skm.f1_score(is_c, called))
        assert figs["roc_auc"].value == pytest.approx(skm.roc_auc_score(is_c, proba[:, i]))
        assert figs["average_precision"].value == pytest.approx(
            skm.average_precision_score(is_c, proba[:, i])
        )


def test_overall_figures_match_sklearn(case):
    y, proba, report = case
    pred = CLASSES[proba.argmax(axis=1)]
    o = report.overall
    assert o["accuracy"].value == pytest.approx(skm.accuracy_score(y, pred))
    assert o["balanced_accuracy"].value == pytest.approx(skm.balanced_accuracy_score(y, pred))
    assert o["macro_f1"].value == pytest.approx(skm.f1_score(y, pred, average="macro"))
    assert o["weighted_f1"].value == pytest.approx(skm.f1_score(y, pred, average="weighted"))
    assert o["macro_roc_auc"].value == pytest.approx(
        skm.roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=CLASSES)
    )
    assert o["cohen_kappa"].value == pytest.approx(skm.cohen_kappa_score(y, pred))
    assert o["log_loss"].value == pytest.approx(skm.log_loss(y, proba, labels=CLASSES))


@pytest.mark.skipif(
    tuple(int(v) for v in sklearn.__version__.split(".")[:2]) < (1, 7),
    reason="scikit-learn's brier_score_loss takes multiclass labels from 1.7 on",
)
def test_overall_brier_score_matches_sklearn(case):
    y, proba, report = case
    brier = skm.brier_score_loss(y, proba, labels=CLASSES)
    assert report.overall["brier_score"].value == pytest.approx(brier)


def test_positive_class_figures_match_sklearn(case):
    y, proba, report = case
    is_pos = y == "melanoma"
    s = proba[:, 1]
    p = report.positive
    assert p["prevalence"].value == pytest.approx(is_pos.mean())
    assert p["roc_auc"].value == pytest.approx(skm.roc_auc_score(is_pos, s))
    assert p["average_precision"].value == pytest.approx(skm.average_precision_score(is_pos, s))
    called = s >= 0.5
    assert p["threshold"].value == 0.5
    assert p["sensitivity"].value == pytest.approx(skm.recall_score(is_pos, called))
    assert p["specificity"].value == pytest.approx(skm.recall_score(~is_pos, ~called))
    assert p["ppv"].value == pytest.approx(skm.precision_score(is_pos, called))
    assert p["npv"].value == pytest.approx(skm.precision_score(~is_pos, ~called))
    assert p["number_needed_to_biopsy"].value == pytest.approx(
        1.0 / skm.precision_score(is_pos, called)
    )
    lr_pos, lr_neg = skm.class_likelihood_ratios(is_pos, called)
    assert p["lr_positive"].value == pytest.approx(lr_pos)
    assert p["lr_negative"].value == pytest.approx(lr_neg)


def test_fixed_points_match_sklearn_roc_curve(case):
    y, proba, report = case
    is_pos = y == "melanoma"
    fpr, tpr, _ = skm.roc_curve(is_pos, proba[:, 1], drop_intermediate=False)
    for t in (0.8, 0.9, 0.95):
        expected = tpr[fpr <= 1 - t + 1e-12].max()
        key = f"sensitivity_at_specificity_{t:g}"
        assert report.positive[key].value == pytest.approx(expected)
        assert sensitivity_at_specificity(y, proba, t, "melanoma", classes=CLASSES) == (
            pytest.approx(expected)
        )
    for t in (0.8, 0.866, 0.9, 0.95):
        expected = (1 - fpr[tpr >= t]).max()
        key = f"specificity_at_sensitivity_{t:g}"
        assert report.positive[key].value == pytest.approx(expected)
        assert specificity_at_sensitivity(y, proba, t, "melanoma", classes=CLASSES) == (
            pytest.approx(expected)
        )


def test_set_of_positive_classes_sums_their_probabilities():
    y, proba = _predictions(3)
    malignant = {"melanoma", "basal cell carcinoma"}
    report = clinical_report(
        y, proba, classes=CLASSES, positive=malignant, n_bootstraps=0, random_state=0
    )
    is_pos = np.isin(y, list(malignant))
    s = proba[:, :2].sum(axis=1)
    assert report.positive_label == "basal cell carcinoma + melanoma"
    assert report.positive["roc_auc"].value == pytest.approx(skm.roc_auc_score(is_pos, s))
    assert report.positive["sensitivity"].value == pytest.approx(skm.recall_score(is_pos, s >= 0.5))


def test_binary_task_with_1d_scores_matches_sklearn():
    rng = np.random.default_rng(5)
    y = np.where(rng.random(120) < 0.3, "malignant", "benign")
    s = np.clip(0.35 * (y == "malignant") + rng.random(120) * 0.65, 0, 1)
    report = clinical_report(y, s, n_bootstraps=0)
    assert report.positive_label == "malignant"  # classes[1] in a binary task
    assert report.overall["brier_score"].value == pytest.approx(
        skm.brier_score_loss(y, s, pos_label="malignant")
    )
    assert report.overall["log_loss"].value == pytest.approx(skm.log_loss(y, s))
    assert report.positive["roc_auc"].value == pytest.approx(skm.roc_auc_score(y == "malignant", s))
    assert report.overall["macro_roc_auc"].value == pytest.approx(skm.roc_auc_score(y, s))


def test_positive_reliability_curve_matches_calibration_curve(case):
    y, proba, _ = case
    curve = reliability_curve(y, proba, classes=CLASSES, positive="melanoma", n_bins=10)
    prob_true, prob_pred = calibration_curve(y == "melanoma", proba[:, 1], n_bins=10)
    np.testing.assert_allclose(curve.fraction_positive, prob_true)
    np.testing.assert_allclose(curve.mean_predicted, prob_pred)
