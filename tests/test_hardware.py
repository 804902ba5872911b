"""Hardware parameters of LesionClassifier: precision, jit_compile, distribute.

No GPU is needed: mixed bfloat16 runs on the CPU, and the CPU is split into
logical devices (in a subprocess, since that must happen before TensorFlow
starts) to stand in for several GPUs.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from skinlesion import LesionClassifier, load_model
from skinlesion.datasets import make_lesions

TINY = dict(image_size=16, filters=(4, 8), dense_units=(8,), epochs=1, batch_size=16)


@pytest.fixture(scope="module")
def data():
    return make_lesions(n_samples=48, image_size=16, random_state=0)


class _Stop(Exception):
    pass


class _Record(keras.callbacks.Callback):
    """Keeps what the model looks like when training starts, then optionally fails."""

    def __init__(self, fail: bool = False) -> None:
        super().__init__()
        self.fail = fail

    def on_train_begin(self, logs=None):
        self.optimizer = type(self.model.optimizer).__name__
        self.policy = keras.config.dtype_policy().name
        self.jit_compile = self.model.jit_compile
        if self.fail:
            raise _Stop


def test_mixed_bfloat16_fits_predicts_float32_and_reloads(data, tmp_path):
    X, y = data
    clf = LesionClassifier(**TINY, precision="mixed_bfloat16", random_state=0).fit(X, y)
    assert keras.config.dtype_policy().name == "float32"  # the caller's policy is back
    conv = clf.model_.get_layer("block1_conv")
    assert (conv.compute_dtype, conv.variable_dtype) == ("bfloat16", "float32")
    assert clf.model_.output.dtype == "float32"
    raw = clf.model_.predict(X[:8], verbose=0)
    assert raw.dtype == np.float32
    np.testing.assert_allclose(raw.sum(axis=1), 1.0, atol=1e-5)
    proba = clf.predict_proba(X)
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    loaded = load_model(clf.save(tmp_path / "bf16.skl"))
    assert loaded.precision == "mixed_bfloat16"
    assert loaded.model_.get_layer("block1_conv").compute_dtype == "bfloat16"
    np.testing.assert_array_equal(loaded.predict_proba(X), proba)


def test_mixed_float16_scales_the_loss_and_a_failed_fit_restores_the_policy(data):
    X, y = data
    record = _Record(fail=True)
    keras.config.set_dtype_policy("mixed_bfloat16")  # the caller's own policy
    try:
        with pytest.raises(_Stop):
            LesionClassifier(**TINY, precision="mixed_float16").fit(X, y, callbacks=[record])
        assert keras.config.dtype_policy().name == "mixed_bfloat16"
    finally:
        keras.config.set_dtype_policy("float32")
    assert record.policy == "mixed_float16"
    assert record.optimizer == "LossScaleOptimizer"


def test_precision_is_validated(data):
    X, y = data
    with pytest.raises(ValueError, match="precision"):
        LesionClassifier(**TINY, precision="float16").fit(X, y)


def test_jit_compile_reaches_model_compile(data):
    X, y = data
    record = _Record(fail=True)
    clf = LesionClassifier(**TINY, augment=False, jit_compile=True)
    with pytest.raises(_Stop):
        clf.fit(X, y, callbacks=[record])
    assert record.jit_compile is True
    record = _Record(fail=True)
    with pytest.warns(UserWarning, match="random_state=None"), pytest.raises(_Stop):
        clf.set_params(random_state=0).fit(X, y, callbacks=[record])
    assert record.jit_compile is False  # op determinism: Keras compiles without XLA
