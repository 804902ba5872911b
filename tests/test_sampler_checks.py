"""imbalanced-learn's sampler checks on Rebalancer and Augmenter.

imbalanced-learn's checks feed tabular data (2-D ``make_classification`` rows,
one-hot targets, categorical strings). Our samplers take images, so the checks
that need tabular ``X`` are expected to fail, each with its reason below; the
property each of them checks is then tested on images in this file.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from imblearn.utils.estimator_checks import parametrize_with_checks
from sklearn.base import clone

from skinlesion import Augmenter, Rebalancer

TABULAR_X = (
    "feeds 2-D tabular rows; skinlesion samplers take 4-D images or paths (tested on images "
    "in this file)"
)
EXPECTED_FAILURES = {
    "check_samplers_one_label": TABULAR_X,
    "check_samplers_fit": TABULAR_X,
    "check_samplers_fit_resample": TABULAR_X,
    "check_samplers_list": TABULAR_X + " (nested lists of numbers are not image paths)",
    "check_samplers_preserve_dtype": TABULAR_X,
    "check_samplers_sample_indices": TABULAR_X,
    "check_samplers_multiclass_ova": (
        "one-hot targets are refused on purpose: labels are class names, and a clear error "
        "says to pass them"
    ),
    "check_samplers_2d_target": "a column-vector y is refused with a clear error",
}

SAMPLERS = [Rebalancer(random_state=0), Augmenter(rotate=10, flip=True, random_state=0)]


_CHECKS = parametrize_with_checks(SAMPLERS, expected_failed_checks=lambda est: EXPECTED_FAILURES)


# imbalanced-learn hands pytest a generator of checks, which pytest deprecates (an
# error from pytest 10 on); the same checks, marks and ids as a list
@pytest.mark.parametrize(_CHECKS.args[0], list(_CHECKS.args[1]), **_CHECKS.kwargs)
def test_imbalanced_learn_sampler_checks(estimator, check):
    check(estimator)


# The same properties, on images.


def _images(counts, size=8, seed=0):
    rng = np.random.default_rng(seed)
    y = np.array([c for c, n in counts.items() for _ in range(n)])
    X = rng.integers(0, 256, size=(len(y), size, size, 3), dtype=np.uint8)
    return X, y


@pytest.mark.parametrize("sampler", SAMPLERS, ids=lambda s: type(s).__name__)
def test_one_label_balancing_strategy_is_an_error_naming_the_class(sampler):
    X, _ = _images({"nevus": 5})
    with pytest.raises(ValueError, match="class"):
        clone(sampler).set_params(sampling_strategy="auto").fit_resample(X, ["nevus"] * 5)


@pytest.mark.parametrize("sampler", SAMPLERS, ids=lambda s: type(s).__name__)
def test_fit_resample_balances_and_sets_fitted_attributes(sampler):
    X, y = _images({"a": 4, "b": 10, "c": 7})
    sampler = clone(sampler).set_params(sampling_strategy="auto")
    assert sampler.fit(X, y) is sampler
    X_res, y_res = sampler.fit_resample(X, y)
    assert Counter(y_res) == {"a": 10, "b": 10, "c": 10}
    assert len(X_res) == len(y_res) == len(sampler.sample_indices_)
    assert sampler.sampling_strategy_ == {"a": 10, "b": 10, "c": 10}
    np.testing.assert_array_equal(y_res, y[sampler.sample_indices_])


@pytest.mark.parametrize("sampler", SAMPLERS, ids=lambda s: type(s).__name__)
def test_preserves_dtypes_on_images(sampler):
    X, y = _images({"a": 4, "b": 6})
    X = (X / 255.0).astype(np.float32)
    y = (y == "a").astype(np.int32)
    X_res, y_res = clone(sampler).set_params(sampling_strategy="auto").fit_resample(X, y)
    assert X_res.dtype == np.float32
    assert y_res.dtype == np.int32


@pytest.mark.parametrize("sampler", SAMPLERS, ids=lambda s: type(s).__name__)
def test_lists_give_lists_of_labels(sampler):
    X, y = _images({"a": 4, "b": 6})
    _, y_res = clone(sampler).set_params(sampling_strategy="auto").fit_resample(X, list(y))
    assert isinstance(y_res, list)


@pytest.mark.parametrize("sampler", SAMPLERS, ids=lambda s: type(s).__name__)
@pytest.mark.parametrize("bad_y", ["one-hot", "column"])
def test_two_dimensional_targets_are_clear_errors(sampler, bad_y):
    X, y = _images({"a": 4, "b": 6})
    codes = (y == "a").astype(int)
    y_2d = np.eye(2)[codes] if bad_y == "one-hot" else codes.reshape(-1, 1)
    with pytest.raises(ValueError, match="one class label per image"):
        clone(sampler).fit_resample(X, y_2d)
