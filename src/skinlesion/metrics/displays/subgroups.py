"""Subgroup performance as a forest plot: each subgroup's figure with its interval."""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np

from skinlesion.metrics.displays._common import axes_array, check_fitted, pyplot

__all__ = ["SubgroupDisplay"]

_LABELS = {
    "sensitivity": "sensitivity",
    "specificity": "specificity",
    "balanced_accuracy": "balanced accuracy",
    "roc_auc": "ROC AUC",
}


class SubgroupDisplay:
    """Forest plot of one metadata column: each subgroup's figures with their intervals.

    One panel per figure; each subgroup is a point with its interval and its n,
    hollow when it is too small to say anything (or its value is missing), and
    the dashed line is the whole test set's figure.

    Parameters
    ----------
    column : str
        The metadata column (for the title).
    section : dict
        ``report.subgroups[column]`` of a
        :class:`~skinlesion.metrics.ClinicalReport`.
    overall : dict, default=None
        ``{figure: value}`` on the whole test set, drawn as reference lines.
    figures : sequence of str, default=None
        The figures to draw; None draws every one the section has
        (sensitivity, specificity, balanced_accuracy, roc_auc).

    Attributes
    ----------
    errorbars_ : dict
        ``{figure: ErrorbarContainer}``, one per panel.
    ax_ : ndarray of matplotlib Axes
        One per figure.
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skinlesion.metrics import SubgroupDisplay
    >>> rng = np.random.default_rng(0)
    >>> y = rng.choice(["melanoma", "nevus"], size=200)
    >>> sex = rng.choice(["female", "male"], size=200)
    >>> p = np.clip(np.where(y == "melanoma", 0.7, 0.3) + rng.normal(0, 0.2, 200), 0, 1)
    >>> disp = SubgroupDisplay.from_predictions(y, p, {"sex": sex}, positive="melanoma",
    ...                                         n_bootstraps=50, random_state=0)
    >>> sorted(disp.errorbars_)
    ['balanced_accuracy', 'roc_auc', 'sensitivity', 'specificity']
    """

    def __init__(
        self,
        column: str,
        section: dict,
        *,
        overall: dict | None = None,
        figures: Sequence[str] | None = None,
    ) -> None:
        self.column = column
        self.section = section
        self.overall = overall
        self.figures = figures

    def plot(self, *, ax: Any = None) -> SubgroupDisplay:
        """Draw one panel per figure, side by side (a new figure when ``ax`` is None)."""
        groups = self.section["groups"]
        first = next(iter(groups.values()))
        names = [f for f in (self.figures or _LABELS) if f in first]
        if not names:
            raise ValueError(f"none of the figures {self.figures!r} is in this section.")
        if ax is None:
            height = 1.2 + 0.35 * len(groups)
            _, ax = pyplot().subplots(
                1, len(names), figsize=(3.2 * len(names), height), sharey=True,
                layout="constrained", squeeze=False,
            )  # fmt: skip
        ax = axes_array(ax, len(names), "one per figure drawn")
        y = np.arange(len(groups))[::-1]
        weak = np.array([g in self.section["small"] or g == "unknown" for g in groups])
        self.errorbars_ = {}
        for a, name in zip(ax, names, strict=True):
            est = [figs[name] for figs in groups.values()]
            value = np.array([e.value for e in est])
            low = np.array([e.low for e in est])
            high = np.array([e.high for e in est])
            err = np.vstack([value - low, high - value])
            # a percentile bootstrap interval can miss its own estimate (by rounding,
            # or in a tiny subgroup): the bar then starts at the point
            err = np.maximum(np.where(np.isfinite(err), err, 0.0), 0.0)
            self.errorbars_[name] = a.errorbar(
                value, y, xerr=err, fmt="none", ecolor="C0", capsize=3
            )
            a.scatter(value[~weak], y[~weak], color="C0", zorder=3)
            a.scatter(value[weak], y[weak], facecolor="white", edgecolor="C0", zorder=3)
            if self.overall and np.isfinite(self.overall.get(name, np.nan)):
                a.axvline(self.overall[name], color="grey", ls="--", lw=0.8)
            a.set_xlabel(_LABELS.get(name, name))
            a.set_xlim(-0.02, 1.02)
            gap = self.section["gaps"].get(name)
            if gap is not None:
                mark = " *" if gap.excludes_zero else ""
                a.set_title(f"gap {gap.estimate.value:.2f}{mark}", fontsize="small")
        ax[0].set_yticks(y)
        ax[0].set_yticklabels(
            [f"{g} (n={int(f['n'].value)})" for g, f in groups.items()], fontsize="small"
        )
        self.ax_ = ax
        self.figure_ = ax[0].figure
        self.figure_.suptitle(f"By {self.column} (hollow: too small or missing; * gap excludes 0)")
        return self

    @classmethod
    def from_report(
        cls, report: Any, column: str | None = None, *, figures: Sequence[str] | None = None,
        ax: Any = None,
    ) -> SubgroupDisplay:  # fmt: skip
        """The forest plot of ``report.subgroups[column]`` (the first column when None)."""
        if not report.subgroups:
            raise ValueError("this report has no subgroups; pass subgroups= to clinical_report.")
        column = next(iter(report.subgroups)) if column is None else column
        if column not in report.subgroups:
            raise ValueError(
                f"column {column!r} is not among the report's subgroups {list(report.subgroups)!r}."
            )
        overall = {"balanced_accuracy": report.overall["balanced_accuracy"].value}
        if report.positive is not None:
            overall.update(
                {f: report.positive[f].value for f in ("sensitivity", "specificity", "roc_auc")}
            )
        else:
            overall["roc_auc"] = report.overall["macro_roc_auc"].value
        return cls(column, report.subgroups[column], overall=overall, figures=figures).plot(ax=ax)

    @classmethod
    def from_predictions(
        cls,
        y_true: Any,
        y_score: Any,
        subgroups: Any,
        *,
        column: str | None = None,
        figures: Sequence[str] | None = None,
        ax: Any = None,
        **kwargs: Any,
    ) -> SubgroupDisplay:
        """Forest plot of predicted probabilities by ``subgroups`` (one column of them).

        ``subgroups`` and the keyword arguments (``classes``, ``positive``,
        ``n_bootstraps``, ``random_state``, ...) are those of
        :func:`~skinlesion.metrics.clinical_report`; ``column`` picks the column
        (the first when None).
        """
        # the report's own computation, without the report object (which draws its
        # HTML plots with these displays, so it sits above them)
        from skinlesion.metrics._compute import report_fields

        fields = report_fields(y_true, y_score, subgroups=subgroups, referral=(), **kwargs)
        return cls.from_report(SimpleNamespace(**fields), column, figures=figures, ax=ax)

    @classmethod
    def from_estimator(
        cls,
        estimator: Any,
        X: Any,
        y: Any,
        subgroups: Any,
        *,
        column: str | None = None,
        figures: Sequence[str] | None = None,
        ax: Any = None,
        **kwargs: Any,
    ) -> SubgroupDisplay:
        """Forest plot of a fitted classifier's ``predict_proba(X)`` against ``y``.

        The parameters are those of :meth:`from_predictions`.
        """
        check_fitted(estimator, "predict_proba", "classes_")
        return cls.from_predictions(
            y,
            estimator.predict_proba(X),
            subgroups,
            classes=estimator.classes_,
            column=column,
            figures=figures,
            ax=ax,
            **kwargs,
        )
