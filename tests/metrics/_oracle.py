"""A scalar test oracle: the figures of one sample, image by image, in plain NumPy.

The library computes every figure in one batched engine
(``skinlesion.metrics._engine``), for the test set and for blocks of bootstrap
resamples alike. This module is the straightforward version it is checked
against: each function computes one figure of one sample the obvious way,
``test_engine.py`` checks these functions against scikit-learn (ties in the
scores included) and ``test_batch.py`` checks the engine against
:func:`figures`, resample by resample.

Conventions: ``codes`` are indices into ``classes``; ``proba`` is float64
``(n, n_classes)``; ``y`` is a boolean "is positive" array and ``s`` the
positive score. Undefined figures are NaN (never a made-up 0 or 1).
"""

from __future__ import annotations

import numpy as np

from skinlesion.metrics._engine import ISIC_FIGURES, Plan

_NAN = float("nan")


def confusion(codes: np.ndarray, pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Confusion matrix, rows true, columns predicted (``sklearn.metrics.confusion_matrix``)."""
    return np.bincount(codes * n_classes + pred, minlength=n_classes * n_classes).reshape(
        n_classes, n_classes
    )


def _ratio(num: np.ndarray | float, den: np.ndarray | float) -> np.ndarray:
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.full(np.broadcast_shapes(num.shape, den.shape), np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def one_vs_rest_counts(cm: np.ndarray) -> dict[str, np.ndarray]:
    """tp, fp, fn, tn per class from a confusion matrix."""
    tp = np.diag(cm).astype(np.int64)
    fp = cm.sum(axis=0) - tp
    fn = cm.sum(axis=1) - tp
    tn = cm.sum() - tp - fp - fn
    return {"tp": tp, "fp": fp, "fn": fn, "tn": tn}


def per_class_f1(cm: np.ndarray) -> np.ndarray:
    """F1 per class, 2 tp / (2 tp + fp + fn); NaN for a class neither true nor predicted."""
    c = one_vs_rest_counts(cm)
    return _ratio(2 * c["tp"], 2 * c["tp"] + c["fp"] + c["fn"])


def classification_figures(cm: np.ndarray) -> dict[str, float]:
    """Accuracy, balanced accuracy, macro/weighted F1 and Cohen's kappa from ``cm``.

    Match ``accuracy_score``, ``balanced_accuracy_score``, ``f1_score`` (macro
    and weighted over the labels present in y_true or y_pred) and
    ``cohen_kappa_score``.
    """
    n = cm.sum()
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    tp = np.diag(cm)
    present = (support + predicted) > 0
    f1 = per_class_f1(cm)
    recall = _ratio(tp, support)
    out = {
        "accuracy": float(tp.sum() / n),
        "balanced_accuracy": float(np.mean(recall[support > 0])),
        "macro_f1": float(np.mean(f1[present])),
        "weighted_f1": float(np.sum(np.nan_to_num(f1) * support) / n),
    }
    po = tp.sum() / n
    pe = float(np.sum(support.astype(np.float64) * predicted) / (float(n) * n))
    out["cohen_kappa"] = float((po - pe) / (1.0 - pe)) if pe < 1.0 else _NAN
    return out


def log_loss(codes: np.ndarray, proba: np.ndarray) -> float:
    """Mean negative log-likelihood of the true class (``sklearn.metrics.log_loss``)."""
    eps = np.finfo(np.float64).eps
    p = np.clip(proba[np.arange(codes.size), codes], eps, 1.0 - eps)
    return float(-np.mean(np.log(p)))


def brier_score(codes: np.ndarray, proba: np.ndarray) -> float:
    """Brier score as ``sklearn.metrics.brier_score_loss(scale_by_half="auto")``.

    Mean over images of the summed squared error over classes; halved in a
    binary task (so it is the familiar ``mean((p - y) ** 2)`` there).
    """
    onehot = np.zeros_like(proba)
    onehot[np.arange(codes.size), codes] = 1.0
    value = float(np.mean(np.sum((proba - onehot) ** 2, axis=1)))
    return value / 2.0 if proba.shape[1] == 2 else value


def calibration_bins(
    confidence: np.ndarray, correct: np.ndarray, n_bins: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-bin count, mean confidence and observed frequency (uniform bins on [0, 1]).

    Bins are ``[0, 1/n], (1/n, 2/n], ...`` as in ``sklearn.calibration.calibration_curve``.
    Empty bins have NaN means.
    """
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    ids = np.searchsorted(edges[1:-1], confidence)
    count = np.bincount(ids, minlength=n_bins)
    conf_sum = np.bincount(ids, weights=confidence, minlength=n_bins)
    hit_sum = np.bincount(ids, weights=correct.astype(np.float64), minlength=n_bins)
    return count, _ratio(conf_sum, count), _ratio(hit_sum, count)


def expected_calibration_error(codes: np.ndarray, proba: np.ndarray, n_bins: int) -> float:
    """Top-label ECE (Guo et al. 2017): sum over bins of ``n_b / n * |acc_b - conf_b|``."""
    confidence = proba.max(axis=1)
    correct = proba.argmax(axis=1) == codes
    count, conf, acc = calibration_bins(confidence, correct, n_bins)
    used = count > 0
    return float(np.sum(count[used] / codes.size * np.abs(acc[used] - conf[used])))


def binary_curve(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """False and true positive counts at each distinct score, highest first.

    The counting core of ``roc_curve`` and ``precision_recall_curve``.
    """
    order = np.argsort(s, kind="mergesort")[::-1]
    s_sorted = s[order]
    last = np.empty(s.size, dtype=bool)
    np.not_equal(s_sorted[1:], s_sorted[:-1], out=last[:-1])
    last[-1] = True
    idx = np.flatnonzero(last)
    tps = np.cumsum(y[order], dtype=np.int64)[idx]
    fps = 1 + idx - tps
    return fps, tps, s_sorted[idx]


def _rates(counts: np.ndarray) -> np.ndarray:
    out = np.empty(counts.size + 1)
    out[0] = 0.0
    total = counts[-1]
    if total > 0:
        np.divide(counts, total, out=out[1:])
    else:
        out[:] = np.nan
    return out


def roc(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``roc_curve(y, s, drop_intermediate=False)``: fpr, tpr, thresholds (first is +inf).

    A sample is called positive when its score is ``>= threshold``. NaN rates
    when a class is missing.
    """
    fps, tps, thr = binary_curve(y, s)
    return _rates(fps), _rates(tps), np.concatenate(([np.inf], thr))


def curve_figures(
    y: np.ndarray, s: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
    """ROC curve, ROC AUC and average precision from one sort of the scores."""
    fps, tps, thr = binary_curve(y, s)
    fpr, tpr = _rates(fps), _rates(tps)
    thr = np.concatenate(([np.inf], thr))
    return fpr, tpr, thr, roc_auc(fpr, tpr), _average_precision(fps, tps)


def roc_auc(fpr: np.ndarray, tpr: np.ndarray) -> float:
    """Area under a ROC curve (trapezoids), NaN when undefined."""
    if np.isnan(fpr[-1]) or np.isnan(tpr[-1]):
        return _NAN
    return float(np.dot(fpr[1:] - fpr[:-1], tpr[1:] + tpr[:-1]) / 2.0)


def _average_precision(fps: np.ndarray, tps: np.ndarray) -> float:
    total = tps[-1]
    if total == 0:
        return _NAN
    precision = tps / (tps + fps)
    recall_steps = np.diff(tps, prepend=0) / total
    return float(np.dot(recall_steps, precision))


def average_precision(y: np.ndarray, s: np.ndarray) -> float:
    """``sklearn.metrics.average_precision_score``: sum of (R_n - R_{n-1}) P_n."""
    fps, tps, _ = binary_curve(y, s)
    return _average_precision(fps, tps)


def auc_above_sensitivity(fpr: np.ndarray, tpr: np.ndarray, min_sensitivity: float) -> float:
    """Raw partial AUC where sensitivity >= ``min_sensitivity`` (ISIC ``auc_sens_80``).

    The same construction as ``isic_challenge_scoring.metrics.auc_above_sensitivity``:
    the ROC curve from the point where it first reaches the sensitivity (linearly
    interpolated) to (1, 1), integrated over the false positive rate. A perfect
    classifier scores 1 and a chance one ``(1 - m**2) / 2`` (0.18 for m = 0.8).
    """
    if np.isnan(fpr[-1]) or np.isnan(tpr[-1]):
        return _NAN
    i = int(np.searchsorted(tpr, min_sensitivity, side="left"))
    fpr_at = float(np.interp(min_sensitivity, tpr[i - 1 : i + 1], fpr[i - 1 : i + 1]))
    seg_tpr = np.concatenate(([min_sensitivity], tpr[i:]))
    seg_fpr = np.concatenate(([fpr_at], fpr[i:]))
    return roc_auc(seg_fpr, seg_tpr)


def index_at_sensitivity(tpr: np.ndarray, target: float) -> int:
    """First ROC point (highest threshold) whose sensitivity reaches ``target``."""
    return int(np.argmax(tpr >= target - 1e-12))


def index_at_specificity(fpr: np.ndarray, target: float) -> int:
    """Last ROC point (lowest threshold) whose specificity is still >= ``target``."""
    ok = fpr <= (1.0 - target) + 1e-12
    return int(np.flatnonzero(ok)[-1])


def sensitivity_at_specificity(fpr: np.ndarray, tpr: np.ndarray, target: float) -> float:
    """Highest sensitivity reachable with specificity >= ``target`` (no interpolation)."""
    if np.isnan(fpr[-1]) or np.isnan(tpr[-1]):
        return _NAN
    return float(tpr[index_at_specificity(fpr, target)])


def specificity_at_sensitivity(fpr: np.ndarray, tpr: np.ndarray, target: float) -> float:
    """Highest specificity reachable with sensitivity >= ``target`` (no interpolation)."""
    if np.isnan(fpr[-1]) or np.isnan(tpr[-1]):
        return _NAN
    return float(1.0 - fpr[index_at_sensitivity(tpr, target)])


def binary_counts(y: np.ndarray, called: np.ndarray) -> dict[str, int]:
    """tp, fp, fn, tn of boolean truths ``y`` and calls ``called``."""
    tp = int(np.count_nonzero(y & called))
    fp = int(np.count_nonzero(~y & called))
    fn = int(np.count_nonzero(y & ~called))
    tn = int(y.size - tp - fp - fn)
    return {"tp": tp, "fp": fp, "fn": fn, "tn": tn}


def likelihood_ratios(c: dict[str, int]) -> tuple[float, float]:
    """LR+ = sens / (1 - spec) and LR- = (1 - sens) / spec (NaN when undefined).

    As ``sklearn.metrics.class_likelihood_ratios``; LR+ is NaN (not infinite)
    when no negative is called positive.
    """
    sens = _ratio(c["tp"], c["tp"] + c["fn"])
    spec = _ratio(c["tn"], c["tn"] + c["fp"])
    lr_pos = _ratio(sens, 1.0 - spec)
    lr_neg = _ratio(1.0 - sens, spec)
    return float(lr_pos), float(lr_neg)


def isic_counts_figures(c: dict[str, int]) -> dict[str, float]:
    """The ISIC scorer's thresholded figures, with its conventions for empty cases.

    ``isic_challenge_scoring.metrics`` scores an undefined sensitivity,
    specificity, PPV, NPV or dice as 1.0 (a "freebie"); this reproduces that so
    the block compares with the official leaderboard.
    """
    tp, fp, fn, tn = c["tp"], c["fp"], c["fn"], c["tn"]

    def free(num: float, den: float) -> float:
        return 1.0 if den == 0 else num / den

    return {
        "accuracy": (tp + tn) / (tp + tn + fp + fn),
        "sensitivity": free(tp, tp + fn),
        "specificity": free(tn, tn + fp),
        "dice": free(2 * tp, 2 * tp + fp + fn),
        "ppv": free(tp, tp + fp),
        "npv": free(tn, tn + fn),
    }


def isic_balanced_accuracy(codes: np.ndarray, proba: np.ndarray) -> float:
    """The ISIC scorer's balanced multi-class accuracy.

    Mean over classes of the recall of the arg-max prediction, where an image
    whose highest probability is tied between classes counts as "undecided"
    (wrong), as in ``isic_challenge_scoring.metrics.balanced_multiclass_accuracy``.
    """
    top = proba.max(axis=1, keepdims=True)
    tied = (proba == top).sum(axis=1) > 1
    correct = (proba.argmax(axis=1) == codes) & ~tied
    n_classes = proba.shape[1]
    support = np.bincount(codes, minlength=n_classes)
    hits = np.bincount(codes, weights=correct.astype(np.float64), minlength=n_classes)
    present = support > 0
    return float(np.mean(hits[present] / support[present]))


def operating_threshold(plan: Plan, fpr: np.ndarray, tpr: np.ndarray, thr: np.ndarray) -> float:
    """The plan's fixed threshold, or the one reaching its target on this sample."""
    if plan.target is None:
        return float(plan.threshold)
    if np.isnan(fpr[-1]) or np.isnan(tpr[-1]):
        return _NAN
    kind, value = plan.target
    if kind == "sensitivity":
        return float(thr[index_at_sensitivity(tpr, value)])
    return float(thr[index_at_specificity(fpr, value)])


def _nanmean(values: list[float]) -> float:
    a = np.asarray(values, dtype=np.float64)
    return float(np.mean(a[~np.isnan(a)])) if (~np.isnan(a)).any() else _NAN


def _binary_rates(c: dict[str, int]) -> dict[str, float]:
    return {
        "sensitivity": float(_ratio(c["tp"], c["tp"] + c["fn"])),
        "specificity": float(_ratio(c["tn"], c["tn"] + c["fp"])),
        "ppv": float(_ratio(c["tp"], c["tp"] + c["fp"])),
        "npv": float(_ratio(c["tn"], c["tn"] + c["fn"])),
    }


def figures(codes: np.ndarray, proba: np.ndarray, plan: Plan) -> dict[tuple, float]:
    """Every figure the engine computes (same keys), on one sample."""
    out: dict[tuple, float] = {}
    k = plan.n_classes
    n = codes.size
    pred = proba.argmax(axis=1)
    cm = confusion(codes, pred, k)
    ovr = one_vs_rest_counts(cm)
    f1 = per_class_f1(cm)
    aucs = np.full(k, np.nan)
    isic_rows = []
    for i in range(k):
        is_i = codes == i
        s = proba[:, i]
        fpr, tpr, _, aucs[i], ap = curve_figures(is_i, s)
        c = {name: int(ovr[name][i]) for name in ("tp", "fp", "fn", "tn")}
        block = {**c, "support": int(is_i.sum()), **_binary_rates(c)}
        block.update(f1=float(f1[i]), roc_auc=aucs[i], average_precision=ap)
        out.update({("per_class", i, name): v for name, v in block.items()})
        c = binary_counts(is_i, s > 0.5)
        isic = {**c, **isic_counts_figures(c)}
        isic.update(auc=aucs[i], ap=ap, auc_sens_80=auc_above_sensitivity(fpr, tpr, 0.8))
        out.update({("isic", i, name): v for name, v in isic.items()})
        isic_rows.append(isic)
    for fig in ISIC_FIGURES:
        out[("isic_macro", fig)] = _nanmean([row[fig] for row in isic_rows])
    out[("isic_aggregate", "balanced_accuracy")] = isic_balanced_accuracy(codes, proba)

    overall = classification_figures(cm)
    correct = int(np.trace(cm))
    out[("overall", "correct")] = correct
    out[("overall", "incorrect")] = n - correct
    for name, value in overall.items():
        out[("overall", name)] = value
    out[("overall", "macro_roc_auc")] = _nanmean(list(aucs))
    out[("overall", "log_loss")] = log_loss(codes, proba)
    out[("overall", "brier_score")] = brier_score(codes, proba)
    out[("overall", "expected_calibration_error")] = expected_calibration_error(
        codes, proba, plan.n_bins
    )

    if plan.mask is not None:
        y = plan.mask[codes]
        s = proba[:, plan.mask].sum(axis=1)
        fpr, tpr, thr, auc, ap = curve_figures(y, s)
        pos = {"roc_auc": auc, "auc_sens_80": auc_above_sensitivity(fpr, tpr, 0.8)}
        pos["average_precision"] = ap
        for t in plan.fixed_spec:
            pos[f"sensitivity_at_specificity_{t:g}"] = sensitivity_at_specificity(fpr, tpr, t)
        for t in plan.fixed_sens:
            pos[f"specificity_at_sensitivity_{t:g}"] = specificity_at_sensitivity(fpr, tpr, t)
        threshold = operating_threshold(plan, fpr, tpr, thr)
        pos["threshold"] = threshold
        c = binary_counts(y, s >= threshold)
        rates = _binary_rates(c)
        pos.update(c)
        pos.update(rates)
        pos["prevalence"] = float(y.mean())
        pos["number_needed_to_biopsy"] = (
            _NAN if np.isnan(rates["ppv"]) else np.inf if rates["ppv"] == 0 else 1 / rates["ppv"]
        )
        pos["lr_positive"], pos["lr_negative"] = likelihood_ratios(c)
        out.update({("positive", name): v for name, v in pos.items()})
    return out
