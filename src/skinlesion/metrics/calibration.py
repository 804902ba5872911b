"""Calibration: does a predicted 80 % mean 80 %?

The expected calibration error (ECE) bins images by the model's confidence
(its highest probability) and averages the gap between confidence and accuracy
per bin, weighted by the bin's size (Guo et al., "On Calibration of Modern
Neural Networks", ICML 2017). Bins are uniform on [0, 1], 15 by default, the
same edges as :func:`sklearn.calibration.calibration_curve`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from skinlesion.metrics import _engine
from skinlesion.metrics._validation import check_predictions, positive_label, resolve_positive

__all__ = ["DEFAULT_N_BINS", "ReliabilityCurve", "expected_calibration_error", "reliability_curve"]

#: Number of confidence bins used by the report's expected calibration error.
DEFAULT_N_BINS = 15


def _check_n_bins(n_bins: Any) -> int:
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive int, got {n_bins!r}.")
    return int(n_bins)


def expected_calibration_error(
    y_true: Any, y_score: Any, *, classes: Any = None, n_bins: int = DEFAULT_N_BINS
) -> float:
    """Top-label expected calibration error.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True class names.
    y_score : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted probabilities, columns in ``classes`` order.
    classes : array-like, default=None
        Column names of ``y_score`` (``clf.classes_``).
    n_bins : int, default=15
        Number of uniform confidence bins.

    Returns
    -------
    ece : float
        In [0, 1]; 0 when, in every bin, accuracy equals mean confidence.

    Examples
    --------
    >>> from skinlesion.metrics import expected_calibration_error
    >>> y = ["a", "a", "b", "b"]
    >>> p = [[0.9, 0.1], [0.9, 0.1], [0.1, 0.9], [0.9, 0.1]]
    >>> round(expected_calibration_error(y, p), 3)  # 3 of 4 right at 90 % confidence
    0.15
    """
    codes, proba, _ = check_predictions(y_true, y_score, classes)
    confidence, hit = _engine.top_label(codes, proba)
    sums = _engine.calibration(
        confidence, hit, _check_n_bins(n_bins), _engine.unit_weights(hit.size)
    )
    return float(_engine.calibration_error(*sums)[0])


class ReliabilityCurve(NamedTuple):
    """Per-bin figures of a reliability diagram (empty bins dropped).

    Examples
    --------
    >>> from skinlesion.metrics import reliability_curve
    >>> curve = reliability_curve(["a", "b"], [[0.8, 0.2], [0.3, 0.7]], n_bins=10)
    >>> curve.count.tolist(), curve.label
    ([1, 1], 'top label')
    """

    mean_predicted: np.ndarray
    fraction_positive: np.ndarray
    count: np.ndarray
    bin_edges: np.ndarray
    label: str


def reliability_curve(
    y_true: Any,
    y_score: Any,
    *,
    classes: Any = None,
    positive: Any = None,
    n_bins: int = DEFAULT_N_BINS,
) -> ReliabilityCurve:
    """Points of a reliability diagram.

    Without ``positive``: the top-label curve (confidence = highest probability,
    observed = fraction of those predictions that are right), the one the ECE
    summarises. With ``positive``: the curve of the positive class's summed
    probability against how often the case is positive, identical to
    :func:`sklearn.calibration.calibration_curve` with uniform bins.

    Examples
    --------
    >>> from skinlesion.metrics import reliability_curve
    >>> y = ["a", "a", "b", "b"]
    >>> p = [[0.9, 0.1], [0.9, 0.1], [0.1, 0.9], [0.9, 0.1]]
    >>> curve = reliability_curve(y, p, n_bins=5)
    >>> curve.mean_predicted.tolist(), curve.fraction_positive.tolist(), curve.count.tolist()
    ([0.9], [0.75], [4])
    """
    return _reliability(y_true, y_score, classes, positive, n_bins)[0]


def _reliability(
    y_true: Any, y_score: Any, classes: Any, positive: Any, n_bins: Any
) -> tuple[ReliabilityCurve, float]:
    """The reliability curve and its expected calibration error (one set of bin sums)."""
    codes, proba, classes = check_predictions(y_true, y_score, classes, positive)
    n_bins = _check_n_bins(n_bins)
    mask = resolve_positive(positive, classes) if positive is not None else None
    if mask is None:
        confidence, hit = _engine.top_label(codes, proba)
        label = "top label"
    else:
        confidence, hit = proba[:, mask].sum(axis=1), mask[codes]
        label = positive_label(mask, classes)
    sums = _engine.calibration(confidence, hit, n_bins, _engine.unit_weights(hit.size))
    count, conf_sum, hit_sum = (a[0] for a in sums)
    used = count > 0
    curve = ReliabilityCurve(
        conf_sum[used] / count[used],
        hit_sum[used] / count[used],
        count[used].round().astype(np.int64),
        np.linspace(0.0, 1.0, n_bins + 1),
        label,
    )
    return curve, float(_engine.calibration_error(*sums)[0])
