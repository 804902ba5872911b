"""The report's bootstrapped figures for many resamples at once.

A bootstrap resample is the test set with integer weights (how often each image
was drawn). Every figure of the report is a function of weighted counts taken
in an order that does not depend on the resample (the images sorted by score),
so a block of resamples becomes a few matrix products and cumulative sums over
a ``(n_resamples, n_images)`` weight matrix instead of a Python loop.
``tests/metrics/test_batch.py`` checks that this gives the same figures as
:func:`skinlesion.metrics.report._figures` on each resample (which is itself
checked against scikit-learn).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from skinlesion.metrics.isic import ISIC_FIGURES


def _div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.full(np.broadcast_shapes(num.shape, den.shape), np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _nanmean(a: np.ndarray, axis: int = -1) -> np.ndarray:
    ok = ~np.isnan(a)
    n = ok.sum(axis=axis)
    return _div(np.where(ok, a, 0.0).sum(axis=axis), n.astype(np.float64))


class _Curve:
    """ROC points of one binary target for a block of weighted resamples."""

    def __init__(self, W: np.ndarray, y: np.ndarray, s: np.ndarray) -> None:
        order = np.argsort(s, kind="mergesort")[::-1]
        s_sorted = s[order]
        last = np.empty(s.size, dtype=bool)
        np.not_equal(s_sorted[1:], s_sorted[:-1], out=last[:-1])
        last[-1] = True
        idx = np.flatnonzero(last)
        Wo = W[:, order]
        yo = y[order]
        tps = np.cumsum(Wo * yo, axis=1)[:, idx]
        fps = np.cumsum(Wo * ~yo, axis=1)[:, idx]
        zeros = np.zeros((W.shape[0], 1))
        self.tps = tps
        self.fps = fps
        self.fpr = _div(np.hstack([zeros, fps]), fps[:, -1:])
        self.tpr = _div(np.hstack([zeros, tps]), tps[:, -1:])
        self.thr = np.concatenate(([np.inf], s_sorted[idx]))
        self.rows = np.arange(W.shape[0])

    def auc(self) -> np.ndarray:
        fpr, tpr = self.fpr, self.tpr
        return np.sum(np.diff(fpr, axis=1) * (tpr[:, 1:] + tpr[:, :-1]), axis=1) / 2.0

    def average_precision(self) -> np.ndarray:
        total = self.tps[:, -1:]
        d_recall = np.diff(self.tps, axis=1, prepend=0.0)
        precision = _div(self.tps, self.tps + self.fps)
        terms = np.where(d_recall > 0, d_recall * np.nan_to_num(precision), 0.0)
        return _div(terms.sum(axis=1), total[:, 0])

    def index_at_sensitivity(self, target: float) -> np.ndarray:
        return np.argmax(self.tpr >= target - 1e-12, axis=1)

    def index_at_specificity(self, target: float) -> np.ndarray:
        ok = self.fpr <= (1.0 - target) + 1e-12
        last = ok.shape[1] - 1 - np.argmax(ok[:, ::-1], axis=1)
        # the first point with these rates: a threshold some resampled image reaches
        f, t = self.fpr[self.rows, last][:, None], self.tpr[self.rows, last][:, None]
        return np.argmax((self.fpr == f) & (self.tpr == t), axis=1)

    def undefined(self) -> np.ndarray:
        return np.isnan(self.fpr[:, -1]) | np.isnan(self.tpr[:, -1])

    def at(self, values: np.ndarray, index: np.ndarray) -> np.ndarray:
        out = values[self.rows, index]
        return np.where(self.undefined(), np.nan, out)

    def auc_above_sensitivity(self, m: float) -> np.ndarray:
        fpr, tpr, rows = self.fpr, self.tpr, self.rows
        i = np.argmax(tpr >= m, axis=1)
        t0, t1 = tpr[rows, i - 1], tpr[rows, i]
        f0, f1 = fpr[rows, i - 1], fpr[rows, i]
        fpr_at = f0 + (m - t0) * _div(f1 - f0, t1 - t0)
        fpr_at = np.where(t1 > t0, fpr_at, f1)
        segments = np.diff(fpr, axis=1) * (tpr[:, 1:] + tpr[:, :-1]) / 2.0
        tail = np.cumsum(segments[:, ::-1], axis=1)[:, ::-1]  # area from point j to the end
        tail = np.hstack([tail, np.zeros((tail.shape[0], 1))])
        area = tail[rows, i] + (f1 - fpr_at) * (m + t1) / 2.0
        return np.where(self.undefined(), np.nan, area)


def _counts(W: np.ndarray, y: np.ndarray, called: np.ndarray) -> dict[str, np.ndarray]:
    """Weighted tp, fp, fn, tn; ``called`` is (n,) or (B, n)."""
    if called.ndim == 1:
        cols = np.column_stack([y & called, ~y & called, y & ~called]).astype(np.float64)
        tp, fp, fn = (W @ cols).T
    else:
        tp = np.sum(W * (y & called), axis=1)
        fp = np.sum(W * (~y & called), axis=1)
        fn = np.sum(W * (y & ~called), axis=1)
    n = W.sum(axis=1)
    return {"tp": tp, "fp": fp, "fn": fn, "tn": n - tp - fp - fn}


def _isic_free(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.where(den == 0, 1.0, _div(num, den))


def figures_batch(codes: np.ndarray, proba: np.ndarray, plan: Any, W: np.ndarray) -> dict:
    """The figures of :func:`~skinlesion.metrics.report._figures` for each row of ``W``.

    ``W`` is ``(n_resamples, n_images)``: how often each image is in each resample.
    Returns ``{key: ndarray of shape (n_resamples,)}`` with the same keys.
    """
    out: dict[tuple, np.ndarray] = {}
    k = plan.n_classes
    n = W.sum(axis=1)
    pred = proba.argmax(axis=1)
    onehot_true = np.eye(k)[codes]
    cm = (W @ np.eye(k * k)[codes * k + pred]).reshape(-1, k, k)
    support = cm.sum(axis=2)
    predicted = cm.sum(axis=1)
    tp = np.diagonal(cm, axis1=1, axis2=2)
    fp, fn = predicted - tp, support - tp
    f1 = _div(2 * tp, 2 * tp + fp + fn)

    aucs = np.empty((W.shape[0], k))
    isic_rows = []
    for i in range(k):
        is_i = codes == i
        s = proba[:, i]
        curve = _Curve(W, is_i, s)
        aucs[:, i] = np.where(curve.undefined(), np.nan, curve.auc())
        ap = curve.average_precision()
        out[("class", i, "f1")] = f1[:, i]
        out[("class", i, "roc_auc")] = aucs[:, i]
        out[("class", i, "average_precision")] = ap
        c = _counts(W, is_i, s > 0.5)
        isic = {
            "accuracy": _div(c["tp"] + c["tn"], n),
            "sensitivity": _isic_free(c["tp"], c["tp"] + c["fn"]),
            "specificity": _isic_free(c["tn"], c["tn"] + c["fp"]),
            "dice": _isic_free(2 * c["tp"], 2 * c["tp"] + c["fp"] + c["fn"]),
            "ppv": _isic_free(c["tp"], c["tp"] + c["fp"]),
            "npv": _isic_free(c["tn"], c["tn"] + c["fn"]),
            "auc": aucs[:, i],
            "ap": ap,
            "auc_sens_80": curve.auc_above_sensitivity(0.8),
        }
        out[("isic", i, "dice")] = isic["dice"]
        out[("isic", i, "auc_sens_80")] = isic["auc_sens_80"]
        isic_rows.append(isic)
    for fig in ISIC_FIGURES:
        out[("isic_macro", fig)] = _nanmean(np.column_stack([row[fig] for row in isic_rows]))
    top = proba.max(axis=1, keepdims=True)
    tied = (proba == top).sum(axis=1) > 1
    decided = ((pred == codes) & ~tied).astype(np.float64)
    hits = W @ (onehot_true * decided[:, None])
    true_count = W @ onehot_true
    out[("isic_aggregate", "balanced_accuracy")] = _nanmean(_div(hits, true_count))

    recall = _div(tp, support)
    out[("overall", "balanced_accuracy")] = _nanmean(np.where(support > 0, recall, np.nan))
    present = (support + predicted) > 0
    out[("overall", "macro_f1")] = _nanmean(np.where(present, f1, np.nan))
    out[("overall", "weighted_f1")] = np.sum(np.nan_to_num(f1) * support, axis=1) / n
    po = tp.sum(axis=1) / n
    pe = np.sum(support * predicted, axis=1) / (n * n)
    out[("overall", "cohen_kappa")] = _div(po - pe, 1.0 - pe)
    out[("overall", "macro_roc_auc")] = _nanmean(aucs)
    eps = np.finfo(np.float64).eps
    p_true = np.clip(proba[np.arange(codes.size), codes], eps, 1.0 - eps)
    out[("overall", "log_loss")] = W @ -np.log(p_true) / n
    brier = np.sum((proba - onehot_true) ** 2, axis=1)
    if k == 2:
        brier = brier / 2.0
    out[("overall", "brier_score")] = W @ brier / n
    confidence = proba.max(axis=1)
    edges = np.linspace(0.0, 1.0, plan.n_bins + 1)
    bins = np.eye(plan.n_bins)[np.searchsorted(edges[1:-1], confidence)]
    gap = W @ (bins * ((pred == codes) - confidence)[:, None])
    out[("overall", "expected_calibration_error")] = np.sum(np.abs(gap), axis=1) / n

    if plan.mask is not None:
        y = plan.mask[codes]
        s = proba[:, plan.mask].sum(axis=1)
        curve = _Curve(W, y, s)
        undefined = curve.undefined()
        out[("positive", "roc_auc")] = np.where(undefined, np.nan, curve.auc())
        out[("positive", "auc_sens_80")] = curve.auc_above_sensitivity(0.8)
        out[("positive", "average_precision")] = curve.average_precision()
        for t in plan.fixed_spec:
            key = f"sensitivity_at_specificity_{t:g}"
            out[("positive", key)] = curve.at(curve.tpr, curve.index_at_specificity(t))
        for t in plan.fixed_sens:
            key = f"specificity_at_sensitivity_{t:g}"
            out[("positive", key)] = 1.0 - curve.at(curve.fpr, curve.index_at_sensitivity(t))
        if plan.target is None:
            threshold = np.full(W.shape[0], float(plan.threshold))
            called = s >= plan.threshold
        else:
            kind, value = plan.target
            index = (
                curve.index_at_sensitivity(value)
                if kind == "sensitivity"
                else curve.index_at_specificity(value)
            )
            threshold = np.where(undefined, np.nan, curve.thr[index])
            called = s[None, :] >= threshold[:, None]
        out[("positive", "threshold")] = threshold
        c = _counts(W, y, called)
        sens = _div(c["tp"], c["tp"] + c["fn"])
        spec = _div(c["tn"], c["tn"] + c["fp"])
        out[("positive", "lr_positive")] = _div(sens, 1.0 - spec)
        out[("positive", "lr_negative")] = _div(1.0 - sens, spec)
    return out
