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

The engine is four modules, each importing only those before it: ``_core`` (the
building blocks: weighted counts, ROC curves, confusion, calibration),
``_referral`` (selective prediction), ``_figures`` (the report's figures, block by
block, from a :class:`Plan`) and ``_bootstrap`` (the point estimate and the
bootstrap as one computation). This package re-exports the names its callers use.
"""

from skinlesion.metrics._engine._bootstrap import evaluate, resample_weights
from skinlesion.metrics._engine._core import (
    ISIC_FIGURES,
    Curve,
    Figures,
    calibration,
    calibration_error,
    confusion,
    counts,
    rates,
    top_label,
    unit_weights,
)
from skinlesion.metrics._engine._figures import (
    Plan,
    class_figures,
    figures,
    overall_figures,
    positive_figures,
    subgroup_figures,
)
from skinlesion.metrics._engine._referral import (
    confidence_order,
    kept_weights,
    referral_curve,
    referral_figures,
)

__all__ = [
    "ISIC_FIGURES",
    "Curve",
    "Figures",
    "Plan",
    "calibration",
    "calibration_error",
    "class_figures",
    "confidence_order",
    "confusion",
    "counts",
    "evaluate",
    "figures",
    "kept_weights",
    "overall_figures",
    "positive_figures",
    "rates",
    "referral_curve",
    "referral_figures",
    "resample_weights",
    "subgroup_figures",
    "top_label",
    "unit_weights",
]
