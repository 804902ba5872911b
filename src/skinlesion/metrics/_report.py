"""The clinical report object: its figures, and the exports and renderings of them.

:class:`ClinicalReport` holds the figures that ``_compute`` computes (each an
:class:`~skinlesion.metrics.Estimate` with its interval) and exports them to a
dict, a DataFrame, text, Markdown and HTML (``render``).
:mod:`skinlesion.metrics.report` re-exports it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from skinlesion.metrics._compute import (
    CONFIDENCE,
    FIXED_SENSITIVITIES,
    FIXED_SPECIFICITIES,
    N_BOOTSTRAPS,
    REFERRAL_FRACTIONS,
    report_fields,
)
from skinlesion.metrics.calibration import DEFAULT_N_BINS
from skinlesion.metrics.subgroups import MIN_SUBGROUP_SIZE

__all__ = ["ClinicalReport"]


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
    y_true, y_score : ndarray or None
        The inputs (kept for the plots); None in a report made by :meth:`from_dict`.
    history : dict or None
        The estimator's ``history_`` (from :meth:`from_estimator`).
    images : array-like or None
        The test images (from :meth:`from_estimator`), for the worst mistakes.
    saliency : dict or None
        Grad-CAM maps of the most confident mistakes (from :meth:`from_estimator`
        with ``saliency``): ``indices`` (positions in the test set), ``true`` and
        ``predicted`` class names, ``probability`` of the predicted class,
        ``images`` and ``maps`` at the network's input size, and ``note`` (why
        there are no maps, e.g. an estimator without a skinlesion network).

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
    saliency: dict | None = None

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
        n_bootstraps: int = N_BOOTSTRAPS,
        confidence: float = CONFIDENCE,
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
        return cls(
            **report_fields(
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
        )

    @classmethod
    def from_estimator(
        cls,
        estimator: Any,
        X: Any,
        y: Any,
        *,
        keep_images: bool = True,
        saliency: int = 8,
        **kwargs: Any,
    ) -> ClinicalReport:
        """Clinical report of a fitted classifier on test images ``X`` with labels ``y``.

        Calls ``estimator.predict_proba(X)`` and uses ``estimator.classes_``; keeps
        ``estimator.history_`` (when present) and, with ``keep_images``, a reference
        to ``X`` so that :meth:`to_html` can show the training history and the worst
        mistakes. Other keyword arguments are those of :func:`clinical_report`.
        ``clinical_report.from_estimator`` is the same method.

        With ``saliency=k`` (default 8) it also computes the Grad-CAM maps
        (:func:`skinlesion.inspection.grad_cam`) of the ``k`` most confident
        mistakes, each for the wrong class predicted, and keeps them with the
        images at the network's input size (``saliency`` attribute), so that
        :meth:`to_html` shows where the network looked; this costs one forward
        and backward pass over ``k`` images. An estimator without a skinlesion
        network (not a :class:`~skinlesion.LesionClassifier`, nor a pipeline
        ending in one) gets no maps and a note saying so. ``saliency=0``
        computes none.

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
        if isinstance(saliency, bool) or not isinstance(saliency, int | np.integer) or saliency < 0:
            raise ValueError(
                f"saliency must be the number of mistakes to explain, an int >= 0 (0: none), "
                f"got {saliency!r}."
            )
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
        if saliency:
            from skinlesion.inspection import mistake_maps

            report.saliency = mistake_maps(
                estimator, X, report.y_true, report.y_score, int(saliency)
            )
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

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClinicalReport:
        """The report whose :meth:`to_dict` is ``data`` (such as a JSON file of it).

        It has every figure, so it renders as text, Markdown and in a
        :class:`~skinlesion.ModelCard`, but not the predictions: ``y_true`` and
        ``y_score`` are None, and the plots of :meth:`to_html` cannot be drawn.
        Nor does it have what :meth:`from_estimator` keeps beside the figures
        (``history``, ``images``, the Grad-CAM maps of ``saliency``):
        :meth:`to_dict` leaves them out.

        Parameters
        ----------
        data : dict
            What :meth:`to_dict` returned, or ``skinlesion evaluate --json`` wrote.

        Returns
        -------
        ClinicalReport

        Examples
        --------
        >>> from skinlesion.metrics import ClinicalReport, clinical_report
        >>> r = clinical_report(["a", "b", "a", "b"], [0.2, 0.9, 0.4, 0.6],
        ...                     n_bootstraps=50, random_state=0)
        >>> ClinicalReport.from_dict(r.to_dict()).to_markdown() == r.to_markdown()
        True
        """
        from skinlesion.metrics.render.records import from_dict

        return from_dict(cls, dict(data))

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
