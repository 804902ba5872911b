"""Galleries of images: samples per class, and the most confident mistakes."""

from __future__ import annotations

from typing import Any

import numpy as np

from skinlesion._random import check_generator
from skinlesion.metrics._validation import _as_label_array, check_predictions
from skinlesion.metrics.displays._common import (
    axes_array,
    check_fitted,
    most_confident_mistakes,
    pick_images,
    positive_int,
    pyplot,
    show,
    wrap_text,
)

__all__ = ["SampleImagesDisplay", "WorstMistakesDisplay"]


def _grid(ax: Any, rows: int, cols: int, figsize: tuple[float, float], what: str) -> Any:
    """``ax`` as a (rows, cols) array of Axes, in a new figure when None."""
    if ax is None:
        _, ax = pyplot().subplots(rows, cols, squeeze=False, layout="constrained", figsize=figsize)
        return ax
    return axes_array(ax, rows * cols, what).reshape(rows, cols)


class SampleImagesDisplay:
    """A grid of sample images, one row per class.

    Parameters
    ----------
    images : ndarray of shape (n_shown, h, w, 3)
        The images to show.
    labels : sequence
        Class of each image.
    classes : sequence
        The classes, one row each, in this order.
    n_per_class : int
        Columns of the grid.

    Attributes
    ----------
    images : ndarray of shape (n_shown, h, w, 3)
    labels : list
        Class of each shown image.
    im_ : ndarray of shape (n_classes, n_per_class)
        The matplotlib AxesImage of each cell (None where a class has fewer images).
    ax_ : ndarray of matplotlib Axes of shape (n_classes, n_per_class)
    figure_ : matplotlib Figure

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

    def plot(
        self, *, ax: Any = None, figsize: tuple[float, float] | None = None
    ) -> SampleImagesDisplay:
        """Draw the grid.

        Parameters
        ----------
        ax : array of matplotlib Axes, default=None
            ``n_classes * n_per_class`` Axes, filled row by row; None makes a new
            figure.
        figsize : (float, float), default=None
            Size of the new figure (ignored with ``ax``).

        Returns
        -------
        self
        """
        rows, cols = len(self.classes), self.n_per_class
        ax = _grid(
            ax,
            rows,
            cols,
            figsize or (1.6 * cols + 1.5, 1.7 * rows),
            f"{rows} classes x {cols} images",
        )
        by_class: dict[Any, list[np.ndarray]] = {c: [] for c in self.classes}
        for image, label in zip(self.images, self.labels, strict=True):
            by_class[label].append(image)
        self.im_ = np.empty((rows, cols), dtype=object)
        for r, c in enumerate(self.classes):
            for j in range(cols):
                image = by_class[c][j] if j < len(by_class[c]) else None
                self.im_[r, j] = show(ax[r, j], image, "", 8)
            ax[r, 0].set_ylabel(wrap_text(c, 14), rotation=0, ha="right", va="center", fontsize=9)
        self.figure_ = ax[0, 0].figure
        self.figure_.suptitle("Sample images per class")
        self.ax_ = ax
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
        ax: Any = None,
        figsize: tuple[float, float] | None = None,
    ) -> SampleImagesDisplay:
        """Pick ``n_per_class`` images of each class at random and draw them.

        ``X`` is a uint8 ``(n, h, w, 3)`` array (or any array
        :func:`skinlesion.images.check_images` accepts) or a list of file paths;
        only the chosen files are read, resized to ``image_size``. ``ax`` and
        ``figsize`` are those of :meth:`plot`.
        """
        y = _as_label_array(y, "y")
        n = len(X)
        if n != y.size:
            raise ValueError(f"X holds {n} images but y has {y.size} labels.")
        n_per_class = positive_int(n_per_class, "n_per_class")
        classes = np.unique(y).tolist() if classes is None else list(classes)
        rng = check_generator(random_state)
        chosen = []
        for c in classes:
            idx = np.flatnonzero(y == c)
            chosen.extend(rng.permutation(idx)[:n_per_class].tolist())
        index = np.array(chosen, dtype=np.intp)
        images = pick_images(X, index, image_size)
        return cls(images, y[index].tolist(), classes=classes, n_per_class=n_per_class).plot(
            ax=ax, figsize=figsize
        )


class WorstMistakesDisplay:
    """The most confident wrong predictions, with true and predicted labels.

    Parameters
    ----------
    images : ndarray of shape (n_shown, h, w, 3)
        The images of the mistakes, most confident first.
    indices, true_labels, predicted_labels, confidences
        As the attributes below.

    Attributes
    ----------
    indices : ndarray
        Positions in ``X`` of the images shown, most confident mistake first.
    true_labels, predicted_labels : list
    confidences : ndarray
        Predicted probability of the (wrong) predicted class.
    im_ : list of matplotlib AxesImage
        One per image shown.
    ax_ : ndarray of matplotlib Axes
    figure_ : matplotlib Figure

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

    def plot(
        self,
        *,
        ax: Any = None,
        n_cols: int = 6,
        figsize: tuple[float, float] | None = None,
    ) -> WorstMistakesDisplay:
        """Draw the gallery.

        Parameters
        ----------
        ax : array of matplotlib Axes, default=None
            One Axes per image shown (at least one); None makes a new figure.
        n_cols : int, default=6
            Images per row of the new figure (ignored with ``ax``).
        figsize : (float, float), default=None
            Size of the new figure (ignored with ``ax``).

        Returns
        -------
        self
        """
        n = max(len(self.indices), 1)
        if ax is None:
            cols = min(n_cols, n)
            rows = int(np.ceil(n / cols))
            ax = _grid(None, rows, cols, figsize or (2.3 * cols, 2.6 * rows), "")
        else:
            ax = np.asarray(ax, dtype=object)
            if ax.size < n:
                raise ValueError(f"ax must hold at least {n} Axes, one per image; got {ax.size}.")
        flat = ax.ravel()
        self.im_ = []
        for j, panel in enumerate(flat):
            if j < len(self.indices):
                title = (
                    f"true: {wrap_text(self.true_labels[j], 18)}\n"
                    f"pred: {wrap_text(self.predicted_labels[j], 18)} "
                    f"({self.confidences[j]:.2f})"
                )
                self.im_.append(show(panel, self.images[j], title, 7.5))
            else:
                panel.axis("off")
        if not len(self.indices):
            flat[0].text(0.5, 0.5, "no mistakes", ha="center", va="center")
        self.figure_ = flat[0].figure
        self.figure_.suptitle("Most confident mistakes")
        self.ax_ = ax
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
        ax: Any = None,
        n_cols: int = 6,
        figsize: tuple[float, float] | None = None,
    ) -> WorstMistakesDisplay:
        """Show the ``n_images`` wrong predictions with the highest predicted probability.

        ``X`` is an image array or a list of paths (only the shown files are read);
        ``y_true``, ``y_score`` and ``classes`` are as in
        :func:`~skinlesion.metrics.clinical_report`; ``ax``, ``n_cols`` and
        ``figsize`` as in :meth:`plot`.
        """
        codes, proba, classes = check_predictions(y_true, y_score, classes)
        if len(X) != codes.size:
            raise ValueError(f"X holds {len(X)} images but y_true has {codes.size} labels.")
        n_images = positive_int(n_images, "n_images")
        pred = proba.argmax(axis=1)
        conf = proba.max(axis=1)
        order = most_confident_mistakes(codes, proba, n_images)
        images = pick_images(X, order, image_size) if order.size else np.zeros((0, 1, 1, 3))
        return cls(
            images,
            indices=order,
            true_labels=classes[codes[order]].tolist(),
            predicted_labels=classes[pred[order]].tolist(),
            confidences=conf[order],
        ).plot(ax=ax, n_cols=n_cols, figsize=figsize)

    @classmethod
    def from_estimator(
        cls,
        estimator: Any,
        X: Any,
        y: Any,
        *,
        n_images: int = 12,
        image_size: Any = 96,
        ax: Any = None,
        n_cols: int = 6,
        figsize: tuple[float, float] | None = None,
    ) -> WorstMistakesDisplay:
        """Worst mistakes of a fitted classifier on images ``X`` with labels ``y``.

        The parameters are those of :meth:`from_predictions`.
        """
        check_fitted(estimator, "predict_proba", "classes_")
        return cls.from_predictions(
            X,
            y,
            estimator.predict_proba(X),
            classes=estimator.classes_,
            n_images=n_images,
            image_size=image_size,
            ax=ax,
            n_cols=n_cols,
            figsize=figsize,
        )
