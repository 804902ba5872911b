"""The confusion matrix, as counts and row-normalised side by side."""

from __future__ import annotations

from typing import Any

import numpy as np

from skinlesion.metrics import _engine
from skinlesion.metrics._validation import _as_label_array, check_predictions
from skinlesion.metrics.displays._common import axes_array, check_fitted, pyplot, wrap_text

__all__ = ["ConfusionMatrixDisplay"]


class ConfusionMatrixDisplay:
    """Confusion matrix as counts and row-normalised (each row: where that class went).

    The constructor and :meth:`from_predictions` follow
    :class:`sklearn.metrics.ConfusionMatrixDisplay`: ``from_predictions`` takes
    predicted labels, and :meth:`from_estimator` calls ``estimator.predict``.
    :meth:`from_probabilities` takes ``predict_proba``'s output and predicts the
    most probable class, as :func:`~skinlesion.metrics.clinical_report` does.

    Parameters
    ----------
    confusion_matrix : ndarray of shape (n_classes, n_classes)
        Rows are true classes, columns predicted classes.
    display_labels : array-like of shape (n_classes,), default=None
        Class names; long names are wrapped so they stay readable. None:
        ``0, ..., n_classes - 1``.

    Attributes
    ----------
    im_ : ndarray of two matplotlib AxesImage
        The counts panel's image, then the row-normalised panel's.
    text_ : ndarray of shape (2, n_classes, n_classes) of matplotlib Text
        The numbers written in the cells of each panel.
    ax_ : ndarray of two matplotlib Axes
        The counts panel, then the row-normalised panel.
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skinlesion.metrics import ConfusionMatrixDisplay
    >>> disp = ConfusionMatrixDisplay.from_predictions(["mel", "nv", "nv"], ["mel", "mel", "nv"])
    >>> disp.confusion_matrix.tolist()
    [[1, 0], [1, 1]]
    >>> disp = ConfusionMatrixDisplay.from_probabilities(
    ...     ["mel", "nv", "nv"], [[0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    >>> disp.confusion_matrix.tolist(), len(disp.ax_)
    ([[1, 0], [1, 1]], 2)
    """

    def __init__(self, confusion_matrix: Any, *, display_labels: Any = None) -> None:
        self.confusion_matrix = np.asarray(confusion_matrix)
        if display_labels is None:
            display_labels = range(self.confusion_matrix.shape[0])
        self.display_labels = [str(c) for c in display_labels]

    def plot(
        self,
        *,
        ax: Any = None,
        cmap: str = "Blues",
        wrap: int = 16,
        xticks_rotation: float = 45.0,
    ) -> ConfusionMatrixDisplay:
        """Draw both panels.

        Parameters
        ----------
        ax : pair of matplotlib Axes, default=None
            Where to draw the counts and the row-normalised matrix; None makes a
            new figure.
        cmap : str, default="Blues"
            Colour map of both panels.
        wrap : int, default=16
            Class names longer than this are wrapped onto several lines.
        xticks_rotation : float, default=45.0
            Rotation of the predicted-class names.

        Returns
        -------
        self
        """
        from sklearn.metrics import ConfusionMatrixDisplay as SkDisplay

        k = len(self.display_labels)
        if ax is None:
            side = max(4.0, 0.6 * k + 2.5)
            _, ax = pyplot().subplots(1, 2, figsize=(2 * side + 1, side), layout="constrained")
        ax = axes_array(ax, 2, "one for counts, one for row-normalised")
        labels = [wrap_text(c, wrap) for c in self.display_labels]
        cm = self.confusion_matrix
        rows = cm.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            normalised = np.where(rows > 0, cm / np.where(rows > 0, rows, 1), 0.0)
        font = max(6, 11 - k // 2)
        images, texts = [], []
        for panel, (matrix, fmt, title) in zip(
            ax,
            ((cm, "d", "Counts"), (normalised, ".2f", "Row-normalised (recall on the diagonal)")),
            strict=True,
        ):
            drawn = SkDisplay(matrix, display_labels=labels).plot(
                ax=panel,
                cmap=cmap,
                colorbar=False,
                values_format=fmt,
                xticks_rotation=xticks_rotation,
                text_kw={"fontsize": font},
            )
            images.append(drawn.im_)
            texts.append(drawn.text_)
            panel.set_title(title)
            panel.tick_params(labelsize=font)
        self.im_ = np.array(images, dtype=object)
        self.text_ = np.array(texts, dtype=object)
        self.ax_ = ax
        self.figure_ = ax[0].figure
        return self

    @classmethod
    def from_predictions(
        cls,
        y_true: Any,
        y_pred: Any,
        *,
        labels: Any = None,
        display_labels: Any = None,
        ax: Any = None,
        cmap: str = "Blues",
        wrap: int = 16,
        xticks_rotation: float = 45.0,
    ) -> ConfusionMatrixDisplay:
        """Confusion matrix of predicted labels against true labels.

        Parameters
        ----------
        y_true : array-like of shape (n_samples,)
            True class names.
        y_pred : array-like of shape (n_samples,)
            Predicted class names (``clf.predict(X)``). For probabilities use
            :meth:`from_probabilities`.
        labels : array-like of shape (n_classes,), default=None
            The classes, in the order of the rows and columns; as in scikit-learn,
            images whose true or predicted class is not listed are left out. None:
            the sorted classes of ``y_true`` and ``y_pred``.
        display_labels : array-like of shape (n_classes,), default=None
            Names to show; None: ``labels``.
        ax, cmap, wrap, xticks_rotation
            As in :meth:`plot`.

        Returns
        -------
        ConfusionMatrixDisplay
        """
        from sklearn.utils.multiclass import unique_labels

        y_true = _as_label_array(y_true, "y_true")
        if np.ndim(y_pred) == 2 and np.shape(y_pred)[1] > 1:
            raise ValueError(
                f"y_pred has shape {np.shape(y_pred)}: it looks like probabilities. "
                "from_predictions takes predicted labels, as scikit-learn's does (clf.predict(X)); "
                "use ConfusionMatrixDisplay.from_probabilities(y_true, y_score, classes=...) for "
                "predict_proba's output."
            )
        y_pred = _as_label_array(y_pred, "y_pred")
        if y_pred.size != y_true.size:
            raise ValueError(
                f"y_true and y_pred have different lengths ({y_true.size} and {y_pred.size})."
            )
        if y_pred.dtype.kind == "f" and y_true.dtype.kind not in "biuf":
            raise ValueError(
                "y_pred holds numbers but y_true holds class names; from_predictions takes "
                "predicted labels (clf.predict(X)). For probabilities use from_probabilities."
            )
        labels = unique_labels(y_true, y_pred) if labels is None else np.asarray(labels)
        if labels.ndim != 1 or labels.size == 0 or np.unique(labels).size != labels.size:
            raise ValueError(f"labels must be distinct class names, got {labels.tolist()!r}.")
        index = {c: i for i, c in enumerate(labels.tolist())}
        codes = np.array([index.get(v, -1) for v in y_true.tolist()], dtype=np.intp)
        pred = np.array([index.get(v, -1) for v in y_pred.tolist()], dtype=np.intp)
        keep = (codes >= 0) & (pred >= 0)
        W = _engine.unit_weights(int(keep.sum()))
        cm = _engine.confusion(codes[keep], pred[keep], labels.size, W)[0]
        return cls(
            cm.round().astype(np.int64),
            display_labels=labels.tolist() if display_labels is None else display_labels,
        ).plot(ax=ax, cmap=cmap, wrap=wrap, xticks_rotation=xticks_rotation)

    @classmethod
    def from_probabilities(
        cls,
        y_true: Any,
        y_score: Any,
        *,
        classes: Any = None,
        ax: Any = None,
        cmap: str = "Blues",
        wrap: int = 16,
        xticks_rotation: float = 45.0,
    ) -> ConfusionMatrixDisplay:
        """Confusion matrix of the most probable class against the true class.

        Parameters
        ----------
        y_true, y_score, classes
            As in :func:`~skinlesion.metrics.clinical_report`: true class names,
            ``predict_proba``'s output and its column names.
        ax, cmap, wrap, xticks_rotation
            As in :meth:`plot`.

        Returns
        -------
        ConfusionMatrixDisplay
        """
        codes, proba, classes = check_predictions(y_true, y_score, classes)
        W = _engine.unit_weights(codes.size)
        cm = _engine.confusion(codes, proba.argmax(axis=1), classes.size, W)[0]
        return cls(cm.round().astype(np.int64), display_labels=classes.tolist()).plot(
            ax=ax, cmap=cmap, wrap=wrap, xticks_rotation=xticks_rotation
        )

    @classmethod
    def from_estimator(
        cls,
        estimator: Any,
        X: Any,
        y: Any,
        *,
        labels: Any = None,
        display_labels: Any = None,
        ax: Any = None,
        cmap: str = "Blues",
        wrap: int = 16,
        xticks_rotation: float = 45.0,
    ) -> ConfusionMatrixDisplay:
        """Confusion matrix of a fitted classifier's ``predict(X)`` against labels ``y``.

        ``labels`` defaults to the estimator's ``classes_`` together with any other
        class in ``y``; the other parameters are those of :meth:`from_predictions`.
        """
        from sklearn.utils.multiclass import unique_labels

        check_fitted(estimator, "predict")
        y_pred = estimator.predict(X)
        if labels is None:
            known = getattr(estimator, "classes_", None)
            labels = unique_labels(y, y_pred, *([] if known is None else [known]))
        return cls.from_predictions(
            y,
            y_pred,
            labels=labels,
            display_labels=display_labels,
            ax=ax,
            cmap=cmap,
            wrap=wrap,
            xticks_rotation=xticks_rotation,
        )
