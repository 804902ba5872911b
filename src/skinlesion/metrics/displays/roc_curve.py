"""One-vs-rest ROC curves with a bootstrap band and the operating point."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from skinlesion.metrics import _engine
from skinlesion.metrics._validation import (
    check_predictions,
    check_unit_interval,
    positive_label,
    resolve_positive,
)
from skinlesion.metrics.displays._common import check_fitted, pyplot
from skinlesion.metrics.intervals import CONFIDENCE, _check_n_bootstraps

__all__ = ["RocCurveDisplay"]

#: False positive rates at which the bootstrap band is read.
BAND_GRID = np.linspace(0.0, 1.0, 101)


def _as_list(value: Any, n: int) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value] * n


class RocCurveDisplay:
    """ROC curves (one-vs-rest), a bootstrap confidence band and the operating point.

    The constructor follows :class:`sklearn.metrics.RocCurveDisplay`: ``fpr``,
    ``tpr``, ``roc_auc`` and ``name`` are one curve's arrays and values, or lists
    with one entry per curve.

    Parameters
    ----------
    fpr, tpr : ndarray or list of ndarray
        False and true positive rates of each curve.
    roc_auc : float or list of float, default=None
        Area under each curve, shown in the legend.
    name : str or list of str, default=None
        Name of each curve (a class, or the positive class(es)).
    bands : dict, default=None
        ``{name: (fpr_grid, tpr_low, tpr_high)}``: pointwise bootstrap band.
    operating_point : tuple, default=None
        ``(name, fpr, tpr, threshold)`` to mark.
    confidence : float, default=0.95
        Level of the bands (for the legend).

    Attributes
    ----------
    curves : dict
        ``{name: (fpr, tpr, roc_auc)}``, the curves given (read-only view).
    line_ : matplotlib Line2D or list of Line2D
        The curve, or one per curve when there are several (as scikit-learn).
    fill_ : dict
        ``{name: PolyCollection}``, the drawn bands.
    marker_ : matplotlib Line2D or None
        The operating point.
    chance_level_ : matplotlib Line2D
        The diagonal.
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skinlesion.metrics import RocCurveDisplay
    >>> y = ["b", "b", "m", "m", "b", "m"]
    >>> p = [0.1, 0.4, 0.35, 0.8, 0.2, 0.9]
    >>> disp = RocCurveDisplay.from_predictions(y, p, positive="m", n_bootstraps=20,
    ...                                         random_state=0)
    >>> disp.ax_.get_xlabel()
    'False positive rate (1 - specificity)'
    >>> disp.operating_point[0], len(disp.line_.get_xdata())
    ('m', 7)
    >>> disp = RocCurveDisplay(fpr=[0.0, 0.0, 1.0], tpr=[0.0, 1.0, 1.0], roc_auc=1.0, name="m")
    >>> disp.plot().line_.get_label()
    'm (AUC 1.000)'
    """

    def __init__(
        self,
        *,
        fpr: Any,
        tpr: Any,
        roc_auc: Any = None,
        name: Any = None,
        bands: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None,
        operating_point: tuple[str, float, float, float] | None = None,
        confidence: float = CONFIDENCE,
    ) -> None:
        self.fpr = fpr
        self.tpr = tpr
        self.roc_auc = roc_auc
        self.name = name
        self.bands = dict(bands or {})
        self.operating_point = operating_point
        self.confidence = confidence

    @property
    def curves(self) -> dict[Any, tuple[np.ndarray, np.ndarray, float | None]]:
        """``{name: (fpr, tpr, roc_auc)}`` of every curve, in drawing order."""
        several = isinstance(self.fpr, (list, tuple)) and np.ndim(self.fpr[0]) == 1
        fprs = list(self.fpr) if several else [self.fpr]
        tprs = list(self.tpr) if several else [self.tpr]
        n = len(fprs)
        names, aucs = _as_list(self.name, n), _as_list(self.roc_auc, n)
        if not len(tprs) == len(names) == len(aucs) == n:
            raise ValueError(
                f"fpr, tpr, roc_auc and name must describe the same curves, got {n} fpr, "
                f"{len(tprs)} tpr, {len(aucs)} roc_auc and {len(names)} names."
            )
        return {
            nm: (np.asarray(f, dtype=np.float64), np.asarray(t, dtype=np.float64), a)
            for nm, f, t, a in zip(names, fprs, tprs, aucs, strict=True)
        }

    def plot(self, ax: Any = None) -> RocCurveDisplay:
        """Draw on ``ax`` (a new figure when None); returns ``self``."""
        if ax is None:
            _, ax = pyplot().subplots(figsize=(6.5, 6), layout="constrained")
        highlighted = self.operating_point[0] if self.operating_point else None
        lines, self.fill_ = [], {}
        for name, (fpr, tpr, auc) in self.curves.items():
            bold = highlighted is None or name == highlighted
            parts = [str(name)] if name is not None else []
            if auc is not None:
                parts.append(f"(AUC {auc:.3f})")
            (line,) = ax.plot(
                fpr,
                tpr,
                lw=2.2 if bold else 1.0,
                alpha=1.0 if bold else 0.6,
                label=" ".join(parts) or None,
            )
            lines.append(line)
            if name in self.bands:
                grid, low, high = self.bands[name]
                self.fill_[name] = ax.fill_between(
                    grid,
                    low,
                    high,
                    color=line.get_color(),
                    alpha=0.2,
                    lw=0,
                    label=f"{name}: {100 * self.confidence:g} % band",
                )
        self.marker_ = None
        if self.operating_point is not None:
            name, fpr, tpr, threshold = self.operating_point
            (self.marker_,) = ax.plot(
                [fpr],
                [tpr],
                "o",
                ms=9,
                mfc="none",
                mew=2,
                color="black",
                label=f"operating point (threshold {threshold:.3g}): "
                f"sens {tpr:.2f}, spec {1 - fpr:.2f}",
            )
        (self.chance_level_,) = ax.plot(
            [0, 1], [0, 1], ls="--", lw=0.8, color="grey", label="chance"
        )
        ax.set_xlim(-0.01, 1.01)
        ax.set_ylim(-0.01, 1.01)
        ax.set_aspect("equal")
        ax.set_xlabel("False positive rate (1 - specificity)")
        ax.set_ylabel("True positive rate (sensitivity)")
        ax.set_title("ROC curves, one-vs-rest")
        ax.legend(loc="lower right", fontsize="small")
        self.line_ = lines[0] if len(lines) == 1 else lines
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
        threshold: float | None = 0.5,
        n_bootstraps: int = 200,
        confidence: float = CONFIDENCE,
        random_state: Any = None,
        ax: Any = None,
    ) -> RocCurveDisplay:
        """ROC curves from probabilities.

        Parameters
        ----------
        y_true, y_score, classes
            As in :func:`~skinlesion.metrics.clinical_report`; in a binary task a
            1-D ``y_score`` is the positive class's probability, as in scikit-learn.
        positive : class name or collection of names, default=None
            Draw the positive class(es) against the rest in bold, with its band and
            the operating point; the other classes' curves are drawn thin. None:
            every class's curve with its band (``classes[1]`` is positive in a
            binary task).
        threshold : float or None, default=0.5
            Operating point to mark on the positive curve (None: no marker).
        n_bootstraps : int, default=200
            Resamples (stratified by class) for the bands; 0 draws no band.
        confidence : float, default=0.95
            Level of the pointwise band.
        random_state : int, RandomState instance, Generator or None, default=None
            Seeds the bootstrap, as in :func:`~skinlesion.metrics.clinical_report`
            (see :ref:`random-state`).
        ax : matplotlib Axes, default=None
            Where to draw; None makes a new figure.

        Returns
        -------
        RocCurveDisplay
        """
        codes, proba, classes = check_predictions(y_true, y_score, classes, positive)
        n_bootstraps = _check_n_bootstraps(n_bootstraps)
        confidence = check_unit_interval(confidence, "confidence")
        mask = resolve_positive(positive, classes)
        names = [str(c) for c in classes.tolist()]
        targets: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        if mask is not None:
            targets[positive_label(mask, classes)] = (mask[codes], proba[:, mask].sum(axis=1))
        if mask is None or classes.size > 2:
            for i, name in enumerate(names):
                if mask is not None and mask.sum() == 1 and mask[i]:
                    continue
                targets.setdefault(name, (codes == i, proba[:, i]))
        W = _engine.unit_weights(codes.size)
        curves = {}
        for name, (y, s) in targets.items():
            curve = _engine.Curve(W, y, s)
            if not curve.undefined()[0]:
                curves[name] = (curve.fpr[0], curve.tpr[0], float(curve.auc()[0]))
        banded = [next(iter(targets))] if mask is not None else list(curves)
        banded = [name for name in banded if name in curves]
        bands = {}
        if banded and n_bootstraps:
            resamples = np.vstack(
                list(
                    _engine.resample_weights(
                        codes.size, n_bootstraps, strata=codes, random_state=random_state
                    )
                )
            )
            alpha = (1.0 - confidence) / 2.0
            for name in banded:
                tprs = _engine.Curve(resamples, *targets[name]).tpr_on(BAND_GRID)
                tprs = tprs[~np.isnan(tprs).any(axis=1)]
                if tprs.size:
                    low, high = np.quantile(tprs, [alpha, 1.0 - alpha], axis=0)
                    bands[name] = (BAND_GRID, low, high)
        op = None
        first = next(iter(targets))
        if mask is not None and threshold is not None and first in curves:
            threshold = float(threshold)
            y, s = targets[first]
            r = _engine.rates(_engine.counts(W, y, s >= threshold))
            op = (first, float(1.0 - r["specificity"][0]), float(r["sensitivity"][0]), threshold)
        return cls(
            fpr=[c[0] for c in curves.values()],
            tpr=[c[1] for c in curves.values()],
            roc_auc=[c[2] for c in curves.values()],
            name=list(curves),
            bands=bands,
            operating_point=op,
            confidence=confidence,
        ).plot(ax=ax)

    @classmethod
    def from_estimator(
        cls,
        estimator: Any,
        X: Any,
        y: Any,
        *,
        positive: Any = None,
        threshold: float | None = 0.5,
        n_bootstraps: int = 200,
        confidence: float = CONFIDENCE,
        random_state: Any = None,
        ax: Any = None,
    ) -> RocCurveDisplay:
        """ROC curves of a fitted classifier's ``predict_proba(X)`` against labels ``y``.

        The parameters are those of :meth:`from_predictions`.
        """
        check_fitted(estimator, "predict_proba", "classes_")
        return cls.from_predictions(
            y,
            estimator.predict_proba(X),
            classes=estimator.classes_,
            positive=positive,
            threshold=threshold,
            n_bootstraps=n_bootstraps,
            confidence=confidence,
            random_state=random_state,
            ax=ax,
        )
