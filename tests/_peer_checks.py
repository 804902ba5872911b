"""Running scikit-learn's and imbalanced-learn's estimator checks on image estimators.

Both libraries' checks make 2-D tabular data, ``(n_samples, n_features)``; the
skinlesion estimators take 4-D images ``(n, height, width, channels)``. The
test modules run the checks on test-only subclasses that turn each row of the
checks' data into a tiny image with :func:`rows_as_images` and hand it to the
estimator's own methods, so that the checks exercise skinlesion's code.

Each check that fails is listed in the test module with its reason and a pattern
that its error (message, or the line that raised it) must match: a check that
starts passing, or fails for another reason, fails the suite.
"""

from __future__ import annotations

import functools
import re
import traceback
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pytest


def signed_squash(values: np.ndarray) -> np.ndarray:
    """``x / (1 + |x|)``: non-negative data into [0, 1), negative values stay negative.

    For scikit-learn's checks, which make their data non-negative for estimators
    tagged ``positive_only`` (and feed negative data where they test that tag).
    The dtype is kept; infinite values stay infinite.
    """
    with np.errstate(invalid="ignore"):
        return np.where(np.isinf(values), values, values / (1 + np.abs(values)))


def logistic(values: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-x))``: any real number into (0, 1), keeping the dtype.

    For imbalanced-learn's checks, whose data have negative values whatever the tags.
    """
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-values))


def rows_as_images(X: Any, squash: Callable[[np.ndarray], np.ndarray]) -> Any:
    """``(n, f)`` rows as ``(n, 1, f, 1)`` grayscale images, one pixel high.

    Floats pass through ``squash``; integers and booleans are pixel values as they
    are. A list comes back as a nested list and scikit-learn's ``_NotAnArray`` as
    one, so the estimator sees the kind of container the check made (a DataFrame
    cannot hold images: it becomes an array). Anything else (sparse matrices, 1-D or
    3-D data) is passed on untouched, so that the estimator's own errors answer it.
    """
    if hasattr(X, "tocsr"):
        return X
    try:
        arr = np.asarray(X)
    except TypeError:  # _NotAnArray refuses NumPy's array functions
        arr = np.asarray(X.data)
    if arr.ndim != 2:
        return X
    if arr.dtype.kind == "f":
        arr = squash(arr)
    images = arr.reshape(arr.shape[0], 1, arr.shape[1], 1)
    if isinstance(X, list):
        return images.tolist()
    if type(X).__name__ == "_NotAnArray":
        return type(X)(images)
    return images


def unwrap(check: Any) -> tuple[str, dict[str, Any]]:
    """Name and keyword arguments of a check, unwrapped from its partials."""
    kwargs: dict[str, Any] = {}
    while isinstance(check, functools.partial):
        kwargs = {**check.keywords, **kwargs}
        check = check.func
    return check.__name__, kwargs


def check_params(
    estimators: Iterable[Any],
    generator: Callable[..., Iterable[tuple[Any, Any]]],
    slow: Iterable[str] = (),
) -> list[Any]:
    """``pytest.param(estimator, check)`` for every check, with short ids.

    The id is the check's name and keyword arguments, prefixed by the estimator's
    class when there are several; checks named in ``slow`` are marked slow.
    """
    estimators = list(estimators)
    slow = set(slow)
    params = []
    for estimator in estimators:
        for instance, check in generator(estimator, legacy=True, mark=None):
            name, kwargs = unwrap(check)
            check_id = name + "".join(f"[{k}={v}]" for k, v in kwargs.items())
            if len(estimators) > 1:
                check_id = f"{type(estimator).__name__.lstrip('_')}-{check_id}"
            marks = [pytest.mark.slow] if name in slow else []
            params.append(pytest.param(instance, check, id=check_id, marks=marks))
    return params


def run_check(estimator: Any, check: Any, expected_failures: Mapping[str, tuple[str, str]]):
    """Run ``check``; an expected failure must fail with its cause, and is then an xfail."""
    name, _ = unwrap(check)
    if name not in expected_failures:
        check(estimator)
        return
    reason, cause = expected_failures[name]
    with pytest.raises(Exception) as failure:  # the cause is matched below
        check(estimator)
    what = what_failed(failure.value)
    assert re.search(cause, what), f"{name} failed, but not because {reason}:\n{what}"
    pytest.xfail(reason)


def what_failed(error: BaseException | None) -> str:
    """The messages of an error and of its causes, each with the line that raised it."""
    texts = []
    while error is not None:
        frames = traceback.extract_tb(error.__traceback__)
        texts += [str(error), (frames[-1].line or "") if frames else ""]
        error = error.__cause__ or error.__context__
    return "\n".join(texts)
