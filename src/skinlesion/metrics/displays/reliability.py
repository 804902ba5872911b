"""The reliability diagram: observed frequency against predicted probability."""

from __future__ import annotations

from typing import Any

import numpy as np

from skinlesion.metrics.calibration import DEFAULT_N_BINS, ReliabilityCurve, _reliability
from skinlesion.metrics.displays._common import axes_array, check_fitted, pyplot

__all__ = ["ReliabilityDisplay"]


class ReliabilityDisplay:
    """Reliability diagram: observed frequency against predicted probability, per bin.

    The upper panel plots each bin's mean confidence against how often those
    predictions were right (the diagonal is perfect calibration); the lower panel
    how many images fell in each bin.

    Parameters
    ----------
    curve : ReliabilityCurve
        The bins, from :func:`~skinlesion.metrics.reliability_curve`.
    ece : float
        Expected calibration error of these bins, for the legend.

    Attributes
    ----------
    line_ : matplotlib Line2D
        The reliability curve.
    hist_ : matplotlib BarContainer
        The count of images per bin.
    ax_ : ndarray of two matplotlib Axes
        The curve's panel, then the histogram's.
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skinlesion.metrics import ReliabilityDisplay
    >>> disp = ReliabilityDisplay.from_predictions(
    ...     ["a", "a", "b", "b"], [[0.9, 0.1], [0.9, 0.1], [0.1, 0.9], [0.9, 0.1]])
    >>> round(disp.ece, 3), disp.ax_[0].get_ylabel()
    (0.15, 'Observed frequency')
    """

    def __init__(self, curve: ReliabilityCurve, *, ece: float) -> None:
        self.curve = curve
        self.ece = ece

    def plot(self, *, ax: Any = None) -> ReliabilityDisplay:
        """Draw on a pair of Axes, curve above histogram (a new figure when None)."""
        if ax is None:
            _, ax = pyplot().subplots(
                2,
                1,
                figsize=(6, 6.5),
                sharex=True,
                layout="constrained",
                gridspec_kw={"height_ratios": [3, 1]},
            )
        ax = axes_array(ax, 2, "one for the curve, one for the histogram")
        c = self.curve
        ax[0].plot([0, 1], [0, 1], ls="--", color="grey", lw=0.8, label="perfectly calibrated")
        n_bins = len(c.bin_edges) - 1
        (self.line_,) = ax[0].plot(
            c.mean_predicted,
            c.fraction_positive,
            "o-",
            label=f"{c.label} (ECE {self.ece:.3f}, {n_bins} bins)",
        )
        ax[0].set_ylabel("Observed frequency")
        ax[0].set_ylim(-0.01, 1.01)
        ax[0].set_title("Reliability diagram")
        ax[0].legend(loc="upper left", fontsize="small")
        widths = np.diff(c.bin_edges)
        ids = np.clip(np.searchsorted(c.bin_edges[1:-1], c.mean_predicted), 0, n_bins - 1)
        self.hist_ = ax[1].bar(
            c.bin_edges[ids], c.count, width=widths[ids], align="edge", edgecolor="white"
        )
        ax[1].set_xlabel(
            "Predicted probability" if c.label != "top label" else "Confidence (top probability)"
        )
        ax[1].set_ylabel("Images")
        ax[1].set_xlim(0, 1)
        self.ax_ = ax
        self.figure_ = ax[0].figure
        return self

    @classmethod
    def from_predictions(
        cls,
        y_true: Any,
        y_score: Any,
        *,
        classes: Any = None,
        positive: Any = None,
        n_bins: int = DEFAULT_N_BINS,
        ax: Any = None,
    ) -> ReliabilityDisplay:
        """Top-label diagram, or with ``positive`` the positive class's probability.

        Parameters
        ----------
        y_true, y_score, classes, positive, n_bins
            As in :func:`~skinlesion.metrics.reliability_curve`.
        ax : pair of matplotlib Axes, default=None
            Where to draw the curve and the histogram; None makes a new figure.

        Returns
        -------
        ReliabilityDisplay
            ``ece`` is the expected calibration error of the curve drawn (top label,
            or the positive class's).
        """
        curve, ece = _reliability(y_true, y_score, classes, positive, n_bins)
        return cls(curve, ece=ece).plot(ax=ax)

    @classmethod
    def from_estimator(
        cls,
        estimator: Any,
        X: Any,
        y: Any,
        *,
        positive: Any = None,
        n_bins: int = DEFAULT_N_BINS,
        ax: Any = None,
    ) -> ReliabilityDisplay:
        """Reliability diagram of a fitted classifier's ``predict_proba(X)`` against ``y``.

        The parameters are those of :meth:`from_predictions`.
        """
        check_fitted(estimator, "predict_proba", "classes_")
        return cls.from_predictions(
            y,
            estimator.predict_proba(X),
            classes=estimator.classes_,
            positive=positive,
            n_bins=n_bins,
            ax=ax,
        )
