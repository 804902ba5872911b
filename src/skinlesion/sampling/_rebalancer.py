"""Class balancing by resampling indices: :class:`~skinlesion.Rebalancer`."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np

from skinlesion._compat import Interval, StrOptions
from skinlesion._docstrings import Substitution, listed, random_state_doc
from skinlesion._random import check_random_state
from skinlesion.sampling._base import (
    NAMED_STRATEGIES,
    STRATEGY_NAMES,
    ImageSampler,
    resample_indices,
    resolve_targets,
)

__all__ = ["Rebalancer"]


@Substitution(
    named_strategies=listed(STRATEGY_NAMES),
    random_state=random_state_doc("the random choice of images", "it"),
)
class Rebalancer(ImageSampler):
    """Balance class counts by repeating or dropping images (at fit time only).

    Over-sampling repeats randomly chosen images of the classes that need more;
    under-sampling drops randomly chosen images of the classes that have too many.
    Only indices are resampled, never pixels: an image array is indexed (its dtype
    is kept) and a list of paths stays a list of paths, so large data sets stay on
    disk. Use it as a step of :func:`skinlesion.make_pipeline`, where it only
    sees the training part of each cross-validation split; prediction and scoring
    pass images through untouched. Combine it with :class:`~skinlesion.Augmenter`
    so that repeated images are also perturbed.

    Parameters
    ----------
    sampling_strategy : str, float, int, dict or callable, default="auto"
        How many images each class should have:

        - a name ({named_strategies}), a float ratio or a callable:
          imbalanced-learn's meanings for over-sampling (``method="over"``) or
          under-sampling (``method="under"``). ``"auto"`` brings every class to
          the size of the largest class (over) or the smallest (under).
        - an int ``n``: every class gets at least ``n`` images (``"over"``), at
          most ``n`` (``"under"``), or exactly ``n`` (``"both"``).
        - a dict ``{class: n}``: those classes get exactly ``n`` images; classes
          not named are left as they are.
    method : {"over", "under", "both"}, default="over"
        Whether classes may grow (repeat images), shrink (drop images) or both.
    {random_state}

    Attributes
    ----------
    sampling_strategy_ : dict
        Class label -> number of images after resampling.
    sample_indices_ : ndarray of shape (n_resampled,)
        Row of the input that each output image comes from.

    See Also
    --------
    skinlesion.Augmenter : grows classes with new augmented images.
    imblearn.over_sampling.RandomOverSampler : the machinery used here.

    Examples
    --------
    >>> import numpy as np
    >>> from skinlesion import Rebalancer
    >>> X = np.zeros((6, 8, 8, 3), dtype=np.uint8)
    >>> y = np.array(["nevus"] * 4 + ["melanoma"] * 2)
    >>> X_res, y_res = Rebalancer(random_state=0).fit_resample(X, y)
    >>> sorted(zip(*np.unique(y_res, return_counts=True)))
    [(np.str_('melanoma'), np.int64(4)), (np.str_('nevus'), np.int64(4))]

    Paths stay paths, and a dict asks for exact counts:

    >>> paths = ["a.jpg", "b.jpg", "c.jpg", "d.jpg"]
    >>> labels = ["nevus", "nevus", "nevus", "melanoma"]
    >>> sampler = Rebalancer({"melanoma": 2, "nevus": 2}, method="both", random_state=0)
    >>> paths_res, labels_res = sampler.fit_resample(paths, labels)
    >>> len(paths_res), sorted(labels_res), "d.jpg" in paths_res
    (4, ['melanoma', 'melanoma', 'nevus', 'nevus'], True)
    """

    _parameter_constraints: dict = {
        "sampling_strategy": [
            Interval(Real, 0, 1, closed="right"),
            Interval(Integral, 1, None, closed="left"),
            StrOptions(NAMED_STRATEGIES),
            dict,
            callable,
        ],
        "method": [StrOptions({"over", "under", "both"})],
        "random_state": ["random_state", np.random.Generator],
    }

    def __init__(
        self,
        sampling_strategy: str | float | int | dict[Any, int] | Any = "auto",
        *,
        method: str = "over",
        random_state: int | np.random.RandomState | np.random.Generator | None = None,
    ) -> None:
        self.sampling_strategy = sampling_strategy
        self.method = method
        self.random_state = random_state

    def _resolve_strategy(self, y: np.ndarray) -> dict[Any, int]:
        return resolve_targets(self.sampling_strategy, y, self.method)

    def _fit_resample(
        self, X_checked: np.ndarray, y_arr: np.ndarray, X_original: Any
    ) -> tuple[Any, np.ndarray]:
        targets = self._resolve_strategy(y_arr)
        keep = resample_indices(y_arr, targets, check_random_state(self.random_state))
        self.sampling_strategy_ = targets
        self.sample_indices_ = keep
        if X_checked.dtype == object:  # file paths stay file paths
            X_out: Any = X_checked[keep]
            if isinstance(X_original, (list, tuple)):
                X_out = X_out.tolist()
        else:  # index the caller's own array, so its dtype and channels are kept
            X_out = np.asarray(X_original)[keep]
        return X_out, y_arr[keep]
