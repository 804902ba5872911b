"""The referral curve: figures on the cases kept as the least-confident are referred."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from skinlesion.metrics.displays._common import check_fitted, pyplot
from skinlesion.metrics.referral import REFERRAL_FRACTIONS, ReferralCurve, referral_curve

__all__ = ["ReferralCurveDisplay"]


class ReferralCurveDisplay:
    """Accuracy, balanced accuracy and the positive class's sensitivity and specificity
    on the cases kept, against the share of least-confident cases referred.

    Parameters
    ----------
    curve : ReferralCurve
        From :func:`~skinlesion.metrics.referral_curve`.
    marks : sequence of float, default=(0.1, 0.2)
        Shares referred to mark with a vertical line (the report's).
    max_referred : float, default=0.5
        The right end of the x axis.

    Attributes
    ----------
    lines_ : dict
        ``{figure: Line2D}``, one per figure drawn.
    marks_ : list of Line2D
        The vertical lines at ``marks``.
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skinlesion.metrics import ReferralCurveDisplay
    >>> rng = np.random.default_rng(0)
    >>> y = rng.choice(["melanoma", "nevus"], size=100)
    >>> p = np.clip(np.where(y == "melanoma", 0.7, 0.3) + rng.normal(0, 0.2, 100), 0, 1)
    >>> disp = ReferralCurveDisplay.from_predictions(y, p, positive="melanoma")
    >>> sorted(disp.lines_)
    ['accuracy', 'balanced_accuracy', 'sensitivity', 'specificity']
    """

    def __init__(
        self,
        curve: ReferralCurve,
        *,
        marks: Sequence[float] = REFERRAL_FRACTIONS,
        max_referred: float = 0.5,
    ) -> None:
        self.curve = curve
        self.marks = marks
        self.max_referred = max_referred

    def plot(self, *, ax: Any = None) -> ReferralCurveDisplay:
        """Draw on ``ax`` (a new figure when None)."""
        if ax is None:
            _, ax = pyplot().subplots(figsize=(6.4, 4.4), layout="constrained")
        c = self.curve
        shown = c.referred <= self.max_referred + 1e-12
        x = 100 * c.referred[shown]
        figures = {"accuracy": "accuracy", "balanced_accuracy": "balanced accuracy"}
        if c.sensitivity is not None:
            figures["sensitivity"] = f"{c.positive_label} sensitivity"
            figures["specificity"] = f"{c.positive_label} specificity"
        self.lines_ = {
            name: ax.plot(x, getattr(c, name)[shown], label=text)[0]
            for name, text in figures.items()
        }
        self.marks_ = [ax.axvline(100 * m, color="grey", ls=":", lw=0.8) for m in self.marks]
        ax.set_xlabel("Least-confident cases referred (%)")
        ax.set_ylabel("On the cases kept")
        ax.set_xlim(0, 100 * self.max_referred)
        values = np.concatenate([line.get_ydata() for line in self.lines_.values()])
        values = values[np.isfinite(values)]
        if values.size:
            ax.set_ylim(max(0.0, values.min() - 0.05), 1.01)
        ax.set_title("Referral curve")
        ax.legend(loc="lower right", fontsize="small")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_predictions(
        cls,
        y_true: Any,
        y_score: Any,
        *,
        classes: Any = None,
        positive: Any = None,
        threshold: float = 0.5,
        confidence: Any = None,
        marks: Sequence[float] = REFERRAL_FRACTIONS,
        max_referred: float = 0.5,
        ax: Any = None,
    ) -> ReferralCurveDisplay:
        """Referral curve of predicted probabilities.

        ``y_true``, ``y_score``, ``classes``, ``positive``, ``threshold`` and
        ``confidence`` are those of :func:`~skinlesion.metrics.referral_curve`;
        ``marks`` and ``max_referred`` those of the constructor; ``ax`` is where
        to draw (None: a new figure).
        """
        curve = referral_curve(
            y_true,
            y_score,
            classes=classes,
            positive=positive,
            threshold=threshold,
            confidence=confidence,
        )
        return cls(curve, marks=marks, max_referred=max_referred).plot(ax=ax)

    @classmethod
    def from_estimator(
        cls,
        estimator: Any,
        X: Any,
        y: Any,
        *,
        positive: Any = None,
        threshold: float = 0.5,
        marks: Sequence[float] = REFERRAL_FRACTIONS,
        max_referred: float = 0.5,
        ax: Any = None,
    ) -> ReferralCurveDisplay:
        """Referral curve of a fitted classifier's ``predict_proba(X)`` against ``y``.

        The parameters are those of :meth:`from_predictions`.
        """
        check_fitted(estimator, "predict_proba", "classes_")
        return cls.from_predictions(
            y,
            estimator.predict_proba(X),
            classes=estimator.classes_,
            positive=positive,
            threshold=threshold,
            marks=marks,
            max_referred=max_referred,
            ax=ax,
        )
