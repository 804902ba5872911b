"""The figures of the report, block by block: per class, overall, positive class, subgroups."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from skinlesion.metrics._engine._core import (
    ISIC_FIGURES,
    Curve,
    Figures,
    _div,
    _isic_free,
    _nanmean,
    _positive_calls,
    calibration,
    calibration_error,
    counts,
    rates,
    top_label,
)
from skinlesion.metrics._engine._referral import referral_figures


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
