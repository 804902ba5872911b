"""Computing a clinical report: the figures of predicted probabilities, with intervals.

:func:`report_fields` checks the parameters of
:func:`~skinlesion.metrics.clinical_report`, runs the metrics engine (``_engine``)
on the test set and on each bootstrap resample, and returns the fields of a
:class:`~skinlesion.metrics.ClinicalReport`; the figure tables (``_table``,
``subgroups``) say which interval each figure gets.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from skinlesion.metrics import _engine
from skinlesion.metrics._table import sections
from skinlesion.metrics._validation import (
    as_list,
    check_operating_point,
    check_predictions,
    check_unit_interval,
    positive_label,
    resolve_positive,
    warn_absent_classes,
    warn_if_absent,
)
from skinlesion.metrics.calibration import DEFAULT_N_BINS, _check_n_bins
from skinlesion.metrics.intervals import CONFIDENCE, N_BOOTSTRAPS, _check_n_bootstraps
from skinlesion.metrics.referral import REFERRAL_FRACTIONS, referral_positive
from skinlesion.metrics.subgroups import MIN_SUBGROUP_SIZE, check_subgroups
from skinlesion.metrics.subgroups import sections as subgroup_sections

__all__ = [
    "CONFIDENCE",
    "FIXED_SENSITIVITIES",
    "FIXED_SPECIFICITIES",
    "N_BOOTSTRAPS",
    "REFERRAL_FRACTIONS",
    "report_fields",
]

#: Specificities at which the report reads the sensitivity.
FIXED_SPECIFICITIES = (0.80, 0.90, 0.95)
#: Sensitivities at which the report reads the specificity (0.866: the
#: dermatologists' mean sensitivity in Haenssle et al., Ann Oncol 2018).
FIXED_SENSITIVITIES = (0.80, 0.866, 0.90, 0.95)


def _check_referral(referral: Any) -> list[float]:
    """The referred shares, each in [0, 1), in the order given."""
    try:
        shares = as_list(referral)
    except (TypeError, ValueError):
        raise ValueError(
            f"referral must be a sequence of shares in [0, 1), such as (0.1, 0.2), got "
            f"{referral!r}."
        ) from None
    bad = [s for s in shares if not 0.0 <= s < 1.0]
    if bad:
        raise ValueError(
            f"referral shares must lie in [0, 1) (0.1 refers the 10 % least-confident "
            f"cases), got {bad!r}."
        )
    return shares


def report_fields(
    y_true: Any,
    y_score: Any,
    *,
    classes: Any = None,
    positive: Any = None,
    threshold: float | None = None,
    target_sensitivity: float | None = None,
    target_specificity: float | None = None,
    fixed_sensitivities: Sequence[float] = FIXED_SENSITIVITIES,
    fixed_specificities: Sequence[float] = FIXED_SPECIFICITIES,
    referral: Sequence[float] = REFERRAL_FRACTIONS,
    subgroups: Any = None,
    min_subgroup_size: int = MIN_SUBGROUP_SIZE,
    n_bootstraps: int = N_BOOTSTRAPS,
    confidence: float = CONFIDENCE,
    stratify: bool = True,
    n_bins: int = DEFAULT_N_BINS,
    random_state: Any = None,
) -> dict[str, Any]:
    """The fields of the :class:`~skinlesion.metrics.ClinicalReport` of ``y_score``.

    Takes the parameters of :func:`~skinlesion.metrics.clinical_report`, by
    keyword, with its defaults, so that code below the report object, such as
    :class:`~skinlesion.metrics.SubgroupDisplay`, can compute a report's figures
    without importing it.
    """
    codes, proba, classes_arr = check_predictions(y_true, y_score, classes, positive)
    mask = resolve_positive(positive, classes_arr)
    confidence = check_unit_interval(confidence, "confidence")
    n_bootstraps = _check_n_bootstraps(n_bootstraps)
    fixed_threshold, target = check_operating_point(
        threshold, target_sensitivity, target_specificity
    )
    plan = _engine.Plan(
        classes_arr.size,
        mask,
        fixed_threshold,
        target,
        [check_unit_interval(t, "fixed_sensitivities") for t in as_list(fixed_sensitivities)],
        [check_unit_interval(t, "fixed_specificities") for t in as_list(fixed_specificities)],
        _check_n_bins(n_bins),
        _check_referral(referral),
        referral_positive(positive, classes_arr),
    )
    if plan.referral_mask is not None and mask is not None:
        plan.referral_mask = mask  # the same object: read at the operating threshold
    columns = None if subgroups is None else check_subgroups(subgroups, codes.size)
    if columns is not None:
        plan.subgroups = [groups for _, _, groups in columns]
        if isinstance(min_subgroup_size, bool) or not isinstance(
            min_subgroup_size, (int, np.integer)
        ):
            raise ValueError(f"min_subgroup_size must be an int, got {min_subgroup_size!r}.")
    names = classes_arr.tolist()
    notes = warn_absent_classes(codes, names)
    label = None if mask is None else positive_label(mask, classes_arr)
    if mask is not None:
        warn_if_absent(mask[codes], label)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        point, samples = _engine.evaluate(
            codes, proba, plan, n_bootstraps, stratify=stratify, random_state=random_state
        )
    if mask is None:
        threshold_source = "none (multi-class task without a positive class)"
    elif target is None:
        threshold_source = f"fixed threshold {fixed_threshold:.3g} on the {label!r} probability"
    else:
        threshold_source = (
            f"threshold chosen on this test set for {target[0]} >= {target[1]:g} "
            "(optimistic: choose it on a validation set and pass threshold=)"
        )
    return dict(
        classes=names,
        **sections(plan, point, samples, confidence, names),
        subgroups=None
        if columns is None
        else subgroup_sections(columns, plan, point, samples, confidence, int(min_subgroup_size)),
        positive_label=label,
        positive_classes=None if mask is None else classes_arr[mask].tolist(),
        referral_label=(
            None if plan.referral_mask is None else positive_label(plan.referral_mask, classes_arr)
        ),
        settings={
            "n_samples": codes.size,
            "confidence": confidence,
            "n_bootstraps": n_bootstraps,
            "stratified": bool(stratify),
            "n_bins": plan.n_bins,
            "random_state": random_state,
            "threshold_source": threshold_source,
            "notes": notes,
        },
        y_true=classes_arr[codes],
        y_score=proba,
    )
