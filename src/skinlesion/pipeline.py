"""Pipelines whose samplers act at fit time only: :class:`Pipeline`, :func:`make_pipeline`.

This is imbalanced-learn's pipeline: steps with ``fit_resample``
(:class:`~skinlesion.Rebalancer`, :class:`~skinlesion.Augmenter`) resample the
data the following steps are fitted on, and are skipped when the pipeline
predicts or scores. Inside cross-validation (``GridSearchCV``,
``cross_val_score``) they therefore only ever see the training part of each
split: no copy or augmented version of a validation image reaches training.

It also tracks where every resampled image comes from (the samplers'
``sample_indices_``, composed), so that the final step's ``groups`` follow the
resampled rows, and a final :class:`~skinlesion.LesionClassifier` keeps each
copy on its source image's side of its early-stopping validation split.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from imblearn.pipeline import Pipeline as _ImbPipeline
from imblearn.pipeline import make_pipeline as _imb_make_pipeline

from skinlesion._compat import _num_samples

__all__ = ["Pipeline", "make_pipeline"]


class Pipeline(_ImbPipeline):
    """A chain of samplers and transformers ending in an estimator.

    The same as :class:`imblearn.pipeline.Pipeline` (it takes the same
    parameters): samplers resample at ``fit`` only; ``predict``,
    ``predict_proba`` and ``score`` pass the images straight to the estimator.

    Two things it adds at ``fit``, both about where each resampled image comes
    from:

    - ``groups`` given to the final step (``pipe.fit(X, y,
      lesionclassifier__groups=lesion_ids)``, one per input image) reach it
      resampled like the images: every image gets its source image's group.
    - A final :class:`~skinlesion.LesionClassifier` gets those groups joined
      with the source of every image, and with repeated files or identical
      images in the input, so its early-stopping validation split never holds
      out a copy, repeat or augmented version of an image it trains on.

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

    Attributes
    ----------
    sample_indices_ : ndarray of int of shape (n_resampled,) or None
        Row of the input of ``fit`` that each image the final step was fitted on
        comes from: the sampler steps' ``sample_indices_`` composed in order
        (``arange(n)`` without samplers), ``None`` when a sampler records none.
        With a final :class:`~skinlesion.LesionClassifier`,
        ``pipe.sample_indices_[pipe[-1].validation_indices_]`` are the input
        rows its validation images were made from.

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
    >>> pipe.sample_indices_  # the model was fitted on a repeat of image 3 or 4
    array([0, 1, 2, 3, 4, 3])
    """

    def _fit(self, X: Any, y: Any = None, routed_params: Any = None, **kwargs: Any) -> Any:
        # imbalanced-learn's fit, fit_transform, fit_resample and fit_predict all run
        # the steps but the last through _fit, then pass the last step the parameters
        # in routed_params: the place to resample its groups, once the samplers ran.
        Xt, yt = super()._fit(X, y, routed_params, **kwargs)
        self.sample_indices_ = self._composed_sample_indices(_num_samples(X))
        if routed_params is not None:
            self._resample_final_groups(X, routed_params)
        return Xt, yt

    def _samplers(self) -> list[tuple[str, Any]]:
        return [
            (name, step)
            for name, step in self.steps[:-1]
            if step is not None and step != "passthrough" and hasattr(step, "fit_resample")
        ]

    def _composed_sample_indices(self, n_input: int) -> np.ndarray | None:
        origins = np.arange(n_input)
        for _, sampler in self._samplers():
            indices = getattr(sampler, "sample_indices_", None)
            if indices is None:
                return None
            origins = origins[np.asarray(indices)]
        return origins

    def _resample_final_groups(self, X: Any, routed_params: Any) -> None:
        """Give the final step's ``groups`` for its resampled rows (see the class docs)."""
        from skinlesion._groups import check_groups, duplicate_groups, merge_groups
        from skinlesion.model._classifier import LesionClassifier

        name, final = self.steps[-1]
        if final is None or final == "passthrough" or name not in routed_params:
            return
        step_params = routed_params[name]
        given = {
            method: params["groups"]
            for method, params in step_params.items()
            if isinstance(params, dict) and params.get("groups") is not None
        }
        ours = isinstance(final, LesionClassifier) and bool(final.validation_fraction)
        if not self._samplers() or not (given or ours):
            return  # rows unchanged: the step gets what it was given
        origins = self.sample_indices_
        if origins is None:
            if given:
                missing = [
                    n for n, s in self._samplers() if getattr(s, "sample_indices_", None) is None
                ]
                raise ValueError(
                    f"groups cannot follow the images resampled by step {missing[0]!r}: it "
                    "records no sample_indices_ (which input image each output image comes "
                    "from). Use a sampler that records them (skinlesion.Rebalancer, "
                    "skinlesion.Augmenter, imbalanced-learn's random samplers), or resample "
                    "outside the pipeline."
                )
            return
        n_input = int(_num_samples(X))
        for method, groups in given.items():
            step_params[method]["groups"] = check_groups(groups, n_input)[origins]
        if ours:
            try:
                from skinlesion.images import check_images

                duplicates = duplicate_groups(check_images(X))
            except (TypeError, ValueError, OSError):  # the classifier checks its own input
                duplicates = None
            user = given.get("fit")
            if user is not None:
                user = check_groups(user, n_input)
            # every resampled image is grouped with its source, and with that
            # source's duplicates and lesion
            joined = merge_groups(np.arange(n_input), duplicates, user)
            step_params["fit"]["groups"] = joined[origins]


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
