"""Clinical evaluation: figures with confidence intervals, operating points, plots.

Every function takes ``y_true`` (class names) and ``y_score`` (predicted
probabilities, columns in ``classes`` order), so it works on any model's
output; ``from_estimator`` helpers call the estimator for you. One engine
computes every figure, on the test set and on each bootstrap resample alike;
the report, the scores and the displays only arrange and draw its figures.

* :func:`clinical_report` (:meth:`ClinicalReport.from_predictions`,
  :meth:`ClinicalReport.from_estimator`): the full report (per class, overall,
  the positive class at an operating point, the ISIC challenge block), every
  figure with a confidence interval; prints as a table, exports to dict,
  DataFrame, Markdown and a self-contained HTML file.
* :func:`referral_curve`: selective prediction, the figures as the
  least-confident cases are referred to a dermatologist.
* :func:`select_operating_point` and friends: thresholds for a target
  sensitivity or specificity.
* :func:`wilson_interval`, :func:`bootstrap_interval`: the interval machinery.
* Displays (matplotlib, imported only when drawing): :class:`ConfusionMatrixDisplay`,
  :class:`RocCurveDisplay`, :class:`ReliabilityDisplay`, :class:`ReferralCurveDisplay`,
  :class:`SubgroupDisplay`,
  :class:`TrainingHistoryDisplay`, :class:`SampleImagesDisplay`,
  :class:`WorstMistakesDisplay`.

Examples
--------
>>> import numpy as np
>>> from skinlesion.metrics import clinical_report
>>> y = np.array(["benign", "malignant"] * 20)
>>> p = np.where(y == "malignant", 0.7, 0.3)
>>> report = clinical_report(y, p, positive="malignant", n_bootstraps=100, random_state=0)
>>> report.positive["sensitivity"].value
1.0
"""

from __future__ import annotations

import importlib
from typing import Any

from skinlesion.metrics.calibration import (
    ReliabilityCurve,
    expected_calibration_error,
    reliability_curve,
)
from skinlesion.metrics.intervals import (
    Estimate,
    bootstrap_indices,
    bootstrap_interval,
    wilson_interval,
)
from skinlesion.metrics.isic import isic_scores
from skinlesion.metrics.operating_points import (
    partial_auc_above_sensitivity,
    positive_scores,
    select_operating_point,
    sensitivity_at_specificity,
    sensitivity_constrained_scorer,
    specificity_at_sensitivity,
)
from skinlesion.metrics.referral import ReferralCurve, referral_curve
from skinlesion.metrics.report import ClinicalReport, clinical_report
from skinlesion.metrics.subgroups import SubgroupGap

# Displays live in a module that imports matplotlib only when drawing; loading the
# module itself is cheap, but it is still loaded on first use.
_DISPLAYS = {
    "ConfusionMatrixDisplay",
    "RocCurveDisplay",
    "ReferralCurveDisplay",
    "ReliabilityDisplay",
    "SubgroupDisplay",
    "TrainingHistoryDisplay",
    "SampleImagesDisplay",
    "WorstMistakesDisplay",
}

__all__ = [
    "ClinicalReport",
    "ConfusionMatrixDisplay",
    "Estimate",
    "ReferralCurve",
    "ReferralCurveDisplay",
    "ReliabilityCurve",
    "ReliabilityDisplay",
    "RocCurveDisplay",
    "SampleImagesDisplay",
    "SubgroupDisplay",
    "SubgroupGap",
    "TrainingHistoryDisplay",
    "WorstMistakesDisplay",
    "bootstrap_indices",
    "bootstrap_interval",
    "clinical_report",
    "expected_calibration_error",
    "isic_scores",
    "partial_auc_above_sensitivity",
    "positive_scores",
    "referral_curve",
    "reliability_curve",
    "select_operating_point",
    "sensitivity_at_specificity",
    "sensitivity_constrained_scorer",
    "specificity_at_sensitivity",
    "wilson_interval",
]


def __getattr__(name: str) -> Any:
    if name in _DISPLAYS:
        value = getattr(importlib.import_module("skinlesion.metrics.displays"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'skinlesion.metrics' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(__all__) | set(globals()))
