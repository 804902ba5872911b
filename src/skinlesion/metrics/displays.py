"""Plots of a classifier's evaluation, as scikit-learn style ``Display`` objects.

Each display computes what it draws in ``from_predictions`` (or
``from_estimator``, which calls ``predict_proba``), keeps it in attributes, and
draws in :meth:`plot`, which sets ``figure_`` and ``ax_``. matplotlib is imported
only when drawing.

* :class:`ConfusionMatrixDisplay`: counts and row-normalised, side by side.
* :class:`RocCurveDisplay`: one-vs-rest ROC curves, bootstrap band, operating point.
* :class:`ReliabilityDisplay`: reliability diagram with the confidence histogram.
* :class:`TrainingHistoryDisplay`: loss and accuracy per epoch from ``history_``.
* :class:`SampleImagesDisplay`: a grid of sample images per class.
* :class:`WorstMistakesDisplay`: the most confident wrong predictions.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import Any

import numpy as np

from skinlesion.metrics import _core
from skinlesion.metrics._validation import (
    _as_label_array,
    check_predictions,
    positive_label,
    resolve_positive,
)
from skinlesion.metrics.calibration import DEFAULT_N_BINS, reliability_curve
from skinlesion.metrics.intervals import _check_n_bootstraps, bootstrap_indices

__all__ = [
    "ConfusionMatrixDisplay",
    "ReliabilityDisplay",
    "RocCurveDisplay",
    "SampleImagesDisplay",
    "TrainingHistoryDisplay",
    "WorstMistakesDisplay",
]


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - matplotlib is a dependency
        raise ImportError("plotting needs matplotlib: pip install matplotlib") from None
    return plt


def _wrap(name: Any, width: int) -> str:
    return "\n".join(textwrap.wrap(str(name), width)) or str(name)


def _check_fitted(estimator: Any) -> None:
    for attr in ("predict_proba", "classes_"):
        if not hasattr(estimator, attr):
            raise TypeError(
                f"{type(estimator).__name__} has no {attr}; from_estimator needs a fitted "
                "classifier with predict_proba and classes_ (call fit first)."
            )


# --------------------------------------------------------------------------------------
class ConfusionMatrixDisplay:
    """Confusion matrix as counts and row-normalised (each row: where that class went).

    Parameters
    ----------
    confusion_matrix : ndarray of shape (n_classes, n_classes)
        Rows are true classes, columns predicted classes.
    display_labels : sequence of str
        Class names; long names are wrapped so they stay readable.

    Attributes
    ----------
    figure_ : matplotlib Figure
    ax_ : ndarray of matplotlib Axes
        The counts panel, then the row-normalised panel.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skinlesion.metrics import ConfusionMatrixDisplay
    >>> disp = ConfusionMatrixDisplay.from_predictions(
    ...     ["mel", "nv", "nv"], [[0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    >>> disp.confusion_matrix.tolist()
    [[1, 0], [1, 1]]
    >>> len(disp.ax_)
    2
    """

    def __init__(self, confusion_matrix: np.ndarray, *, display_labels: Any) -> None:
        self.confusion_matrix = np.asarray(confusion_matrix)
        self.display_labels = [str(c) for c in display_labels]

    def plot(
        self,
        *,
        ax: Any = None,
        cmap: str = "Blues",
        wrap: int = 16,
        xticks_rotation: float = 45.0,
    ) -> ConfusionMatrixDisplay:
        """Draw both panels (``ax``: a pair of Axes, or None for a new figure)."""
        from sklearn.metrics import ConfusionMatrixDisplay as SkDisplay

        plt = _pyplot()
        k = len(self.display_labels)
        if ax is None:
            side = max(4.0, 0.6 * k + 2.5)
            _, ax = plt.subplots(1, 2, figsize=(2 * side + 1, side), layout="constrained")
        ax = np.asarray(ax).ravel()
        if ax.size != 2:
            raise ValueError("ax must be two Axes: one for counts, one for row-normalised.")
        labels = [_wrap(c, wrap) for c in self.display_labels]
        cm = self.confusion_matrix
        rows = cm.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            normalised = np.where(rows > 0, cm / np.where(rows > 0, rows, 1), 0.0)
        font = max(6, 11 - k // 2)
        for panel, (matrix, fmt, title) in zip(
            ax,
            ((cm, "d", "Counts"), (normalised, ".2f", "Row-normalised (recall on the diagonal)")),
            strict=True,
        ):
            SkDisplay(matrix, display_labels=labels).plot(
                ax=panel,
                cmap=cmap,
                colorbar=False,
                values_format=fmt,
                xticks_rotation=xticks_rotation,
                text_kw={"fontsize": font},
            )
            panel.set_title(title)
            panel.tick_params(labelsize=font)
        self.ax_ = ax
        self.figure_ = ax[0].figure
        return self

    @classmethod
    def from_predictions(
        cls, y_true: Any, y_score: Any, *, classes: Any = None, **plot_kwargs: Any
    ) -> ConfusionMatrixDisplay:
        """Confusion matrix of the most probable class against the true class."""
        codes, proba, classes = check_predictions(y_true, y_score, classes)
        cm = _core.confusion(codes, proba.argmax(axis=1), classes.size)
        return cls(cm, display_labels=classes.tolist()).plot(**plot_kwargs)

    @classmethod
    def from_estimator(
        cls, estimator: Any, X: Any, y: Any, **plot_kwargs: Any
    ) -> ConfusionMatrixDisplay:
        """Confusion matrix of a fitted classifier on images ``X`` with labels ``y``."""
        _check_fitted(estimator)
        return cls.from_predictions(
            y, estimator.predict_proba(X), classes=estimator.classes_, **plot_kwargs
        )


# --------------------------------------------------------------------------------------
class RocCurveDisplay:
    """One-vs-rest ROC curves, a bootstrap confidence band and the operating point.

    Parameters
    ----------
    curves : dict
        ``{name: (fpr, tpr, auc)}``, one curve per class (or the positive class).
    bands : dict, default=None
        ``{name: (fpr_grid, tpr_low, tpr_high)}``: pointwise bootstrap band.
    operating_point : tuple, default=None
        ``(name, fpr, tpr, threshold)`` to mark.
    confidence : float, default=0.95
        Level of the bands (for the legend).

    Attributes
    ----------
    figure_, ax_ : matplotlib Figure and Axes

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
    """

    def __init__(
        self,
        curves: Mapping[str, tuple[np.ndarray, np.ndarray, float]],
        *,
        bands: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None,
        operating_point: tuple[str, float, float, float] | None = None,
        confidence: float = 0.95,
    ) -> None:
        self.curves = dict(curves)
        self.bands = dict(bands or {})
        self.operating_point = operating_point
        self.confidence = confidence

    def plot(self, *, ax: Any = None) -> RocCurveDisplay:
        """Draw on ``ax`` (a new figure when None)."""
        plt = _pyplot()
        if ax is None:
            _, ax = plt.subplots(figsize=(6.5, 6), layout="constrained")
        highlighted = self.operating_point[0] if self.operating_point else None
        for name, (fpr, tpr, auc) in self.curves.items():
            bold = highlighted is None or name == highlighted
            (line,) = ax.plot(
                fpr,
                tpr,
                lw=2.2 if bold else 1.0,
                alpha=1.0 if bold else 0.6,
                label=f"{name} (AUC {auc:.3f})",
            )
            if name in self.bands:
                grid, low, high = self.bands[name]
                ax.fill_between(
                    grid,
                    low,
                    high,
                    color=line.get_color(),
                    alpha=0.2,
                    lw=0,
                    label=f"{name}: {100 * self.confidence:g} % band",
                )
        if self.operating_point is not None:
            name, fpr, tpr, threshold = self.operating_point
            ax.plot(
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
        ax.plot([0, 1], [0, 1], ls="--", lw=0.8, color="grey", label="chance")
        ax.set_xlim(-0.01, 1.01)
        ax.set_ylim(-0.01, 1.01)
        ax.set_aspect("equal")
        ax.set_xlabel("False positive rate (1 - specificity)")
        ax.set_ylabel("True positive rate (sensitivity)")
        ax.set_title("ROC curves, one-vs-rest")
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
        threshold: float | None = 0.5,
        n_bootstraps: int = 200,
        confidence: float = 0.95,
        random_state: Any = None,
        **plot_kwargs: Any,
    ) -> RocCurveDisplay:
        """ROC curves from probabilities.

        Parameters
        ----------
        y_true, y_score, classes
            As in :func:`~skinlesion.metrics.clinical_report`.
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
        random_state : int, RandomState, Generator or None
            Seed of the bootstrap.
        """
        codes, proba, classes = check_predictions(y_true, y_score, classes, positive)
        n_bootstraps = _check_n_bootstraps(n_bootstraps)
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
        curves = {}
        for name, (y, s) in targets.items():
            fpr, tpr, _, auc, _ = _core.curve_figures(y, s)
            if not np.isnan(auc):
                curves[name] = (fpr, tpr, auc)
        band_names = [next(iter(targets))] if mask is not None else list(curves)
        grid = np.linspace(0.0, 1.0, 101)
        samples: dict[str, list[np.ndarray]] = {name: [] for name in band_names if name in curves}
        for idx in bootstrap_indices(
            codes.size, n_bootstraps, strata=codes, random_state=random_state
        ):
            for name in samples:
                y, s = targets[name]
                fpr, tpr, _ = _core.roc(y[idx], s[idx])
                samples[name].append(np.interp(grid, fpr, tpr))
        alpha = (1.0 - confidence) / 2.0
        bands = {
            name: (grid, *np.quantile(np.array(rows), [alpha, 1.0 - alpha], axis=0))
            for name, rows in samples.items()
            if rows
        }
        op = None
        if mask is not None and threshold is not None:
            name = next(iter(targets))
            y, s = targets[name]
            c = _core.binary_counts(y, s >= threshold)
            if name in curves:
                op = (
                    name,
                    c["fp"] / max(c["fp"] + c["tn"], 1),
                    c["tp"] / max(c["tp"] + c["fn"], 1),
                    float(threshold),
                )
        return cls(curves, bands=bands, operating_point=op, confidence=confidence).plot(
            **plot_kwargs
        )

    @classmethod
    def from_estimator(cls, estimator: Any, X: Any, y: Any, **kwargs: Any) -> RocCurveDisplay:
        """ROC curves of a fitted classifier on images ``X`` with labels ``y``."""
        _check_fitted(estimator)
        return cls.from_predictions(
            y, estimator.predict_proba(X), classes=estimator.classes_, **kwargs
        )


# --------------------------------------------------------------------------------------
class ReliabilityDisplay:
    """Reliability diagram: observed frequency against predicted probability, per bin.

    The upper panel plots each bin's mean confidence against how often those
    predictions were right (the diagonal is perfect calibration); the lower panel
    how many images fell in each bin.

    Attributes
    ----------
    figure_ : matplotlib Figure
    ax_ : ndarray of two Axes (curve, histogram)

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

    def __init__(self, curve: Any, *, ece: float) -> None:
        self.curve = curve
        self.ece = ece

    def plot(self, *, ax: Any = None) -> ReliabilityDisplay:
        """Draw on a pair of Axes (a new figure when None)."""
        plt = _pyplot()
        if ax is None:
            _, ax = plt.subplots(
                2,
                1,
                figsize=(6, 6.5),
                sharex=True,
                layout="constrained",
                gridspec_kw={"height_ratios": [3, 1]},
            )
        ax = np.asarray(ax).ravel()
        c = self.curve
        ax[0].plot([0, 1], [0, 1], ls="--", color="grey", lw=0.8, label="perfectly calibrated")
        n_bins = len(c.bin_edges) - 1
        ax[0].plot(
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
        ax[1].bar(c.bin_edges[ids], c.count, width=widths[ids], align="edge", edgecolor="white")
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
        **plot_kwargs: Any,
    ) -> ReliabilityDisplay:
        """Top-label diagram, or with ``positive`` the positive class's probability."""
        curve = reliability_curve(
            y_true, y_score, classes=classes, positive=positive, n_bins=n_bins
        )
        count = curve.count
        ece = float(
            np.sum(count / count.sum() * np.abs(curve.fraction_positive - curve.mean_predicted))
        )
        return cls(curve, ece=ece).plot(**plot_kwargs)

    @classmethod
    def from_estimator(cls, estimator: Any, X: Any, y: Any, **kwargs: Any) -> ReliabilityDisplay:
        """Reliability diagram of a fitted classifier on images ``X`` with labels ``y``."""
        _check_fitted(estimator)
        return cls.from_predictions(
            y, estimator.predict_proba(X), classes=estimator.classes_, **kwargs
        )


# --------------------------------------------------------------------------------------
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

    Attributes
    ----------
    figure_ : matplotlib Figure
    ax_ : ndarray of Axes, one per metric

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
        plt = _pyplot()
        metrics = [k for k in self.history if not k.startswith("val_")]
        metrics += [k[4:] for k in self.history if k.startswith("val_") and k[4:] not in metrics]
        order = {"loss": 0, "accuracy": 1}
        metrics.sort(key=lambda m: order.get(m, 2))
        if ax is None:
            _, ax = plt.subplots(
                1,
                len(metrics),
                figsize=(5 * len(metrics), 3.8),
                layout="constrained",
                squeeze=False,
            )
        ax = np.asarray(ax).ravel()
        if ax.size != len(metrics):
            raise ValueError(f"ax must hold {len(metrics)} Axes, one per metric {metrics}.")
        for panel, m in zip(ax, metrics, strict=True):
            for key, style in ((m, "-"), (f"val_{m}", "--")):
                if key in self.history:
                    values = self.history[key]
                    epochs = np.arange(1, len(values) + 1)
                    label = "validation" if key.startswith("val_") else "training"
                    panel.plot(epochs, values, style, marker="o", ms=3, label=label)
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
    def from_history(cls, history: Mapping[str, Any], **plot_kwargs: Any) -> TrainingHistoryDisplay:
        """From a dict of per-epoch lists (``clf.history_`` or keras ``History``)."""
        return cls(history).plot(**plot_kwargs)

    @classmethod
    def from_estimator(cls, estimator: Any, **plot_kwargs: Any) -> TrainingHistoryDisplay:
        """From a fitted estimator's ``history_``."""
        history = getattr(estimator, "history_", None)
        if history is None:
            raise TypeError(
                f"{type(estimator).__name__} has no history_; fit a LesionClassifier first."
            )
        return cls(history).plot(**plot_kwargs)


# --------------------------------------------------------------------------------------
def _pick_images(X: Any, index: np.ndarray, image_size: Any) -> np.ndarray:
    """The images at ``index`` as uint8 RGB; a path array is read (only those files)."""
    from skinlesion.images import check_images, read_images

    images = check_images(X)
    if images.dtype == object:
        return read_images(images[index].tolist(), size=image_size)
    return images[index]


def _show(ax: Any, image: np.ndarray | None, title: str, fontsize: float) -> None:
    if image is not None:
        ax.imshow(image)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(image is not None)
    ax.set_title(title, fontsize=fontsize)


class SampleImagesDisplay:
    """A grid of sample images, one row per class.

    Attributes
    ----------
    images : ndarray of shape (n_shown, h, w, 3)
    labels : list
        Class of each shown image.
    figure_ : matplotlib Figure
    ax_ : ndarray of Axes of shape (n_classes, n_per_class)

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skinlesion.metrics import SampleImagesDisplay
    >>> X = np.zeros((6, 8, 8, 3), dtype=np.uint8)
    >>> disp = SampleImagesDisplay.from_images(X, ["a", "b"] * 3, n_per_class=2,
    ...                                        random_state=0)
    >>> disp.ax_.shape
    (2, 2)
    """

    def __init__(self, images: np.ndarray, labels: Any, *, classes: Any, n_per_class: int) -> None:
        self.images = images
        self.labels = list(labels)
        self.classes = list(classes)
        self.n_per_class = n_per_class

    def plot(self, *, figsize: tuple[float, float] | None = None) -> SampleImagesDisplay:
        """Draw the grid in a new figure."""
        plt = _pyplot()
        rows, cols = len(self.classes), self.n_per_class
        fig, ax = plt.subplots(
            rows,
            cols,
            squeeze=False,
            layout="constrained",
            figsize=figsize or (1.6 * cols + 1.5, 1.7 * rows),
        )
        by_class: dict[Any, list[np.ndarray]] = {c: [] for c in self.classes}
        for image, label in zip(self.images, self.labels, strict=True):
            by_class[label].append(image)
        for r, c in enumerate(self.classes):
            for j in range(cols):
                image = by_class[c][j] if j < len(by_class[c]) else None
                _show(ax[r, j], image, "", 8)
            ax[r, 0].set_ylabel(_wrap(c, 14), rotation=0, ha="right", va="center", fontsize=9)
        fig.suptitle("Sample images per class")
        self.ax_ = ax
        self.figure_ = fig
        return self

    @classmethod
    def from_images(
        cls,
        X: Any,
        y: Any,
        *,
        n_per_class: int = 5,
        classes: Any = None,
        image_size: Any = 96,
        random_state: Any = None,
        **plot_kwargs: Any,
    ) -> SampleImagesDisplay:
        """Pick ``n_per_class`` images of each class at random and draw them.

        ``X`` is a uint8 ``(n, h, w, 3)`` array (or any array
        :func:`skinlesion.images.check_images` accepts) or a list of file paths;
        only the chosen files are read, resized to ``image_size``.
        """
        y = _as_label_array(y, "y")
        n = len(X)
        if n != y.size:
            raise ValueError(f"X holds {n} images but y has {y.size} labels.")
        if (
            isinstance(n_per_class, bool)
            or not isinstance(n_per_class, (int, np.integer))
            or (n_per_class < 1)
        ):
            raise ValueError(f"n_per_class must be a positive int, got {n_per_class!r}.")
        classes = np.unique(y).tolist() if classes is None else list(classes)
        rng = (
            np.random.default_rng(random_state)
            if not isinstance(random_state, np.random.RandomState)
            else np.random.default_rng(random_state.randint(2**31))
        )
        chosen = []
        for c in classes:
            idx = np.flatnonzero(y == c)
            chosen.extend(rng.permutation(idx)[:n_per_class].tolist())
        index = np.array(chosen, dtype=np.intp)
        images = _pick_images(X, index, image_size)
        return cls(images, y[index].tolist(), classes=classes, n_per_class=int(n_per_class)).plot(
            **plot_kwargs
        )


class WorstMistakesDisplay:
    """The most confident wrong predictions, with true and predicted labels.

    Attributes
    ----------
    indices : ndarray
        Positions in ``X`` of the images shown, most confident mistake first.
    true_labels, predicted_labels : list
    confidences : ndarray
        Predicted probability of the (wrong) predicted class.
    figure_ : matplotlib Figure
    ax_ : ndarray of Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skinlesion.metrics import WorstMistakesDisplay
    >>> X = np.zeros((3, 8, 8, 3), dtype=np.uint8)
    >>> disp = WorstMistakesDisplay.from_predictions(
    ...     X, ["a", "b", "b"], [[0.9, 0.1], [0.6, 0.4], [0.95, 0.05]])
    >>> disp.indices.tolist(), disp.predicted_labels
    ([2, 1], ['a', 'a'])
    """

    def __init__(
        self,
        images: np.ndarray,
        *,
        indices: np.ndarray,
        true_labels: list,
        predicted_labels: list,
        confidences: np.ndarray,
    ) -> None:
        self.images = images
        self.indices = indices
        self.true_labels = true_labels
        self.predicted_labels = predicted_labels
        self.confidences = confidences

    def plot(self, *, n_cols: int = 6, figsize: tuple[float, float] | None = None) -> Any:
        """Draw the gallery in a new figure."""
        plt = _pyplot()
        n = max(len(self.indices), 1)
        cols = min(n_cols, n)
        rows = int(np.ceil(n / cols))
        fig, ax = plt.subplots(
            rows,
            cols,
            squeeze=False,
            layout="constrained",
            figsize=figsize or (2.3 * cols, 2.6 * rows),
        )
        flat = ax.ravel()
        for j, panel in enumerate(flat):
            if j < len(self.indices):
                title = (
                    f"true: {_wrap(self.true_labels[j], 18)}\n"
                    f"pred: {_wrap(self.predicted_labels[j], 18)} "
                    f"({self.confidences[j]:.2f})"
                )
                _show(panel, self.images[j], title, 7.5)
            else:
                panel.axis("off")
        if not len(self.indices):
            flat[0].text(0.5, 0.5, "no mistakes", ha="center", va="center")
        fig.suptitle("Most confident mistakes")
        self.ax_ = ax
        self.figure_ = fig
        return self

    @classmethod
    def from_predictions(
        cls,
        X: Any,
        y_true: Any,
        y_score: Any,
        *,
        classes: Any = None,
        n_images: int = 12,
        image_size: Any = 96,
        **plot_kwargs: Any,
    ) -> WorstMistakesDisplay:
        """Show the ``n_images`` wrong predictions with the highest predicted probability.

        ``X`` is an image array or a list of paths (only the shown files are read).
        """
        codes, proba, classes = check_predictions(y_true, y_score, classes)
        if len(X) != codes.size:
            raise ValueError(f"X holds {len(X)} images but y_true has {codes.size} labels.")
        if (
            isinstance(n_images, bool)
            or not isinstance(n_images, (int, np.integer))
            or (n_images < 1)
        ):
            raise ValueError(f"n_images must be a positive int, got {n_images!r}.")
        pred = proba.argmax(axis=1)
        conf = proba.max(axis=1)
        wrong = np.flatnonzero(pred != codes)
        order = wrong[np.argsort(-conf[wrong], kind="stable")][:n_images]
        images = _pick_images(X, order, image_size) if order.size else np.zeros((0, 1, 1, 3))
        return cls(
            images,
            indices=order,
            true_labels=classes[codes[order]].tolist(),
            predicted_labels=classes[pred[order]].tolist(),
            confidences=conf[order],
        ).plot(**plot_kwargs)

    @classmethod
    def from_estimator(cls, estimator: Any, X: Any, y: Any, **kwargs: Any) -> WorstMistakesDisplay:
        """Worst mistakes of a fitted classifier on images ``X`` with labels ``y``."""
        _check_fitted(estimator)
        return cls.from_predictions(
            X, y, estimator.predict_proba(X), classes=estimator.classes_, **kwargs
        )
