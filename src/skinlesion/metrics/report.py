"""The clinical evaluation report: every figure a reviewer asks for, with its interval.

:func:`clinical_report` (or :meth:`ClinicalReport.from_predictions`) takes true
labels and predicted probabilities, so it works on any model's output, and
returns a :class:`ClinicalReport`. Computing, the report object and rendering
live apart: ``_compute`` runs the metrics engine (``_engine``) on the test set
and on each bootstrap resample, and the figure table (``_table``) says which
interval each figure gets; ``_report`` holds the report object, which prints as
text and exports to a dict, a DataFrame, Markdown and a self-contained HTML page
(``render``). This module is the public home of both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from skinlesion._docstrings import Substitution, random_state_doc
from skinlesion.metrics._compute import (
    CONFIDENCE,
    FIXED_SENSITIVITIES,
    FIXED_SPECIFICITIES,
    N_BOOTSTRAPS,
    REFERRAL_FRACTIONS,
)
from skinlesion.metrics._report import ClinicalReport
from skinlesion.metrics.calibration import DEFAULT_N_BINS
from skinlesion.metrics.subgroups import MIN_SUBGROUP_SIZE

__all__ = ["ClinicalReport", "clinical_report"]


@Substitution(random_state=random_state_doc("the bootstrap", "the intervals"))
def clinical_report(
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
) -> ClinicalReport:
    """Clinical evaluation of predicted probabilities, every figure with an interval.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True class names of the test images.
    y_score : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted probabilities (``clf.predict_proba(X_test)``), columns in
        ``classes`` order; each row must sum to 1. In a binary task a 1-D array is
        the probability of ``positive`` (of ``classes[1]`` when ``positive`` is None).
    classes : array-like of shape (n_classes,), default=None
        Column names of ``y_score`` (``clf.classes_``). None uses the column names
        of a DataFrame ``y_score``, else the sorted labels of ``y_true``, which must
        then hold every class.
    positive : class name or collection of class names, default=None
        The malignant class, for example ``"melanoma"``, or a set such as
        ``{"melanoma", "basal cell carcinoma", "squamous cell carcinoma"}`` (their
        probabilities are summed). None: ``classes[1]`` in a binary task, no
        positive-class block otherwise.
    threshold : float, default=None
        Operating point on the positive score (called positive when
        ``score >= threshold``). None means 0.5 unless a target is given.
    target_sensitivity, target_specificity : float, default=None
        Choose the operating point on these data to reach this sensitivity
        (or specificity), with :func:`select_operating_point`. The report then
        says so: a threshold tuned on the test set flatters its figures; tune on a
        validation set and pass ``threshold`` instead where you can.
    fixed_sensitivities : sequence of float, default=(0.80, 0.866, 0.90, 0.95)
        Sensitivities at which the specificity is read off the ROC curve.
    fixed_specificities : sequence of float, default=(0.80, 0.90, 0.95)
        Specificities at which the sensitivity is read off the ROC curve.
    referral : sequence of float, default=(0.10, 0.20)
        Shares of the least-confident cases (lowest top probability) referred to a
        dermatologist; the ``referral`` section gives the figures on the cases kept
        (see :func:`~skinlesion.metrics.referral_curve`). ``()`` leaves it out.
    subgroups : DataFrame, mapping or array-like, default=None
        Metadata per image, in the order of ``y_true``: a DataFrame, a mapping of
        column name to values (``{"sex": ..., "age": ...}``) or one array. The
        ``subgroups`` section gives each subgroup's n, sensitivity, specificity,
        balanced accuracy and ROC AUC with intervals, and the largest gap between
        subgroups with its bootstrap interval. Numeric columns with many values
        are binned (age in bands <30, 30-44, 45-59, 60-74, 75+; others in
        quartiles); missing values form an "unknown" subgroup.
    min_subgroup_size : int, default=30
        Subgroups with fewer images (or, with a positive class, fewer than 5
        positive or 5 negative cases) are marked too small and left out of the
        gaps; they are still shown.
    n_bootstraps : int, default=1000
        Bootstrap resamples for the intervals of non-proportions (0: no bootstrap,
        intervals NaN).
    confidence : float, default=0.95
        Confidence level of every interval.
    stratify : bool, default=True
        Resample within each true class, so every resample keeps the class counts.
    n_bins : int, default=15
        Bins of the expected calibration error.
    {random_state}

    Returns
    -------
    ClinicalReport
        Prints as tables; ``to_dict``, ``to_frame``, ``to_markdown``, ``to_html``.

    Warns
    -----
    UserWarning
        When a class is absent from ``y_true`` (its figures are NaN and macro
        averages use the classes present) or the positive class is absent.

    See Also
    --------
    ClinicalReport.from_predictions : the same, as a class method.
    ClinicalReport.from_estimator : the report of a fitted classifier on test
        images; ``clinical_report.from_estimator`` is the same method.

    Notes
    -----
    Sensitivity, specificity, PPV, NPV, accuracy and prevalence get Wilson score
    intervals; the number needed to biopsy, 1 / PPV, the inverted Wilson bounds
    of PPV. Every other figure gets a percentile bootstrap interval; resamples
    where a figure is undefined are counted in ``Estimate.n_undefined`` and left
    out.
    ``clinical_report.from_estimator(clf, X, y, ...)`` calls
    ``clf.predict_proba`` and keeps the training history and images for
    :meth:`ClinicalReport.to_html`.

    Examples
    --------
    >>> import numpy as np
    >>> from skinlesion.metrics import clinical_report
    >>> rng = np.random.default_rng(0)
    >>> classes = ["keratosis", "melanoma", "nevus"]
    >>> y = rng.choice(classes, size=200)
    >>> logits = rng.normal(size=(200, 3)) + 2.0 * (y[:, None] == classes)
    >>> proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    >>> report = clinical_report(y, proba, classes=classes,
    ...                          positive="melanoma", n_bootstraps=200, random_state=0)
    >>> sens = report.positive["sensitivity"]
    >>> bool(sens.low < sens.value < sens.high)
    True
    >>> print(report)  # doctest: +ELLIPSIS
    Clinical report: 200 images, 3 classes.
    ...
    """
    return ClinicalReport.from_predictions(
        y_true,
        y_score,
        classes=classes,
        positive=positive,
        threshold=threshold,
        target_sensitivity=target_sensitivity,
        target_specificity=target_specificity,
        fixed_sensitivities=fixed_sensitivities,
        fixed_specificities=fixed_specificities,
        referral=referral,
        subgroups=subgroups,
        min_subgroup_size=min_subgroup_size,
        n_bootstraps=n_bootstraps,
        confidence=confidence,
        stratify=stratify,
        n_bins=n_bins,
        random_state=random_state,
    )


# ``clinical_report.from_estimator(clf, X, y)``, documented since the first release, is
# the class method itself.
clinical_report.from_estimator = ClinicalReport.from_estimator  # type: ignore[attr-defined]
