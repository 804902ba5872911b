"""Plots of a classifier's evaluation, as scikit-learn style ``Display`` objects.

Each display gets what it draws from the metrics engine in ``from_predictions``
(or ``from_estimator``, which calls the estimator for you), keeps it in
attributes, and draws in :meth:`plot`, which takes ``ax=`` and sets ``ax_``,
``figure_`` and the drawn artists (``im_``, ``line_``, ...), as scikit-learn's
displays do. matplotlib is imported only when drawing.

* :class:`ConfusionMatrixDisplay`: counts and row-normalised, side by side.
* :class:`RocCurveDisplay`: one-vs-rest ROC curves, bootstrap band, operating point.
* :class:`ReliabilityDisplay`: reliability diagram with the confidence histogram.
* :class:`ReferralCurveDisplay`: the figures as the least-confident cases are referred.
* :class:`SubgroupDisplay`: each subgroup's figures with their intervals (forest plot).
* :class:`TrainingHistoryDisplay`: loss and accuracy per epoch from ``history_``.
* :class:`SampleImagesDisplay`: a grid of sample images per class.
* :class:`WorstMistakesDisplay`: the most confident wrong predictions.
"""

from __future__ import annotations

from skinlesion.metrics.displays.confusion_matrix import ConfusionMatrixDisplay
from skinlesion.metrics.displays.history import TrainingHistoryDisplay
from skinlesion.metrics.displays.images import SampleImagesDisplay, WorstMistakesDisplay
from skinlesion.metrics.displays.referral import ReferralCurveDisplay
from skinlesion.metrics.displays.reliability import ReliabilityDisplay
from skinlesion.metrics.displays.roc_curve import RocCurveDisplay
from skinlesion.metrics.displays.subgroups import SubgroupDisplay

__all__ = [
    "ConfusionMatrixDisplay",
    "ReferralCurveDisplay",
    "ReliabilityDisplay",
    "RocCurveDisplay",
    "SampleImagesDisplay",
    "SubgroupDisplay",
    "TrainingHistoryDisplay",
    "WorstMistakesDisplay",
]
