"""imbalanced-learn's and scikit-learn's own checks, run on Rebalancer and Augmenter through images.

Both libraries' checks make 2-D tabular data; the samplers take 4-D images. So
the checks run on test-only subclasses that turn each row into a grayscale image
one pixel high (see ``_peer_checks.rows_as_images``), hand it to the sampler's
own ``fit`` and ``fit_resample``, and give the resampled images back as rows of
pixel values, in the container the sampler returned.

imbalanced-learn checks the counts of over- and under-samplers by their base
class (``BaseOverSampler``, ``BaseUnderSampler``), which ours cannot inherit since
one class does both; the subclasses take the base class of what they are
configured to do, so that those branches run. Its checks make data with negative
values whatever the tags, which a logistic function maps into (0, 1);
scikit-learn's honour the ``positive_only`` tag, and keep their negative values
where they test it.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from imblearn.over_sampling.base import BaseOverSampler
from imblearn.under_sampling.base import BaseUnderSampler
from imblearn.utils.estimator_checks import estimator_checks_generator as imblearn_checks
from sklearn.base import clone
from sklearn.utils.estimator_checks import estimator_checks_generator as sklearn_checks

from skinlesion import Augmenter, Rebalancer

from .._peer_checks import check_params, logistic, rows_as_images, run_check, signed_squash

NO_FEATURES = (
    "images have no features to count or name: the samplers take images of any size and "
    "record no n_features_in_"
)
NESTED_LISTS = (
    "nested lists of pixel values come back as one array (lists of file paths stay lists)"
)
# check name -> (why it fails, a pattern its error message or failing line must match)
IMBLEARN_EXPECTED_FAILURES = {
    "check_samplers_list": (NESTED_LISTS, r"isinstance\(X_res_list, list\)"),
    "check_samplers_multiclass_ova": (
        "one-hot targets are refused on purpose: labels are class names, and the error says "
        "to pass them",
        "one class label per image",
    ),
    "check_samplers_2d_target": (
        "a column-vector y is refused with an error asking for one label per image, where "
        "imbalanced-learn's samplers flatten it",
        "one class label per image",
    ),
    "check_sampler_get_feature_names_out": (NO_FEATURES, "is not fitted yet"),
    "check_sampler_get_feature_names_out_pandas": (NO_FEATURES, "is not fitted yet"),
}
PERTURBING_EXPECTED_FAILURES = {
    **IMBLEARN_EXPECTED_FAILURES,
    "check_samplers_one_label": (
        "with sampling_strategy=None the Augmenter perturbs images and balances nothing, so "
        "one class is valid input",
        "can't balance when only one class is present",
    ),
}
SKLEARN_EXPECTED_FAILURES = {
    "check_n_features_in": (NO_FEATURES, "n_features_in_"),
    "check_n_features_in_after_fitting": (NO_FEATURES, "n_features_in_"),
    "check_dtype_object": (
        "pixel data must be numeric: an object array is refused with an error naming its "
        "dtype (a 1-D object array is a list of file paths)",
        "must be numeric",
    ),
    "check_estimators_empty_data_messages": (
        "images without pixels, (12, 1, 0, 1) here, are refused as 'at least 1x1 pixels', "
        "not with check_array's '0 feature(s)' wording",
        "at least 1x1 pixels",
    ),
}


class _Rows:
    """A sampler seen through 2-D rows: each row is a 1-pixel-high grayscale image."""

    squash = staticmethod(logistic)

    def fit(self, X, y, **params):  # type: ignore[no-untyped-def]
        return super().fit(rows_as_images(X, self.squash), y, **params)

    def fit_resample(self, X, y, **params):  # type: ignore[no-untyped-def]
        X_res, y_res = super().fit_resample(rows_as_images(X, self.squash), y, **params)
        if isinstance(X_res, list):
            return [np.ravel(image).tolist() for image in X_res], y_res
        return X_res.reshape(len(X_res), -1), y_res

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True  # the rows are what these subclasses take
        return tags


class _OverRebalancer(_Rows, Rebalancer, BaseOverSampler):
    pass


class _UnderRebalancer(_Rows, Rebalancer, BaseUnderSampler):
    pass


class _OverAugmenter(_Rows, Augmenter, BaseOverSampler):
    pass


class _PerturbingAugmenter(_Rows, Augmenter):
    pass


class _RebalancerRows(_Rows, Rebalancer):
    squash = staticmethod(signed_squash)


class _AugmenterRows(_Rows, Augmenter):
    squash = staticmethod(signed_squash)


AUGMENT = {"flip": True, "brightness": 0.2, "random_state": 0}


@pytest.mark.parametrize(
    ("estimator", "check"),
    check_params(
        [
            _OverRebalancer(method="over", random_state=0),
            _UnderRebalancer(method="under", random_state=0),
            _OverAugmenter(sampling_strategy="auto", **AUGMENT),
        ],
        imblearn_checks,
    ),
)
def test_imbalanced_learn_checks(estimator, check):
    run_check(estimator, check, IMBLEARN_EXPECTED_FAILURES)


@pytest.mark.parametrize(
    ("estimator", "check"), check_params([_PerturbingAugmenter(**AUGMENT)], imblearn_checks)
)
def test_imbalanced_learn_checks_on_perturbing_augmenter(estimator, check):
    run_check(estimator, check, PERTURBING_EXPECTED_FAILURES)


@pytest.mark.parametrize(
    ("estimator", "check"),
    check_params(
        [
            _RebalancerRows(random_state=0),
            _AugmenterRows(sampling_strategy="auto", **AUGMENT),
        ],
        sklearn_checks,
    ),
)
def test_sklearn_checks_on_samplers(estimator, check):
    run_check(estimator, check, SKLEARN_EXPECTED_FAILURES)


def test_samplers_checked_through_rows_count_as_imbalanced_learns_kinds():
    X = np.random.default_rng(0).normal(size=(30, 2))
    y = np.array([0] * 20 + [1] * 10)
    for sampler in (_OverRebalancer(random_state=0), _OverAugmenter("auto", **AUGMENT)):
        X_res, y_res = sampler.fit_resample(X, y)
        assert Counter(y_res.tolist()) == {0: 20, 1: 20} and X_res.shape == (40, 2)
    X_res, y_res = _UnderRebalancer(method="under", random_state=0).fit_resample(X, y)
    assert Counter(y_res.tolist()) == {0: 10, 1: 10}


# The properties behind the expected failures, and others, on images.

SAMPLERS = [Rebalancer(random_state=0), Augmenter(rotate=10, flip=True, random_state=0)]


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
    assert sampler.sampling_strategy_ == {"a": 10, "b": 10, "c": 10}  # fit alone sets it
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
