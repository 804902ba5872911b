"""LesionClassifier: API, input forms, errors, persistence, reproducibility."""

from __future__ import annotations

import json
import pickle
import zipfile

import joblib
import numpy as np
import pytest
from PIL import Image
from sklearn.base import clone, is_classifier
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.utils._param_validation import InvalidParameterError

from skinlesion import LesionClassifier, load_model
from skinlesion.datasets import make_lesions
from skinlesion.images import ImageReadError, read_images

from .._subprocess import run_python

TINY = dict(image_size=16, filters=(4, 8), dense_units=(8,), epochs=2, batch_size=16)


@pytest.fixture(scope="module")
def data():
    return make_lesions(n_samples=60, image_size=16, random_state=0)


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    return LesionClassifier(**TINY, random_state=0).fit(X, y)


def test_is_a_scikit_learn_classifier():
    clf = LesionClassifier()
    assert is_classifier(clf)
    assert set(clf.get_params()) >= {
        "image_size", "filters", "kernel_size", "convs_per_block", "dense_units", "dropout",
        "batch_norm",
        "optimizer", "learning_rate", "batch_size", "epochs", "early_stopping",
        "validation_fraction", "patience", "class_weight", "lr_schedule", "augment",
        "random_state", "verbose",
    }  # fmt: skip
    cloned = clone(LesionClassifier(filters=(8, 16), learning_rate=3e-4))
    assert cloned.filters == (8, 16) and cloned.learning_rate == 3e-4


def test_fit_sets_fitted_attributes(fitted, data):
    _, y = data
    assert list(fitted.classes_) == sorted(set(y))
    assert set(fitted.history_) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(fitted.history_["loss"]) == fitted.n_epochs_ <= 2
    assert 1 <= fitted.best_epoch_ <= fitted.n_epochs_
    assert fitted.input_shape_ == (16, 16, 3)
    assert fitted.model_.output_shape == (None, len(fitted.classes_))
    # validation_fraction=0.1 of 60 images, stratified over the 3 classes of 20
    assert fitted.validation_indices_.dtype.kind == "i"
    assert np.all(np.diff(fitted.validation_indices_) > 0)
    assert np.unique(y[fitted.validation_indices_], return_counts=True)[1].tolist() == [2, 2, 2]
    # the images trained on: the 18 of each class left after the validation split
    assert fitted.class_counts_ == {c: 18 for c in fitted.classes_}
    assert 0 < fitted.fit_time_ < 600


def test_predict_proba_rows_sum_to_one_in_classes_order(fitted, data):
    X, _ = data
    proba = fitted.predict_proba(X)
    assert proba.shape == (len(X), len(fitted.classes_))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert (proba >= 0).all()
    np.testing.assert_array_equal(fitted.predict(X), fitted.classes_[proba.argmax(axis=1)])
    assert 0.0 <= fitted.score(X, data[1]) <= 1.0


def test_predictions_keep_input_order(fitted, data):
    X, _ = data
    order = np.random.default_rng(1).permutation(len(X))
    np.testing.assert_allclose(
        fitted.predict_proba(X[order]), fitted.predict_proba(X)[order], atol=1e-6
    )


@pytest.mark.parametrize(
    "convert",
    [
        pytest.param(lambda X: X.astype(np.float32) / 255.0, id="float32-unit"),
        pytest.param(lambda X: X.astype(np.float64) / 255.0, id="float64-unit"),
        pytest.param(lambda X: X.astype(np.uint16) * 257, id="uint16"),
        pytest.param(lambda X: X.astype(np.int64), id="int64"),
        pytest.param(lambda X: np.concatenate([X, np.full_like(X[..., :1], 7)], -1), id="rgba"),
    ],
)
def test_array_dtypes_and_channels_give_the_same_predictions(fitted, data, convert):
    X, _ = data
    converted = convert(X)
    before = converted.copy()
    np.testing.assert_allclose(fitted.predict_proba(converted), fitted.predict_proba(X), atol=1e-6)
    np.testing.assert_array_equal(converted, before)  # the user's array is untouched


def test_grayscale_images_are_accepted(data):
    X, y = data
    gray = X.mean(axis=-1, keepdims=True).astype(np.uint8)
    clf = LesionClassifier(**TINY, random_state=0).fit(gray, y)
    rgb = np.repeat(gray, 3, axis=-1)
    np.testing.assert_allclose(clf.predict_proba(gray), clf.predict_proba(rgb), atol=1e-6)


def test_other_image_sizes_are_resized_at_predict_time(fitted, data):
    X, _ = data
    bigger = np.repeat(np.repeat(X[:5], 2, axis=1), 2, axis=2)  # 32x32
    proba = fitted.predict_proba(bigger)
    assert proba.shape == (5, len(fitted.classes_))


def test_fit_on_float_input_does_not_modify_it(data):
    X, y = data
    Xf = X.astype(np.float32) / 255
    yl = list(y)
    before = Xf.copy()
    LesionClassifier(**{**TINY, "epochs": 1}, random_state=0).fit(Xf, yl)
    np.testing.assert_array_equal(Xf, before)
    assert yl == list(y)


def _write_images(folder, X, formats):
    paths = []
    for i, image in enumerate(X):
        fmt = formats[i % len(formats)]
        path = folder / f"img_{i}.{fmt}"
        Image.fromarray(image).save(path)
        paths.append(str(path))
    return paths


def test_file_paths_of_mixed_formats(tmp_path, data):
    X, y = data
    paths = _write_images(tmp_path, X, ["png", "jpg", "bmp", "tif"])
    clf = LesionClassifier(**TINY, random_state=0).fit(paths, y)
    proba = clf.predict_proba(paths)
    assert proba.shape == (len(paths), len(clf.classes_))
    # lossless files decode to the same pixels as the array they came from
    lossless = [i for i, p in enumerate(paths) if not p.endswith(".jpg")]
    from_files = clf.predict_proba([paths[i] for i in lossless])
    from_array = clf.predict_proba(read_images([paths[i] for i in lossless]))
    np.testing.assert_allclose(from_files, from_array, atol=1e-6)


def test_numeric_and_binary_labels(data):
    X, y = data
    y_bin = (y == "melanoma").astype(int) * 7  # labels 0 and 7
    clf = LesionClassifier(**TINY, random_state=0).fit(X, y_bin)
    assert list(clf.classes_) == [0, 7]
    assert clf.predict_proba(X).shape == (len(X), 2)
    assert set(clf.predict(X)) <= {0, 7}


def test_same_random_state_gives_identical_predictions(fitted, data):
    X, y = data
    again = LesionClassifier(**TINY, random_state=0).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X), fitted.predict_proba(X))
    assert again.history_ == fitted.history_
    np.testing.assert_array_equal(again.validation_indices_, fitted.validation_indices_)


def test_a_global_tensorflow_seed_does_not_change_a_seeded_fit(fitted, data):
    """random_state alone fixes the model: a global TensorFlow seed set before fit
    (as keras.utils.set_random_seed sets it, perhaps in another library) changes
    nothing, and fit leaves that seed as the user set it."""
    import tensorflow as tf
    from tensorflow.python.eager import context

    X, y = data
    tf.random.set_seed(123)
    try:
        again = LesionClassifier(**TINY, random_state=0).fit(X, y)
        assert context.global_seed() == 123
    finally:
        tf.random.set_seed(None)
    np.testing.assert_array_equal(again.predict_proba(X), fitted.predict_proba(X))
    assert again.history_ == fitted.history_


def test_fit_leaves_global_state_as_it_was(data):
    X, y = data
    from tensorflow.python.framework import config

    np_state = np.random.get_state()[1].copy()  # noqa: NPY002
    import random

    py_state = random.getstate()
    LesionClassifier(**{**TINY, "epochs": 1}, random_state=0).fit(X, y)
    assert not config.is_op_determinism_enabled()
    np.testing.assert_array_equal(np.random.get_state()[1], np_state)  # noqa: NPY002
    assert random.getstate() == py_state


def test_class_weight_balanced_and_dict(data):
    X, y = data
    one_epoch = {**TINY, "epochs": 1}
    clf = LesionClassifier(**one_epoch, class_weight="balanced", random_state=0).fit(X, y)
    assert clf.predict(X).shape == (len(X),)
    weights = {"melanoma": 3.0}
    LesionClassifier(**{**TINY, "epochs": 1}, class_weight=weights, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="not in y"):
        LesionClassifier(**TINY, class_weight={"unicorn": 2.0}).fit(X, y)


#: Settings under which TINY fits its 60 training images: no augmentation, no
#: dropout, a high rate, a fixed budget.
OVERFIT = {
    **TINY,
    "epochs": 40,
    "learning_rate": 1e-2,
    "augment": False,
    "dropout": 0.0,
    "early_stopping": False,
    "validation_fraction": 0.0,
    "random_state": 0,
}


@pytest.fixture(scope="module")
def overfitted(data):
    X, y = data
    return LesionClassifier(**OVERFIT).fit(X, y)


def test_label_smoothing_caps_the_confidence_the_network_learns(data, overfitted):
    """Smoothed targets give the true class at most 1 - eps + eps / k, and the fit
    stays under that cap; plain cross-entropy goes past it on the same data."""
    X, y = data
    plain = overfitted
    eps, k = 0.6, len(np.unique(y))
    cap = 1 - eps + eps / k
    smoothed = LesionClassifier(**OVERFIT, label_smoothing=eps, class_weight="balanced")
    smoothed.fit(X, y)
    assert plain.predict_proba(X).max(axis=1).mean() > cap + 0.05
    assert smoothed.predict_proba(X).max(axis=1).mean() < cap + 0.05
    assert smoothed.history_["accuracy"][-1] > 1 / k  # "accuracy" still reads one-hot targets
    with pytest.raises(ValueError, match="label_smoothing"):
        LesionClassifier(**TINY, label_smoothing=1.0).fit(X, y)


def test_mixup_lowers_the_confidence_the_network_learns(data, overfitted):
    """Mixed targets reward hedged probabilities: trained to fit its training
    images, the mixup network is far less sure of them than the plain one."""
    X, y = data
    mixed = LesionClassifier(**OVERFIT, mixup=1.0, class_weight="balanced").fit(X, y)
    confidence_plain = overfitted.predict_proba(X).max(axis=1).mean()
    confidence_mixed = mixed.predict_proba(X).max(axis=1).mean()
    assert confidence_mixed < confidence_plain - 0.05
    assert mixed.score(X, y) > 1 / len(np.unique(y))  # it still learns the classes


def test_mixup_is_repeatable_and_differs_from_plain_training(fitted, data):
    X, y = data
    a = LesionClassifier(**TINY, mixup=0.4, random_state=0).fit(X, y)
    b = LesionClassifier(**TINY, mixup=0.4, random_state=0).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert not np.allclose(a.predict_proba(X), fitted.predict_proba(X))
    assert a.history_["loss"] != fitted.history_["loss"]
    with pytest.raises(ValueError, match="mixup"):
        LesionClassifier(**TINY, mixup=-0.1).fit(X, y)


def test_color_constancy_applies_at_prediction_and_reloads_in_a_new_process(fitted, data, tmp_path):
    X, y = data
    clf = LesionClassifier(**TINY, color_constancy=6, random_state=0).fit(X, y)
    proba = clf.predict_proba(X)
    assert not np.allclose(proba, fitted.predict_proba(X))  # the layer is in the path
    with pytest.raises(InvalidParameterError, match="color_constancy"):
        LesionClassifier(**TINY, color_constancy=0).fit(X, y)

    path = clf.save(tmp_path / "cc.skl")
    np.save(tmp_path / "X.npy", X)
    # A fresh interpreter has never imported the layer's module: loading must register it.
    code = (
        "import numpy as np; from skinlesion import load_model; "
        f"p = load_model({str(path)!r}).predict_proba(np.load({str(tmp_path / 'X.npy')!r})); "
        f"np.save({str(tmp_path / 'p.npy')!r}, p)"
    )
    run = run_python("-c", code)
    assert run.returncode == 0, run.stderr[-3000:]
    np.testing.assert_array_equal(np.load(tmp_path / "p.npy"), proba)
    assert load_model(path).color_constancy == 6


def test_groups_keep_each_group_on_one_side_of_the_validation_split(data):
    X, y = data
    groups = np.arange(len(y)) // 4  # 15 "lesions" of 4 images each
    clf = LesionClassifier(**TINY, validation_fraction=0.3, random_state=0)
    clf.classes_, y_enc = np.unique(y, return_inverse=True)
    train_idx, val_idx = clf._split(y_enc, np.random.RandomState(0), groups)
    assert len(val_idx) > 0
    assert not set(groups[train_idx]) & set(groups[val_idx])
    clf.fit(X, y, groups=groups)
    assert "val_loss" in clf.history_
    assert not set(groups[train_idx]) & set(groups[val_idx])
    with pytest.raises(ValueError, match="one value per image"):
        clf.fit(X, y, groups=groups[:-1])
    with pytest.raises(ValueError, match="missing value"):
        clf.fit(X, y, groups=np.where(groups == 3, np.nan, groups))


def test_groups_too_large_to_hold_out_give_a_warning_not_a_silent_empty_split():
    clf = LesionClassifier(**TINY, validation_fraction=0.5)
    clf.classes_ = np.array(["melanoma", "nevus"])
    y_enc = np.array([0, 0, 1, 1])
    with pytest.warns(UserWarning, match=r"no group of images can be held out.*training loss"):
        train, validation = clf._split(y_enc, np.random.RandomState(0), np.array([0, 0, 1, 1]))
    assert len(validation) == 0 and len(train) == 4


def _straddling(keys, validation):
    """Keys (sources, contents, lesions) found on both sides of a split."""
    in_validation = np.zeros(len(keys), dtype=bool)
    in_validation[validation] = True
    return set(keys[in_validation]) & set(keys[~in_validation])


def test_duplicated_images_stay_on_one_side_of_the_validation_split(data):
    X, y = data
    # every image three times: a split by row would hold out copies of training images
    X3, y3, sources = np.concatenate([X] * 3), np.concatenate([y] * 3), np.tile(np.arange(60), 3)
    clf = LesionClassifier(**{**TINY, "epochs": 1}, validation_fraction=0.2, random_state=0)
    clf.fit(X3, y3)
    validation = clf.validation_indices_
    assert 30 <= len(validation) <= 42 and len(validation) % 3 == 0
    assert not _straddling(sources, validation)
    by_row = np.random.RandomState(0).permutation(len(y3))[: len(validation)]
    assert _straddling(sources, by_row)  # the check can fail


def test_repeated_files_stay_on_one_side_of_the_validation_split(tmp_path, data):
    import shutil

    X, y = data
    paths = _write_images(tmp_path, X[:30], ["png"])
    copies = []
    for i, path in enumerate(paths[:10]):  # byte copies under other names
        copies.append(str(tmp_path / f"copy_{i}.png"))
        shutil.copyfile(path, copies[-1])
    X_paths = [*paths, *paths[:10], *copies]  # ten files twice, and a copy of each
    labels = np.array([*y[:30], *y[:10], *y[:10]])
    sources = np.array([*range(30), *range(10), *range(10)])
    clf = LesionClassifier(**{**TINY, "epochs": 1}, validation_fraction=0.3, random_state=0)
    clf.fit(X_paths, labels)
    assert len(clf.validation_indices_)
    assert not _straddling(sources, clf.validation_indices_)


def test_groups_and_duplicates_are_kept_together(data):
    X, y = data
    X = X.copy()
    groups = np.arange(len(y)) // 2  # lesions of two images
    X[10] = X[40]  # one image of lesion 5 is also in lesion 20: they become one group
    y = y.copy()
    y[10] = y[40]
    clf = LesionClassifier(**{**TINY, "epochs": 1}, validation_fraction=0.5, random_state=0)
    validation = clf.fit(X, y, groups=groups).validation_indices_
    assert not _straddling(groups, validation)
    assert (10 in validation) == (40 in validation) == (11 in validation) == (41 in validation)
    # over more seeds, the split alone (it is drawn before training)
    joined, y_enc = clf._split_groups(X, groups), np.searchsorted(clf.classes_, y)
    held_out = set()
    for seed in range(10):
        _, validation = clf._split(y_enc, np.random.RandomState(seed), joined)
        assert not _straddling(groups, validation)
        assert (10 in validation) == (40 in validation) == (11 in validation) == (41 in validation)
        held_out.add(10 in validation)
    assert held_out == {True, False}


def test_saved_file_has_the_usual_permissions(fitted, tmp_path):
    import os

    umask = os.umask(0)
    os.umask(umask)
    path = fitted.save(tmp_path / "model.skl")
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_plateau_schedule_halves_the_learning_rate(data):
    X, y = data
    # a learning rate too small to move a network without dropout, batch norm or
    # augmentation leaves the validation loss flat: the schedule must halve it
    params = {**TINY, "epochs": 4, "patience": 1, "early_stopping": False, "dropout": 0.0,
              "batch_norm": False, "augment": False, "learning_rate": 1e-9}  # fmt: skip
    clf = LesionClassifier(**params, random_state=0).fit(X, y)
    rates = np.asarray(clf.history_["learning_rate"]) / 1e-9
    assert rates[0] == pytest.approx(1.0)
    assert rates[-1] < 1.0
    np.testing.assert_allclose(rates, 2.0 ** np.round(np.log2(rates)), rtol=1e-4)  # halvings
    flat = LesionClassifier(**params, lr_schedule=None, random_state=0).fit(X, y)
    assert len(set(flat.history_.get("learning_rate", [1e-9]))) == 1


def test_cosine_schedule_decays_from_the_rate_to_one_percent(data):
    X, y = data
    params = {**TINY, "epochs": 5, "early_stopping": False, "validation_fraction": 0.0}
    clf = LesionClassifier(**params, lr_schedule="cosine", learning_rate=1e-2, random_state=0)
    clf.fit(X, y)
    rates = np.asarray(clf.history_["learning_rate"])
    assert len(rates) == 5
    assert rates[0] == pytest.approx(1e-2)
    assert rates[-1] == pytest.approx(1e-4)
    assert np.all(np.diff(rates) < 0)
    # the half cosine: the middle epoch sits half way between the two ends
    assert rates[2] == pytest.approx((1e-2 + 1e-4) / 2)


def test_no_validation_split_and_no_early_stopping(data):
    X, y = data
    clf = LesionClassifier(**TINY, validation_fraction=0.0, early_stopping=False, random_state=0)
    clf.fit(X, y)
    assert "val_loss" not in clf.history_
    assert clf.n_epochs_ == 2


def _views(X):
    """The eight flips/transposes of square images, in the order ``tta`` takes them."""
    T = X.transpose(0, 2, 1, 3)
    return [
        X,
        X[:, :, ::-1],
        X[:, ::-1],
        X[:, ::-1, ::-1],
        T,
        T[:, ::-1],
        T[:, :, ::-1],
        T[:, ::-1, ::-1],
    ]


@pytest.mark.parametrize("n_views", [2, 4, 8])
def test_tta_averages_the_flipped_and_transposed_views(fitted, data, n_views):
    X, _ = data
    X = X[:12]
    expected = np.mean(
        [fitted.predict_proba(np.ascontiguousarray(v)) for v in _views(X)[:n_views]], axis=0
    )
    tta = pickle.loads(pickle.dumps(fitted)).set_params(tta=n_views)
    proba = tta.predict_proba(X)
    np.testing.assert_allclose(proba, expected, atol=1e-5)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # the views differ, so averaging them must change something
    assert not np.allclose(proba, fitted.predict_proba(X), atol=1e-5)


def test_tta_from_paths_matches_arrays(fitted, data, tmp_path):
    X, _ = data
    paths = _write_images(tmp_path, X[:6], ["png"])
    clf = pickle.loads(pickle.dumps(fitted)).set_params(tta=4)
    np.testing.assert_allclose(clf.predict_proba(paths), clf.predict_proba(X[:6]), atol=1e-5)


def test_tta_rejects_bad_view_counts_and_transposes_of_oblong_images(data):
    X, y = data
    with pytest.raises(ValueError, match="tta"):
        LesionClassifier(**TINY, tta=3).fit(X, y)
    with pytest.raises(ValueError, match="use tta=4"):
        LesionClassifier(**{**TINY, "image_size": (16, 12)}, tta=8).fit(X, y)
    clf = LesionClassifier(**{**TINY, "image_size": (16, 12), "epochs": 1}, random_state=0)
    clf.fit(X, y).set_params(tta=8)
    with pytest.raises(ValueError, match="square"):
        clf.predict_proba(X[:2])


# ------------------------------------------------------------------ errors
def test_unfitted_estimator_raises():
    with pytest.raises(NotFittedError):
        LesionClassifier().predict(np.zeros((1, 8, 8, 3), np.uint8))


@pytest.mark.parametrize(
    ("X", "y", "match"),
    [
        (np.zeros((4, 8, 8), np.uint8), [0, 1, 0, 1], "4-D array"),
        (np.zeros((4, 64), np.uint8), [0, 1, 0, 1], "4-D array"),
        (np.zeros((4, 8, 8, 2), np.uint8), [0, 1, 0, 1], "1, 3 or 4 channels"),
        (np.zeros((4, 8, 8, 3), np.uint8), [0, 1, 0], "different lengths"),
        (np.zeros((4, 8, 8, 3), np.uint8), [1, 1, 1, 1], "one class"),
        (np.full((4, 8, 8, 3), np.nan), [0, 1, 0, 1], "NaN"),
        (np.full((4, 8, 8, 3), 2.0), [0, 1, 0, 1], r"\[0, 1\]"),
        (np.zeros((4, 8, 8, 3), np.uint8), [0.0, 1.0, np.nan, 1.0], "NaN"),
        (np.zeros((0, 8, 8, 3), np.uint8), [], "empty"),
        ("folder/", [0], "single path"),
    ],
)
def test_bad_input_gets_a_clear_error(X, y, match):
    with pytest.raises(ValueError, match=match):
        LesionClassifier(**TINY).fit(X, y)


def test_corrupt_and_missing_files_are_named(tmp_path, data):
    X, y = data
    paths = _write_images(tmp_path, X[:6], ["png"])
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(Image.open(paths[0]).tobytes()[:100])
    labels = [*y[:6], y[0]]
    with pytest.raises(ImageReadError, match="corrupt.jpg"):
        LesionClassifier(**TINY, validation_fraction=0).fit([*paths, str(corrupt)], labels)
    with pytest.raises(ValueError, match="not found.*missing.png"):
        LesionClassifier(**TINY).fit([*paths, str(tmp_path / "missing.png")], labels)


def test_invalid_hyperparameters_are_reported(data):
    X, y = data
    with pytest.raises(ValueError, match="filters"):
        LesionClassifier(**{**TINY, "filters": ()}).fit(X, y)
    with pytest.raises(ValueError, match="optimizer"):
        LesionClassifier(**TINY, optimizer="adamm").fit(X, y)
    with pytest.raises(ValueError, match="augmentation key"):
        LesionClassifier(**TINY, augment={"blur": 1}).fit(X, y)
    with pytest.raises(ValueError, match=r"convs_per_block.*one positive int per block \(2 block"):
        LesionClassifier(**TINY, convs_per_block=(1, 2, 2)).fit(X, y)
    with pytest.raises(ValueError, match="convs_per_block"):
        LesionClassifier(**TINY, convs_per_block=0).fit(X, y)


def test_convs_per_block_int_and_per_block_forms_build_the_same_network():
    from skinlesion import build_cnn

    a = build_cnn((16, 16, 3), 3, filters=(4, 8), convs_per_block=2, seed=0)
    b = build_cnn((16, 16, 3), 3, filters=(4, 8), convs_per_block=[2, 2], seed=0)
    assert [w.shape for w in a.get_weights()] == [w.shape for w in b.get_weights()]
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)
    single = build_cnn((16, 16, 3), 3, filters=(4, 8), seed=0)
    assert len(a.get_weights()) > len(single.get_weights())


def test_convs_per_block_deepens_each_block(data, tmp_path):
    X, y = data
    clf = LesionClassifier(**{**TINY, "epochs": 1}, convs_per_block=(1, 2), random_state=0)
    clf.fit(X, y)
    convs = [layer.name for layer in clf.model_.layers if "_conv" in layer.name]
    assert convs == ["block1_conv", "block2_conv", "block2_conv2"]
    # the tuple survives save/load, so the loaded model has the same parameters
    loaded = load_model(clf.save(tmp_path / "deep.skl"))
    assert loaded.convs_per_block == (1, 2)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


# ------------------------------------------------------------- persistence
def test_pickle_and_joblib_round_trip(fitted, data, tmp_path):
    X, _ = data
    expected = fitted.predict_proba(X)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict_proba(X), expected)
    np.testing.assert_array_equal(restored.validation_indices_, fitted.validation_indices_)
    joblib.dump(fitted, tmp_path / "model.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "model.joblib").predict_proba(X), expected)


def test_save_and_load_round_trip(fitted, data, tmp_path):
    X, _ = data
    path = fitted.save(tmp_path / "model.skl")
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), fitted.predict_proba(X))
    np.testing.assert_array_equal(loaded.classes_, fitted.classes_)
    assert loaded.get_params() == fitted.get_params()
    assert loaded.history_ == fitted.history_
    np.testing.assert_array_equal(loaded.validation_indices_, fitted.validation_indices_)
    assert zipfile.ZipFile(path).namelist() == ["skinlesion.json", "model.keras"]
    assert [p.name for p in tmp_path.iterdir()] == ["model.skl"]  # no temporary left over
    assert loaded.class_counts_ == fitted.class_counts_ and loaded.fit_time_ == fitted.fit_time_
    # a file saved before fit_time and class_counts were recorded still loads
    with zipfile.ZipFile(path) as archive:
        meta = json.loads(archive.read("skinlesion.json"))
        network = archive.read("model.keras")
    del meta["fit_time"], meta["class_counts"]
    with zipfile.ZipFile(tmp_path / "old.skl", "w") as archive:
        archive.writestr("skinlesion.json", json.dumps(meta))
        archive.writestr("model.keras", network)
    old = load_model(tmp_path / "old.skl")
    assert old.class_counts_ is None and old.fit_time_ is None


def test_numeric_classes_survive_save(data, tmp_path):
    X, y = data
    y_bin = (y == "nevus").astype(int)
    clf = LesionClassifier(**{**TINY, "epochs": 1}, random_state=0).fit(X, y_bin)
    loaded = load_model(clf.save(tmp_path / "m.skl"))
    assert loaded.classes_.dtype == clf.classes_.dtype
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))


def test_loading_a_file_that_is_not_ours(tmp_path):
    other = tmp_path / "notes.skl"
    other.write_text("hello")
    with pytest.raises(ValueError, match="not a skinlesion model file"):
        load_model(other)
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as archive:
        archive.writestr("skinlesion.json", '{"format": "something-else"}')
        archive.writestr("model.keras", b"")
    with pytest.raises(ValueError, match="not a skinlesion model file"):
        load_model(tmp_path / "other.zip")
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "absent.skl")


# --------------------------------------------------------- model selection
@pytest.mark.slow
def test_grid_search_tunes_cnn_hyperparameters(data):
    X, y = data
    search = GridSearchCV(
        LesionClassifier(**{**TINY, "epochs": 1}, random_state=0),
        {"filters": [(4,), (4, 8)], "learning_rate": [1e-3, 1e-2]},
        cv=StratifiedKFold(2),
        scoring="balanced_accuracy",
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert search.best_estimator_.filters in [(4,), (4, 8)]
    assert search.predict(X[:3]).shape == (3,)


@pytest.mark.slow
def test_cross_val_score_stratifies(data):
    X, y = data
    scores = cross_val_score(LesionClassifier(**{**TINY, "epochs": 1}, random_state=0), X, y, cv=3)
    assert scores.shape == (3,)


@pytest.mark.slow
def test_training_beats_chance_on_synthetic_lesions():
    X, y = make_lesions(n_samples=600, image_size=32, random_state=0)
    Xte, yte = make_lesions(n_samples=300, image_size=32, random_state=1)
    clf = LesionClassifier(image_size=32, epochs=15, random_state=0).fit(X, y)
    chance = 1 / len(clf.classes_)
    assert clf.score(Xte, yte) > chance + 0.25


def test_import_is_fast_and_does_not_start_tensorflow():
    code = "import sys, skinlesion; skinlesion.LesionClassifier; print('tensorflow' in sys.modules)"
    out = run_python("-c", code)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip() == "False"


def test_all_lists_exactly_the_lazily_exported_names():
    import skinlesion

    assert sorted(skinlesion.__all__) == sorted([*skinlesion._LAZY, "__version__"])
    for name in skinlesion.__all__:
        assert getattr(skinlesion, name) is not None
