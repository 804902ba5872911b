"""What :class:`~skinlesion.Rebalancer` and :class:`~skinlesion.Augmenter` share.

Both are imbalanced-learn samplers over images: ``fit_resample(X, y)`` takes a
4-D image array or a list of paths (validated by
:func:`skinlesion.images.check_images`) and class labels, and only ever runs at
fit time inside :class:`skinlesion.Pipeline` (imbalanced-learn's pipeline).

This module holds the label checks, the resolution of a ``sampling_strategy``
into a target count per class (imbalanced-learn's semantics, plus an ``int``
meaning "this many images per class"), and the guard that turns a plain
scikit-learn ``Pipeline`` into a clear error instead of a silent misuse.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Hashable, Mapping
from typing import Any

import numpy as np
from imblearn.base import BaseSampler
from imblearn.utils import check_sampling_strategy
from sklearn.utils import check_consistent_length
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target

from skinlesion._compat import asked_by_sklearn_pipeline

__all__ = [
    "NAMED_STRATEGIES",
    "STRATEGY_NAMES",
    "ImageSampler",
    "class_counts",
    "resample_indices",
    "resolve_targets",
]

#: The ``sampling_strategy`` names both samplers take (imbalanced-learn's), in the
#: order their docstrings list them.
STRATEGY_NAMES = ("auto", "minority", "not minority", "not majority", "all")
NAMED_STRATEGIES = frozenset(STRATEGY_NAMES)

_PIPELINE_HINT = (
    "{name} is a sampler: it changes the training images at fit time only, which a "
    "scikit-learn Pipeline cannot do. Build the pipeline with skinlesion.make_pipeline(...) "
    "(or skinlesion.Pipeline / imblearn.pipeline.Pipeline) instead of "
    "sklearn.pipeline.make_pipeline / sklearn.pipeline.Pipeline."
)


def check_labels(y: Any, n: int) -> np.ndarray:
    """Validate class labels for ``n`` images; return them as a 1-D array."""
    if y is None:
        raise ValueError(
            "A sampler requires y to be passed, but the target y is None: it balances "
            "classes, so pass one class label per image."
        )
    from skinlesion._labels import check_label_values

    y_arr = check_label_values(y)
    if y_arr.ndim != 1:
        kind = type_of_target(y_arr) if y_arr.ndim == 2 else f"{y_arr.ndim}-D"
        raise ValueError(
            f"y must be 1-D, one class label per image, got shape {y_arr.shape} ({kind}). "
            "Pass class names, not one-hot rows; use y.argmax(axis=1) or the names."
        )
    check_classification_targets(y_arr)
    check_consistent_length(np.empty(n), y_arr)
    return y_arr


def class_counts(y: np.ndarray) -> dict[Hashable, int]:
    """Class label -> number of images, in sorted label order."""
    labels, n_per_label = np.unique(y, return_counts=True)
    return dict(zip(labels.tolist(), n_per_label.tolist(), strict=True))


def _check_count(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{what} must be a whole number of images, got {value!r}.")
    return int(value)


def resolve_targets(sampling_strategy: Any, y: np.ndarray, method: str) -> dict[Hashable, int]:
    """Turn a sampling strategy into the number of images each class will have.

    Parameters
    ----------
    sampling_strategy : str, float, int, dict or callable
        imbalanced-learn's strategies (``"auto"``, ``"minority"``, ``"not minority"``,
        ``"not majority"``, ``"all"``, a float ratio, a dict of per-class counts, a
        callable), or an int: with ``method="over"`` every class gets *at least* that
        many images, with ``"under"`` *at most*, with ``"both"`` *exactly*.
    y : ndarray of shape (n,)
        Class labels.
    method : {"over", "under", "both"}
        Whether classes may grow, shrink, or both.

    Returns
    -------
    targets : dict
        Class label -> number of images after resampling, for every class in ``y``.

    Examples
    --------
    >>> import numpy as np
    >>> from skinlesion.sampling._base import resolve_targets
    >>> y = np.array(["nevus"] * 5 + ["melanoma"] * 2)
    >>> resolve_targets("auto", y, "over")
    {'melanoma': 5, 'nevus': 5}
    >>> resolve_targets(4, y, "both")
    {'melanoma': 4, 'nevus': 4}
    """
    if isinstance(sampling_strategy, (bool, np.bool_)):
        raise ValueError(
            f"sampling_strategy={sampling_strategy!r} is not a strategy; give 'auto', an int "
            "(images per class) or a dict {class: count}."
        )
    counts = class_counts(y)
    classes = list(counts)
    if isinstance(sampling_strategy, numbers.Integral) and not isinstance(sampling_strategy, bool):
        target = int(sampling_strategy)
        if target < 1:
            raise ValueError(
                f"sampling_strategy={target} asks for {target} images per class; give a "
                "positive number of images."
            )
        if method == "over":
            return {c: max(n, target) for c, n in counts.items()}
        if method == "under":
            return {c: min(n, target) for c, n in counts.items()}
        return dict.fromkeys(counts, target)
    if isinstance(sampling_strategy, Mapping):
        unknown = [c for c in sampling_strategy if c not in counts]
        if unknown:
            raise ValueError(
                f"sampling_strategy names class(es) {unknown!r} that are not in y; the classes "
                f"in y are {classes!r}. Check the spelling, or drop classes with no images."
            )
        targets = dict(counts)
        for c, value in sampling_strategy.items():
            value = _check_count(value, f"sampling_strategy[{c!r}]")
            if value < 1:
                raise ValueError(
                    f"sampling_strategy[{c!r}]={value} would leave class {c!r} empty; give at "
                    "least 1 image, or remove that class's images from the data instead."
                )
            if method == "over" and value < counts[c]:
                raise ValueError(
                    f"sampling_strategy[{c!r}]={value} is below the {counts[c]} images class "
                    f"{c!r} already has, but over-sampling only adds images. Ask for at least "
                    f"{counts[c]}, or use Rebalancer(method='both') to also under-sample."
                )
            if method == "under" and value > counts[c]:
                raise ValueError(
                    f"sampling_strategy[{c!r}]={value} is above the {counts[c]} images class "
                    f"{c!r} has, but under-sampling only removes images. Ask for at most "
                    f"{counts[c]}, or use method='both' to also over-sample."
                )
            targets[c] = value
        return targets
    if method == "both":
        raise ValueError(
            f"method='both' needs target counts: sampling_strategy must be an int (images per "
            f"class) or a dict {{class: count}}, got {sampling_strategy!r}. For imbalanced-learn's "
            "named strategies use method='over' or method='under'."
        )
    if len(counts) < 2 and isinstance(sampling_strategy, (str, float, Callable)):
        raise ValueError(
            f"y holds one class only ({classes[0]!r}); sampling_strategy={sampling_strategy!r} "
            "balances classes against each other and needs at least two. Give an int (images "
            "per class) instead."
        )
    sampling_type = "over-sampling" if method == "over" else "under-sampling"
    resolved = check_sampling_strategy(sampling_strategy, y, sampling_type)
    targets = dict(counts)
    for c, value in resolved.items():
        # imbalanced-learn: over-sampling gives images to add, under-sampling final counts.
        targets[c] = counts[c] + int(value) if method == "over" else int(value)
    return targets


def resample_indices(
    y: np.ndarray, targets: Mapping[Hashable, int], rng: np.random.RandomState
) -> np.ndarray:
    """Row indices that give each class its target count.

    Classes above their target are under-sampled without replacement
    (imbalanced-learn's ``RandomUnderSampler``), classes below it keep all their
    rows and get randomly repeated ones appended (``RandomOverSampler``), both run
    on a column of row numbers so that no pixel is touched.

    Examples
    --------
    >>> import numpy as np
    >>> from skinlesion.sampling._base import resample_indices
    >>> y = np.array(["a", "a", "a", "b"])
    >>> idx = resample_indices(y, {"a": 2, "b": 3}, np.random.RandomState(0))
    >>> sorted(y[idx].tolist())
    ['a', 'a', 'b', 'b', 'b']
    """
    from imblearn.over_sampling import RandomOverSampler
    from imblearn.under_sampling import RandomUnderSampler

    counts = class_counts(y)
    keep = np.arange(len(y))
    shrink = {c: t for c, t in targets.items() if t < counts[c]}
    grow = {c: t for c, t in targets.items() if t > counts[c]}
    if len(counts) == 1:  # imbalanced-learn needs two classes; one is simple
        ((label, n),) = counts.items()
        if label in shrink:
            return np.sort(rng.choice(n, size=shrink[label], replace=False))
        if label in grow:
            return np.concatenate([keep, rng.randint(n, size=grow[label] - n)])
        return keep
    seed = np.iinfo(np.int32).max
    if shrink:
        under = RandomUnderSampler(sampling_strategy=shrink, random_state=rng.randint(seed))
        under.fit_resample(keep.reshape(-1, 1), y)
        keep = keep[under.sample_indices_]
    if grow:
        over = RandomOverSampler(sampling_strategy=grow, random_state=rng.randint(seed))
        over.fit_resample(keep.reshape(-1, 1), y[keep])
        keep = keep[over.sample_indices_]
    return keep


def _unavailable_transform(self: Any, X: Any) -> Any:
    raise TypeError(_PIPELINE_HINT.format(name=type(self).__name__))


class ImageSampler(BaseSampler):
    """Base class: an imbalanced-learn sampler whose ``X`` holds images.

    Subclasses implement ``_fit_resample(X, y, X_original) -> (X_out, y_out)`` on
    validated input (a uint8 image array or an object array of paths; ``X_original``
    is what the caller passed) and set ``sample_indices_``.
    """

    _sampling_type = "bypass"  # our samplers resolve their own strategies

    # Present only when a plain scikit-learn Pipeline asks for it: then it raises a
    # TypeError that says to use skinlesion.make_pipeline (see _compat.asked_by_sklearn_pipeline).
    transform = available_if(asked_by_sklearn_pipeline)(_unavailable_transform)

    def _check_X_y(self, X: Any, y: Any, accept_sparse: Any = None) -> tuple[Any, Any, bool]:
        from skinlesion.images import check_images

        X_checked = check_images(X)
        y_checked = check_labels(y, len(X_checked))
        return X_checked, y_checked, False

    def fit(self, X: Any, y: Any, **params: Any) -> ImageSampler:
        """Check ``X`` and ``y`` and set ``sampling_strategy_``; :meth:`fit_resample` resamples.

        Returns
        -------
        self : object
        """
        self._validate_params()
        _, y_arr, _ = self._check_X_y(X, y)
        self.sampling_strategy_ = self._resolve_strategy(y_arr)
        return self

    def _resolve_strategy(self, y: np.ndarray) -> dict[Hashable, int] | None:
        """Class label -> number of images after resampling (see ``sampling_strategy_``)."""
        raise NotImplementedError

    def fit_resample(self, X: Any, y: Any, **params: Any) -> tuple[Any, Any]:
        """Resample images ``X`` and labels ``y``; used by the pipeline at fit time only.

        Parameters
        ----------
        X : array-like of shape (n, height, width, channels), or list of paths
            Images, as :func:`skinlesion.images.check_images` accepts them.
        y : array-like of shape (n,)
            Class labels.

        Returns
        -------
        X_resampled : ndarray or list
            The resampled images (see the class description for their kind).
        y_resampled : same kind as ``y``
            Their labels.
        """
        self._validate_params()
        X_checked, y_arr, _ = self._check_X_y(X, y)
        X_out, y_out = self._fit_resample(X_checked, y_arr, X_original=X)
        return X_out, self._restore_y(y, y_out)

    def _restore_y(self, y_in: Any, y_out: np.ndarray) -> Any:
        if isinstance(y_in, list):
            return y_out.tolist()
        if type(y_in).__name__ == "Series":
            import pandas as pd

            return pd.Series(y_out, name=y_in.name, dtype=y_in.dtype)
        return y_out

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.sparse = False
        tags.input_tags.dataframe = False
        tags.input_tags.string = False  # no tabular strings (paths are a 1-D list)
        tags.input_tags.positive_only = True  # pixel values: negative ones are an error
        tags.sampler_tags.sample_indices = True
        return tags
