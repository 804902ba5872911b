"""scikit-learn's own estimator checks, run on LesionClassifier through image-shaped data.

LesionClassifier's tags say that it takes images, not tables
(``two_d_array=False``), and ``check_estimator`` then runs no check at all. So the
checks run on :class:`_RowsAsImages`, a test-only subclass that turns each row of
the checks' data into a grayscale image one pixel high (see
``_peer_checks.rows_as_images``) and hands it to LesionClassifier's own ``fit``
and ``predict_proba``. Cloning, parameters (``check_dont_overwrite_parameters``,
``check_estimators_overwrite_params``, ``set_params``), fitted attributes,
pickling, dtypes, fit idempotence, sample-order and subset invariance, and the
errors on bad input are then checked by scikit-learn's code on LesionClassifier's.

The checks that train networks take 2-20 s of CPU each and are marked slow; the
default run keeps the ones that check the API and the errors, and a few core
properties (idempotence, parameters, sample order, pickling).
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.utils.estimator_checks import estimator_checks_generator

from skinlesion import LesionClassifier

from .._peer_checks import check_params, rows_as_images, run_check, signed_squash

RESIZED = (
    "images of any size are valid input, resized to the training size, so another number "
    "of values per row (another image width here) is no error, and there is no "
    "n_features_in_ (input_shape_ records what the network takes)"
)
# check name -> (why it fails, a pattern its error message or failing line must match)
EXPECTED_FAILURES = {
    "check_n_features_in_after_fitting": (RESIZED, "n_features_in_"),
    "check_n_features_in": (RESIZED, "n_features_in_"),
    "check_classifiers_train": (
        RESIZED + "; the check predicts on X.T and expects an error",
        "does not raise an error when the number of features in predict",
    ),
    "check_fit2d_predict1d": (
        "a 1-D X is refused with LesionClassifier's own message, which asks for 4-D images, "
        "not with check_array's 'Reshape your data'",
        "must be a 4-D array",
    ),
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
    "check_class_weight_classifiers": (
        "the check's data keep their negative values although the positive_only tag is set "
        "(they skip _enforce_estimator_tags_X), and negative pixel values are an error",
        "Negative values in data",
    ),
}

# Checks that train networks, 2-20 s of CPU each (measured on the CI machine's kind).
SLOW = {
    "check_classifiers_classes",
    "check_estimators_dtypes",
    "check_classifier_data_not_an_array",
    "check_fit_score_takes_y",
    "check_supervised_y_2d",
    "check_classifiers_train",
    "check_pipeline_consistency",
    "check_methods_subset_invariance",
    "check_estimators_nan_inf",
    "check_dict_unchanged",
    "check_n_features_in",
    "check_n_features_in_after_fitting",
    "check_fit_check_is_fitted",
    "check_fit2d_1feature",
    "check_fit2d_predict1d",
    "check_f_contiguous_array_estimator",
    "check_estimators_fit_returns_self",
    "check_readonly_memmap_input",
}


class _RowsAsImages(LesionClassifier):
    """LesionClassifier seen through 2-D rows: each row is a 1-pixel-high grayscale image."""

    def fit(self, X, y, **kwargs):  # type: ignore[no-untyped-def]
        return super().fit(rows_as_images(X, signed_squash), y, **kwargs)

    def predict_proba(self, X):  # type: ignore[no-untyped-def]
        return super().predict_proba(rows_as_images(X, signed_squash))

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True  # the rows are what this subclass takes
        # One epoch of a two-filter network on 1-pixel-high images does not reach
        # check_classifiers_train's 0.83 training accuracy, which is not its point.
        tags.classifier_tags.poor_score = True
        return tags


CLASSIFIER = _RowsAsImages(
    image_size=4,
    filters=(2,),
    dense_units=(4,),
    epochs=1,
    augment=False,
    validation_fraction=0.0,
    early_stopping=False,
    random_state=0,
)


@pytest.mark.parametrize(
    ("estimator", "check"), check_params([CLASSIFIER], estimator_checks_generator, SLOW)
)
def test_sklearn_check_on_images(estimator, check):
    run_check(estimator, check, EXPECTED_FAILURES)


def test_real_tags_say_images_not_tables():
    tags = LesionClassifier().__sklearn_tags__()
    assert tags.input_tags.two_d_array is False
    assert tags.input_tags.positive_only is True
    assert tags.estimator_type == "classifier"


def test_negative_pixels_are_an_error_in_scikit_learns_words():
    X = np.full((4, 4, 4, 3), -0.5)
    with pytest.raises(ValueError, match=r"Negative values in data: float images \(X\) must lie"):
        LesionClassifier(epochs=1).fit(X, ["a", "b"] * 2)


def test_rows_become_one_pixel_high_images():
    rows = np.array([[0.0, 1.0, 3.0], [2.0, 0.5, -1.0]], dtype=np.float32)
    images = rows_as_images(rows, signed_squash)
    assert images.shape == (2, 1, 3, 1) and images.dtype == np.float32
    np.testing.assert_allclose(images[:, 0, :, 0], [[0.0, 0.5, 0.75], [2 / 3, 1 / 3, -0.5]])
    ints = np.array([[0, 7], [255, 1]])
    assert rows_as_images(ints, signed_squash).dtype == ints.dtype
    np.testing.assert_array_equal(rows_as_images(ints, signed_squash)[:, 0, :, 0], ints)
    assert isinstance(rows_as_images(ints.tolist(), signed_squash), list)
