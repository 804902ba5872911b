"""Pipelines whose samplers act at fit time only: :class:`Pipeline`, :func:`make_pipeline`.

This is imbalanced-learn's pipeline: steps with ``fit_resample``
(:class:`~skinlesion.Rebalancer`, :class:`~skinlesion.Augmenter`) resample the
data the following steps are fitted on, and are skipped when the pipeline
predicts or scores. Inside cross-validation (``GridSearchCV``,
``cross_val_score``) they therefore only ever see the training part of each
split: no copy or augmented version of a validation image reaches training.
"""

from __future__ import annotations

from typing import Any

from imblearn.pipeline import Pipeline as _ImbPipeline
from imblearn.pipeline import make_pipeline as _imb_make_pipeline

__all__ = ["Pipeline", "make_pipeline"]


class Pipeline(_ImbPipeline):
    """A chain of samplers and transformers ending in an estimator.

    The same as :class:`imblearn.pipeline.Pipeline` (it takes the same
    parameters): samplers resample at ``fit`` only; ``predict``,
    ``predict_proba`` and ``score`` pass the images straight to the estimator.

    Parameters
    ----------
    steps : list of (str, estimator) tuples
        The steps, in order; the last one is the estimator.
    transform_input : list of str, default=None
        See :class:`imblearn.pipeline.Pipeline`.
    memory : str or object with the joblib.Memory interface, default=None
        Caches fitted steps.
    verbose : bool, default=False
        Print the time each step takes.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.dummy import DummyClassifier
    >>> from skinlesion import Pipeline, Rebalancer
    >>> X = np.zeros((5, 8, 8, 3), dtype=np.uint8)
    >>> y = ["nevus", "nevus", "nevus", "melanoma", "melanoma"]
    >>> pipe = Pipeline([("rebalance", Rebalancer(random_state=0)),
    ...                  ("model", DummyClassifier(strategy="prior"))])
    >>> pipe.fit(X, y).predict(X).shape  # prediction sees the 5 images, not 6
    (5,)
    """


def make_pipeline(*steps: Any, memory: Any = None, verbose: bool = False) -> Pipeline:
    """Build a :class:`Pipeline` from steps, naming each after its class.

    Use it instead of :func:`sklearn.pipeline.make_pipeline` whenever a step is a
    sampler; a scikit-learn pipeline refuses samplers with a message that says so.

    Parameters
    ----------
    *steps : estimators
        Samplers and transformers, then the estimator.
    memory : str or object with the joblib.Memory interface, default=None
        Caches fitted steps.
    verbose : bool, default=False
        Print the time each step takes.

    Returns
    -------
    pipeline : Pipeline
        Steps are named after their classes in lower case, e.g. ``"rebalancer"``,
        ``"augmenter"``, ``"lesionclassifier"`` (the prefixes for ``set_params``
        and grid-search parameter names).

    Examples
    --------
    >>> from skinlesion import Augmenter, LesionClassifier, Rebalancer, make_pipeline
    >>> pipe = make_pipeline(
    ...     Rebalancer(random_state=0),
    ...     Augmenter(rotate=10, flip=True, zoom=0.2, random_state=0),
    ...     LesionClassifier(epochs=1, random_state=0),
    ... )
    >>> [name for name, _ in pipe.steps]
    ['rebalancer', 'augmenter', 'lesionclassifier']
    """
    steps_named = _imb_make_pipeline(*steps).steps
    return Pipeline(steps_named, memory=memory, verbose=verbose)
