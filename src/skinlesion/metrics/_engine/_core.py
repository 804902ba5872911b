"""The engine's building blocks: weighted counts, ROC curves, confusion, calibration.

Every function takes a ``(n_resamples, n_images)`` weight matrix ``W`` and returns
one value per row (see :mod:`skinlesion.metrics._engine` for the conventions).
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: The per-class figures of the ISIC scorer, in its order.
ISIC_FIGURES = (
    "accuracy",
    "sensitivity",
    "specificity",
    "dice",
    "ppv",
    "npv",
    "auc",
    "auc_sens_80",
    "ap",
)

Figures = dict[tuple, np.ndarray]


def unit_weights(n: int) -> np.ndarray:
    """The weights of the test set itself: one row, each image once."""
    return np.ones((1, n))


def _div(num: Any, den: Any) -> np.ndarray:
    """``num / den`` elementwise, NaN where ``den`` is 0."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    return np.divide(num, den, out=out, where=den > 0)


def _cumulative(W: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Running sums of ``W``'s ``columns`` along each row, after a first column of 0."""
    out = np.zeros((W.shape[0], columns.size + 1))
    np.cumsum(W[:, columns], axis=1, out=out[:, 1:])
    return out


def _nanmean(a: np.ndarray, axis: int = -1) -> np.ndarray:
    """Mean of the defined values along ``axis`` (NaN when none is)."""
    ok = ~np.isnan(a)
    return _div(np.where(ok, a, 0.0).sum(axis=axis), ok.sum(axis=axis))


def _isic_free(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """The ISIC scorer's ratio: 1.0 (a "freebie") where it is undefined."""
    return np.where(den == 0, 1.0, _div(num, den))


# --------------------------------------------------------------------------------------
# building blocks
# --------------------------------------------------------------------------------------


class Curve:
    """ROC points of one binary target for each row of weights.

    Points are taken at each distinct score of the unweighted data, highest
    first, after a first point at ``+inf`` (nothing called positive). A case is
    called positive when its score is ``>= threshold``, as in
    :func:`sklearn.metrics.roc_curve` with ``drop_intermediate=False``. Rows whose
    data lack positives or negatives have NaN rates.

    Attributes
    ----------
    tps, fps : ndarray of shape (n_rows, n_thresholds)
        Weighted true and false positives at each threshold.
    fpr, tpr : ndarray of shape (n_rows, n_thresholds + 1)
        Rates, starting at 0.
    thr : ndarray of shape (n_thresholds + 1,)
        The thresholds, the first ``inf``.
    """

    def __init__(self, W: np.ndarray, y: np.ndarray, s: np.ndarray) -> None:
        order = np.argsort(s, kind="mergesort")[::-1]
        s_sorted = s[order]
        last = np.empty(s.size, dtype=bool)
        np.not_equal(s_sorted[1:], s_sorted[:-1], out=last[:-1])
        last[-1] = True
        idx = np.flatnonzero(last)
        yo = y[order]
        # positives and negatives above each threshold: running sums over each side alone
        n_pos = np.cumsum(yo)[idx]
        n_neg = idx + 1 - n_pos
        pos, neg = _cumulative(W, order[yo]), _cumulative(W, order[~yo])
        self.tps, self.fps = pos[:, n_pos], neg[:, n_neg]
        with np.errstate(invalid="ignore"):  # 0 / 0: no positive (negative) in the row
            self.tpr = (pos / pos[:, -1:])[:, np.concatenate(([0], n_pos))]
            self.fpr = (neg / neg[:, -1:])[:, np.concatenate(([0], n_neg))]
        self.thr = np.concatenate(([np.inf], s_sorted[idx]))
        self._rows = np.arange(W.shape[0])
        self._trapezoids: np.ndarray | None = None

    def undefined(self) -> np.ndarray:
        """Rows without positives or without negatives."""
        return np.isnan(self.fpr[:, -1]) | np.isnan(self.tpr[:, -1])

    def _at(self, values: np.ndarray, index: np.ndarray) -> np.ndarray:
        return np.where(self.undefined(), np.nan, values[self._rows, index])

    def _segments(self) -> np.ndarray:
        """Trapezoid areas between consecutive points (computed once, shared)."""
        if self._trapezoids is None:
            fpr, tpr = self.fpr, self.tpr
            self._trapezoids = np.diff(fpr, axis=1) * (tpr[:, 1:] + tpr[:, :-1]) / 2.0
        return self._trapezoids

    def auc(self) -> np.ndarray:
        """Area under the ROC curve (trapezoids), as ``roc_auc_score``."""
        return self._segments().sum(axis=1)

    def average_precision(self) -> np.ndarray:
        """``average_precision_score``: the sum of (R_n - R_{n-1}) P_n."""
        d_recall = np.diff(self.tps, axis=1, prepend=0.0)
        # weighted counts are whole numbers: a point with any call has tps + fps >= 1, and
        # where there is none yet, tps and the recall step are 0
        precision = self.tps / np.maximum(self.tps + self.fps, 1.0)
        return _div(np.sum(d_recall * precision, axis=1), self.tps[:, -1])

    def index_at_sensitivity(self, target: float) -> np.ndarray:
        """First point (highest threshold) whose sensitivity reaches ``target``."""
        return np.argmax(self.tpr >= target - 1e-12, axis=1)

    def index_at_specificity(self, target: float) -> np.ndarray:
        """Last point (lowest threshold) whose specificity is still >= ``target``."""
        ok = self.fpr <= (1.0 - target) + 1e-12
        last = ok.shape[1] - 1 - np.argmax(ok[:, ::-1], axis=1)
        # the first point with these rates: a threshold some (resampled) image reaches
        f, t = self.fpr[self._rows, last][:, None], self.tpr[self._rows, last][:, None]
        return np.argmax((self.fpr == f) & (self.tpr == t), axis=1)

    def sensitivity_at_specificity(self, target: float) -> np.ndarray:
        """Highest sensitivity reachable with specificity >= ``target`` (no interpolation)."""
        return self._at(self.tpr, self.index_at_specificity(target))

    def specificity_at_sensitivity(self, target: float) -> np.ndarray:
        """Highest specificity reachable with sensitivity >= ``target`` (no interpolation)."""
        return 1.0 - self._at(self.fpr, self.index_at_sensitivity(target))

    def threshold_for(self, kind: str, target: float) -> np.ndarray:
        """The operating threshold for a target ``"sensitivity"`` or ``"specificity"``."""
        if kind == "sensitivity":
            index = self.index_at_sensitivity(target)
        else:
            index = self.index_at_specificity(target)
        return np.where(self.undefined(), np.nan, self.thr[index])

    def auc_above_sensitivity(self, m: float) -> np.ndarray:
        """Raw partial AUC where sensitivity >= ``m`` (ISIC ``auc_sens_80``).

        The construction of ``isic_challenge_scoring.metrics.auc_above_sensitivity``:
        the ROC curve from the point where it first reaches the sensitivity
        (linearly interpolated) to (1, 1), integrated over the false positive rate.
        A perfect classifier scores 1 and a chance one ``(1 - m**2) / 2``.
        """
        fpr, tpr, rows = self.fpr, self.tpr, self._rows
        i = np.argmax(tpr >= m, axis=1)
        t0, t1 = tpr[rows, i - 1], tpr[rows, i]
        f0, f1 = fpr[rows, i - 1], fpr[rows, i]
        fpr_at = np.where(t1 > t0, f0 + (m - t0) * _div(f1 - f0, t1 - t0), f1)
        tail = np.cumsum(self._segments()[:, ::-1], axis=1)[:, ::-1]  # area from point j to the end
        tail = np.hstack([tail, np.zeros((tail.shape[0], 1))])
        area = tail[rows, i] + (f1 - fpr_at) * (m + t1) / 2.0
        return np.where(self.undefined(), np.nan, area)

    def tpr_on(self, grid: np.ndarray) -> np.ndarray:
        """Sensitivity at each false positive rate of ``grid``, per row (the curve's segments)."""
        out = np.full((self.fpr.shape[0], grid.size), np.nan)
        for r in np.flatnonzero(~self.undefined()):
            out[r] = np.interp(grid, self.fpr[r], self.tpr[r])
        return out


def counts(W: np.ndarray, y: np.ndarray, called: np.ndarray) -> dict[str, np.ndarray]:
    """Weighted tp, fp, fn, tn of truths ``y`` and calls ``called`` ((n,) or (n_rows, n))."""
    if called.ndim == 1:
        cols = np.column_stack([y & called, ~y & called, y & ~called]).astype(np.float64)
        tp, fp, fn = (W @ cols).T
    else:
        tp = np.sum(W * (y & called), axis=1)
        fp = np.sum(W * (~y & called), axis=1)
        fn = np.sum(W * (y & ~called), axis=1)
    return {"tp": tp, "fp": fp, "fn": fn, "tn": W.sum(axis=1) - tp - fp - fn}


def confusion(codes: np.ndarray, pred: np.ndarray, n_classes: int, W: np.ndarray) -> np.ndarray:
    """Weighted confusion matrices, shape (n_rows, n_classes, n_classes), rows true."""
    k = n_classes
    return (W @ np.eye(k * k)[codes * k + pred]).reshape(-1, k, k)


def top_label(codes: np.ndarray, proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Confidence (highest probability) and whether the arg-max prediction is right."""
    return proba.max(axis=1), proba.argmax(axis=1) == codes


def calibration(
    confidence: np.ndarray, hit: np.ndarray, n_bins: int, W: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-bin weighted count, sum of confidences and sum of hits (uniform bins on [0, 1]).

    Bins are ``[0, 1/n], (1/n, 2/n], ...`` as in
    :func:`sklearn.calibration.calibration_curve`. Each output has shape
    ``(n_rows, n_bins)``.
    """
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.eye(n_bins)[np.searchsorted(edges[1:-1], confidence)]
    sums = W @ np.hstack([bins, bins * confidence[:, None], bins * hit[:, None]])
    return sums[:, :n_bins], sums[:, n_bins : 2 * n_bins], sums[:, 2 * n_bins :]


def calibration_error(count: np.ndarray, conf_sum: np.ndarray, hit_sum: np.ndarray) -> np.ndarray:
    """Expected calibration error from :func:`calibration`'s sums (Guo et al. 2017).

    ``sum_b n_b / n * |acc_b - conf_b|``, that is ``sum_b |hits_b - confidences_b| / n``.
    With the top label's confidence and hits it is the usual top-label ECE; with a
    class's probability and whether the case is of that class, that class's.
    """
    return np.sum(np.abs(hit_sum - conf_sum), axis=1) / count.sum(axis=1)


def rates(c: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Sensitivity, specificity, PPV and NPV of weighted counts (NaN when undefined)."""
    return {
        "sensitivity": _div(c["tp"], c["tp"] + c["fn"]),
        "specificity": _div(c["tn"], c["tn"] + c["fp"]),
        "ppv": _div(c["tp"], c["tp"] + c["fp"]),
        "npv": _div(c["tn"], c["tn"] + c["fn"]),
    }


def _positive_calls(
    codes: np.ndarray, proba: np.ndarray, mask: np.ndarray, threshold: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Truth and calls of the positive class(es): summed probability >= threshold."""
    s = proba[:, mask].sum(axis=1)
    threshold = np.asarray(threshold, dtype=np.float64)
    called = s >= threshold if threshold.ndim == 0 else s[None, :] >= threshold[:, None]
    return mask[codes], called
