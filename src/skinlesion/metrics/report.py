"""The clinical evaluation report: every figure a reviewer asks for, with its interval.

:func:`clinical_report` takes true labels and predicted probabilities (so it
works on any model's output) and returns a :class:`ClinicalReport` that prints
as a table and exports to a dict, a pandas DataFrame, Markdown and a
self-contained HTML file with the plots embedded.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from skinlesion.metrics import _core
from skinlesion.metrics._batch import figures_batch
from skinlesion.metrics._validation import (
    as_list,
    check_predictions,
    check_unit_interval,
    positive_label,
    resolve_positive,
    warn_if_absent,
)
from skinlesion.metrics.calibration import DEFAULT_N_BINS, _check_n_bins
from skinlesion.metrics.intervals import (
    Estimate,
    _check_n_bootstraps,
    bootstrap_indices,
    percentile_interval,
    wilson_interval,
)
from skinlesion.metrics.isic import ISIC_FIGURES

__all__ = ["ClinicalReport", "clinical_report"]

#: Specificities at which the report reads the sensitivity.
FIXED_SPECIFICITIES = (0.80, 0.90, 0.95)
#: Sensitivities at which the report reads the specificity (0.866: the
#: dermatologists' mean sensitivity in Haenssle et al., Ann Oncol 2018).
FIXED_SENSITIVITIES = (0.80, 0.866, 0.90, 0.95)

PER_CLASS_FIGURES = (
    "support",
    "sensitivity",
    "specificity",
    "ppv",
    "npv",
    "f1",
    "roc_auc",
    "average_precision",
)
OVERALL_FIGURES = (
    "accuracy",
    "balanced_accuracy",
    "macro_f1",
    "weighted_f1",
    "macro_roc_auc",
    "cohen_kappa",
    "log_loss",
    "brier_score",
    "expected_calibration_error",
)
LABELS = {
    "support": "support",
    "sensitivity": "sensitivity",
    "specificity": "specificity",
    "ppv": "PPV",
    "npv": "NPV",
    "f1": "F1",
    "roc_auc": "ROC AUC",
    "average_precision": "average precision",
    "accuracy": "accuracy",
    "balanced_accuracy": "balanced accuracy",
    "macro_f1": "macro F1",
    "weighted_f1": "weighted F1",
    "macro_roc_auc": "macro ROC AUC (one-vs-rest)",
    "cohen_kappa": "Cohen's kappa",
    "log_loss": "log loss",
    "brier_score": "Brier score",
    "expected_calibration_error": "expected calibration error",
    "prevalence": "prevalence in this test set",
    "auc_sens_80": "partial AUC, sensitivity >= 0.8 (ISIC AUC80)",
    "threshold": "threshold",
    "number_needed_to_biopsy": "number needed to biopsy (1 / PPV)",
    "lr_positive": "likelihood ratio LR+",
    "lr_negative": "likelihood ratio LR-",
}


def _fixed_key(kind: str, target: float) -> str:
    return f"{kind}_{target:g}"


def _label(key: str) -> str:
    if key in LABELS:
        return LABELS[key]
    for kind, other in (
        ("sensitivity_at_specificity", "specificity"),
        ("specificity_at_sensitivity", "sensitivity"),
    ):
        if key.startswith(kind + "_"):
            first = kind.split("_at_")[0]
            return f"{first} at {other} {key[len(kind) + 1 :]}"
    return key.replace("_", " ")


# --------------------------------------------------------------------------------------
# figures on one (re)sample
# --------------------------------------------------------------------------------------


class _Plan:
    """What to compute: fixed once from the parameters, reused for every resample."""

    def __init__(
        self,
        n_classes: int,
        mask: np.ndarray | None,
        threshold: float | None,
        target: tuple[str, float] | None,
        fixed_sens: list[float],
        fixed_spec: list[float],
        n_bins: int,
    ) -> None:
        self.n_classes = n_classes
        self.mask = mask
        self.threshold = threshold
        self.target = target
        self.fixed_sens = fixed_sens
        self.fixed_spec = fixed_spec
        self.n_bins = n_bins

    def operating_threshold(self, fpr: np.ndarray, tpr: np.ndarray, thr: np.ndarray) -> float:
        if self.target is None:
            assert self.threshold is not None
            return self.threshold
        if np.isnan(fpr[-1]) or np.isnan(tpr[-1]):
            return float("nan")
        kind, value = self.target
        if kind == "sensitivity":
            return float(thr[_core.index_at_sensitivity(tpr, value)])
        return float(thr[_core.index_at_specificity(fpr, value)])


def _figures(codes: np.ndarray, proba: np.ndarray, plan: _Plan) -> dict[tuple, float]:
    """Every figure of the report that gets a bootstrap interval, on one sample."""
    out: dict[tuple, float] = {}
    k = plan.n_classes
    pred = proba.argmax(axis=1)
    cm = _core.confusion(codes, pred, k)
    f1 = _core.per_class_f1(cm)
    aucs = np.full(k, np.nan)
    isic_rows = []
    for i in range(k):
        is_i = codes == i
        s = proba[:, i]
        fpr, tpr, _, aucs[i], ap = _core.curve_figures(is_i, s)
        out[("class", i, "f1")] = float(f1[i])
        out[("class", i, "roc_auc")] = aucs[i]
        out[("class", i, "average_precision")] = ap
        isic = _core.isic_counts_figures(_core.binary_counts(is_i, s > 0.5))
        isic.update(auc=aucs[i], ap=ap, auc_sens_80=_core.auc_above_sensitivity(fpr, tpr, 0.8))
        out[("isic", i, "dice")] = isic["dice"]
        out[("isic", i, "auc_sens_80")] = isic["auc_sens_80"]
        isic_rows.append(isic)
    for fig in ISIC_FIGURES:
        values = np.array([row[fig] for row in isic_rows], dtype=np.float64)
        out[("isic_macro", fig)] = (
            float(np.mean(values[~np.isnan(values)])) if (~np.isnan(values)).any() else float("nan")
        )
    out[("isic_aggregate", "balanced_accuracy")] = _core.isic_balanced_accuracy(codes, proba)

    overall = _core.classification_figures(cm)
    for name in ("balanced_accuracy", "macro_f1", "weighted_f1", "cohen_kappa"):
        out[("overall", name)] = overall[name]
    present = ~np.isnan(aucs)
    out[("overall", "macro_roc_auc")] = (
        float(np.mean(aucs[present])) if present.any() else (float("nan"))
    )
    out[("overall", "log_loss")] = _core.log_loss(codes, proba)
    out[("overall", "brier_score")] = _core.brier_score(codes, proba)
    out[("overall", "expected_calibration_error")] = _core.expected_calibration_error(
        codes, proba, plan.n_bins
    )

    if plan.mask is not None:
        y = plan.mask[codes]
        s = proba[:, plan.mask].sum(axis=1)
        fpr, tpr, thr, auc, ap = _core.curve_figures(y, s)
        out[("positive", "roc_auc")] = auc
        out[("positive", "auc_sens_80")] = _core.auc_above_sensitivity(fpr, tpr, 0.8)
        out[("positive", "average_precision")] = ap
        for t in plan.fixed_spec:
            key = _fixed_key("sensitivity_at_specificity", t)
            out[("positive", key)] = _core.sensitivity_at_specificity(fpr, tpr, t)
        for t in plan.fixed_sens:
            key = _fixed_key("specificity_at_sensitivity", t)
            out[("positive", key)] = _core.specificity_at_sensitivity(fpr, tpr, t)
        threshold = plan.operating_threshold(fpr, tpr, thr)
        out[("positive", "threshold")] = threshold
        counts = _core.binary_counts(y, s >= threshold)
        lr_pos, lr_neg = _core.likelihood_ratios(counts)
        out[("positive", "lr_positive")] = lr_pos
        out[("positive", "lr_negative")] = lr_neg
    return out


def _bootstrap(
    codes: np.ndarray,
    proba: np.ndarray,
    plan: _Plan,
    n_bootstraps: int,
    stratify: bool,
    random_state: Any,
    block_elements: int = 2_000_000,
) -> dict[tuple, np.ndarray]:
    """Every bootstrapped figure on each resample, in blocks of resamples.

    A resample is a row of image weights (draw counts); blocks keep the weight
    matrix under ``block_elements`` numbers.
    """
    n = codes.size
    indices = bootstrap_indices(
        n, n_bootstraps, strata=codes if stratify else None, random_state=random_state
    )
    per_block = max(1, block_elements // max(n, 1))
    blocks = []
    for start in range(0, n_bootstraps, per_block):
        rows = min(per_block, n_bootstraps - start)
        W = np.empty((rows, n))
        for r in range(rows):
            W[r] = np.bincount(next(indices), minlength=n)
        blocks.append(figures_batch(codes, proba, plan, W))
    if not blocks:
        return {}
    return {key: np.concatenate([b[key] for b in blocks]) for key in blocks[0]}


# --------------------------------------------------------------------------------------
# the report object
# --------------------------------------------------------------------------------------


class ClinicalReport:
    """Figures of a clinical evaluation, each an :class:`Estimate` with its interval.

    Made by :func:`clinical_report`; do not build it by hand.

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
    positive_label : str or None
        Name of the positive class(es).
    isic : dict
        The ISIC challenge block: ``"per_category"`` ``{class: {figure:
        Estimate}}``, ``"macro_average"`` and ``"aggregate"``, computed as the
        official scorer does (see :mod:`skinlesion.metrics.isic`).
    settings : dict
        How the figures were computed: n_samples, confidence, n_bootstraps,
        stratified, n_bins, random_state, threshold_source, notes.
    y_true, y_score : ndarray
        The inputs (kept for the plots).

    Examples
    --------
    >>> from skinlesion.metrics import clinical_report
    >>> r = clinical_report(["nevus", "melanoma", "nevus", "melanoma"], [0.2, 0.9, 0.6, 0.7],
    ...                     positive="melanoma", n_bootstraps=50, random_state=0)
    >>> r.positive["ppv"].value, r.positive["number_needed_to_biopsy"].value
    (0.6666666666666666, 1.5)
    """

    def __init__(
        self,
        *,
        classes: list,
        per_class: dict,
        overall: dict,
        positive: dict | None,
        positive_label: str | None,
        isic: dict,
        settings: dict,
        y_true: np.ndarray,
        y_score: np.ndarray,
        positive_classes: list | None = None,
        history: dict | None = None,
        images: Any = None,
    ) -> None:
        self.classes = classes
        self.per_class = per_class
        self.overall = overall
        self.positive = positive
        self.positive_label = positive_label
        self.positive_classes = positive_classes
        self.isic = isic
        self.settings = settings
        self.y_true = y_true
        self.y_score = y_score
        self.history = history
        self.images = images

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

        def block(d: dict) -> dict:
            return {str(k): v.to_dict() for k, v in d.items()}

        settings = dict(self.settings)
        settings["random_state"] = (
            settings["random_state"]
            if isinstance(settings["random_state"], (int, type(None)))
            else repr(settings["random_state"])
        )
        return {
            "settings": settings,
            "classes": [str(c) for c in self.classes],
            "positive_label": self.positive_label,
            "per_class": {str(c): block(v) for c, v in self.per_class.items()},
            "overall": block(self.overall),
            "positive": None if self.positive is None else block(self.positive),
            "isic": {
                "per_category": {str(c): block(v) for c, v in self.isic["per_category"].items()},
                "macro_average": block(self.isic["macro_average"]),
                "aggregate": block(self.isic["aggregate"]),
            },
        }

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
        out = []

        def add(section: str, cls: Any, figures: dict) -> None:
            for name, est in figures.items():
                out.append({"section": section, "class": cls, "figure": name, **est.to_dict()})

        for c, figs in self.per_class.items():
            add("per_class", c, figs)
        add("overall", None, self.overall)
        if self.positive is not None:
            add("positive", self.positive_label, self.positive)
        for c, figs in self.isic["per_category"].items():
            add("isic", c, figs)
        add("isic", "macro_average", self.isic["macro_average"])
        add("isic", None, self.isic["aggregate"])
        return out

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

    def _tables(self, fmt: str = ".3f") -> list[tuple[str, list[str], list[list[str]]]]:
        """(title, header, rows) of every table, cells as text."""

        def cell(est: Estimate) -> str:
            if np.isnan(est.value):
                return "undefined"
            return format(est, fmt)

        tables = []
        left = ["support", "sensitivity", "specificity", "ppv", "npv"]
        right = ["f1", "roc_auc", "average_precision"]
        for title, names in (
            ("Per class, one-vs-rest (predicted class = highest probability)", left),
            ("Per class, ranking figures", right),
        ):
            header = ["class", *[_label(n) for n in names]]
            rows = [
                [
                    str(c),
                    *[cell(figs[n]) if n != "support" else str(int(figs[n].value)) for n in names],
                ]
                for c, figs in self.per_class.items()
            ]
            tables.append((title, header, rows))
        rows = [[_label(n), cell(e), e.method or ""] for n, e in self.overall.items()]
        tables.append(("Overall", ["figure", "value [interval]", "interval"], rows))
        if self.positive is not None:
            rows = [[_label(n), cell(e), e.method or ""] for n, e in self.positive.items()]
            title = f"Positive class: {self.positive_label} vs the rest"
            tables.append((title, ["figure", "value [interval]", "interval"], rows))
        header = ["class", *ISIC_FIGURES]
        isic_fmt = ".4f"
        rows = [
            [str(c), *[format(figs[f].value, isic_fmt) for f in ISIC_FIGURES]]
            for c, figs in self.isic["per_category"].items()
        ]
        rows.append(
            [
                "macro average",
                *[format(self.isic["macro_average"][f].value, isic_fmt) for f in ISIC_FIGURES],
            ]
        )
        tables.append(
            ("ISIC challenge scores (threshold 0.5, as the official scorer)", header, rows)
        )
        bacc = self.isic["aggregate"]["balanced_accuracy"]
        tables.append(
            (
                "ISIC aggregate",
                ["figure", "value [interval]", "interval"],
                [["balanced accuracy", cell(bacc), bacc.method or ""]],
            )
        )
        return tables

    def _intro(self) -> list[str]:
        s = self.settings
        conf = f"{100 * s['confidence']:g} %"
        strat = ", stratified by true class" if s["stratified"] else ""
        lines = [
            f"Clinical report: {s['n_samples']} images, {len(self.classes)} classes.",
            f"Intervals: {conf}; Wilson for proportions, percentile bootstrap "
            f"({s['n_bootstraps']} resamples{strat}) for the rest.",
            f"Expected calibration error: top-label, {s['n_bins']} uniform bins.",
        ]
        if self.positive is not None:
            lines.append(
                f"PPV, NPV and number needed to biopsy depend on the prevalence of "
                f"{self.positive_label!r} in this test set "
                f"({self.positive['prevalence']:.3f}); they change with the population."
            )
            lines.append(f"Operating point: {s['threshold_source']}.")
        lines.extend(s["notes"])
        return lines

    def __str__(self) -> str:
        parts = ["\n".join(self._intro())]
        for title, header, rows in self._tables():
            widths = [max(len(x) for x in col) for col in zip(header, *rows, strict=True)]
            lines = [title, "-" * len(title)]
            for r in [header, *rows]:
                first = r[0].ljust(widths[0])
                rest = [x.rjust(w) for x, w in zip(r[1:], widths[1:], strict=True)]
                lines.append("  ".join([first, *rest]).rstrip())
            parts.append("\n".join(lines))
        return "\n\n".join(parts) + "\n"

    def __repr__(self) -> str:
        acc = self.overall["balanced_accuracy"]
        pos = f", positive={self.positive_label!r}" if self.positive_label else ""
        return (
            f"<ClinicalReport: {self.settings['n_samples']} images, {len(self.classes)} classes"
            f"{pos}, balanced accuracy {acc}>"
        )

    def _repr_html_(self) -> str:
        """Tables for Jupyter notebooks (no plots; see :meth:`to_html`)."""
        from skinlesion.metrics._html import render_tables

        return render_tables(self)

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
        out = ["\n".join(f"- {line}" for line in self._intro())]
        for title, header, rows in self._tables():
            lines = [
                f"### {title}",
                "",
                "| " + " | ".join(header) + " |",
                "|" + "|".join("---" for _ in header) + "|",
            ]
            lines += ["| " + " | ".join(x.replace("|", "\\|") for x in r) + " |" for r in rows]
            out.append("\n".join(lines))
        return "\n\n".join(out) + "\n"

    def to_html(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        plots: bool = True,
        overwrite: bool = False,
    ) -> str:
        """The report as one self-contained HTML page (plots embedded as PNG).

        Parameters
        ----------
        path : str or path-like, default=None
            Write the page to this file. An existing file is never replaced unless
            ``overwrite=True``.
        plots : bool, default=True
            Embed the confusion matrix, ROC curves, reliability diagram, and (when
            the report came from :func:`clinical_report.from_estimator`) the training
            history and the worst mistakes.
        overwrite : bool, default=False
            Replace ``path`` if it exists.

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
        """
        from skinlesion.metrics._html import render_report

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
        html = render_report(self, plots=plots)
        if path is not None:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(html)
        return html


# --------------------------------------------------------------------------------------
# clinical_report
# --------------------------------------------------------------------------------------


def _wilson(successes: int, n: int, confidence: float) -> Estimate:
    value = successes / n if n > 0 else float("nan")
    low, high = wilson_interval(successes, n, confidence)
    return Estimate(float(value), low, high, "wilson")


def _boot(key: tuple, point: dict, samples: dict, confidence: float) -> Estimate:
    value = point[key]
    if key not in samples:
        return Estimate(float(value))
    low, high, n_undefined = percentile_interval(samples[key], confidence)
    return Estimate(float(value), low, high, "bootstrap", n_undefined)


def _check_threshold_args(
    threshold: Any, target_sensitivity: Any, target_specificity: Any
) -> tuple[float | None, tuple[str, float] | None]:
    given = [x is not None for x in (threshold, target_sensitivity, target_specificity)]
    if sum(given) > 1:
        raise ValueError(
            "give at most one of threshold, target_sensitivity and target_specificity: each "
            "fixes the operating point."
        )
    if target_sensitivity is not None:
        return None, ("sensitivity", check_unit_interval(target_sensitivity, "target_sensitivity"))
    if target_specificity is not None:
        return None, ("specificity", check_unit_interval(target_specificity, "target_specificity"))
    if threshold is None:
        return 0.5, None
    try:
        t = float(threshold)
    except (TypeError, ValueError):
        raise ValueError(f"threshold must be a number in [0, 1], got {threshold!r}.") from None
    if not 0.0 <= t <= 1.0:
        raise ValueError(
            f"threshold must lie in [0, 1] (it applies to a probability), got {threshold!r}."
        )
    return t, None


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
    n_bootstraps : int, default=1000
        Bootstrap resamples for the intervals of non-proportions (0: no bootstrap,
        intervals NaN).
    confidence : float, default=0.95
        Confidence level of every interval.
    stratify : bool, default=True
        Resample within each true class, so every resample keeps the class counts.
    n_bins : int, default=15
        Bins of the expected calibration error.
    random_state : int, RandomState instance or None, default=None
        Seed of the bootstrap, for repeatable intervals.

    Returns
    -------
    ClinicalReport
        Prints as tables; ``to_dict``, ``to_frame``, ``to_markdown``, ``to_html``.

    Warns
    -----
    UserWarning
        When a class is absent from ``y_true`` (its figures are NaN and macro
        averages use the classes present) or the positive class is absent.

    Notes
    -----
    Sensitivity, specificity, PPV, NPV, accuracy and prevalence get Wilson score
    intervals; the number needed to biopsy, 1 / PPV, the inverted Wilson bounds
    of PPV. Every other figure gets a percentile bootstrap interval; resamples
    where a figure is undefined are counted in ``Estimate.n_undefined`` and left
    out. ``clinical_report.from_estimator(clf, X, y, ...)`` calls
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
    codes, proba, classes_arr = check_predictions(y_true, y_score, classes, positive)
    mask = resolve_positive(positive, classes_arr)
    confidence = check_unit_interval(confidence, "confidence")
    n_bootstraps = _check_n_bootstraps(n_bootstraps)
    n_bins = _check_n_bins(n_bins)
    fixed_threshold, target = _check_threshold_args(
        threshold, target_sensitivity, target_specificity
    )
    fixed_sens = [
        check_unit_interval(t, "fixed_sensitivities") for t in as_list(fixed_sensitivities)
    ]
    fixed_spec = [
        check_unit_interval(t, "fixed_specificities") for t in as_list(fixed_specificities)
    ]
    names = classes_arr.tolist()
    k = len(names)
    n = codes.size
    notes: list[str] = []

    support = np.bincount(codes, minlength=k)
    absent = [names[i] for i in range(k) if support[i] == 0]
    if absent:
        msg = (
            f"classes {absent!r} do not occur in y_true: their sensitivity, AUC and other "
            f"per-class figures are undefined (NaN), and macro averages use the "
            f"{k - len(absent)} classes present."
        )
        warnings.warn(msg, UserWarning, stacklevel=3)
        notes.append("Note: " + msg)
    label = None
    if mask is not None:
        label = positive_label(mask, classes_arr)
        warn_if_absent(mask[codes], label)

    plan = _Plan(k, mask, fixed_threshold, target, fixed_sens, fixed_spec, n_bins)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        point = _figures(codes, proba, plan)
        arrays = _bootstrap(codes, proba, plan, n_bootstraps, stratify, random_state)
        if not arrays:  # n_bootstraps=0: figures without intervals
            arrays = {key: np.full(0, np.nan) for key in point}

    def boot(key: tuple) -> Estimate:
        return _boot(key, point, arrays, confidence)

    pred = proba.argmax(axis=1)
    cm = _core.confusion(codes, pred, k)
    counts = _core.one_vs_rest_counts(cm)
    per_class: dict[Any, dict[str, Estimate]] = {}
    for i, c in enumerate(names):
        tp, fp, fn, tn = (int(counts[x][i]) for x in ("tp", "fp", "fn", "tn"))
        per_class[c] = {
            "support": Estimate(float(support[i])),
            "sensitivity": _wilson(tp, tp + fn, confidence),
            "specificity": _wilson(tn, tn + fp, confidence),
            "ppv": _wilson(tp, tp + fp, confidence),
            "npv": _wilson(tn, tn + fn, confidence),
            "f1": boot(("class", i, "f1")),
            "roc_auc": boot(("class", i, "roc_auc")),
            "average_precision": boot(("class", i, "average_precision")),
        }
    overall = {"accuracy": _wilson(int(np.trace(cm)), n, confidence)}
    for name in OVERALL_FIGURES[1:]:
        overall[name] = boot(("overall", name))

    positive_block = None
    threshold_source = "none (multi-class task without a positive class)"
    if mask is not None:
        y = mask[codes]
        s = proba[:, mask].sum(axis=1)
        n_pos = int(y.sum())
        positive_block = {"prevalence": _wilson(n_pos, n, confidence)}
        for key in ("roc_auc", "auc_sens_80", "average_precision"):
            positive_block[key] = boot(("positive", key))
        for t in fixed_spec:
            key = _fixed_key("sensitivity_at_specificity", t)
            positive_block[key] = boot(("positive", key))
        for t in fixed_sens:
            key = _fixed_key("specificity_at_sensitivity", t)
            positive_block[key] = boot(("positive", key))
        if target is None:
            positive_block["threshold"] = Estimate(float(fixed_threshold))
            threshold_source = f"fixed threshold {fixed_threshold:.3g} on the {label!r} probability"
        else:
            positive_block["threshold"] = boot(("positive", "threshold"))
            threshold_source = (
                f"threshold chosen on this test set for {target[0]} >= {target[1]:g} "
                "(optimistic: choose it on a validation set and pass threshold=)"
            )
        t_used = point[("positive", "threshold")]
        c = _core.binary_counts(y, s >= t_used)
        positive_block["sensitivity"] = _wilson(c["tp"], c["tp"] + c["fn"], confidence)
        positive_block["specificity"] = _wilson(c["tn"], c["tn"] + c["fp"], confidence)
        ppv = _wilson(c["tp"], c["tp"] + c["fp"], confidence)
        positive_block["ppv"] = ppv
        positive_block["npv"] = _wilson(c["tn"], c["tn"] + c["fn"], confidence)
        with np.errstate(divide="ignore", invalid="ignore"):
            inv = np.divide(1.0, np.array([ppv.value, ppv.high, ppv.low]))
        positive_block["number_needed_to_biopsy"] = Estimate(
            float(inv[0]), float(inv[1]), float(inv[2]), "wilson"
        )
        positive_block["lr_positive"] = boot(("positive", "lr_positive"))
        positive_block["lr_negative"] = boot(("positive", "lr_negative"))

    isic_per: dict[Any, dict[str, Estimate]] = {}
    for i, c in enumerate(names):
        is_i = codes == i
        cc = _core.binary_counts(is_i, proba[:, i] > 0.5)
        official = _core.isic_counts_figures(cc)

        def isic_wilson(fig: str, num: int, den: int, official: dict = official) -> Estimate:
            low, high = wilson_interval(num, den, confidence)
            return Estimate(official[fig], low, high, "wilson")

        tp, fp, fn, tn = cc["tp"], cc["fp"], cc["fn"], cc["tn"]
        isic_per[c] = {
            "accuracy": isic_wilson("accuracy", tp + tn, n),
            "sensitivity": isic_wilson("sensitivity", tp, tp + fn),
            "specificity": isic_wilson("specificity", tn, tn + fp),
            "dice": boot(("isic", i, "dice")),
            "ppv": isic_wilson("ppv", tp, tp + fp),
            "npv": isic_wilson("npv", tn, tn + fn),
            "auc": per_class[c]["roc_auc"],
            "auc_sens_80": boot(("isic", i, "auc_sens_80")),
            "ap": per_class[c]["average_precision"],
        }
    isic = {
        "per_category": isic_per,
        "macro_average": {f: boot(("isic_macro", f)) for f in ISIC_FIGURES},
        "aggregate": {"balanced_accuracy": boot(("isic_aggregate", "balanced_accuracy"))},
    }
    settings = {
        "n_samples": n,
        "confidence": confidence,
        "n_bootstraps": n_bootstraps,
        "stratified": bool(stratify),
        "n_bins": n_bins,
        "random_state": random_state,
        "threshold_source": threshold_source,
        "notes": notes,
    }
    return ClinicalReport(
        classes=names,
        per_class=per_class,
        overall=overall,
        positive=positive_block,
        positive_label=label,
        positive_classes=None if mask is None else classes_arr[mask].tolist(),
        isic=isic,
        settings=settings,
        y_true=classes_arr[codes],
        y_score=proba,
    )


def _from_estimator(
    estimator: Any, X: Any, y: Any, *, keep_images: bool = True, **kwargs: Any
) -> ClinicalReport:
    """Clinical report of a fitted classifier on test images ``X`` with labels ``y``.

    Calls ``estimator.predict_proba(X)`` and uses ``estimator.classes_``; keeps
    ``estimator.history_`` (when present) and, with ``keep_images``, a reference
    to ``X`` so that :meth:`ClinicalReport.to_html` can show the training history
    and the worst mistakes. Other keyword arguments go to :func:`clinical_report`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skinlesion.metrics import clinical_report
    >>> X = np.arange(40.0)[:, None]
    >>> y = np.where(X[:, 0] > 19, "malignant", "benign")
    >>> clf = LogisticRegression().fit(X, y)
    >>> r = clinical_report.from_estimator(clf, X, y, positive="malignant",
    ...                                    n_bootstraps=50, random_state=0)
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
    report = clinical_report(y, estimator.predict_proba(X), classes=estimator.classes_, **kwargs)
    history = getattr(estimator, "history_", None)
    report.history = dict(history) if isinstance(history, dict) else None
    if keep_images:
        from skinlesion.images import is_path_array

        arr = X if is_path_array(X) else np.asarray(X)
        if is_path_array(X) or (arr.ndim == 4 and arr.shape[-1] in (1, 3, 4)):
            report.images = X
    return report


clinical_report.from_estimator = _from_estimator  # type: ignore[attr-defined]
