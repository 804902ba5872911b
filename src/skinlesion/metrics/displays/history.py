"""Loss and accuracy per epoch, training and validation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from skinlesion.metrics.displays._common import axes_array, pyplot

__all__ = ["TrainingHistoryDisplay"]


def _check_history(history: Any) -> dict[str, list[float]]:
    if hasattr(history, "history") and isinstance(history.history, Mapping):
        history = history.history  # a keras History object
    if not isinstance(history, Mapping) or not history:
        raise ValueError(
            "history must be a non-empty dict of per-epoch lists, like clf.history_ or "
            f"keras History.history, got {type(history).__name__}."
        )
    out = {}
    lengths = set()
    for key, values in history.items():
        arr = np.asarray(values, dtype=np.float64).ravel()
        lengths.add(arr.size)
        out[str(key)] = arr.tolist()
    if len(lengths) > 1:
        raise ValueError(
            f"history lists have different lengths {sorted(lengths)}; each must hold one "
            "value per epoch."
        )
    return out


class TrainingHistoryDisplay:
    """Loss and accuracy per epoch, training and validation, from ``history_``.

    One panel per metric (``loss``, ``accuracy``, and any other keys); the
    validation curve (``val_<metric>``) is drawn beside the training one, and the
    best validation epoch is marked.

    Parameters
    ----------
    history : dict or keras History
        Per-epoch lists, as ``clf.history_`` or ``keras.callbacks.History``.

    Attributes
    ----------
    lines_ : dict
        ``{key: Line2D}``, one line per history key drawn (``loss``, ``val_loss``, ...).
    ax_ : ndarray of matplotlib Axes
        One panel per metric.
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skinlesion.metrics import TrainingHistoryDisplay
    >>> h = {"loss": [1.0, 0.7, 0.5], "accuracy": [0.5, 0.6, 0.7],
    ...      "val_loss": [1.1, 0.8, 0.9], "val_accuracy": [0.4, 0.6, 0.55]}
    >>> disp = TrainingHistoryDisplay.from_history(h)
    >>> [a.get_ylabel() for a in disp.ax_]
    ['loss', 'accuracy']
    """

    def __init__(self, history: Mapping[str, Any]) -> None:
        self.history = _check_history(history)

    def plot(self, *, ax: Any = None) -> TrainingHistoryDisplay:
        """Draw one panel per metric (``ax``: that many Axes, or None)."""
        metrics = [k for k in self.history if not k.startswith("val_")]
        metrics += [k[4:] for k in self.history if k.startswith("val_") and k[4:] not in metrics]
        order = {"loss": 0, "accuracy": 1}
        metrics.sort(key=lambda m: order.get(m, 2))
        if ax is None:
            _, ax = pyplot().subplots(
                1,
                len(metrics),
                figsize=(5 * len(metrics), 3.8),
                layout="constrained",
                squeeze=False,
            )
        ax = axes_array(ax, len(metrics), f"one per metric {metrics}")
        self.lines_ = {}
        for panel, m in zip(ax, metrics, strict=True):
            for key, style in ((m, "-"), (f"val_{m}", "--")):
                if key in self.history:
                    values = self.history[key]
                    epochs = np.arange(1, len(values) + 1)
                    label = "validation" if key.startswith("val_") else "training"
                    (self.lines_[key],) = panel.plot(
                        epochs, values, style, marker="o", ms=3, label=label
                    )
            val = self.history.get(f"val_{m}")
            if val:
                best = int(np.nanargmin(val) if "loss" in m else np.nanargmax(val))
                panel.axvline(
                    best + 1,
                    color="grey",
                    lw=0.8,
                    ls=":",
                    label=f"best validation epoch ({best + 1})",
                )
            panel.set_xlabel("epoch")
            panel.set_ylabel(m)
            panel.legend(fontsize="small")
        self.ax_ = ax
        self.figure_ = ax[0].figure
        return self

    @classmethod
    def from_history(cls, history: Mapping[str, Any], *, ax: Any = None) -> TrainingHistoryDisplay:
        """From a dict of per-epoch lists (``clf.history_`` or keras ``History``)."""
        return cls(history).plot(ax=ax)

    @classmethod
    def from_estimator(cls, estimator: Any, *, ax: Any = None) -> TrainingHistoryDisplay:
        """From a fitted estimator's ``history_`` (it needs no images: no ``X``)."""
        history = getattr(estimator, "history_", None)
        if history is None:
            raise TypeError(
                f"{type(estimator).__name__} has no history_; fit a LesionClassifier first."
            )
        return cls(history).plot(ax=ax)
