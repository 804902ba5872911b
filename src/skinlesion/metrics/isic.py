"""The ISIC challenge's classification scores, computed as its official scorer does.

``isic-challenge-scoring`` (the package behind the ISIC 2018-2020 leaderboards)
scores each class one-vs-rest: thresholded figures at a probability above 0.5
(accuracy, sensitivity, specificity, dice, PPV, NPV), ROC AUC, ``auc_sens_80``
(the raw ROC area where sensitivity >= 0.8) and average precision, then their
macro averages, and ranks by balanced multi-class accuracy. This module
reproduces those numbers, including the scorer's conventions: an undefined
thresholded figure (for example PPV of a class never predicted) scores 1.0, and
an image whose highest probability is tied counts as "undecided" (wrong) for
balanced accuracy. ``tests/metrics/test_isic.py`` checks agreement with the
official package.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from skinlesion.metrics import _engine
from skinlesion.metrics._engine import ISIC_FIGURES
from skinlesion.metrics._validation import check_predictions

__all__ = ["ISIC_FIGURES", "isic_scores"]


def isic_scores(y_true: Any, y_score: Any, *, classes: Any = None) -> dict[str, Any]:
    """Score predictions as the ISIC challenge's official scorer does.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True class names.
    y_score : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted probabilities, columns in ``classes`` order.
    classes : array-like, default=None
        Column names of ``y_score`` (``clf.classes_``).

    Returns
    -------
    scores : dict
        ``"per_category"``: ``{class: {figure: value}}`` with the figures of
        ``skinlesion.metrics.isic.ISIC_FIGURES``; ``"macro_average"``: ``{figure: mean over
        classes}``; ``"aggregate"``: ``{"balanced_accuracy": value}``. AUC, AP and
        ``auc_sens_80`` of a class absent from y_true are NaN (the official
        scorer fails there).

    Examples
    --------
    >>> from skinlesion.metrics import isic_scores
    >>> y = ["mel", "nv", "nv", "mel"]
    >>> p = [[0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.9, 0.1]]
    >>> s = isic_scores(y, p)
    >>> s["per_category"]["mel"]["sensitivity"], s["aggregate"]["balanced_accuracy"]
    (1.0, 0.75)
    """
    codes, proba, classes = check_predictions(y_true, y_score, classes)
    with np.errstate(invalid="ignore", divide="ignore"):
        figs = _engine.class_figures(codes, proba, _engine.unit_weights(codes.size))
    return {
        "per_category": {
            c: {f: float(figs[("isic", i, f)][0]) for f in ISIC_FIGURES}
            for i, c in enumerate(classes.tolist())
        },
        "macro_average": {f: float(figs[("isic_macro", f)][0]) for f in ISIC_FIGURES},
        "aggregate": {"balanced_accuracy": float(figs[("isic_aggregate", "balanced_accuracy")][0])},
    }
