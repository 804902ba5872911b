"""The engine's figures agree with scikit-learn, on the test set and on bootstrap resamples.

scikit-learn's functions are the reference: ``confusion_matrix``, ``recall_score``,
``precision_score``, ``f1_score``, ``roc_auc_score``, ``average_precision_score``,
``roc_curve``, ``balanced_accuracy_score``, ``cohen_kappa_score``, ``log_loss``,
``brier_score_loss``, ``calibration_curve`` and ``class_likelihood_ratios``. Three
implementations are held to it: the scalar oracle of ``_oracle.py`` (which
``test_batch.py`` then compares with the engine on every key), the engine on the
test set (the batch of one, unit weights), and the engine's bootstrap replicates
as the report computes them (``_engine.evaluate``), each resample against
scikit-learn on the same resampled rows.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve

from skinlesion.metrics import _engine
from skinlesion.metrics.intervals import bootstrap_indices

from . import _oracle

N_BINS = 10
FIXED_SENS, FIXED_SPEC = [0.8, 0.9], [0.85, 0.95]


def _case(seed: int, n: int, k: int, ties: bool):
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, k, size=n)
    logits = rng.normal(size=(n, k)) + 1.2 * np.eye(k)[codes]
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    if ties:  # rounded scores tie, the hard case for curves and bins
        proba = np.round(proba, 1)
        proba[:, -1] = np.clip(1.0 - proba[:, :-1].sum(axis=1), 0.0, 1.0)
        proba /= proba.sum(axis=1, keepdims=True)
    return codes, proba


def _threshold_on_roc_curve(y, s, target):
    """The plan's operating threshold, read off scikit-learn's ROC curve."""
    fpr, tpr, thr = skm.roc_curve(y, s, drop_intermediate=False)
    kind, value = target
    if kind == "sensitivity":
        return thr[np.argmax(tpr >= value - 1e-12)]
    return thr[np.flatnonzero(fpr <= 1.0 - value + 1e-12)[-1]]


def _sklearn_likelihood_ratios(y, called):
    """scikit-learn's LR+ and LR-, NaN where undefined (replace_undefined_by came in 1.7)."""
    try:
        return skm.class_likelihood_ratios(y, called, replace_undefined_by=np.nan)
    except TypeError:  # scikit-learn < 1.7 gives NaN there, with a warning
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return skm.class_likelihood_ratios(y, called)


def _sklearn_brier(codes, proba, k):
    """scikit-learn's Brier score (its labels= and multiclass input came in 1.7)."""
    if k == 2:  # scikit-learn takes the positive class's probability there
        return skm.brier_score_loss(codes, proba[:, 1], pos_label=1)
    try:
        return skm.brier_score_loss(codes, proba, labels=np.arange(k))
    except TypeError:  # scikit-learn < 1.7: its 1.7 definition, written out
        return float(np.mean(np.sum((proba - np.eye(k)[codes]) ** 2, axis=1)))


def sklearn_figures(codes: np.ndarray, proba: np.ndarray, plan: _engine.Plan) -> dict:
    """The figures scikit-learn computes, under the engine's keys (NaN where undefined)."""
    ref: dict[tuple, float] = {}
    n, k = proba.shape
    pred = proba.argmax(axis=1)
    nan = np.nan
    cm = skm.confusion_matrix(codes, pred, labels=np.arange(k))
    # one-vs-rest: each class's precision, recall and F1, and the rest's (NPV, specificity)
    ppv, sens, f1, _ = skm.precision_recall_fscore_support(
        codes, pred, labels=np.arange(k), average=None, zero_division=nan
    )
    for i in range(k):
        is_i, s = codes == i, proba[:, i]
        tp, fp, fn = cm[i, i], cm[:, i].sum() - cm[i, i], cm[i].sum() - cm[i, i]
        block = {"tp": tp, "fp": fp, "fn": fn, "tn": n - tp - fp - fn, "support": is_i.sum()}
        npv, spec, _, _ = skm.precision_recall_fscore_support(
            ~is_i, pred != i, labels=[True], average=None, zero_division=nan
        )
        block.update(sensitivity=sens[i], specificity=spec[0], ppv=ppv[i], npv=npv[0], f1=f1[i])
        defined = 0 < is_i.sum() < n
        block["roc_auc"] = skm.roc_auc_score(is_i, s) if defined else nan
        block["average_precision"] = skm.average_precision_score(is_i, s) if is_i.any() else nan
        ref.update({("per_class", i, name): v for name, v in block.items()})
    aucs = np.array([ref[("per_class", i, "roc_auc")] for i in range(k)])
    overall = {
        "accuracy": skm.accuracy_score(codes, pred),
        "balanced_accuracy": skm.balanced_accuracy_score(codes, pred),
        "macro_f1": skm.f1_score(codes, pred, average="macro"),
        "weighted_f1": skm.f1_score(codes, pred, average="weighted"),
        "cohen_kappa": skm.cohen_kappa_score(codes, pred),
        "macro_roc_auc": np.nanmean(aucs),
        "log_loss": skm.log_loss(codes, proba, labels=np.arange(k)),
        "brier_score": _sklearn_brier(codes, proba, k),
    }
    if k == 2 and not np.isnan(aucs).any():
        overall["macro_roc_auc"] = skm.roc_auc_score(codes, proba[:, 1])
    elif not np.isnan(aucs).any():  # every class present: scikit-learn's one-vs-rest macro
        overall["macro_roc_auc"] = skm.roc_auc_score(
            codes, proba, multi_class="ovr", labels=np.arange(k)
        )
    conf, hit = proba.max(axis=1), pred == codes
    prob_true, prob_pred = calibration_curve(hit, conf, n_bins=plan.n_bins)
    edges = np.linspace(0.0, 1.0, plan.n_bins + 1)
    count = np.bincount(np.searchsorted(edges[1:-1], conf), minlength=plan.n_bins)
    count = count[count > 0]
    overall["expected_calibration_error"] = np.sum(count / n * np.abs(prob_true - prob_pred))
    ref.update({("overall", name): v for name, v in overall.items()})

    if plan.mask is not None:
        y, s = plan.mask[codes], proba[:, plan.mask].sum(axis=1)
        pos: dict[str, float] = {"prevalence": y.mean()}
        if 0 < y.sum() < n:
            pos["roc_auc"] = skm.roc_auc_score(y, s)
            pos["average_precision"] = skm.average_precision_score(y, s)
            fpr, tpr, _ = skm.roc_curve(y, s, drop_intermediate=False)
            for t in plan.fixed_spec:
                pos[f"sensitivity_at_specificity_{t:g}"] = tpr[fpr <= 1 - t + 1e-12].max()
            for t in plan.fixed_sens:
                pos[f"specificity_at_sensitivity_{t:g}"] = (1 - fpr[tpr >= t - 1e-12]).max()
            threshold = (
                plan.threshold
                if plan.target is None
                else _threshold_on_roc_curve(y, s, plan.target)
            )
            called = s >= threshold
            pos["threshold"] = threshold
            (ppv_pos, npv_pos), (sens_pos, spec_pos), _, _ = skm.precision_recall_fscore_support(
                y, called, labels=[True, False], average=None, zero_division=nan
            )
            pos.update(sensitivity=sens_pos, specificity=spec_pos, ppv=ppv_pos, npv=npv_pos)
            lr_pos, lr_neg = _sklearn_likelihood_ratios(y, called)
            pos["lr_positive"], pos["lr_negative"] = lr_pos, lr_neg
        ref.update({("positive", name): v for name, v in pos.items()})
    return ref


CASES = [
    # n, k, ties, positive classes, fixed threshold, target, stratify
    (70, 3, True, [1], 0.5, None, True),
    (50, 4, True, [0, 2], None, ("sensitivity", 0.9), False),
    (60, 2, False, [1], 0.4, None, False),
    (45, 5, True, [3], None, ("specificity", 0.8), False),
]


def _plan(k, positive, threshold, target):
    mask = np.isin(np.arange(k), positive)
    return _engine.Plan(k, mask, threshold, target, FIXED_SENS, FIXED_SPEC, N_BINS)


def _assert_agrees(ours: dict, reference: dict, where: str) -> None:
    for key, expected in reference.items():
        np.testing.assert_allclose(
            ours[key], expected, rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=f"{where} {key}"
        )


@pytest.mark.parametrize("n, k, ties, positive, threshold, target, stratify", CASES)
def test_oracle_and_engine_on_the_test_set_agree_with_sklearn(
    n, k, ties, positive, threshold, target, stratify
):
    codes, proba = _case(n + k, n, k, ties)
    plan = _plan(k, positive, threshold, target)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = sklearn_figures(codes, proba, plan)
        oracle = _oracle.figures(codes, proba, plan)
        engine = _engine.figures(codes, proba, plan, _engine.unit_weights(n))
    assert len(reference) > 10 * k
    _assert_agrees(oracle, reference, "oracle")
    _assert_agrees({key: v[0] for key, v in engine.items()}, reference, "engine")


@pytest.mark.parametrize("n, k, ties, positive, threshold, target, stratify", CASES)
def test_engine_bootstrap_replicates_agree_with_sklearn(
    n, k, ties, positive, threshold, target, stratify
):
    """The report's own path: each replicate of ``evaluate`` against its resampled rows."""
    codes, proba = _case(n + k, n, k, ties)
    plan = _plan(k, positive, threshold, target)
    n_bootstraps, seed = 5, 7
    strata = codes if stratify else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        point, samples = _engine.evaluate(
            codes, proba, plan, n_bootstraps, stratify=stratify, random_state=seed
        )
        _assert_agrees(point, sklearn_figures(codes, proba, plan), "point")
        resamples = bootstrap_indices(n, n_bootstraps, strata=strata, random_state=seed)
        for r, idx in enumerate(resamples):
            reference = sklearn_figures(codes[idx], proba[idx], plan)
            _assert_agrees({key: v[r] for key, v in samples.items()}, reference, f"resample {r}")
    assert all(v.shape == (n_bootstraps,) for v in samples.values())


def test_point_estimate_is_the_first_row_of_the_batch():
    """Adding resamples never changes the figures on the test set."""
    codes, proba = _case(3, 80, 3, True)
    plan = _plan(3, [0], None, ("sensitivity", 0.9))
    alone, none = _engine.evaluate(codes, proba, plan, 0, stratify=True, random_state=0)
    with_bootstrap, samples = _engine.evaluate(
        codes, proba, plan, 30, stratify=True, random_state=0
    )
    assert none == {} and set(samples) == set(alone)
    assert alone == pytest.approx(with_bootstrap, nan_ok=True)


def test_blocks_of_resamples_give_the_same_replicates():
    """Splitting the resamples into blocks (to bound memory) changes nothing."""
    codes, proba = _case(4, 60, 3, False)
    plan = _plan(3, [2], 0.5, None)
    W = np.vstack(
        list(_engine.resample_weights(60, 25, strata=codes, random_state=1, block_elements=600))
    )
    whole = np.vstack(list(_engine.resample_weights(60, 25, strata=codes, random_state=1)))
    np.testing.assert_array_equal(W, whole)
    in_blocks = [
        _engine.figures(codes, proba, plan, block)
        for block in _engine.resample_weights(
            60, 25, strata=codes, random_state=1, block_elements=600
        )
    ]
    assert len(in_blocks) == 3  # 10 resamples of 60 images per block
    at_once = _engine.figures(codes, proba, plan, whole)
    for key, values in at_once.items():  # the same up to the order of the sums
        in_order = np.concatenate([b[key] for b in in_blocks])
        np.testing.assert_allclose(in_order, values, rtol=1e-12, equal_nan=True)


def test_weights_are_draw_counts():
    """A row of weights gives the figures of the sample that repeats each image that often."""
    codes, proba = _case(5, 30, 3, True)
    plan = _plan(3, [1], 0.5, None)
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 3, size=30)
    counts[:3] = 1  # keep every class
    repeated = np.repeat(np.arange(30), counts)
    weighted = _engine.figures(codes, proba, plan, counts[None, :].astype(float))
    expanded = _engine.figures(
        codes[repeated], proba[repeated], plan, _engine.unit_weights(repeated.size)
    )
    for key, values in weighted.items():
        np.testing.assert_allclose(values, expanded[key], rtol=1e-12, equal_nan=True)


def test_roc_curve_matches_sklearn_with_ties():
    rng = np.random.default_rng(0)
    y = rng.random(200) < 0.3
    s = np.round(rng.random(200) * 0.6 + 0.4 * y, 1)
    curve = _engine.Curve(_engine.unit_weights(200), y, s)
    fpr, tpr, thr = skm.roc_curve(y, s, drop_intermediate=False)
    np.testing.assert_allclose(curve.fpr[0], fpr)
    np.testing.assert_allclose(curve.tpr[0], tpr)
    np.testing.assert_array_equal(curve.thr, thr)
    assert curve.auc()[0] == pytest.approx(skm.roc_auc_score(y, s))
    assert curve.average_precision()[0] == pytest.approx(skm.average_precision_score(y, s))


def test_calibration_sums_match_calibration_curve():
    rng = np.random.default_rng(1)
    p = rng.random(300)
    hit = rng.random(300) < p
    count, conf_sum, hit_sum = (
        a[0] for a in _engine.calibration(p, hit, 8, _engine.unit_weights(300))
    )
    used = count > 0
    prob_true, prob_pred = calibration_curve(hit, p, n_bins=8)
    np.testing.assert_allclose(hit_sum[used] / count[used], prob_true)
    np.testing.assert_allclose(conf_sum[used] / count[used], prob_pred)
    assert count.sum() == 300
