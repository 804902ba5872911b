"""The clinical evaluation report: every figure a reviewer asks for, with its interval.

:func:`clinical_report` (or :meth:`ClinicalReport.from_predictions`) takes true
labels and predicted probabilities, so it works on any model's output, and
returns a :class:`ClinicalReport`. The figures come from the metrics engine
(``_engine``), on the test set and on each bootstrap resample; the figure table
(``_table``) says which interval each gets. The report prints as text and
exports to a dict, a DataFrame, Markdown and a self-contained HTML page
(``render``).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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
from skinlesion.metrics.intervals import _check_n_bootstraps
from skinlesion.metrics.referral import referral_positive
from skinlesion.metrics.subgroups import MIN_SUBGROUP_SIZE, check_subgroups
from skinlesion.metrics.subgroups import sections as subgroup_sections

__all__ = ["ClinicalReport", "clinical_report"]

#: Specificities at which the report reads the sensitivity.
FIXED_SPECIFICITIES = (0.80, 0.90, 0.95)
#: Shares of the least-confident cases referred in the report's referral section.
REFERRAL_FRACTIONS = (0.10, 0.20)
#: Sensitivities at which the report reads the specificity (0.866: the
#: dermatologists' mean sensitivity in Haenssle et al., Ann Oncol 2018).
FIXED_SENSITIVITIES = (0.80, 0.866, 0.90, 0.95)


@dataclass(kw_only=True, eq=False, repr=False)
class ClinicalReport:
    """Figures of a clinical evaluation, each an :class:`Estimate` with its interval.

    Made by :func:`clinical_report`, :meth:`from_predictions` or
    :meth:`from_estimator`; do not build it by hand.

    Attributes
    ----------
    classes : list
        Class names, in the column order of ``y_score``.
    per_class : dict
        ``{class: {figure: Estimate}}``, one-vs-rest with the predicted class
        being the most probable one: support, sensitivity, specificity, ppv, npv,
        f1, roc_auc, average_precision.
    overall : dict
        ``{figure: Estimate}``: accuracy, balanced_accuracy, macro_f1,
        weighted_f1, macro_roc_auc, cohen_kappa, log_loss, brier_score,
        expected_calibration_error.
    positive : dict or None
        Figures of the positive (malignant) class(es) against the rest: prevalence,
        roc_auc, auc_sens_80, average_precision, sensitivity at fixed specificities,
        specificity at fixed sensitivities, and at the operating point: threshold,
        sensitivity, specificity, ppv, npv, number_needed_to_biopsy, lr_positive,
        lr_negative. None when no positive class was named in a multi-class task.
    referral : dict or None
        ``{share referred: {figure: Estimate}}``: with that share of the
        least-confident cases (lowest top probability) referred, on the cases kept:
        threshold (the confidence below which cases are referred), accuracy,
        balanced_accuracy and, for the positive class (or else a melanoma class),
        sensitivity and specificity. None when ``referral=()``.
    referral_label : str or None
        The class(es) whose sensitivity the referral section gives.
    subgroups : dict or None
        ``{column: {"groups": {subgroup: {figure: Estimate}}, "small": [subgroup,
        ...], "gaps": {figure: SubgroupGap}}}`` from ``subgroups=``: per subgroup
        n, sensitivity and specificity of the positive class (when there is
        one), balanced_accuracy and roc_auc; the subgroups too small to say
        anything; and for each figure the largest gap between the other subgroups
        (see :class:`~skinlesion.metrics.subgroups.SubgroupGap`).
    positive_label : str or None
        Name of the positive class(es).
    positive_classes : list or None
        The positive classes.
    isic : dict
        The ISIC challenge block: ``"per_category"`` ``{class: {figure:
        Estimate}}``, ``"macro_average"`` and ``"aggregate"``, computed as the
        official scorer does (see :func:`~skinlesion.metrics.isic_scores`).
    settings : dict
        How the figures were computed: n_samples, confidence, n_bootstraps,
        stratified, n_bins, random_state, threshold_source, notes.
    y_true, y_score : ndarray
        The inputs (kept for the plots).
    history : dict or None
        The estimator's ``history_`` (from :meth:`from_estimator`).
    images : array-like or None
        The test images (from :meth:`from_estimator`), for the worst mistakes.

    Examples
    --------
    >>> from skinlesion.metrics import clinical_report
    >>> r = clinical_report(["nevus", "melanoma", "nevus", "melanoma"], [0.2, 0.9, 0.6, 0.7],
    ...                     positive="melanoma", n_bootstraps=50, random_state=0)
    >>> r.positive["ppv"].value, r.positive["number_needed_to_biopsy"].value
    (0.6666666666666666, 1.5)
    """

    classes: list
    per_class: dict
    overall: dict
    positive: dict | None
    positive_label: str | None
    isic: dict
    settings: dict
    y_true: np.ndarray
    y_score: np.ndarray
    positive_classes: list | None = None
    referral: dict | None = None
    referral_label: str | None = None
    subgroups: dict | None = None
    history: dict | None = None
    images: Any = None

    # ---- construction -------------------------------------------------------------
    @classmethod
    def from_predictions(
        cls,
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
        n_bootstraps: int = 1000,
        confidence: float = 0.95,
        stratify: bool = True,
        n_bins: int = DEFAULT_N_BINS,
        random_state: Any = None,
    ) -> ClinicalReport:
        """The report of predicted probabilities: :func:`clinical_report` itself.

        Takes the same parameters; see :func:`clinical_report`.

        Examples
        --------
        >>> from skinlesion.metrics import ClinicalReport
        >>> r = ClinicalReport.from_predictions(["a", "b", "a", "b"], [0.2, 0.9, 0.4, 0.6],
        ...                                     n_bootstraps=50, random_state=0)
        >>> r.overall["accuracy"].value
        1.0
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
        return cls(
            classes=names,
            **sections(plan, point, samples, confidence, names),
            subgroups=None
            if columns is None
            else subgroup_sections(
                columns, plan, point, samples, confidence, int(min_subgroup_size)
            ),
            positive_label=label,
            positive_classes=None if mask is None else classes_arr[mask].tolist(),
            referral_label=(
                None
                if plan.referral_mask is None
                else positive_label(plan.referral_mask, classes_arr)
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

    @classmethod
    def from_estimator(
        cls, estimator: Any, X: Any, y: Any, *, keep_images: bool = True, **kwargs: Any
    ) -> ClinicalReport:
        """Clinical report of a fitted classifier on test images ``X`` with labels ``y``.

        Calls ``estimator.predict_proba(X)`` and uses ``estimator.classes_``; keeps
        ``estimator.history_`` (when present) and, with ``keep_images``, a reference
        to ``X`` so that :meth:`to_html` can show the training history and the worst
        mistakes. Other keyword arguments are those of :func:`clinical_report`.
        ``clinical_report.from_estimator`` is the same method.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.linear_model import LogisticRegression
        >>> from skinlesion.metrics import ClinicalReport
        >>> X = np.arange(40.0)[:, None]
        >>> y = np.where(X[:, 0] > 19, "malignant", "benign")
        >>> clf = LogisticRegression().fit(X, y)
        >>> r = ClinicalReport.from_estimator(clf, X, y, positive="malignant",
        ...                                   n_bootstraps=50, random_state=0)
        >>> r.positive_label
        'malignant'
        """
        for attr in ("predict_proba", "classes_"):
            if not hasattr(estimator, attr):
                raise TypeError(
                    f"{type(estimator).__name__} has no {attr}; from_estimator needs a fitted "
                    "classifier with predict_proba and classes_ (call fit first)."
                )
        if "classes" in kwargs:
            raise TypeError("from_estimator takes the classes from estimator.classes_.")
        report = cls.from_predictions(
            y, estimator.predict_proba(X), classes=estimator.classes_, **kwargs
        )
        history = getattr(estimator, "history_", None)
        report.history = dict(history) if isinstance(history, dict) else None
        if keep_images:
            from skinlesion.images import is_path_array

            arr = X if is_path_array(X) else np.asarray(X)
            if is_path_array(X) or (arr.ndim == 4 and arr.shape[-1] in (1, 3, 4)):
                report.images = X
        return report

    # ---- export -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """All figures as nested plain dicts (JSON-serialisable; class names as str).

        Each figure is ``{"value", "low", "high", "method", "n_undefined"}``.

        Examples
        --------
        >>> from skinlesion.metrics import clinical_report
        >>> r = clinical_report(["a", "b", "a", "b"], [0.2, 0.9, 0.4, 0.6],
        ...                     n_bootstraps=50, random_state=0)
        >>> r.to_dict()["overall"]["accuracy"]["value"]
        1.0
        """

        from skinlesion.metrics.render.records import to_dict

        return to_dict(self)

    def rows(self) -> list[dict[str, Any]]:
        """One dict per figure: section, class, figure, value, low, high, method, n_undefined.

        Examples
        --------
        >>> from skinlesion.metrics import clinical_report
        >>> r = clinical_report(["a", "b", "a", "b"], [0.2, 0.9, 0.4, 0.6],
        ...                     n_bootstraps=0)
        >>> r.rows()[0]["section"], r.rows()[0]["figure"]
        ('per_class', 'support')
        """
        from skinlesion.metrics.render.records import rows

        return rows(self)

    def to_frame(self) -> Any:
        """The figures as a long pandas DataFrame, one row per figure.

        Columns: section, class, figure, value, low, high, method, n_undefined.
        Needs pandas (``pip install pandas``).

        Examples
        --------
        >>> from skinlesion.metrics import clinical_report
        >>> r = clinical_report(["a", "b", "a", "b"], [0.2, 0.9, 0.4, 0.6],
        ...                     n_bootstraps=50, random_state=0)
        >>> df = r.to_frame()
        >>> df.query("figure == 'accuracy' and section == 'overall'")["value"].item()
        1.0
        """
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - depends on the environment
            raise ImportError(
                "ClinicalReport.to_frame needs pandas: pip install pandas (or use to_dict())."
            ) from None
        return pd.DataFrame(self.rows())

    # ---- rendering (skinlesion.metrics.render) ------------------------------------
    def __str__(self) -> str:
        from skinlesion.metrics.render import to_text

        return to_text(self)

    def __repr__(self) -> str:
        acc = self.overall["balanced_accuracy"]
        pos = f", positive={self.positive_label!r}" if self.positive_label else ""
        return (
            f"<ClinicalReport: {self.settings['n_samples']} images, {len(self.classes)} classes"
            f"{pos}, balanced accuracy {acc}>"
        )

    def _repr_html_(self) -> str:
        """Tables for Jupyter notebooks (no plots; see :meth:`to_html`)."""
        from skinlesion.metrics.render import to_html_fragment

        return to_html_fragment(self)

    def to_markdown(self) -> str:
        """The report as Markdown (intro lines and pipe tables).

        Examples
        --------
        >>> from skinlesion.metrics import clinical_report
        >>> r = clinical_report(["a", "b", "a", "b"], [0.2, 0.9, 0.4, 0.6],
        ...                     n_bootstraps=50, random_state=0)
        >>> "| class |" in r.to_markdown()
        True
        """
        from skinlesion.metrics.render import to_markdown

        return to_markdown(self)

    def to_html(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        plots: bool = True,
        overwrite: bool = False,
        about: Mapping[str, Any] | None = None,
    ) -> str:
        """The report as one self-contained HTML page (plots embedded as PNG).

        Parameters
        ----------
        path : str or path-like, default=None
            Write the page to this file. An existing file is never replaced unless
            ``overwrite=True``.
        plots : bool, default=True
            Embed the confusion matrix, ROC curves, reliability diagram, and (when
            the report came from :meth:`from_estimator`) the training history and
            the worst mistakes. Plots need matplotlib (``pip install
            "skinlesion[plot]"``); ``plots=False`` gives the tables alone.
        overwrite : bool, default=False
            Replace ``path`` if it exists.
        about : mapping of str to str, default=None
            What was evaluated, shown under the title in the given order as
            "name: text" lines, for example ``{"Model": "model.skl", "Data":
            "Test/", "Date": "2025-06-01"}`` (``skinlesion evaluate`` fills it in).

        Returns
        -------
        html : str
            The page.

        Examples
        --------
        >>> from skinlesion.metrics import clinical_report
        >>> r = clinical_report(["a", "b", "a", "b"], [0.2, 0.9, 0.4, 0.6],
        ...                     n_bootstraps=50, random_state=0)
        >>> r.to_html(plots=False).startswith("<!DOCTYPE html>")
        True
        >>> "<b>Model</b>: model.skl" in r.to_html(plots=False, about={"Model": "model.skl"})
        True
        """
        from skinlesion.metrics.render import to_html

        if plots:
            from skinlesion.metrics.displays._common import pyplot

            try:
                pyplot()
            except ImportError as err:
                raise ImportError(f"{err}; or pass plots=False for the tables alone") from None
        if about is not None and not isinstance(about, Mapping):
            raise TypeError(
                f"about must be a mapping such as {{'Model': 'model.skl'}}, got "
                f"{type(about).__name__}."
            )
        if path is not None:
            path = os.fspath(path)
            if os.path.exists(path) and not overwrite:
                raise FileExistsError(
                    f"{path!r} already exists; pass overwrite=True to replace it, or choose "
                    "another file name."
                )
            folder = os.path.dirname(os.path.abspath(path))
            if not os.path.isdir(folder):
                raise FileNotFoundError(f"the folder {folder!r} does not exist; create it first.")
        html = to_html(self, plots=plots, about=about)
        if path is not None:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(html)
        return html


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
    n_bootstraps: int = 1000,
    confidence: float = 0.95,
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
    random_state : int, RandomState instance, Generator or None, default=None
        Seeds the bootstrap. An int makes the intervals repeatable; a RandomState
        or Generator is drawn from; None gives fresh draws. See :ref:`random-state`.

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
