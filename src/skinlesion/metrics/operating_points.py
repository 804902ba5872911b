"""Operating points on the ROC curve of the positive (malignant) class.

A screening tool is used at one threshold: "call it melanoma when its
probability is at least t". These functions pick ``t`` for a target
sensitivity or specificity and read the ROC curve at fixed sensitivities and
specificities (the way reader studies compare a model with dermatologists).

The positive class may be one class (``"melanoma"``) or a set of classes
(``{"melanoma", "basal cell carcinoma", "squamous cell carcinoma"}``); its
score is then the summed probability of those classes. A case is called
positive when its score is ``>= threshold``, as in
:func:`sklearn.metrics.roc_curve` and
:class:`sklearn.model_selection.FixedThresholdClassifier`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from skinlesion.metrics import _engine
from skinlesion.metrics._validation import (
    check_predictions,
    check_unit_interval,
    positive_label,
    resolve_positive,
    warn_if_absent,
)

__all__ = [
    "partial_auc_above_sensitivity",
    "positive_scores",
    "select_operating_point",
    "sensitivity_at_specificity",
    "sensitivity_constrained_scorer",
    "specificity_at_sensitivity",
]


def positive_scores(
    y_true: Any, y_score: Any, positive: Any = None, *, classes: Any = None
) -> tuple[np.ndarray, np.ndarray, str]:
    """Binary truth and score of the positive class (or set of classes).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True class names.
    y_score : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted probabilities, columns in ``classes`` order; in a binary task a
        1-D array is the probability of ``positive``.
    positive : class name or collection of class names, default=None
        The malignant class(es). None means ``classes[1]`` in a binary task and is
        an error otherwise.
    classes : array-like, default=None
        Column names of ``y_score`` (``clf.classes_``); None uses the sorted labels.

    Returns
    -------
    is_positive : ndarray of bool, shape (n_samples,)
    score : ndarray of float, shape (n_samples,)
        Summed probability of the positive classes.
    label : str
        Name of the positive class(es), for reports and plots.

    Examples
    --------
    >>> from skinlesion.metrics import positive_scores
    >>> y = ["bcc", "mel", "nv"]
    >>> p = [[0.6, 0.3, 0.1], [0.1, 0.7, 0.2], [0.1, 0.1, 0.8]]
    >>> is_pos, score, label = positive_scores(y, p, {"mel", "bcc"})
    >>> is_pos.tolist(), score.round(2).tolist(), label
    ([True, True, False], [0.9, 0.8, 0.2], 'bcc + mel')
    """
    codes, proba, classes = check_predictions(y_true, y_score, classes, positive)
    mask = resolve_positive(positive, classes)
    if mask is None:
        raise ValueError(
            f"positive is required with {classes.size} classes: name the malignant class, "
            "for example positive='melanoma', or a set of them."
        )
    return mask[codes], proba[:, mask].sum(axis=1), positive_label(mask, classes)


def _curve(y_true: Any, y_score: Any, positive: Any, classes: Any) -> _engine.Curve:
    """The ROC curve of the positive class(es) on the test set (warns when one side is empty)."""
    is_pos, score, label = positive_scores(y_true, y_score, positive, classes=classes)
    warn_if_absent(is_pos, label)
    return _engine.Curve(_engine.unit_weights(is_pos.size), is_pos, score)


def select_operating_point(
    y_true: Any,
    y_score: Any,
    positive: Any = None,
    *,
    target_sensitivity: float | None = None,
    target_specificity: float | None = None,
    classes: Any = None,
) -> float:
    """Threshold on the positive score that meets a target sensitivity or specificity.

    With ``target_sensitivity`` (the default, 0.95): the highest threshold whose
    sensitivity reaches the target, which gives the best specificity among the
    thresholds that miss at most ``1 - target`` of the melanomas. With
    ``target_specificity``: the lowest threshold whose specificity still reaches
    the target, which gives the best sensitivity there.

    Choose the threshold on a validation set, not on the test set you report:
    a threshold tuned on the test set makes its figures optimistic.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True class names.
    y_score : array-like of shape (n_samples, n_classes) or (n_samples,)
        Predicted probabilities, columns in ``classes`` order.
    positive : class name or collection of class names, default=None
        The malignant class(es); None means ``classes[1]`` in a binary task.
    target_sensitivity : float, default=None
        Minimum sensitivity in (0, 1]. When neither target is given, 0.95.
    target_specificity : float, default=None
        Minimum specificity in (0, 1]. Give one target, not both.
    classes : array-like, default=None
        Column names of ``y_score`` (``clf.classes_``).

    Returns
    -------
    threshold : float
        Call a case positive when its positive score is ``>= threshold``. It is
        ``inf`` when only "never positive" meets a specificity of 1.

    See Also
    --------
    sklearn.model_selection.FixedThresholdClassifier : apply the threshold to a
        fitted binary classifier, so ``predict`` uses it.
    sklearn.model_selection.TunedThresholdClassifierCV : tune the threshold by
        cross-validation instead; :func:`sensitivity_constrained_scorer` gives it
        the same objective.

    Examples
    --------
    >>> import numpy as np
    >>> from skinlesion.metrics import select_operating_point
    >>> y = np.array(["benign"] * 6 + ["malignant"] * 4)
    >>> p = np.array([0.1, 0.2, 0.3, 0.35, 0.5, 0.7, 0.4, 0.6, 0.8, 0.9])
    >>> select_operating_point(y, p, "malignant", target_sensitivity=1.0)
    0.4
    >>> select_operating_point(y, p, "malignant", target_specificity=0.8)
    0.6

    For a binary scikit-learn classifier, fix its decision threshold with
    :class:`~sklearn.model_selection.FixedThresholdClassifier`:

    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import FixedThresholdClassifier
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0], [4.0], [5.0], [6.0], [7.0]])
    >>> y = np.array(["benign"] * 4 + ["malignant"] * 4)
    >>> clf = LogisticRegression().fit(X, y)
    >>> t = select_operating_point(y, clf.predict_proba(X), "malignant",
    ...                            target_sensitivity=1.0, classes=clf.classes_)
    >>> screen = FixedThresholdClassifier(clf, threshold=t, pos_label="malignant",
    ...                                   response_method="predict_proba").fit(X, y)
    >>> (screen.predict(X) == "malignant").sum() >= 4
    np.True_
    """
    if target_sensitivity is not None and target_specificity is not None:
        raise ValueError(
            "give target_sensitivity or target_specificity, not both: one fixes the threshold."
        )
    curve = _curve(y_true, y_score, positive, classes)
    if curve.undefined()[0]:
        raise ValueError(
            "cannot choose an operating point: y_true needs both positive and negative cases."
        )
    if target_specificity is not None:
        target = check_unit_interval(target_specificity, "target_specificity")
        return float(curve.threshold_for("specificity", target)[0])
    target = check_unit_interval(
        0.95 if target_sensitivity is None else target_sensitivity, "target_sensitivity"
    )
    return float(curve.threshold_for("sensitivity", target)[0])


def sensitivity_at_specificity(
    y_true: Any,
    y_score: Any,
    specificity: float,
    positive: Any = None,
    *,
    classes: Any = None,
) -> float:
    """Highest sensitivity reachable at a specificity of at least ``specificity``.

    Read off the empirical ROC curve without interpolation (an achievable
    operating point). NaN, with a warning, when y_true lacks positives or
    negatives.

    Examples
    --------
    >>> from skinlesion.metrics import sensitivity_at_specificity
    >>> y = ["b"] * 5 + ["m"] * 5
    >>> p = [0.1, 0.2, 0.3, 0.4, 0.7, 0.5, 0.6, 0.8, 0.9, 0.95]
    >>> sensitivity_at_specificity(y, p, 0.8, "m")  # one false positive allowed
    1.0
    >>> sensitivity_at_specificity(y, p, 1.0, "m")  # none allowed
    0.6
    """
    target = check_unit_interval(specificity, "specificity")
    return float(_curve(y_true, y_score, positive, classes).sensitivity_at_specificity(target)[0])


def specificity_at_sensitivity(
    y_true: Any,
    y_score: Any,
    sensitivity: float,
    positive: Any = None,
    *,
    classes: Any = None,
) -> float:
    """Highest specificity reachable at a sensitivity of at least ``sensitivity``.

    Read off the empirical ROC curve without interpolation. Reader studies give
    dermatologists' mean sensitivity (0.866 in Haenssle et al. 2018); the model's
    specificity there is the fair comparison.

    Examples
    --------
    >>> from skinlesion.metrics import specificity_at_sensitivity
    >>> y = ["b"] * 5 + ["m"] * 5
    >>> p = [0.1, 0.2, 0.3, 0.4, 0.7, 0.5, 0.6, 0.8, 0.9, 0.95]
    >>> specificity_at_sensitivity(y, p, 1.0, "m")
    0.8
    """
    target = check_unit_interval(sensitivity, "sensitivity")
    return float(_curve(y_true, y_score, positive, classes).specificity_at_sensitivity(target)[0])


def partial_auc_above_sensitivity(
    y_true: Any,
    y_score: Any,
    min_sensitivity: float = 0.8,
    positive: Any = None,
    *,
    classes: Any = None,
) -> float:
    """Area under the ROC curve where sensitivity >= ``min_sensitivity`` (ISIC "AUC80").

    The raw (not McClish-standardised) partial area, computed exactly as the ISIC
    challenge scorer's ``auc_sens_80``: a perfect classifier scores 1.0 and a
    chance one ``(1 - m**2) / 2`` = 0.18 for ``m = 0.8``. Note that
    ``roc_auc_score(max_fpr=...)`` bounds the false positive rate instead and
    standardises the result, so it is a different figure.

    Examples
    --------
    >>> from skinlesion.metrics import partial_auc_above_sensitivity
    >>> y = ["b", "b", "m", "m"]
    >>> partial_auc_above_sensitivity(y, [0.1, 0.2, 0.8, 0.9], positive="m")
    1.0
    """
    target = check_unit_interval(min_sensitivity, "min_sensitivity")
    return float(_curve(y_true, y_score, positive, classes).auc_above_sensitivity(target)[0])


def _constrained_specificity(
    y_true: Any, y_pred: Any, *, pos_label: Any, target_sensitivity: float
) -> float:
    y_true = np.asarray(y_true) == pos_label
    called = np.asarray(y_pred) == pos_label
    c = {
        k: float(v[0])
        for k, v in _engine.counts(_engine.unit_weights(called.size), y_true, called).items()
    }
    sens = c["tp"] / max(c["tp"] + c["fn"], 1)
    spec = c["tn"] / max(c["tn"] + c["fp"], 1)
    return spec if sens >= target_sensitivity - 1e-12 else sens - 1.0


def sensitivity_constrained_scorer(target_sensitivity: float, pos_label: Any) -> Any:
    """A scorer for :class:`~sklearn.model_selection.TunedThresholdClassifierCV`.

    It scores a threshold by its specificity when its sensitivity reaches
    ``target_sensitivity`` and by ``sensitivity - 1`` (negative) otherwise, so
    tuning picks the most specific threshold that meets the target.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import TunedThresholdClassifierCV
    >>> from skinlesion.metrics import sensitivity_constrained_scorer
    >>> rng = np.random.default_rng(0)
    >>> y = np.where(rng.random(300) < 0.3, "malignant", "benign")
    >>> X = (y == "malignant")[:, None] + rng.normal(size=(300, 1))
    >>> scorer = sensitivity_constrained_scorer(0.9, pos_label="malignant")
    >>> tuned = TunedThresholdClassifierCV(LogisticRegression(), scoring=scorer,
    ...                                    random_state=0).fit(X, y)
    >>> bool(0.0 < tuned.best_threshold_ < 0.5)
    True
    """
    from sklearn.metrics import make_scorer

    target = check_unit_interval(target_sensitivity, "target_sensitivity")
    return make_scorer(_constrained_specificity, pos_label=pos_label, target_sensitivity=target)
