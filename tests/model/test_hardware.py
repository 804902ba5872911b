"""Hardware parameters of LesionClassifier: precision, jit_compile, distribute.

No GPU is needed: mixed bfloat16 runs on the CPU, and the CPU is split into
logical devices (in a subprocess, since that must happen before TensorFlow
starts) to stand in for several GPUs.
"""

from __future__ import annotations

import os
import pickle
import re
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import keras
import numpy as np
import pytest
from sklearn.base import clone

from skinlesion import LesionClassifier, load_model
from skinlesion.datasets import make_lesions

from .._subprocess import run_python

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


# Two logical CPUs stand in for two GPUs; TensorFlow must be told before it starts.
_MIRRORED = """
import sys
import numpy as np
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from skinlesion import LesionClassifier
from skinlesion.model._hardware import resolve_strategy
from skinlesion.datasets import make_lesions

X, y = make_lesions(n_samples=64, image_size=16, random_state=0)
params = dict(image_size=16, filters=(4, 8), dense_units=(8,), epochs=3, batch_size=64,
              batch_norm=False, dropout=0.0, augment=False, validation_fraction=0.0,
              random_state=0)
devices = ["/cpu:0", "/cpu:1"]
single = LesionClassifier(**params).fit(X, y)
mirrored = LesionClassifier(**params, distribute=devices).fit(X, y)
strategy = resolve_strategy(devices)
assert strategy.num_replicas_in_sync == 2 and resolve_strategy(list(devices)) is strategy
again = LesionClassifier(**params, distribute=devices).fit(X, y)  # reuses the strategy
proba = mirrored.predict_proba(X)
np.save(sys.argv[1] + "/proba.npy", proba)
mirrored.save(sys.argv[1] + "/mirrored.skl")
print("max difference", np.abs(proba - single.predict_proba(X)).max())
print("loss", mirrored.history_["loss"], single.history_["loss"])
print("again", np.abs(again.predict_proba(X) - proba).max())
"""


@pytest.mark.slow
def test_a_mirrored_fit_on_two_devices_agrees_with_one_device(tmp_path):
    """Each replica gets half of every batch; the summed gradients equal one device's.

    One batch holds all 64 images, so the order in which they come does not
    matter (TensorFlow reseeds the per-epoch shuffle of a distributed dataset: a
    mirrored fit sees the images in another order than a one-device fit). The
    network has no batch normalisation or dropout: both act per replica (batch
    statistics of half a batch, other dropout masks), which moved the
    probabilities by about 0.02 in two epochs here. Without them the two fits
    agree to float32 rounding: tolerance 1e-5 on the probabilities.
    """
    run = run_python("-c", _MIRRORED, tmp_path, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in run.stdout.splitlines() if " " in line)
    assert float(lines["max"].split()[-1]) < 1e-5, run.stdout
    assert float(lines["again"]) == 0.0, run.stdout  # a seeded mirrored fit is repeatable
    # the model file holds no trace of the devices: it loads and predicts on one CPU
    loaded = load_model(tmp_path / "mirrored.skl")
    assert loaded.distribute == ["/cpu:0", "/cpu:1"]
    data = make_lesions(n_samples=64, image_size=16, random_state=0)[0]
    np.testing.assert_allclose(
        loaded.predict_proba(data), np.load(tmp_path / "proba.npy"), atol=1e-6
    )


def test_distribute_is_checked_and_a_strategy_object_is_not_saved(data, tmp_path):
    import tensorflow as tf

    X, y = data
    with pytest.raises(ValueError, match="not a strategy"):
        LesionClassifier(**TINY, distribute="gpus").fit(X, y)
    with pytest.raises(ValueError, match="does not have"):
        LesionClassifier(**TINY, distribute=["/gpu:7"]).fit(X, y)
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    clf = LesionClassifier(**TINY, augment=False, distribute=strategy).fit(X, y)
    assert clf.model_.distribute_strategy is strategy
    assert load_model(clf.save(tmp_path / "one.skl")).distribute is None
    # clone shares the strategy (devices of this process) instead of copying it
    copied = clone(clf)
    assert copied.distribute is strategy and not hasattr(copied, "model_")
    assert copied.get_params()["filters"] == clf.filters
    with pytest.raises(TypeError, match=r"cannot be pickled.*set_params\(distribute=None\)"):
        pickle.dumps(clf)
    unpickled = pickle.loads(pickle.dumps(clf.set_params(distribute=None)))
    np.testing.assert_array_equal(unpickled.predict_proba(X[:4]), clf.predict_proba(X[:4]))


# ---------------------------------------------------------------- multi-worker
_GUIDE = Path(__file__).resolve().parents[2] / "docs" / "user_guide" / "distributed.rst"


def _guide_example() -> tuple[list[str], str]:
    """The guide's two TF_CONFIG values and its train.py, as the guide prints them."""
    text = _GUIDE.read_text(encoding="utf-8")
    configs = [
        " ".join(found.split()) for found in re.findall(r"export TF_CONFIG='(.*?)'", text, re.S)
    ]
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("# train.py"))
    end = next(i for i in range(start, len(lines)) if lines[i].strip() and lines[i][:3] != "   ")
    script = textwrap.dedent("\n".join(lines[start:end])).strip() + "\n"
    assert len(configs) == 2 and "multi_worker" in script, "the guide's example changed shape"
    return configs, script


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("localhost", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _start_workers(script: str, configs: list[str], cwd: Path, env: dict | None = None):
    ports = _free_ports(2)
    workers = []
    for config in configs:
        for guide_port, port in zip(("12345", "12346"), ports, strict=True):
            config = config.replace(f"localhost:{guide_port}", f"localhost:{port}")
        workers.append(
            subprocess.Popen(
                [sys.executable, "-c", script],
                cwd=cwd,
                env={**os.environ, **(env or {}), "TF_CONFIG": config},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    return workers


def _finish(worker: subprocess.Popen, timeout: float) -> tuple[int, str, str]:
    try:
        out, err = worker.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        worker.kill()
        out, err = worker.communicate()
        pytest.fail(f"a worker did not end within {timeout} s:\n{err[-3000:]}")
    return worker.returncode, out, err


@pytest.mark.slow
def test_the_guides_two_workers_agree_with_a_one_device_fit(tmp_path):
    """The guide's TF_CONFIG example and train.py, run as two processes on localhost.

    Both workers end with the same network (to float32 rounding of the
    all-reduce), the chief predicts on its own after the other has ended, and
    its probabilities are those of the same fit on one device to 1e-5: one
    batch holds all 64 images and the network has no batch normalisation or
    dropout, so how TensorFlow shards and orders the images does not matter
    (see the mirrored test above for why those would).
    """
    configs, script = _guide_example()
    assert '"index": 0' in configs[0] and '"index": 1' in configs[1]
    # every worker saves its network; the chief alone predicts (the other has ended)
    script += "\nindex = json.loads(os.environ['TF_CONFIG'])['task']['index']\n"
    script += "clf.save(f'worker{index}.skl')\n"
    script += "if index == 0:\n    import numpy as np\n"
    script += "    np.save('chief.npy', clf.predict_proba(X))\n"
    workers = _start_workers(script, configs, tmp_path)
    for worker in workers:
        code, _, err = _finish(worker, timeout=240)
        assert code == 0, err[-3000:]
    chief = np.load(tmp_path / "chief.npy")
    saved = load_model(tmp_path / "model.skl")  # the chief's file loads without a strategy
    assert saved.distribute == "multi_worker"
    X, y = make_lesions(n_samples=64, image_size=16, random_state=0)
    other = load_model(tmp_path / "worker1.skl").predict_proba(X)
    np.testing.assert_allclose(other, chief, atol=1e-6)
    single = clone(saved).set_params(distribute=None).fit(X, y)
    np.testing.assert_allclose(saved.predict_proba(X), chief, atol=1e-6)
    np.testing.assert_allclose(single.predict_proba(X), chief, atol=1e-5)


_LONG_FIT = """
import sys
import keras
from skinlesion import LesionClassifier
from skinlesion.datasets import make_lesions

X, y = make_lesions(n_samples=32, image_size=16, random_state=0)
clf = LesionClassifier(image_size=16, filters=(4,), dense_units=(4,), batch_size=32, epochs=10_000,
                       augment=False, validation_fraction=0.0, early_stopping=False,
                       lr_schedule=None, distribute="multi_worker", random_state=0)
report = keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: print("epoch", e, flush=True))
clf.fit(X, y, callbacks=[report])
"""


@pytest.mark.slow
def test_a_worker_that_dies_stops_the_other_with_a_clear_error(tmp_path):
    """Kill worker 1 mid-fit: worker 0's fit raises, naming the cause and the fix.

    TensorFlow's coordination service misses worker 1's heartbeats after about
    10 s; here worker 0 ended 12 s after the kill on a loaded two-core machine.
    The bound asserted (90 s) leaves room for a slow machine; without the
    detection the fit would run its 10 000 epochs.
    """
    configs, _ = _guide_example()
    chief, other = _start_workers(_LONG_FIT, configs, tmp_path)
    try:
        assert other.stdout.readline().startswith("epoch"), other.stderr.read()[-3000:]
    finally:
        other.kill()
    other.communicate()
    killed = time.monotonic()
    code, _, err = _finish(chief, timeout=90)
    assert code != 0
    assert "RuntimeError: the multi-worker fit stopped because another worker" in err, err[-3000:]
    assert "start the fit again on every worker" in err
    assert time.monotonic() - killed < 90


@pytest.mark.slow
def test_a_worker_whose_chief_never_starts_gives_up_after_the_timeout(tmp_path):
    configs, _ = _guide_example()
    (worker,) = _start_workers(
        _LONG_FIT, configs[1:], tmp_path, env={"SKINLESION_WORKER_START_TIMEOUT": "5"}
    )
    code, _, err = _finish(worker, timeout=120)
    assert code != 0
    assert "the chief (worker 0 of TF_CONFIG's cluster) did not answer within 5 s" in err, err[
        -3000:
    ]
    assert "SKINLESION_WORKER_START_TIMEOUT" in err


def test_the_worker_start_timeout_is_read_from_the_environment(monkeypatch):
    from skinlesion.model._hardware import WORKER_START_TIMEOUT, _worker_start_timeout

    monkeypatch.delenv("SKINLESION_WORKER_START_TIMEOUT", raising=False)
    assert _worker_start_timeout() == WORKER_START_TIMEOUT == 600
    monkeypatch.setenv("SKINLESION_WORKER_START_TIMEOUT", " 2.5 ")
    assert _worker_start_timeout() == 2.5
    for bad in ("soon", "0", "-3"):
        monkeypatch.setenv("SKINLESION_WORKER_START_TIMEOUT", bad)
        with pytest.raises(ValueError, match=f"SKINLESION_WORKER_START_TIMEOUT='{bad}'.*600"):
            _worker_start_timeout()
