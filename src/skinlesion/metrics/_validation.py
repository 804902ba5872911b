"""Validation of ``(y_true, y_score, classes, positive)`` at the public edge.

Every public metric funnels its input through :func:`check_predictions`, so the
checks and their messages are the same everywhere: mismatched lengths,
probabilities of the wrong shape or not summing to one, labels that are not in
``classes``.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Hashable, Iterable
from typing import Any

import numpy as np

#: How far a row of probabilities may stray from summing to one.
SUM_TOLERANCE = 1e-3


def _as_label_array(y: Any, name: str) -> np.ndarray:
    if isinstance(y, (str, bytes)):
        raise ValueError(f"{name} must be a sequence of class labels, got the single string {y!r}.")
    from skinlesion._labels import check_label_values

    arr = check_label_values(y, name)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr.ravel()
    if arr.ndim != 1:
        raise ValueError(
            f"{name} must be 1-D (one class label per image), got shape {arr.shape}. "
            "One-hot labels can be turned into names with classes[y.argmax(axis=1)]."
        )
    if arr.size == 0:
        raise ValueError(f"{name} is empty: at least one labelled image is required.")
    if arr.dtype.kind == "f" and np.isnan(arr).any():
        raise ValueError(f"{name} contains NaN labels; drop those images first.")
    return arr


def check_classes(classes: Any) -> np.ndarray:
    """Return ``classes`` as a 1-D array of unique labels (order kept)."""
    arr = np.asarray(classes)
    if arr.ndim != 1 or arr.size < 2:
        raise ValueError(
            f"classes must be a 1-D sequence of at least two class names (for example "
            f"clf.classes_), got {classes!r}."
        )
    if len(set(arr.tolist())) != arr.size:
        raise ValueError(f"classes must not repeat a name, got {arr.tolist()!r}.")
    return arr


def check_predictions(
    y_true: Any, y_score: Any, classes: Any = None, positive: Any = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate true labels and predicted probabilities.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True class names.
    y_score : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted probabilities, columns in ``classes`` order. A 1-D array in a
        binary task is the probability of ``positive``, or of ``classes[1]`` when
        ``positive`` is None (scikit-learn's convention).
    classes : array-like of shape (n_classes,), default=None
        The class names of the columns of ``y_score`` (``clf.classes_``). When
        None: the column names of a pandas DataFrame ``y_score``, else the sorted
        labels of ``y_true``, which must then name every column.
    positive : class name, default=None
        Only used to read a 1-D ``y_score``.

    Returns
    -------
    codes : ndarray of shape (n_samples,), dtype intp
        Index of each true label in ``classes``.
    proba : ndarray of shape (n_samples, n_classes), dtype float64
    classes : ndarray of shape (n_classes,)

    Examples
    --------
    >>> from skinlesion.metrics._validation import check_predictions
    >>> codes, proba, classes = check_predictions(["a", "b"], [[0.9, 0.1], [0.2, 0.8]])
    >>> codes.tolist(), classes.tolist()
    ([0, 1], ['a', 'b'])
    >>> check_predictions(["mel", "nv"], [0.75, 0.5], positive="mel")[1].tolist()
    [[0.75, 0.25], [0.5, 0.5]]
    """
    y = _as_label_array(y_true, "y_true")
    columns = getattr(y_score, "columns", None)  # a pandas DataFrame names its columns
    if columns is not None:
        columns = np.asarray(columns)
        if classes is None:
            classes = columns
        elif columns.tolist() != np.asarray(classes).tolist():
            raise ValueError(
                f"y_score's columns {columns.tolist()!r} differ from classes "
                f"{np.asarray(classes).tolist()!r}; reorder the columns or drop classes=."
            )
    kind = np.asarray(y_score).dtype.kind
    if kind in "biu":
        raise ValueError(
            f"y_score holds {'booleans' if kind == 'b' else 'integers'}, which look like "
            "predicted labels (clf.predict); the metrics need probabilities: pass "
            "clf.predict_proba(X)."
        )
    try:
        proba = np.asarray(y_score, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"y_score must be numeric probabilities (for example clf.predict_proba(X)): {err}"
        ) from None
    if proba.ndim == 2 and proba.shape[1] == 1:  # a single sigmoid output, (n, 1)
        proba = proba[:, 0]
    if proba.ndim == 1:
        proba = np.column_stack([1.0 - proba, proba])
        one_d = True
    else:
        one_d = False
    if proba.ndim != 2:
        raise ValueError(
            f"y_score must be a 2-D array of probabilities (n_samples, n_classes), as returned "
            f"by predict_proba, got shape {np.shape(y_score)}."
        )
    if proba.shape[0] != y.shape[0]:
        raise ValueError(
            f"y_true and y_score have different lengths ({y.shape[0]} labels, "
            f"{proba.shape[0]} rows of probabilities); they must describe the same images "
            "in the same order."
        )
    if classes is None:
        found = np.unique(y)
        if found.size != proba.shape[1]:
            raise ValueError(
                f"y_score has {proba.shape[1]} columns but y_true holds {found.size} classes "
                f"({found.tolist()!r}); pass classes=clf.classes_ to name the columns."
            )
        classes = found
    classes = check_classes(classes)
    if one_d and classes.size == 2 and positive is not None:
        wanted = positive
        if isinstance(positive, (set, frozenset, list, tuple)) and len(positive) == 1:
            wanted = next(iter(positive))
        if isinstance(wanted, Hashable) and wanted == classes.tolist()[0]:
            proba = proba[:, ::-1]  # the 1-D score is the probability of classes[0]
    if proba.shape[1] != classes.size:
        what = "a 1-D y_score (binary task)" if one_d else f"{proba.shape[1]} columns"
        raise ValueError(
            f"y_score has {what} but there are {classes.size} classes "
            f"({classes.tolist()!r}); pass predict_proba's full output, one column per class "
            "in classes order."
        )
    if not np.all(np.isfinite(proba)):
        raise ValueError("y_score contains NaN or infinite values; check the model's output.")
    if proba.min() < 0.0 or proba.max() > 1.0:
        raise ValueError(
            f"y_score must hold probabilities in [0, 1], got values in "
            f"[{proba.min():.3g}, {proba.max():.3g}]. Pass predict_proba's output, or apply "
            "a softmax to logits."
        )
    sums = proba.sum(axis=1)
    bad = np.abs(sums - 1.0) > SUM_TOLERANCE
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"each row of y_score must sum to 1 (probabilities over the classes); row {i} "
            f"sums to {sums[i]:.4g} ({int(bad.sum())} rows are off). Pass predict_proba's "
            "output, normalise with y_score / y_score.sum(axis=1, keepdims=True), or apply a "
            "softmax to logits."
        )
    index = {c: i for i, c in enumerate(classes.tolist())}
    try:
        codes = np.fromiter((index[v] for v in y.tolist()), dtype=np.intp, count=y.size)
    except KeyError:
        unknown = sorted({v for v in y.tolist() if v not in index}, key=str)
        raise ValueError(
            f"y_true holds labels that are not in classes: {unknown[:5]!r}. classes is "
            f"{classes.tolist()!r}; check that y_score's columns follow clf.classes_."
        ) from None
    return codes, proba, classes


def resolve_positive(positive: Any, classes: np.ndarray) -> np.ndarray | None:
    """Return a boolean mask over ``classes`` of the positive (malignant) classes.

    ``positive`` is one class name or a collection of names (for example
    ``{"melanoma", "basal cell carcinoma"}``); None gives ``classes[1]`` in a
    binary task and no positive class otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> from skinlesion.metrics._validation import resolve_positive
    >>> resolve_positive(["mel", "bcc"], np.array(["bcc", "mel", "nv"])).tolist()
    [True, True, False]
    """
    names = classes.tolist()
    if positive is None:
        if len(names) == 2:
            return np.array([False, True])
        return None
    if isinstance(positive, (set, frozenset, list, tuple, np.ndarray)):
        wanted = list(positive.tolist() if isinstance(positive, np.ndarray) else positive)
    elif isinstance(positive, Hashable):
        wanted = [positive]
    else:
        raise ValueError(f"positive must be a class name or a set of names, got {positive!r}.")
    missing = [p for p in wanted if p not in names]
    if missing or not wanted:
        raise ValueError(
            f"positive={positive!r} names classes that are not in classes {names!r}: "
            f"{missing!r}. Use one of the class names (for example 'melanoma')."
        )
    mask = np.isin(np.arange(len(names)), [names.index(p) for p in wanted])
    if mask.all():
        raise ValueError(
            "positive covers every class, so nothing is negative; name only the malignant classes."
        )
    return mask


def positive_label(mask: np.ndarray, classes: np.ndarray) -> str:
    """A readable name for the positive class(es)."""
    names = [str(c) for c in classes[mask].tolist()]
    return names[0] if len(names) == 1 else " + ".join(names)


def external_stacklevel() -> int:
    """``stacklevel`` for ``warnings.warn`` that names the first caller outside this package.

    Call it in the function that warns; public functions call each other, so a
    fixed level would blame a line of skinlesion instead of the user's.
    """
    level, frame = 1, sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").startswith(
        "skinlesion.metrics"
    ):
        level, frame = level + 1, frame.f_back
    return level


def warn_if_absent(is_positive: np.ndarray, label: str) -> None:
    """Warn when the positive class is absent from y_true (its figures become NaN)."""
    if not is_positive.any():
        warnings.warn(
            f"the positive class {label!r} does not occur in y_true, so sensitivity, ROC AUC "
            "and the other figures that need positives are NaN. Evaluate on a test set that "
            "holds positive cases.",
            UserWarning,
            stacklevel=external_stacklevel(),
        )
    elif is_positive.all():
        warnings.warn(
            f"every image in y_true is {label!r}, so specificity, ROC AUC and the other "
            "figures that need negatives are NaN.",
            UserWarning,
            stacklevel=external_stacklevel(),
        )


def check_unit_interval(value: Any, name: str, *, open_low: bool = True) -> float:
    """Validate a probability-like parameter (confidence, target sensitivity)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in (0, 1), got {value!r}.") from None
    low_ok = v > 0.0 if open_low else v >= 0.0
    if not (low_ok and v <= 1.0) or np.isnan(v):
        raise ValueError(f"{name} must lie in (0, 1], got {value!r}.")
    return v


def as_list(values: Iterable[float] | float) -> list[float]:
    if isinstance(values, (int, float, np.floating)):
        return [float(values)]
    return [float(v) for v in values]


def check_operating_point(
    threshold: Any, target_sensitivity: Any, target_specificity: Any
) -> tuple[float | None, tuple[str, float] | None]:
    """``(threshold, None)`` for a fixed operating point, ``(None, (kind, value))`` for a target."""
    given = [x is not None for x in (threshold, target_sensitivity, target_specificity)]
    if sum(given) > 1:
        raise ValueError(
            "give at most one of threshold, target_sensitivity and target_specificity: each "
            "fixes the operating point."
        )
    if target_sensitivity is not None:
        return None, ("sensitivity", check_unit_interval(target_sensitivity, "target_sensitivity"))
    if target_specificity is not None:
        return None, ("specificity", check_unit_interval(target_specificity, "target_specificity"))
    if threshold is None:
        return 0.5, None
    try:
        t = float(threshold)
    except (TypeError, ValueError):
        raise ValueError(f"threshold must be a number in [0, 1], got {threshold!r}.") from None
    if not 0.0 <= t <= 1.0:
        raise ValueError(
            f"threshold must lie in [0, 1] (it applies to a probability), got {threshold!r}."
        )
    return t, None


def warn_absent_classes(codes: np.ndarray, classes: list) -> list[str]:
    """Warn when classes are absent from y_true; return the note the report prints."""
    support = np.bincount(codes, minlength=len(classes))
    absent = [c for c, m in zip(classes, support, strict=True) if m == 0]
    if not absent:
        return []
    msg = (
        f"classes {absent!r} do not occur in y_true: their sensitivity, AUC and other "
        f"per-class figures are undefined (NaN), and macro averages use the "
        f"{len(classes) - len(absent)} classes present."
    )
    warnings.warn(msg, UserWarning, stacklevel=external_stacklevel())
    return ["Note: " + msg]
