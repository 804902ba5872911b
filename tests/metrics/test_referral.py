"""Referral (selective prediction): engine, referral_curve, the report's section, display."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn import metrics as skm

from skinlesion.metrics import ReferralCurveDisplay, _engine, clinical_report, referral_curve
from skinlesion.metrics.intervals import bootstrap_indices

CLASSES = np.array(["melanoma", "nevus", "seborrheic keratosis"])


def _case(n: int = 90, seed: int = 0):
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 3, size=n)
    logits = rng.normal(size=(n, 3)) + 1.5 * np.eye(3)[codes]
    return codes, np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)


def _by_hand(codes, proba, fraction, threshold):
    """Sort by top probability, drop the least confident, score the rest with scikit-learn."""
    order = np.argsort(-proba.max(axis=1), kind="mergesort")
    kept = order[: codes.size - int(np.floor(fraction * codes.size + 0.5))]
    y, pred = codes[kept], proba[kept].argmax(axis=1)
    is_mel, called = y == 0, proba[kept, 0] >= threshold
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "threshold": proba[kept].max(axis=1).min(),
            "accuracy": skm.accuracy_score(y, pred),
            "balanced_accuracy": skm.balanced_accuracy_score(y, pred),
            "sensitivity": skm.recall_score(is_mel, called, zero_division=np.nan),
            "specificity": skm.recall_score(~is_mel, ~called, zero_division=np.nan),
        }


@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.25])
def test_engine_refers_the_least_confident_on_each_resample(fraction):
    codes, proba = _case()
    indices = [np.arange(codes.size), *bootstrap_indices(codes.size, 25, random_state=1)]
    W = np.stack([np.bincount(i, minlength=codes.size) for i in indices]).astype(float)
    mask = np.array([True, False, False])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        batch = _engine.referral_figures(codes, proba, proba.max(axis=1), [fraction], W, mask, 0.4)
    for r, idx in enumerate(indices):
        for name, value in _by_hand(codes[idx], proba[idx], fraction, 0.4).items():
            assert batch[("referral", 0, name)][r] == pytest.approx(value, nan_ok=True), (name, r)


def test_curve_and_report_agree_and_referring_helps():
    codes, proba = _case(300)
    y = CLASSES[codes]
    curve = referral_curve(y, proba, classes=CLASSES)
    assert curve.positive_label == "melanoma"  # found by name in a multi-class task
    assert curve.referred[0] == 0 and curve.accuracy[0] == skm.accuracy_score(
        codes, proba.argmax(axis=1)
    )
    report = clinical_report(y, proba, classes=CLASSES, n_bootstraps=100, random_state=0)
    assert list(report.referral) == [0.1, 0.2] and report.referral_label == "melanoma"
    for share, figures in report.referral.items():
        assert set(figures) == {
            "threshold", "accuracy", "balanced_accuracy", "sensitivity", "specificity"
        }  # fmt: skip
        for name, value in curve.at(share).items():
            if name != "referred":
                est = figures[name]
                assert est.value == pytest.approx(value)
                assert est.method == "bootstrap" and est.low <= est.value <= est.high
    # a confidence that means something: accuracy rises as the unsure are referred
    assert curve.at(0.2)["accuracy"] > curve.at(0.1)["accuracy"] > curve.accuracy[0]
    # the reverse ranking refers the surest first, and accuracy falls
    worst_first = referral_curve(y, proba, classes=CLASSES, confidence=-proba.max(axis=1))
    assert worst_first.at(0.2)["accuracy"] < curve.accuracy[0]


def test_report_reads_sensitivity_at_its_operating_point():
    codes, proba = _case(120)
    y = CLASSES[codes]
    r = clinical_report(
        y, proba, classes=CLASSES, positive="melanoma", target_sensitivity=0.9,
        referral=(0.0, 0.3), n_bootstraps=50, random_state=0,
    )  # fmt: skip
    nothing_referred = r.referral[0.0]
    for name in ("sensitivity", "specificity"):
        assert nothing_referred[name].value == r.positive[name].value
    assert r.referral[0.3]["threshold"].value > nothing_referred["threshold"].value
    text, markdown = str(r), r.to_markdown()
    assert "Referral of the least-confident cases" in text and "| 30 % |" in markdown
    assert "Referral curve" in r.to_html()
    assert r.to_dict()["referral"]["0.3"]["accuracy"]["method"] == "bootstrap"
    assert {row["class"] for row in r.rows() if row["section"] == "referral"} == {
        "0 % referred",
        "30 % referred",
    }


def test_referral_can_be_left_out_and_refuses_bad_shares():
    codes, proba = _case(40)
    y = CLASSES[codes]
    r = clinical_report(y, proba, classes=CLASSES, referral=(), n_bootstraps=0)
    assert r.referral is None and "Referral" not in str(r)
    binary = clinical_report(y == "melanoma", proba[:, 0], referral=[0.1], n_bootstraps=0)
    assert binary.referral_label == "True"
    for bad in ([1.0], [-0.1], "often"):
        with pytest.raises(ValueError, match="referral"):
            clinical_report(y, proba, classes=CLASSES, referral=bad, n_bootstraps=0)
    with pytest.raises(ValueError, match="one finite score per case"):
        referral_curve(y, proba, classes=CLASSES, confidence=[0.5, 0.2])


def test_referral_display_draws_the_curve_on_given_axes():
    import matplotlib.pyplot as plt

    codes, proba = _case(80)
    fig, ax = plt.subplots()
    disp = ReferralCurveDisplay.from_predictions(
        CLASSES[codes], proba, classes=CLASSES, marks=[0.1], max_referred=0.4, ax=ax
    )
    assert disp.figure_ is fig and len(disp.marks_) == 1
    line = disp.lines_["accuracy"]
    assert line.get_xdata().max() <= 40 and line.get_ydata()[0] == disp.curve.accuracy[0]
    assert disp.lines_["sensitivity"].get_label() == "melanoma sensitivity"
    plt.close(fig)
