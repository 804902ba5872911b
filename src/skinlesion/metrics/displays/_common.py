"""Helpers shared by the displays: matplotlib on demand, axes checks, image cells."""

from __future__ import annotations

import textwrap
from typing import Any

import numpy as np

#: Why a plot cannot be drawn without matplotlib, and how to get it.
NO_MATPLOTLIB = (
    "plots need matplotlib, which skinlesion installs only with its 'plot' extra: "
    'pip install "skinlesion[plot]" (or pip install matplotlib)'
)


def pyplot() -> Any:
    """``matplotlib.pyplot``, imported on first use; an ImportError naming the extra."""
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(NO_MATPLOTLIB) from None
    return plt


def wrap_text(name: Any, width: int) -> str:
    """A class name wrapped to lines of ``width`` characters."""
    return "\n".join(textwrap.wrap(str(name), width)) or str(name)


def check_fitted(estimator: Any, *attrs: str) -> None:
    """A clear TypeError when ``estimator`` lacks what ``from_estimator`` calls."""
    for attr in attrs:
        if not hasattr(estimator, attr):
            needs = " and ".join(attrs)
            raise TypeError(
                f"{type(estimator).__name__} has no {attr}; from_estimator needs a fitted "
                f"classifier with {needs} (call fit first)."
            )


def axes_array(ax: Any, size: int, what: str) -> np.ndarray:
    """``ax`` as a flat array of ``size`` Axes, or a ValueError saying what is needed."""
    flat = np.asarray(ax, dtype=object).ravel()
    if flat.size != size:
        raise ValueError(f"ax must be {size} Axes: {what}; got {flat.size}.")
    return flat


def positive_int(value: Any, name: str) -> int:
    """``value`` as a positive int, or a ValueError naming the parameter."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}.")
    return int(value)


def most_confident_mistakes(codes: np.ndarray, proba: np.ndarray, n: int) -> np.ndarray:
    """Indices of the ``n`` wrong predictions with the highest predicted probability.

    Ties keep the images' order. ``codes`` are the true classes' columns of ``proba``.
    """
    pred = proba.argmax(axis=1)
    wrong = np.flatnonzero(pred != codes)
    return wrong[np.argsort(-proba.max(axis=1)[wrong], kind="stable")][:n]


def pick_images(X: Any, index: np.ndarray, image_size: Any) -> np.ndarray:
    """The images at ``index`` as uint8 RGB; a path array is read (only those files)."""
    from skinlesion.images import check_images, read_images

    images = check_images(X)
    if images.dtype == object:
        return read_images(images[index].tolist(), size=image_size)
    return images[index]


def show(ax: Any, image: np.ndarray | None, title: str, fontsize: float) -> Any:
    """Draw one image cell (or an empty one) and return its AxesImage (or None)."""
    im = ax.imshow(image) if image is not None else None
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(image is not None)
    ax.set_title(title, fontsize=fontsize)
    return im
