"""Checks of class labels, shared by the classifier, the samplers and the metrics.

NumPy turns a list that mixes strings with a float NaN into strings, so a
missing label silently becomes a class called ``'nan'``; an object array (or a
pandas Series) holding NaN or None makes scikit-learn's target checks fail with
``TypeError: '<' not supported``. Both are caught here, before any conversion,
together with empty labels and labels that mix strings and numbers, with a
message that says which labels and how to fix them.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

__all__ = ["check_label_values"]


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, (float, np.floating)):
        return math.isnan(value)
    # pandas' NA and NaT (without importing pandas)
    return type(value).__name__ in {"NAType", "NaTType"}


def _positions(mask: np.ndarray) -> str:
    where = np.flatnonzero(mask)
    shown = ", ".join(str(i) for i in where[:5])
    return shown + (f" and {len(where) - 5} more" if len(where) > 5 else "")


def check_label_values(y: Any, name: str = "y") -> np.ndarray:
    """Return ``y`` as a 1-D array of class labels, refusing missing and mixed labels.

    Parameters
    ----------
    y : array-like of shape (n,)
        Class labels: strings, or numbers (ints, bools, finite floats).
    name : str, default="y"
        The argument's name, used in error messages.

    Returns
    -------
    labels : ndarray of shape (n,)
        The labels as NumPy holds them; never a silent ``'nan'`` class.

    Raises
    ------
    ValueError
        For missing labels (None, NaN, pandas' NA), empty or blank strings,
        strings mixed with numbers, and anything that is not 1-D.

    Examples
    --------
    >>> from skinlesion._labels import check_label_values
    >>> check_label_values(["nevus", "melanoma"]).tolist()
    ['nevus', 'melanoma']
    >>> check_label_values(["nevus", float("nan")])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: y holds 1 missing label(s) (None, NaN or NA) at position(s) 1; drop those ...
    """
    if y is None:
        raise ValueError(f"{name} is None: pass one class label per image.")
    if isinstance(y, (str, bytes)):
        raise ValueError(
            f"{name} must be a sequence of class labels, one per image, got the single "
            f"string {y!r}."
        )
    try:
        arr = np.asarray(y)
    except ValueError:  # ragged nested sequences
        raise ValueError(
            f"{name} must hold one class label per image, but some entries are sequences of "
            "different lengths (multi-label rows?); pass one class name per image."
        ) from None
    if arr.ndim != 1:
        return arr  # the caller explains shapes in its own terms
    if arr.dtype.kind == "O" or not isinstance(y, np.ndarray):
        # Look at the values before NumPy's conversion: ["a", nan] became the strings
        # "a" and "nan", and an object array of labels with None cannot be sorted.
        if hasattr(y, "to_numpy"):
            seq = y.to_numpy(dtype=object)
        elif hasattr(y, "__iter__"):
            seq = y
        else:  # array-likes with __array__ only: NumPy's view is all there is
            seq = arr
        values = np.empty(len(arr), dtype=object)
        values[:] = list(seq)
        _check_values(values, name)
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        bad = ~np.isfinite(arr)
        raise ValueError(
            f"{name} holds {int(bad.sum())} NaN or infinite label(s) at position(s) "
            f"{_positions(bad)}; drop those images or fill in their labels first."
        )
    return arr


def _check_values(values: np.ndarray, name: str) -> None:
    n = len(values)
    missing = np.fromiter((_is_missing(v) for v in values), dtype=bool, count=n)
    if missing.any():
        raise ValueError(
            f"{name} holds {int(missing.sum())} missing label(s) (None, NaN or NA) at "
            f"position(s) {_positions(missing)}; drop those images or fill in their labels "
            "first."
        )
    if any(isinstance(v, (list, tuple, dict, set, np.ndarray)) for v in values):
        raise ValueError(
            f"{name} must hold one class label per image, but some entries are sequences "
            "(one-hot or multi-label rows?); pass class names, for example "
            "classes[y.argmax(axis=1)]."
        )
    is_text = np.fromiter((isinstance(v, (str, bytes)) for v in values), bool, n)
    is_number = np.fromiter((isinstance(v, (numbers.Number, np.bool_)) for v in values), bool, n)
    if is_text.any() and not is_text.all():
        text, other = values[int(np.argmax(is_text))], values[int(np.argmax(~is_text))]
        raise ValueError(
            f"{name} mixes strings with labels of another type (for example {text!r} and "
            f"{other!r} of type {type(other).__name__}); use one kind of label, such as the "
            "class names as strings."
        )
    if not is_text.all() and not is_number.all():
        other = values[int(np.argmax(~(is_text | is_number)))]
        raise ValueError(
            f"{name} holds a label of type {type(other).__name__} ({other!r}); class labels "
            "must be strings or numbers."
        )
    blank = np.fromiter(
        (bool(t) and not v.strip() for v, t in zip(values, is_text, strict=True)), bool, n
    )
    if blank.any():
        raise ValueError(
            f"{name} holds {int(blank.sum())} empty label(s) ('') at position(s) "
            f"{_positions(blank)}; an empty string is not a class name. Drop those images or "
            "fill in their labels."
        )
