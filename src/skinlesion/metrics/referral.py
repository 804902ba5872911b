"""Selective prediction: how the figures improve as the least-confident cases are referred.

A classifier used for triage need not decide every case: the cases it is least
sure of can go to a dermatologist. :func:`referral_curve` gives accuracy,
balanced accuracy and the sensitivity and specificity of the malignant class on
the cases the model keeps, as a growing share of the least-confident cases is
referred. The confidence is the model's top probability unless you pass another
score. :func:`~skinlesion.metrics.clinical_report` gives the same figures at
10 % and 20 % referred with bootstrap intervals, and
:class:`~skinlesion.metrics.ReferralCurveDisplay` draws the curve.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from skinlesion.metrics import _engine
from skinlesion.metrics._validation import (
    check_operating_point,
    check_predictions,
    positive_label,
    resolve_positive,
)

__all__ = ["ReferralCurve", "referral_curve"]

#: Shares of the least-confident cases referred in the report's referral section
#: (and marked by :class:`~skinlesion.metrics.ReferralCurveDisplay`).
REFERRAL_FRACTIONS = (0.10, 0.20)


class ReferralCurve(NamedTuple):
    """The figures on the cases kept, at each share of cases referred.

    Each array has one entry per share referred, ``0, 1/n, ..., (n - 1)/n``.

    Attributes
    ----------
    referred : ndarray
        Share of the cases referred (the least confident ones).
    threshold : ndarray
        Confidence of the least confident case kept: cases below it are referred.
    accuracy, balanced_accuracy : ndarray
        Of the most probable class, on the cases kept (NaN where undefined).
    sensitivity, specificity : ndarray or None
        Of the positive class(es) on the cases kept; None without a positive class.
    positive_label : str or None
        Name of the positive class(es).

    Examples
    --------
    >>> from skinlesion.metrics import referral_curve
    >>> curve = referral_curve(["a", "b", "a", "b"], [[0.9, 0.1], [0.4, 0.6], [0.45, 0.55],
    ...                                               [0.2, 0.8]])
    >>> curve.referred.tolist(), curve.accuracy.tolist()
    ([0.0, 0.25, 0.5, 0.75], [0.75, 1.0, 1.0, 1.0])
    """

    referred: np.ndarray
    threshold: np.ndarray
    accuracy: np.ndarray
    balanced_accuracy: np.ndarray
    sensitivity: np.ndarray | None
    specificity: np.ndarray | None
    positive_label: str | None

    def at(self, referred: float) -> dict[str, float]:
        """The figures with ``referred`` (a share in [0, 1)) of the cases referred.

        The share is rounded to whole cases, as :func:`clinical_report` does.

        Examples
        --------
        >>> from skinlesion.metrics import referral_curve
        >>> curve = referral_curve(["a", "b", "a", "b"], [[0.9, 0.1], [0.4, 0.6],
        ...                                               [0.45, 0.55], [0.2, 0.8]])
        >>> curve.at(0.25)["accuracy"]
        1.0
        """
        n = self.referred.size
        if not 0.0 <= referred < 1.0:
            raise ValueError(f"referred must be a share in [0, 1), got {referred!r}.")
        i = min(int(np.floor(referred * n + 0.5)), n - 1)
        names = ("referred", "threshold", "accuracy", "balanced_accuracy")
        out = {name: float(getattr(self, name)[i]) for name in names}
        if self.sensitivity is not None and self.specificity is not None:
            out["sensitivity"] = float(self.sensitivity[i])
            out["specificity"] = float(self.specificity[i])
        return out


def melanoma_mask(classes: np.ndarray) -> np.ndarray | None:
    """The class that means melanoma (``"melanoma"``, ``"mel"``, ...), or None."""
    from skinlesion.datasets._diagnoses import diagnoses

    mask = np.array([diagnoses(c) == frozenset({"mel"}) for c in classes.tolist()])
    return mask if mask.sum() == 1 else None


def referral_positive(positive: Any, classes: np.ndarray) -> np.ndarray | None:
    """The positive class(es) of the referral figures: ``positive``, or else a melanoma class."""
    mask = resolve_positive(positive, classes)
    if mask is None:
        mask = melanoma_mask(classes)
    return mask


def referral_curve(
    y_true: Any,
    y_score: Any,
    *,
    classes: Any = None,
    positive: Any = None,
    threshold: float = 0.5,
    confidence: Any = None,
) -> ReferralCurve:
    """Figures on the cases kept as the least-confident cases are referred.

    Cases are referred from the least to the most confident; after each, the
    figures are computed on the cases that remain. A model whose confidence means
    something gets better as it refers more: the curve shows how much.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True class names.
    y_score : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted probabilities, columns in ``classes`` order.
    classes : array-like of shape (n_classes,), default=None
        Column names of ``y_score`` (``clf.classes_``).
    positive : class name or collection of class names, default=None
        The malignant class(es) whose sensitivity and specificity are given. None:
        ``classes[1]`` in a binary task, else the class that means melanoma
        (``"melanoma"``, ``"mel"``) when there is one, else none.
    threshold : float, default=0.5
        A case is called positive when the summed probability of the positive
        classes is ``>= threshold``.
    confidence : array-like of shape (n_samples,), default=None
        How sure the model is of each case (higher is surer). None: the top
        probability, ``y_score.max(axis=1)``.

    Returns
    -------
    ReferralCurve
        ``curve.at(0.1)`` reads the figures with 10 % of the cases referred.

    See Also
    --------
    clinical_report : the figures at 10 % and 20 % referred, with intervals.
    ReferralCurveDisplay : draws the curve.

    Examples
    --------
    >>> import numpy as np
    >>> from skinlesion.metrics import referral_curve
    >>> rng = np.random.default_rng(0)
    >>> y = rng.choice(["melanoma", "nevus"], size=200)
    >>> p_mel = np.clip(np.where(y == "melanoma", 0.7, 0.3) + rng.normal(0, 0.25, 200), 0, 1)
    >>> curve = referral_curve(y, p_mel, classes=["melanoma", "nevus"], positive="melanoma")
    >>> curve.positive_label
    'melanoma'
    >>> bool(curve.at(0.2)["accuracy"] > curve.at(0.0)["accuracy"])
    True
    """
    codes, proba, classes_arr = check_predictions(y_true, y_score, classes, positive)
    threshold, _ = check_operating_point(threshold, None, None)
    mask = referral_positive(positive, classes_arr)
    if confidence is None:
        conf = proba.max(axis=1)
    else:
        conf = np.asarray(confidence, dtype=np.float64)
        if conf.shape != (codes.size,) or not np.isfinite(conf).all():
            raise ValueError(
                f"confidence must be one finite score per case, shape ({codes.size},), got "
                f"shape {conf.shape}{'' if np.isfinite(conf).all() else ' with NaN or inf'}."
            )
    with np.errstate(invalid="ignore"):
        c = _engine.referral_curve(codes, proba, conf, mask, threshold)
    return ReferralCurve(
        referred=c["referred"],
        threshold=c["threshold"],
        accuracy=c["accuracy"],
        balanced_accuracy=c["balanced_accuracy"],
        sensitivity=c.get("sensitivity"),
        specificity=c.get("specificity"),
        positive_label=None if mask is None else positive_label(mask, classes_arr),
    )
