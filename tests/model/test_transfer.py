"""Transfer learning: ``init``, ``fine_tune``, ``warmup_epochs``, ``backbone`` and its weights.

The custom-CNN tests fit tiny networks on tiny synthetic images (fast); the
tests that fit a Keras application are marked slow. ImageNet weights are never
downloaded: the offline error is tested by making Keras' download fail at once.
"""

from __future__ import annotations

import json
import os
import pickle
import random
import zipfile

import keras
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.utils._param_validation import InvalidParameterError

from skinlesion import LesionClassifier, build_cnn, load_model, make_pipeline
from skinlesion.backbones import BACKBONES, build_backbone
from skinlesion.datasets import make_lesions
from skinlesion.network import copy_trunk, flops_per_image, trunk_layers, trunk_spec

# the pretraining network: not the default architecture, so "follows init" shows
BASE = dict(
    image_size=16, filters=(4, 8), convs_per_block=(1, 2), dense_units=(8,), epochs=2,
    batch_size=16,
)  # fmt: skip
# fine-tuning: another image size, the default architecture parameters (they follow init)
TUNE = dict(image_size=24, dense_units=(6,), epochs=2, batch_size=16, validation_fraction=0.0)


def trunk_weights(model) -> dict[str, np.ndarray]:
    """Every weight of the trunk, batch-normalisation moving statistics included."""
    return {
        f"{layer.name}/{w.path}": np.array(w.numpy())
        for layer in trunk_layers(model)
        for w in layer.weights
    }


def assert_same_trunk(a, b) -> None:
    wa, wb = trunk_weights(a), trunk_weights(b)
    assert wa.keys() == wb.keys()
    for name in wa:
        np.testing.assert_array_equal(wa[name], wb[name], err_msg=name)


@pytest.fixture(scope="module")
def data():
    """Four classes for pretraining."""
    return make_lesions(n_samples=60, image_size=16, n_classes=4, random_state=0)


@pytest.fixture(scope="module")
def target(data):
    """Two classes (melanoma or not) of other images, for fine-tuning."""
    X, y = make_lesions(n_samples=40, image_size=20, n_classes=4, random_state=1)
    return X, np.where(y == "melanoma", "melanoma", "benign")


@pytest.fixture(scope="module")
def base(data):
    X, y = data
    return LesionClassifier(**BASE, random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def base_file(base, tmp_path_factory):
    return base.save(tmp_path_factory.mktemp("base") / "base.skl")


@pytest.fixture(scope="module")
def tuned(base, target):
    """Fine-tuned from ``base`` (a frozen estimator) with its trunk frozen."""
    X, y = target
    clf = LesionClassifier(**TUNE, init=FrozenEstimator(base), fine_tune="head", random_state=0)
    return clf.fit(X, y)


# --------------------------------------------------------------- the trunk
def test_a_frozen_trunk_ends_the_fit_with_the_weights_it_started_from(base, tuned):
    names = trunk_weights(tuned.model_)
    assert any("moving_mean" in n for n in names) and any("moving_variance" in n for n in names)
    assert_same_trunk(tuned.model_, base.model_)  # the weights copied, unchanged by training
    # ... while the head trained: its loss moved and its dense layer is new
    assert tuned.history_["loss"][0] != tuned.history_["loss"][-1]


def test_the_head_is_new_and_the_input_size_may_differ(base, tuned):
    assert base.model_.output_shape == (None, 4)
    assert tuned.model_.output_shape == (None, 2)
    assert list(tuned.classes_) == ["benign", "melanoma"]
    assert tuned.input_shape_ == (24, 24, 3) and base.input_shape_ == (16, 16, 3)
    assert tuned.model_.get_layer("dense1").units == 6  # this estimator's dense_units
    # architecture parameters left at their defaults followed init's trunk
    assert tuned.filters == (32, 64, 128, 256)
    spec = trunk_spec(tuned.model_)
    assert (spec["filters"], spec["convs_per_block"]) == ((4, 8), (1, 2))


def test_fine_tune_all_changes_the_trunk_and_leaves_init_untouched(base, target):
    X, y = target
    before = trunk_weights(base.model_)
    clf = LesionClassifier(**TUNE, init=FrozenEstimator(base), random_state=0).fit(X, y)
    after = trunk_weights(clf.model_)
    assert any(not np.array_equal(before[n], after[n]) for n in before)
    moving = [n for n in before if "moving_mean" in n]
    assert any(not np.array_equal(before[n], after[n]) for n in moving)  # BN trained too
    for name, value in trunk_weights(base.model_).items():
        np.testing.assert_array_equal(value, before[name])


def test_a_warmup_trains_the_head_alone_then_everything_at_a_tenth_of_the_rate(base, target):
    X, y = target

    class Recorder(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.events, self.trunks = [], []

        def on_train_begin(self, logs=None):
            self.events.append("begin")

        def on_train_end(self, logs=None):
            self.events.append("end")

        def on_epoch_end(self, epoch, logs=None):
            self.events.append(epoch)
            self.trunks.append(trunk_weights(self.model))

    recorder = Recorder()
    params = {**TUNE, "epochs": 3, "lr_schedule": None, "learning_rate": 2e-3}
    clf = LesionClassifier(**params, init=FrozenEstimator(base), warmup_epochs=1, random_state=0)
    clf.fit(X, y, callbacks=[recorder])
    assert recorder.events == ["begin", 0, 1, 2, "end"]  # one run, as the callbacks see it
    start = trunk_weights(base.model_)
    warm, *later = recorder.trunks
    for name in start:  # the warmup epoch left the trunk alone
        np.testing.assert_array_equal(warm[name], start[name])
    assert any(not np.array_equal(later[-1][n], start[n]) for n in start)
    np.testing.assert_allclose(clf.history_["learning_rate"], [2e-3, 2e-4, 2e-4])
    assert clf.n_epochs_ == 3 and len(clf.history_["loss"]) == 3


@pytest.mark.slow
def test_cosine_schedule_after_a_warmup_starts_at_the_lowered_rate(base, target):
    X, y = target
    params = {**TUNE, "epochs": 4, "lr_schedule": "cosine", "learning_rate": 1e-2}
    clf = LesionClassifier(**params, init=FrozenEstimator(base), warmup_epochs=1, random_state=0)
    rates = clf.fit(X, y).history_["learning_rate"]
    np.testing.assert_allclose(rates[:2], [1e-2, 1e-3])
    assert rates[-1] == pytest.approx(1e-5)  # 1 % of the fine-tuning rate at the last epoch


# --------------------------------------------------------------- what init can be
@pytest.mark.parametrize(
    "kind",
    [
        "skl",
        "skl-pathlib",
        "keras-file",
        "keras-model",
        pytest.param("pipeline", marks=pytest.mark.slow),
    ],
)
def test_init_from_files_models_and_pipelines(kind, base, base_file, target, tmp_path):
    X, y = target
    if kind == "skl":
        init = str(base_file)
    elif kind == "skl-pathlib":
        init = base_file
    elif kind == "keras-file":
        init = str(tmp_path / "network.keras")
        base.model_.save(init)
    elif kind == "keras-model":
        init = base.model_
    else:
        from skinlesion import Rebalancer

        Xb, yb = make_lesions(n_samples=40, image_size=16, n_classes=4, random_state=0)
        pipe = make_pipeline(Rebalancer(random_state=0), LesionClassifier(**BASE, random_state=0))
        init = FrozenEstimator(pipe.fit(Xb, yb))
    clf = LesionClassifier(**{**TUNE, "epochs": 1}, init=init, fine_tune="head", random_state=0)
    clf.fit(X, y)
    source = init.estimator[-1] if kind == "pipeline" else base
    assert_same_trunk(clf.model_, source.model_)


def test_clone_keeps_paths_and_frozen_estimators_and_unfitted_copies_are_refused(
    base, base_file, target
):
    X, y = target
    frozen = FrozenEstimator(base)
    assert clone(LesionClassifier(init=frozen)).init is frozen
    assert clone(LesionClassifier(init=str(base_file))).init == str(base_file)
    copy = clone(LesionClassifier(**TUNE, init=base))  # what GridSearchCV does to a bare one
    assert not hasattr(copy.init, "model_")
    with pytest.raises(ValueError, match=r"unfitted LesionClassifier.*FrozenEstimator.*save"):
        copy.fit(X, y)
    with pytest.raises(ValueError, match="unfitted"):
        LesionClassifier(**TUNE, init=FrozenEstimator(LesionClassifier())).fit(X, y)


def test_parameters_are_listed_and_validated():
    params = LesionClassifier().get_params()
    assert {k: params[k] for k in ("init", "fine_tune", "warmup_epochs", "backbone")} == {
        "init": None, "fine_tune": "all", "warmup_epochs": 0, "backbone": None,
    }  # fmt: skip
    assert params["backbone_weights"] is None
    X, y = make_lesions(n_samples=20, image_size=8, random_state=0)
    for bad in [{"fine_tune": "trunk"}, {"warmup_epochs": -1}, {"backbone": "ResNet9000"}]:
        with pytest.raises(InvalidParameterError):
            LesionClassifier(**bad).fit(X, y)
    with pytest.raises(InvalidParameterError, match="EfficientNetV2B0"):  # lists the names
        LesionClassifier(backbone="EfficientNet").fit(X, y)


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"filters": (8, 16)}, ["filters=(8, 16)", "(4, 8)"]),
        ({"convs_per_block": 2}, ["convs_per_block=2", "(1, 2)"]),
        ({"kernel_size": 5}, ["kernel_size=5", "has 3"]),
        ({"batch_norm": False}, ["batch_norm=False"]),
        ({"block": "residual"}, ["block='residual'", "has 'plain'"]),
        ({"backbone": "MobileNetV3Small"}, ["backbone='MobileNetV3Small'", "custom CNN"]),
        ({"filters": (4, 8), "convs_per_block": (1, 2)}, None),  # init's own values: fine
    ],
)
def test_a_trunk_other_than_the_parameters_is_refused_naming_the_difference(
    params, words, base, target
):
    X, y = target
    clf = LesionClassifier(**{**TUNE, "epochs": 1}, **params, init=FrozenEstimator(base))
    if words is None:
        clf.fit(X, y)
        assert trunk_spec(clf.model_)["filters"] == (4, 8)
        return
    with pytest.raises(ValueError, match="does not match") as err:
        clf.fit(X, y)
    for word in words:
        assert word in str(err.value)


TRUNK_AND_HEAD = ("filters", "convs_per_block", "dense_units")


def test_a_residual_network_trains_saves_and_hands_its_trunk_on(data, target, tmp_path):
    X, y = data
    residual = LesionClassifier(**{**BASE, "epochs": 1}, block="residual", random_state=0)
    residual.fit(X, y)
    assert np.isfinite(residual.history_["loss"]).all()
    assert trunk_spec(residual.model_)["block"] == "residual"
    # the same convolutions as the plain network, plus a 1x1 projection where channels change
    plain = build_cnn((16, 16, 3), 4, **{k: BASE[k] for k in TRUNK_AND_HEAD})
    projections = 2 * 16 * 16 * 3 * 4 + 2 * 8 * 8 * 4 * 8
    assert flops_per_image(residual.model_) == flops_per_image(plain) + projections
    path = residual.save(tmp_path / "residual.skl")
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), residual.predict_proba(X))
    X2, y2 = target
    tuned = LesionClassifier(**{**TUNE, "epochs": 1}, init=path, fine_tune="head", random_state=0)
    tuned.fit(X2, y2)
    assert trunk_spec(tuned.model_)["block"] == "residual"  # followed init's trunk
    assert_same_trunk(tuned.model_, residual.model_)
    assert any("proj" in name for name in trunk_weights(tuned.model_))


def test_other_channels_and_networks_not_ours_are_refused(target, tmp_path):
    X, y = target
    gray = build_cnn((16, 16, 1), 2, filters=(4,), seed=0)
    with pytest.raises(ValueError, match="1-channel images"):
        LesionClassifier(**TUNE, init=gray).fit(X, y)
    foreign = keras.Sequential([keras.Input((8,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="not a network built by skinlesion"):
        LesionClassifier(**TUNE, init=foreign).fit(X, y)
    with pytest.raises(FileNotFoundError, match="absent.skl"):
        LesionClassifier(**TUNE, init=str(tmp_path / "absent.skl")).fit(X, y)
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match="neither a skinlesion model file"):
        LesionClassifier(**TUNE, init=str(tmp_path / "notes.txt")).fit(X, y)
    with pytest.raises(ValueError, match="init must be None"):
        LesionClassifier(**TUNE, init=42).fit(X, y)
    with pytest.raises(ValueError, match="backbone_weights='imagenet'"):
        LesionClassifier(**TUNE, init="imagenet").fit(X, y)


def test_head_only_and_warmup_need_a_pretrained_trunk(base, target):
    X, y = target
    with pytest.raises(ValueError, match="fine_tune='head'.*random weights"):
        LesionClassifier(**TUNE, fine_tune="head").fit(X, y)
    with pytest.raises(ValueError, match="warmup_epochs=1.*random weights"):
        LesionClassifier(**TUNE, warmup_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="warmup_epochs=2 leaves no epoch"):
        LesionClassifier(**TUNE, init=FrozenEstimator(base), warmup_epochs=2).fit(X, y)
    with pytest.raises(ValueError, match="both give the trunk's weights"):
        LesionClassifier(**TUNE, init=FrozenEstimator(base), backbone_weights="imagenet").fit(X, y)


# --------------------------------------------------------------- persistence, search
def test_pickle_round_trip_with_a_frozen_estimator_as_init(tuned, target):
    X, _ = target
    restored = pickle.loads(pickle.dumps(tuned))
    np.testing.assert_array_equal(restored.predict_proba(X), tuned.predict_proba(X))
    assert hasattr(restored.init.estimator, "model_")  # init still fitted after the trip


def test_save_and_load_a_model_fine_tuned_from_an_estimator(tuned, target, tmp_path):
    X, _ = target
    # an in-memory init is not stored: it loads as None and the file says what it was
    path = tuned.save(tmp_path / "tuned.skl")
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), tuned.predict_proba(X))
    assert loaded.init is None and loaded.fine_tune == "head"
    assert loaded.get_params() == {**tuned.get_params(deep=False), "init": None}
    meta = json.loads(zipfile.ZipFile(path).read("skinlesion.json"))
    assert "FrozenEstimator(LesionClassifier)" in meta["init_source"]


@pytest.mark.slow
def test_save_and_load_a_model_fine_tuned_from_a_file(base_file, target, tmp_path):
    X, y = target
    # a path is stored as given, so the loaded estimator fits again from it
    clf = LesionClassifier(**{**TUNE, "epochs": 1}, init=base_file, warmup_epochs=0)
    clf.fit(X, y)
    loaded = load_model(clf.save(tmp_path / "from-path.skl"))
    assert loaded.get_params() == {**clf.get_params(), "init": str(base_file)}
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    refit = loaded.set_params(fine_tune="head").fit(X, y)
    assert_same_trunk(refit.model_, load_model(base_file).model_)


@pytest.mark.slow
def test_grid_search_over_fine_tune_and_warmup_epochs(base, base_file, target):
    X, y = target
    for init in (FrozenEstimator(base), str(base_file)):
        search = GridSearchCV(
            LesionClassifier(**{**TUNE, "epochs": 2}, init=init, random_state=0),
            {"fine_tune": ["head", "all"], "warmup_epochs": [0, 1]},
            cv=StratifiedKFold(2),
            scoring="balanced_accuracy",
            error_score="raise",
        ).fit(X, y)
        assert len(search.cv_results_["params"]) == 4
        assert search.best_estimator_.init is init or search.best_estimator_.init == init
        assert search.best_estimator_.model_.output_shape == (None, 2)


# --------------------------------------------------------------- Keras applications
@pytest.mark.parametrize("name", list(BACKBONES))
def test_each_backbone_gets_the_input_scaling_keras_documents(name):
    """Our in-graph scaling of [0, 1] images equals ``preprocess_input`` of the 0-255 pixels."""
    from skinlesion.model._layers import BackbonePreprocessing

    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, size=(2, 5, 4, 3), dtype=np.uint8)
    module = getattr(keras.applications, BACKBONES[name].module)
    expected = module.preprocess_input(X.astype("float32"))
    layer = BackbonePreprocessing(BACKBONES[name].preprocessing, backbone=name)
    ours = keras.ops.convert_to_numpy(layer(X.astype("float32") / 255.0))
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-3)
    assert hasattr(keras.applications, name)


FAMILY = [
    "MobileNetV3Small",
    *(
        pytest.param(name, marks=pytest.mark.slow)
        for name in [
            "EfficientNetV2B0", "ResNet50V2", "ConvNeXtTiny", "EfficientNetB0", "DenseNet121",
            "InceptionV3", "MobileNet", "MobileNetV2", "ResNet50", "VGG16", "Xception",
        ]
    ),
]  # fmt: skip


@pytest.mark.parametrize("name", FAMILY)
def test_the_trunk_sees_what_the_application_expects(name):
    """The network's trunk features equal ``trunk(preprocess_input(pixels))``, Keras' recipe."""
    size = max(32, BACKBONES[name].min_size)
    model = build_cnn((size, size, 3), 2, augment=False, backbone=name, seed=0)
    (trunk,) = trunk_layers(model)
    features = keras.Model(model.inputs, model.get_layer("pool").input)
    X = np.random.default_rng(0).integers(0, 256, size=(2, size, size, 3), dtype=np.uint8)
    module = getattr(keras.applications, BACKBONES[name].module)
    expected = keras.ops.convert_to_numpy(trunk(module.preprocess_input(X.astype("float32"))))
    got = features.predict(X, verbose=0)
    np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-3 * np.abs(expected).max())
    assert trunk_spec(model) == {"backbone": name, "channels": 3}


def test_unknown_backbones_and_small_images_get_clear_errors():
    with pytest.raises(ValueError, match=r"did you mean 'ResNet50V2'.*ConvNeXtTiny"):
        build_cnn((32, 32, 3), 2, backbone="resnet50v2")
    with pytest.raises(ValueError, match="at least 75x75 pixels.*image_size=75"):
        build_cnn((64, 64, 3), 2, backbone="InceptionV3")
    X, y = make_lesions(n_samples=20, image_size=8, random_state=0)
    with pytest.raises(ValueError, match="at least 32x32 pixels"):
        LesionClassifier(backbone="MobileNetV3Small", image_size=16).fit(X, y)
    with pytest.raises(ValueError, match="backbone is None"):
        LesionClassifier(image_size=8, backbone_weights="imagenet").fit(X, y)


def test_a_seeded_backbone_is_repeatable_and_leaves_python_random_alone():
    state = random.getstate()
    a = build_backbone("MobileNetV3Small", (32, 32, 3), seed=3)
    assert random.getstate() == state
    b = build_backbone("MobileNetV3Small", (32, 32, 3), seed=3)
    c = build_backbone("MobileNetV3Small", (32, 32, 3), seed=4)
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)
    pairs = zip(a.get_weights(), c.get_weights(), strict=True)
    assert any(not np.array_equal(wa, wc) for wa, wc in pairs)


def test_a_weights_file_is_loaded_into_the_trunk(tmp_path):
    saved = build_backbone("MobileNetV3Small", (48, 48, 3), seed=7)  # another size: no matter
    path = tmp_path / "mobile.weights.h5"
    saved.save_weights(path)
    model = build_cnn((32, 32, 3), 3, backbone="MobileNetV3Small", backbone_weights=path, seed=0)
    (trunk,) = trunk_layers(model)
    for got, expected in zip(trunk.get_weights(), saved.get_weights(), strict=True):
        np.testing.assert_array_equal(got, expected)
    with pytest.raises(FileNotFoundError, match="missing.h5"):
        build_backbone("MobileNetV3Small", (32, 32, 3), weights=tmp_path / "missing.h5")
    other = build_backbone("MobileNetV2", (32, 32, 3), seed=0)
    other.save_weights(tmp_path / "other.weights.h5")
    with pytest.raises(ValueError, match=r"other.weights.h5.*cannot be loaded into MobileNetV3"):
        build_backbone("MobileNetV3Small", (32, 32, 3), weights=tmp_path / "other.weights.h5")


def test_imagenet_weights_offline_say_so_and_how_to_pass_a_file(monkeypatch):
    from keras.src.utils import file_utils

    origins = []

    def offline(fname=None, origin=None, **kwargs):  # what Keras raises when offline
        origins.append(origin)
        raise Exception(f"URL fetch failure on {origin}: None -- [Errno -3] name resolution")

    monkeypatch.setattr(file_utils, "get_file", offline)
    with pytest.raises(OSError, match="offline") as err:
        build_backbone("MobileNetV3Small", (32, 32, 3), weights="imagenet")
    message = str(err.value)
    assert "backbone_weights='/path/to/" in message and "~/.keras/models/" in message
    assert "URL fetch failure" in message and os.path.basename(origins[0]) in message
    X, y = make_lesions(n_samples=20, image_size=32, random_state=0)
    clf = LesionClassifier(backbone="MobileNetV3Small", backbone_weights="imagenet", image_size=32)
    with pytest.raises(OSError, match="offline"):
        clf.fit(X, y)


@pytest.mark.slow
def test_a_backbone_fits_saves_and_passes_its_trunk_on(tmp_path):
    """Random weights at 32 px; then a weights file, a frozen trunk, and init from that fit."""
    X, y = make_lesions(n_samples=40, image_size=32, random_state=0)
    tiny = dict(epochs=1, batch_size=20, validation_fraction=0.0, random_state=0)
    clf = LesionClassifier(backbone="MobileNetV3Small", image_size=32, **tiny).fit(X, y)
    assert clf.predict_proba(X).shape == (40, 3)

    saved = build_backbone("MobileNetV3Small", (32, 32, 3), seed=5)
    saved.save_weights(tmp_path / "mobile.weights.h5")
    headed = LesionClassifier(
        backbone="MobileNetV3Small", backbone_weights=tmp_path / "mobile.weights.h5",
        fine_tune="head", image_size=32, **tiny,
    ).fit(X, y)  # fmt: skip
    (trunk,) = trunk_layers(headed.model_)
    for got, expected in zip(trunk.get_weights(), saved.get_weights(), strict=True):
        np.testing.assert_array_equal(got, expected)  # loaded, and unchanged by a frozen fit

    y2 = np.where(y == "melanoma", "melanoma", "other")
    tuned = LesionClassifier(init=FrozenEstimator(headed), fine_tune="head", image_size=40, **tiny)
    tuned.fit(X, y2)
    assert trunk_spec(tuned.model_)["backbone"] == "MobileNetV3Small"  # followed init
    assert_same_trunk(tuned.model_, headed.model_)
    loaded = load_model(tuned.save(tmp_path / "tuned.skl"))
    np.testing.assert_array_equal(loaded.predict_proba(X), tuned.predict_proba(X))


def test_copy_trunk_refuses_other_trunks():
    a = build_cnn((16, 16, 3), 2, filters=(4,), seed=0)
    b = build_cnn((16, 16, 3), 2, filters=(4, 8), seed=0)
    with pytest.raises(ValueError, match="trunks differ"):
        copy_trunk(a, b)
    c = build_cnn((16, 16, 3), 2, filters=(8,), seed=0)
    with pytest.raises(ValueError, match="block1_conv"):
        copy_trunk(a, c)
