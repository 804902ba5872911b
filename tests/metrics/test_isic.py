"""The ISIC block agrees with the ISIC challenge's official scorer.

``isic-challenge-scoring`` (test-only dependency) is used through its
``ClassificationScore(truth_df, pred_df, weights_df, metric)`` constructor; its
CSV reader fails on pandas 3. Hand-computed cases keep the block tested where the
package is not installed.
"""

from __future__ import annotations

import numpy as np
import pytest

from skinlesion.metrics import clinical_report, isic_scores, partial_auc_above_sensitivity
from skinlesion.metrics.isic import ISIC_FIGURES

CLASSES = ["MEL", "NV", "BCC", "AKIEC", "BKL"]


def _case(seed: int, n: int = 120, ties: bool = False):
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, len(CLASSES), size=n)
    codes[: len(CLASSES)] = np.arange(len(CLASSES))
    logits = rng.normal(size=(n, len(CLASSES))) + 1.2 * np.eye(len(CLASSES))[codes]
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    if ties:
        proba = np.round(proba, 1)
        proba[:3] = 1.0 / len(CLASSES)  # tied top probability: "undecided"
        proba /= proba.sum(axis=1, keepdims=True)
    return np.array(CLASSES)[codes], proba


@pytest.mark.filterwarnings("ignore:The inplace keyword:Warning")  # the scorer on pandas 3
@pytest.mark.parametrize("seed,ties", [(0, False), (1, True), (2, False)])
def test_isic_block_matches_official_scorer(seed, ties):
    pd = pytest.importorskip("pandas")
    classification = pytest.importorskip(
        "isic_challenge_scoring.classification",
        reason="pip install isic-challenge-scoring (test-only dependency)",
    )
    y, proba = _case(seed, ties=ties)
    truth = pd.DataFrame((y[:, None] == np.array(CLASSES)).astype(float), columns=CLASSES)
    pred = pd.DataFrame(proba, columns=CLASSES)
    weights = pd.DataFrame({"score_weight": 1.0, "validation_weight": 1.0}, index=truth.index)
    official = classification.ClassificationScore(
        truth, pred, weights, classification.ClassificationMetric.BALANCED_ACCURACY
    )
    ours = isic_scores(y, proba, classes=CLASSES)
    report = clinical_report(y, proba, classes=CLASSES, n_bootstraps=0)
    for c in CLASSES:
        for fig in ISIC_FIGURES:
            expected = official.per_category.loc[c, fig]
            assert ours["per_category"][c][fig] == pytest.approx(expected, abs=1e-12), (c, fig)
            assert report.isic["per_category"][c][fig].value == pytest.approx(
                expected, abs=1e-12
            ), (c, fig)
    for fig in ISIC_FIGURES:
        expected = official.macro_average[fig]
        assert ours["macro_average"][fig] == pytest.approx(expected, abs=1e-12)
        assert report.isic["macro_average"][fig].value == pytest.approx(expected, abs=1e-12)
    expected = official.aggregate["balanced_accuracy"]
    assert ours["aggregate"]["balanced_accuracy"] == pytest.approx(expected, abs=1e-12)
    assert report.isic["aggregate"]["balanced_accuracy"].value == pytest.approx(expected)


def test_isic_hand_computed_case():
    # 4 images, 2 classes. MEL scores 0.8, 0.6 (both MEL); NV images score MEL 0.7, 0.2.
    y = ["MEL", "MEL", "NV", "NV"]
    p = [[0.8, 0.2], [0.6, 0.4], [0.7, 0.3], [0.2, 0.8]]
    s = isic_scores(y, p)["per_category"]["MEL"]
    # at > 0.5: MEL called for images 0, 1, 2 -> tp 2, fp 1, fn 0, tn 1
    assert s["accuracy"] == 0.75
    assert s["sensitivity"] == 1.0
    assert s["specificity"] == 0.5
    assert s["ppv"] == pytest.approx(2 / 3)
    assert s["npv"] == 1.0
    assert s["dice"] == pytest.approx(4 / 5)
    # ranking: 0.8 (MEL), 0.7 (NV), 0.6 (MEL), 0.2 (NV): 3 of 4 pairs ordered
    assert s["auc"] == 0.75
    assert s["ap"] == pytest.approx(0.5 * 1.0 + 0.5 * (2 / 3))
    # ROC: (0,0) (0,.5) (.5,.5) (.5,1) (1,1); above sensitivity 0.8 the curve runs
    # from (0.5, 0.8) up to (0.5, 1) then flat to (1, 1): area 0.8*0 + 1 * 0.5 = 0.5
    assert s["auc_sens_80"] == pytest.approx(0.5)


def test_isic_freebie_conventions_and_undecided():
    # class "B" is never predicted above 0.5: official PPV of B is 1.0, not undefined
    y = ["A", "A", "B"]
    p = [[0.9, 0.1], [0.5, 0.5], [0.6, 0.4]]
    s = isic_scores(y, p)
    assert s["per_category"]["B"]["ppv"] == 1.0
    assert s["per_category"]["B"]["sensitivity"] == 0.0
    # image 1 is tied: undecided, so A's recall is 1/2 and B's 0
    assert s["aggregate"]["balanced_accuracy"] == pytest.approx(0.25)


def test_partial_auc_is_one_for_perfect_and_018_for_chance():
    y = np.array(["b"] * 500 + ["m"] * 500)
    perfect = np.r_[np.linspace(0, 0.4, 500), np.linspace(0.6, 1, 500)]
    assert partial_auc_above_sensitivity(y, perfect, positive="m") == pytest.approx(1.0)
    # identical score distributions: ROC is the diagonal, area above tpr 0.8 is 0.18
    same = np.r_[np.linspace(0, 1, 500), np.linspace(0, 1, 500)]
    assert partial_auc_above_sensitivity(y, same, positive="m") == pytest.approx(0.18, abs=0.01)
