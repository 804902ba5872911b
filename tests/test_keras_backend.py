"""Keras must run on TensorFlow: another KERAS_BACKEND is a clear error naming the fix."""

from __future__ import annotations

import pytest

from skinlesion._tf import KerasBackendError, check_keras_backend

from ._subprocess import run_python

FIT = """
import numpy as np
from skinlesion import LesionClassifier
X = np.zeros((4, 8, 8, 3), dtype=np.uint8)
try:
    LesionClassifier(image_size=8, filters=(2,), epochs=1).fit(X, ["a", "b"] * 2)
except ValueError as err:
    print(type(err).__name__, "|", err)
"""


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_another_backend_is_a_clear_error_at_first_use(backend):
    done = run_python(
        "-c", FIT, env={"KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}, timeout=300
    )
    assert done.returncode == 0, done.stderr  # the error is a ValueError, caught above
    name, message = done.stdout.strip().split(" | ")
    assert name == "KerasBackendError"
    assert f"KERAS_BACKEND='{backend}'" in message
    assert "KERAS_BACKEND=tensorflow" in message  # the fix
    assert "ModuleNotFoundError" not in done.stderr


def test_the_command_line_says_it_in_one_line():
    done = run_python(
        "-m",
        "skinlesion",
        "demo",
        "--n-samples",
        "40",
        env={"KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "3"},
        timeout=300,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "error: skinlesion runs Keras on the TensorFlow backend" in done.stderr
    assert "KERAS_BACKEND='jax'" in done.stderr


def test_tensorflow_backend_and_keras_started_elsewhere(monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    check_keras_backend()
    check_keras_backend("tensorflow")
    with pytest.raises(KerasBackendError, match=r"started with the 'jax' backend.*keras\.json"):
        check_keras_backend("jax")
    assert issubclass(KerasBackendError, ImportError)
