"""Subgroup performance: who the model fails.

A model that is right on average can still fail one group of patients or one
body site. ``clinical_report(..., subgroups=...)`` takes metadata per image (a
DataFrame, or a mapping of column name to values, such as HAM10000's age, sex
and localization) and gives, per subgroup of each column, n, sensitivity,
specificity, balanced accuracy and ROC AUC with intervals, and for each figure
the largest gap between subgroups with its bootstrap interval, adjusted for
having picked the largest of the pairwise gaps.

Numeric columns with many values are binned: a column named like "age" in
clinical bands (<30, 30-44, 45-59, 60-74, 75+), any other in quartiles. Missing
values (NaN, None, "", "unknown") form their own subgroup, shown but left out
of the gaps, and subgroups too small to say anything are marked, not hidden.
The figures come from the metrics engine, on the same bootstrap resamples as
the rest of the report.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise
from typing import Any, NamedTuple

import numpy as np

from skinlesion.metrics._table import estimates
from skinlesion.metrics.intervals import Estimate, percentile_interval

__all__ = ["AGE_BANDS", "SubgroupGap", "bin_column"]

#: Edges of the age bands (years): <30, 30-44, 45-59, 60-74, 75+.
AGE_BANDS = (30, 45, 60, 75)
#: Subgroups with fewer images are marked "too small" and left out of the gaps.
MIN_SUBGROUP_SIZE = 30
#: ... as are those with fewer positive (or negative) cases, when there is a positive class.
MIN_CASES = 5
#: The figures whose largest gap between subgroups the report gives.
GAP_FIGURES = ("sensitivity", "specificity", "balanced_accuracy", "roc_auc")
_MISSING = {"", "unknown", "nan", "none", "na", "n/a"}


class SubgroupGap(NamedTuple):
    """The largest gap in a figure between two subgroups of a column.

    Attributes
    ----------
    estimate : Estimate
        ``figure(highest) - figure(lowest)`` on the test set, with the percentile
        bootstrap interval of that same difference over the resamples, at level
        ``confidence``.
    highest, lowest : str
        The subgroups with the highest and the lowest figure on the test set.
    excludes_zero : bool
        Whether the interval lies wholly above 0: a gap the test set supports.
    confidence : float
        The level of the interval: the report's, Bonferroni-adjusted for the
        ``m = g (g - 1) / 2`` pairs of the ``g`` subgroups compared (``1 - (1 -
        confidence) / m``), because the pair is the one with the largest gap on
        these data. Without the adjustment, the widest of many gaps between
        subgroups that do not differ would often look real.
    """

    estimate: Estimate
    highest: str
    lowest: str
    excludes_zero: bool
    confidence: float


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, (float, np.floating)) and np.isnan(value):
        return True
    return isinstance(value, str) and value.strip().lower() in _MISSING


def _numeric(values: np.ndarray) -> np.ndarray | None:
    """``values`` as floats (NaN where missing), or None when some are not numbers."""
    out = np.full(values.size, np.nan)
    for i, v in enumerate(values.tolist()):
        if _is_missing(v):
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            try:
                v = float(v)
            except (TypeError, ValueError):
                return None
        out[i] = float(v)
    return out


def _band(value: float, edges: np.ndarray, names: list[str]) -> str:
    return "unknown" if np.isnan(value) else names[int(np.searchsorted(edges, value, "right"))]


def bin_column(name: str, values: Any) -> np.ndarray:
    """Subgroup labels of one metadata column: numeric columns with many values binned.

    A numeric column with more than 8 distinct values is binned: one whose name
    contains "age" in the bands of :data:`AGE_BANDS`, any other in quartiles.
    Missing values become ``"unknown"``.

    Examples
    --------
    >>> from skinlesion.metrics.subgroups import bin_column
    >>> bin_column("age", [25, 35.0, 50, 65, 80, 40, 55, 70, None, 45]).tolist()
    ['<30', '30-44', '45-59', '60-74', '75+', '30-44', '45-59', '60-74', 'unknown', '45-59']
    >>> bin_column("sex", ["male", "female", "unknown"]).tolist()
    ['male', 'female', 'unknown']
    """
    arr = np.asarray(values, dtype=object).ravel()
    numbers = _numeric(arr)
    if numbers is not None and np.unique(numbers[~np.isnan(numbers)]).size > 8:
        if "age" in name.lower():
            edges = np.asarray(AGE_BANDS, dtype=float)
            names = [f"<{AGE_BANDS[0]}"]
            names += [f"{a}-{b - 1}" for a, b in pairwise(AGE_BANDS)]
            names.append(f"{AGE_BANDS[-1]}+")
        else:
            edges = np.unique(np.nanquantile(numbers, [0.25, 0.5, 0.75]))
            bounds = [np.nanmin(numbers), *edges, np.nanmax(numbers)]
            names = [f"{a:g} to <{b:g}" for a, b in pairwise(bounds[:-1])]
            names.append(f"{bounds[-2]:g} to {bounds[-1]:g}")
        return np.array([_band(v, edges, names) for v in numbers], dtype=object)
    if numbers is not None:  # a few numbers: keep them as they are, 1.0 shown as 1
        return np.array(["unknown" if np.isnan(v) else f"{v:g}" for v in numbers], dtype=object)
    return np.array(["unknown" if _is_missing(v) else str(v) for v in arr], dtype=object)


def check_subgroups(subgroups: Any, n: int) -> list[tuple[str, list[str], np.ndarray]]:
    """``(column, subgroup names, each image's subgroup index)`` of each column.

    ``subgroups`` is a pandas DataFrame, a mapping of column name to values, or
    one array of values (a column called "subgroup").
    """
    if hasattr(subgroups, "columns") and hasattr(subgroups, "__getitem__"):  # a DataFrame
        columns = {str(c): np.asarray(subgroups[c], dtype=object) for c in subgroups.columns}
    elif isinstance(subgroups, Mapping):
        columns = {str(c): np.asarray(v, dtype=object) for c, v in subgroups.items()}
    else:
        arr = np.asarray(subgroups, dtype=object)
        if arr.ndim != 1:
            raise ValueError(
                "subgroups must be a DataFrame, a mapping of column name to one value per "
                f"image, or one value per image; got an array of shape {arr.shape}."
            )
        columns = {"subgroup": arr}
    if not columns:
        raise ValueError("subgroups has no columns; give at least one, e.g. {'sex': sex}.")
    out = []
    for name, values in columns.items():
        if values.ndim != 1 or values.size != n:
            raise ValueError(
                f"subgroups column {name!r} has {values.size} values for {n} images; give "
                "one value per image, in the order of y_true."
            )
        labels = bin_column(name, values)
        names = sorted(set(labels.tolist()), key=_sort_key)
        index = {v: i for i, v in enumerate(names)}
        out.append((name, names, np.array([index[v] for v in labels], dtype=np.intp)))
    return out


def _sort_key(name: str) -> tuple:
    """Bands in order (<30 before 30-44), "unknown" last, the rest alphabetically."""
    if name == "unknown":
        return (2, 0.0, name)
    head = name.lstrip("<").split("-")[0].split(" ")[0].rstrip("+")
    try:
        return (0, float(head) - (0.5 if name.startswith("<") else 0.0), name)
    except ValueError:
        return (1, 0.0, name)


def sections(
    columns: list[tuple[str, list[str], np.ndarray]],
    plan: Any,
    point: dict[tuple, float],
    samples: dict[tuple, np.ndarray],
    confidence: float,
    min_size: int,
) -> dict[str, dict[str, Any]]:
    """The report's subgroup section: per column, the figures, the small ones and the gaps."""
    out: dict[str, dict[str, Any]] = {}
    for c, (name, names, _) in enumerate(columns):
        groups: dict[str, dict[str, Estimate]] = {}
        small: list[str] = []
        for j, group in enumerate(names):
            prefix = ("subgroup", c, j)
            figures = estimates("subgroup", prefix, plan, point, samples, confidence)
            if plan.mask is not None:
                more = estimates("subgroup_positive", prefix, plan, point, samples, confidence)
                figures = {"n": figures.pop("n"), **more, **figures}
            groups[group] = figures
            too_few = figures["n"].value < min_size
            if plan.mask is not None:
                positives = point[(*prefix, "tp")] + point[(*prefix, "fn")]
                too_few |= min(positives, figures["n"].value - positives) < MIN_CASES
            if too_few:
                small.append(group)
        compared = [j for j, g in enumerate(names) if g not in small and g != "unknown"]
        gaps = {}
        for figure in GAP_FIGURES:
            gap = _gap(c, names, compared, figure, point, samples, confidence)
            if gap is not None:
                gaps[figure] = gap
        out[name] = {"groups": groups, "small": small, "gaps": gaps}
    return out


def _gap(
    c: int,
    names: list[str],
    compared: list[int],
    figure: str,
    point: dict[tuple, float],
    samples: dict[tuple, np.ndarray],
    confidence: float,
) -> SubgroupGap | None:
    """The largest gap in ``figure`` among subgroups ``compared``, or None (fewer than two)."""
    if (("subgroup", c, 0, figure)) not in point:
        return None
    values = {j: point[("subgroup", c, j, figure)] for j in compared}
    values = {j: v for j, v in values.items() if not np.isnan(v)}
    if len(values) < 2:
        return None
    ranked = sorted(values, key=values.__getitem__)  # stable: ties keep the column's order
    lo, hi = ranked[0], ranked[-1]
    diff = values[hi] - values[lo]
    pairs = len(values) * (len(values) - 1) // 2
    level = 1.0 - (1.0 - confidence) / pairs
    if samples:
        d = samples[("subgroup", c, hi, figure)] - samples[("subgroup", c, lo, figure)]
        low, high, n_undefined = percentile_interval(d, level)
    else:
        low, high, n_undefined = np.nan, np.nan, 0
    estimate = Estimate(diff, low, high, "bootstrap", n_undefined)
    return SubgroupGap(estimate, names[hi], names[lo], bool(low > 0), level)
