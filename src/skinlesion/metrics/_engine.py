"""The metrics engine: every figure of the package, for one sample or many resamples at once.

A sample is the test set with a weight per image: how often the image was drawn.
The point estimate is the batch of one with unit weights; a bootstrap resample is
a row of draw counts. Every figure is a function of weighted counts taken in an
order that does not depend on the weights (the images sorted by score), so a
block of resamples becomes a few matrix products and cumulative sums over a
``(n_resamples, n_images)`` weight matrix ``W`` instead of a Python loop.

The public functions (:func:`~skinlesion.metrics.clinical_report`,
:func:`~skinlesion.metrics.isic_scores`, the operating points, calibration and the
displays) validate their input and call this module; nothing else computes a
figure. ``tests/metrics/test_engine.py`` checks the figures against scikit-learn,
on the test set and on bootstrap resamples, and ``tests/metrics/test_batch.py``
against a per-resample scalar oracle.

Conventions: ``codes`` are indices into the classes; ``proba`` is float64
``(n, n_classes)``; ``y`` is a boolean "is positive" array and ``s`` its score.
Every figure comes back as an array of shape ``(n_resamples,)``; undefined ones
are NaN (never a made-up 0 or 1), except where the ISIC scorer's conventions say
otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from skinlesion.metrics.intervals import bootstrap_indices

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


# --------------------------------------------------------------------------------------
# the figures of the report, block by block
# --------------------------------------------------------------------------------------


@dataclass
class Plan:
    """What to compute: fixed once from the parameters, the same for every resample.

    ``mask`` marks the positive classes (None: no positive block); the operating
    threshold is ``threshold``, or, with ``target`` (``("sensitivity", 0.9)``, for
    example), chosen on each sample to reach it; ``fixed_sens`` and ``fixed_spec``
    are where the ROC curve is read; ``n_bins`` are the ECE's bins. ``referral``
    are the shares of least-confident cases referred, and ``referral_mask`` the
    positive class(es) whose sensitivity is read on the cases kept (at the
    operating threshold when it is ``mask``, at 0.5 otherwise). ``subgroups`` holds
    one array per metadata column: each image's subgroup, ``0 .. n_groups - 1``.
    """

    n_classes: int
    mask: np.ndarray | None = None
    threshold: float | None = 0.5
    target: tuple[str, float] | None = None
    fixed_sens: Sequence[float] = ()
    fixed_spec: Sequence[float] = ()
    n_bins: int = 15
    referral: Sequence[float] = ()
    referral_mask: np.ndarray | None = None
    subgroups: Sequence[np.ndarray] = ()


def rates(c: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Sensitivity, specificity, PPV and NPV of weighted counts (NaN when undefined)."""
    return {
        "sensitivity": _div(c["tp"], c["tp"] + c["fn"]),
        "specificity": _div(c["tn"], c["tn"] + c["fp"]),
        "ppv": _div(c["tp"], c["tp"] + c["fp"]),
        "npv": _div(c["tn"], c["tn"] + c["fn"]),
    }


def class_figures(codes: np.ndarray, proba: np.ndarray, W: np.ndarray) -> Figures:
    """Per-class (one-vs-rest, predicted = arg-max) figures and the ISIC challenge block.

    Keys: ``("per_class", i, figure)`` with the counts tp, fp, fn, tn and support,
    sensitivity, specificity, ppv, npv, f1, roc_auc, average_precision;
    ``("isic", i, figure)`` with the counts at a probability above 0.5 and the
    :data:`ISIC_FIGURES`; ``("isic_macro", figure)`` and
    ``("isic_aggregate", "balanced_accuracy")``, as ``isic-challenge-scoring``
    computes them (an undefined thresholded figure scores 1.0; an image whose top
    probability is tied counts as wrong for balanced accuracy).
    """
    k = proba.shape[1]
    n = W.sum(axis=1)[:, None]
    pred = proba.argmax(axis=1)
    onehot = np.eye(k, dtype=bool)[codes]
    called = proba > 0.5
    # one product for the arg-max confusion matrix and the counts at 0.5, all classes
    columns = [np.eye(k * k)[codes * k + pred], onehot & called, ~onehot & called, onehot & ~called]
    sums = W @ np.hstack(columns)
    cm = sums[:, : k * k].reshape(-1, k, k)
    tp = np.diagonal(cm, axis1=1, axis2=2)
    support = cm.sum(axis=2)
    c = {"tp": tp, "fp": cm.sum(axis=1) - tp, "fn": support - tp}
    c["tn"] = n - c["tp"] - c["fp"] - c["fn"]
    roc_auc, average_precision, auc_sens_80 = (np.empty((W.shape[0], k)) for _ in range(3))
    for i in range(k):
        curve = Curve(W, codes == i, proba[:, i])
        roc_auc[:, i] = np.where(curve.undefined(), np.nan, curve.auc())
        average_precision[:, i] = curve.average_precision()
        auc_sens_80[:, i] = curve.auc_above_sensitivity(0.8)
    per_class = {**c, "support": support, **rates(c)}
    per_class["f1"] = _div(2 * tp, 2 * tp + c["fp"] + c["fn"])
    per_class.update(roc_auc=roc_auc, average_precision=average_precision)

    tp, fp, fn = np.split(sums[:, k * k :], 3, axis=1)
    tn = n - tp - fp - fn
    isic = {
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "accuracy": (tp + tn) / n,
        "sensitivity": _isic_free(tp, tp + fn),
        "specificity": _isic_free(tn, tn + fp),
        "dice": _isic_free(2 * tp, 2 * tp + fp + fn),
        "ppv": _isic_free(tp, tp + fp),
        "npv": _isic_free(tn, tn + fn),
        "auc": roc_auc,
        "auc_sens_80": auc_sens_80,
        "ap": average_precision,
    }
    out: Figures = {}
    for section, block in (("per_class", per_class), ("isic", isic)):
        for name, values in block.items():
            out.update({(section, i, name): values[:, i] for i in range(k)})
    for fig in ISIC_FIGURES:
        out[("isic_macro", fig)] = _nanmean(isic[fig])
    tied = (proba == proba.max(axis=1, keepdims=True)).sum(axis=1) > 1
    decided = (pred == codes) & ~tied
    hits = W @ (onehot & decided[:, None])
    out[("isic_aggregate", "balanced_accuracy")] = _nanmean(_div(hits, W @ onehot))
    return out


def overall_figures(
    codes: np.ndarray, proba: np.ndarray, n_bins: int, W: np.ndarray, per_class: Figures
) -> Figures:
    """Accuracy, balanced accuracy, F1, kappa, macro ROC AUC, log loss, Brier score, ECE.

    Keys ``("overall", figure)``, with the counts ``correct`` and ``incorrect``;
    ``per_class`` is :func:`class_figures`' output for the same rows. The figures
    match ``accuracy_score``, ``balanced_accuracy_score``, ``f1_score`` (macro and
    weighted over the labels present in y_true or y_pred), ``cohen_kappa_score``,
    ``roc_auc_score(multi_class="ovr")`` over the classes present, ``log_loss``
    and ``brier_score_loss(scale_by_half="auto")``.
    """
    k = proba.shape[1]
    n = W.sum(axis=1)

    def column(name: str) -> np.ndarray:
        return np.column_stack([per_class[("per_class", i, name)] for i in range(k)])

    tp, support, f1 = column("tp"), column("support"), column("f1")
    predicted = tp + column("fp")
    correct = tp.sum(axis=1)
    out = {"correct": correct, "incorrect": n - correct, "accuracy": correct / n}
    out["balanced_accuracy"] = _nanmean(np.where(support > 0, _div(tp, support), np.nan))
    out["macro_f1"] = _nanmean(np.where(support + predicted > 0, f1, np.nan))
    out["weighted_f1"] = np.sum(np.nan_to_num(f1) * support, axis=1) / n
    pe = np.sum(support * predicted, axis=1) / (n * n)
    out["cohen_kappa"] = _div(correct / n - pe, 1.0 - pe)
    out["macro_roc_auc"] = _nanmean(column("roc_auc"))
    eps = np.finfo(np.float64).eps
    p_true = np.clip(proba[np.arange(codes.size), codes], eps, 1.0 - eps)
    out["log_loss"] = W @ -np.log(p_true) / n
    brier = np.sum((proba - np.eye(k)[codes]) ** 2, axis=1)
    out["brier_score"] = W @ (brier / 2.0 if k == 2 else brier) / n
    out["expected_calibration_error"] = calibration_error(
        *calibration(*top_label(codes, proba), n_bins, W)
    )
    return {("overall", name): v for name, v in out.items()}


def positive_figures(codes: np.ndarray, proba: np.ndarray, plan: Plan, W: np.ndarray) -> Figures:
    """The positive class(es) against the rest: curve figures and the operating point.

    Keys ``("positive", figure)``: prevalence, roc_auc, auc_sens_80,
    average_precision, ``sensitivity_at_specificity_<t>``,
    ``specificity_at_sensitivity_<t>``, and at the operating threshold (fixed, or
    chosen on each sample for ``plan.target``): threshold, the counts tp, fp, fn,
    tn, sensitivity, specificity, ppv, npv, number_needed_to_biopsy (1 / PPV),
    lr_positive and lr_negative (as ``class_likelihood_ratios``, NaN where
    undefined).
    """
    assert plan.mask is not None
    y = plan.mask[codes]
    s = proba[:, plan.mask].sum(axis=1)
    curve = Curve(W, y, s)
    out = {
        "roc_auc": np.where(curve.undefined(), np.nan, curve.auc()),
        "auc_sens_80": curve.auc_above_sensitivity(0.8),
        "average_precision": curve.average_precision(),
    }
    for t in plan.fixed_spec:
        out[f"sensitivity_at_specificity_{t:g}"] = curve.sensitivity_at_specificity(t)
    for t in plan.fixed_sens:
        out[f"specificity_at_sensitivity_{t:g}"] = curve.specificity_at_sensitivity(t)
    if plan.target is None:
        threshold = np.full(W.shape[0], float(plan.threshold))  # type: ignore[arg-type]
        called = s >= plan.threshold
    else:
        threshold = curve.threshold_for(*plan.target)
        called = s[None, :] >= threshold[:, None]
    out["threshold"] = threshold
    c = counts(W, y, called)
    r = rates(c)
    out.update(c)
    out.update(r)
    out["prevalence"] = _div(c["tp"] + c["fn"], W.sum(axis=1))
    with np.errstate(divide="ignore"):
        out["number_needed_to_biopsy"] = 1.0 / r["ppv"]
    out["lr_positive"] = _div(r["sensitivity"], 1.0 - r["specificity"])
    out["lr_negative"] = _div(1.0 - r["sensitivity"], r["specificity"])
    return {("positive", name): v for name, v in out.items()}


def figures(codes: np.ndarray, proba: np.ndarray, plan: Plan, W: np.ndarray) -> Figures:
    """Every figure of the clinical report for each row of weights ``W``.

    ``W`` is ``(n_rows, n_images)``: how often each image is in each sample.
    Returns ``{key: ndarray of shape (n_rows,)}``.
    """
    out = class_figures(codes, proba, W)
    out.update(overall_figures(codes, proba, plan.n_bins, W, out))
    if plan.mask is not None:
        out.update(positive_figures(codes, proba, plan, W))
    if plan.referral:
        mask = plan.referral_mask
        threshold: Any = 0.5
        if mask is not None and mask is plan.mask:
            threshold = out[("positive", "threshold")]
        confidence = proba.max(axis=1)
        out.update(referral_figures(codes, proba, confidence, plan.referral, W, mask, threshold))
    if plan.subgroups:
        threshold = None if plan.mask is None else out[("positive", "threshold")]
        out.update(subgroup_figures(codes, proba, plan.subgroups, W, plan.mask, threshold))
    return out


def subgroup_figures(
    codes: np.ndarray,
    proba: np.ndarray,
    groups: Sequence[np.ndarray],
    W: np.ndarray,
    mask: np.ndarray | None = None,
    threshold: Any = 0.5,
) -> Figures:
    """Figures of each subgroup of each metadata column.

    ``groups[c][i]`` is image ``i``'s subgroup in column ``c``. Keys
    ``("subgroup", c, j, figure)``: n, balanced_accuracy and roc_auc (the
    positive class's against the rest, or without ``mask`` the macro one-vs-rest
    AUC of the classes present), and with ``mask`` the counts tp, fp, fn, tn,
    sensitivity and specificity at ``threshold`` (a float or one per row). Each
    subgroup is its own columns of ``W``, so the figures are the report's on
    those images alone.
    """
    k = proba.shape[1]
    onehot = np.eye(k)[codes]
    right = onehot * (proba.argmax(axis=1) == codes)[:, None]
    if mask is not None:
        y, called = _positive_calls(codes, proba, mask, threshold)
        s = proba[:, mask].sum(axis=1)
    out: Figures = {}
    for c, g in enumerate(groups):
        for j in range(int(g.max()) + 1):
            m = np.flatnonzero(g == j)
            Wm = W[:, m]
            block = {
                "n": Wm.sum(axis=1),
                "balanced_accuracy": _nanmean(_div(Wm @ right[m], Wm @ onehot[m])),
            }
            if mask is not None:
                cm = called[m] if called.ndim == 1 else called[:, m]
                cnt = counts(Wm, y[m], cm)
                block.update(cnt)
                r = rates(cnt)
                block.update(sensitivity=r["sensitivity"], specificity=r["specificity"])
                curve = Curve(Wm, y[m], s[m])
                block["roc_auc"] = np.where(curve.undefined(), np.nan, curve.auc())
            else:
                aucs = np.full((W.shape[0], k), np.nan)
                for i in range(k):
                    curve = Curve(Wm, codes[m] == i, proba[m, i])
                    aucs[:, i] = np.where(curve.undefined(), np.nan, curve.auc())
                block["roc_auc"] = _nanmean(aucs)
            out.update({("subgroup", c, j, name): v for name, v in block.items()})
    return out


# --------------------------------------------------------------------------------------
# selective prediction: refer the least-confident cases
# --------------------------------------------------------------------------------------


def confidence_order(confidence: np.ndarray) -> np.ndarray:
    """Images from the most to the least confident (ties keep their input order)."""
    return np.argsort(-np.asarray(confidence, dtype=np.float64), kind="mergesort")


def kept_weights(W: np.ndarray, order: np.ndarray, fraction: float) -> np.ndarray:
    """The weights of the cases kept when the least-confident ``fraction`` is referred.

    Each row keeps its most confident ``n - round(fraction * n)`` cases (``n`` the
    row's weight): a case drawn three times is three cases, and where the border
    falls inside such a case only some of its draws are kept.
    """
    n = W.sum(axis=1, keepdims=True)
    keep = n - np.floor(fraction * n + 0.5)
    Wo = W[:, order]
    before = np.cumsum(Wo, axis=1) - Wo
    K = np.empty_like(W, dtype=np.float64)
    K[:, order] = np.clip(keep - before, 0.0, Wo)
    return K


def _positive_calls(
    codes: np.ndarray, proba: np.ndarray, mask: np.ndarray, threshold: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Truth and calls of the positive class(es): summed probability >= threshold."""
    s = proba[:, mask].sum(axis=1)
    threshold = np.asarray(threshold, dtype=np.float64)
    called = s >= threshold if threshold.ndim == 0 else s[None, :] >= threshold[:, None]
    return mask[codes], called


def referral_figures(
    codes: np.ndarray,
    proba: np.ndarray,
    confidence: np.ndarray,
    fractions: Sequence[float],
    W: np.ndarray,
    mask: np.ndarray | None = None,
    threshold: Any = 0.5,
) -> Figures:
    """Figures on the cases kept when the least-confident ``fractions`` are referred.

    Keys ``("referral", j, figure)`` for the ``j``-th fraction: referred (the
    share actually referred), threshold (the confidence of the least confident
    case kept: cases below it are referred), kept (weighted count), accuracy and
    balanced_accuracy of the arg-max prediction on the kept cases, and with
    ``mask`` the sensitivity and specificity of the positive class(es) on them
    (called positive when their summed probability is ``>= threshold``, a float
    or one per row).
    """
    order = confidence_order(confidence)
    conf_sorted = np.asarray(confidence, dtype=np.float64)[order]
    k = proba.shape[1]
    hit = (proba.argmax(axis=1) == codes).astype(np.float64)
    onehot = np.eye(k)[codes]
    n = W.sum(axis=1)
    out: Figures = {}
    for j, fraction in enumerate(fractions):
        K = kept_weights(W, order, fraction)
        kept = K.sum(axis=1)
        used = K[:, order] > 0
        last = used.shape[1] - 1 - np.argmax(used[:, ::-1], axis=1)
        block = {
            "referred": 1.0 - kept / n,
            "kept": kept,
            "threshold": np.where(used.any(axis=1), conf_sorted[last], np.nan),
            "accuracy": _div(K @ hit, kept),
            "balanced_accuracy": _nanmean(_div(K @ (onehot * hit[:, None]), K @ onehot)),
        }
        if mask is not None:
            y, called = _positive_calls(codes, proba, mask, threshold)
            block.update(rates(counts(K, y, called)))
            del block["ppv"], block["npv"]
        out.update({("referral", j, name): v for name, v in block.items()})
    return out


def referral_curve(
    codes: np.ndarray,
    proba: np.ndarray,
    confidence: np.ndarray,
    mask: np.ndarray | None = None,
    threshold: float = 0.5,
) -> dict[str, np.ndarray]:
    """The referral figures at every share referred, 0, 1/n, ..., (n - 1)/n (point only).

    The same figures as :func:`referral_figures` with unit weights (entry ``i``
    refers the ``i`` least confident cases), from running sums in confidence order.
    """
    order = confidence_order(confidence)
    n, k = proba.shape
    hit = (proba.argmax(axis=1) == codes)[order]
    onehot = np.eye(k, dtype=bool)[codes[order]]
    kept = np.arange(n, 0, -1, dtype=np.float64)

    def running(a: np.ndarray) -> np.ndarray:
        """Sums over the ``n - i`` most confident cases, for i = 0 .. n - 1."""
        return np.cumsum(a, axis=0)[::-1]

    out = {
        "referred": 1.0 - kept / n,
        "kept": kept,
        "threshold": np.asarray(confidence, dtype=np.float64)[order][::-1],
        "accuracy": running(hit) / kept,
        "balanced_accuracy": _nanmean(
            _div(running(onehot & hit[:, None]), running(onehot)), axis=1
        ),
    }
    if mask is not None:
        y, called = _positive_calls(codes[order], proba[order], mask, threshold)
        out["sensitivity"] = _div(running(y & called), running(y))
        out["specificity"] = _div(running(~y & ~called), running(~y))
    return out


# --------------------------------------------------------------------------------------
# the point estimate and the bootstrap
# --------------------------------------------------------------------------------------


def resample_weights(
    n: int,
    n_bootstraps: int,
    *,
    strata: np.ndarray | None,
    random_state: Any,
    block_elements: int = 2_000_000,
) -> Iterator[np.ndarray]:
    """Blocks of bootstrap weights: rows of draw counts of :func:`bootstrap_indices`.

    Each block holds at most ``block_elements`` numbers (and at least one row).
    """
    indices = bootstrap_indices(n, n_bootstraps, strata=strata, random_state=random_state)
    per_block = max(1, block_elements // max(n, 1))
    for start in range(0, n_bootstraps, per_block):
        rows = min(per_block, n_bootstraps - start)
        W = np.empty((rows, n))
        for r in range(rows):
            W[r] = np.bincount(next(indices), minlength=n)
        yield W


def evaluate(
    codes: np.ndarray,
    proba: np.ndarray,
    plan: Plan,
    n_bootstraps: int,
    *,
    stratify: bool,
    random_state: Any,
) -> tuple[dict[tuple, float], dict[tuple, np.ndarray]]:
    """Every figure on the test set and on each of ``n_bootstraps`` resamples.

    The test set is one more row of weights, all ones, put before the first block
    of resamples: the point estimate and the bootstrap are one computation.

    Returns
    -------
    point : dict
        ``{key: float}``, the figures on the test set.
    samples : dict
        ``{key: ndarray of shape (n_bootstraps,)}``; empty when ``n_bootstraps``
        is 0.
    """
    n = codes.size
    blocks = resample_weights(
        n, n_bootstraps, strata=codes if stratify else None, random_state=random_state
    )
    first = np.vstack([unit_weights(n), next(blocks, np.empty((0, n)))])
    results = [figures(codes, proba, plan, first)]
    results += [figures(codes, proba, plan, W) for W in blocks]
    point = {key: float(v[0]) for key, v in results[0].items()}
    if not n_bootstraps:
        return point, {}
    samples = {key: np.concatenate([r[key] for r in results])[1:] for key in results[0]}
    return point, samples
