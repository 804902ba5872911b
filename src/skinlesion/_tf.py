"""Lazy, quiet TensorFlow import, its thread pools and its logger.

TensorFlow is imported here and only here, the first time a network is built or
used, so ``import skinlesion`` stays fast. Its C++ start-up messages (CUDA
probing on a machine without a GPU, oneDNN notices) are kept away from the user
unless they ask for them, without changing the user's environment or logging
configuration for good: ``TF_CPP_MIN_LOG_LEVEL`` is set only while TensorFlow
starts (it reads the variable then, and its C++ level cannot be changed later in
the process), and the ``tensorflow`` logger is quietened only inside ``fit`` and
``predict`` (:func:`quiet_tf_logger`). Keras must run on its TensorFlow backend: a
``KERAS_BACKEND`` that asks for another is a clear error here (see
:func:`check_keras_backend`), not an obscure one from inside Keras.

Thread pools: TensorFlow sizes its pools once per process. When TensorFlow has
not been started yet, they are sized from ``SKINLESION_NUM_THREADS`` or, failing
that, ``OMP_NUM_THREADS`` (which joblib's loky backend sets in its workers so that
``GridSearchCV(n_jobs=2)`` does not run two TensorFlows that each want every core).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from collections.abc import Iterator
from typing import Any

_STARTED = False


class KerasBackendError(ImportError, ValueError):
    """Keras is set to a backend other than TensorFlow, which skinlesion needs.

    It is an :class:`ImportError` (Keras cannot be used as it is set up) and a
    :class:`ValueError` (the ``KERAS_BACKEND`` setting has a value skinlesion cannot
    work with), so code and command lines that report bad input report it too.
    """


def check_keras_backend(backend: str | None = None) -> None:
    """Raise :class:`KerasBackendError` unless Keras runs (or will run) on TensorFlow.

    skinlesion's networks are Keras 3 models, but its data pipeline (``tf.data``),
    seeding and model files are TensorFlow's, so the other Keras backends (JAX,
    PyTorch, NumPy, OpenVINO) cannot run them.

    Parameters
    ----------
    backend : str, default=None
        The backend Keras was started with (``keras.backend.backend()``); ``None``
        checks the ``KERAS_BACKEND`` environment variable, before Keras is imported.

    Examples
    --------
    >>> from skinlesion._tf import check_keras_backend
    >>> check_keras_backend("tensorflow")
    >>> try:
    ...     check_keras_backend("jax")
    ... except ValueError as err:
    ...     print(str(err)[:48])
    skinlesion runs Keras on the TensorFlow backend,
    """
    if backend is None:
        value = os.environ.get("KERAS_BACKEND", "").strip()
        if value and value.lower() != "tensorflow":
            raise KerasBackendError(
                f"skinlesion runs Keras on the TensorFlow backend, but the environment "
                f"variable KERAS_BACKEND={value!r} asks for another. Unset it (or set "
                "KERAS_BACKEND=tensorflow) in the environment that runs skinlesion."
            )
    elif backend != "tensorflow":
        raise KerasBackendError(
            f"skinlesion runs Keras on the TensorFlow backend, but Keras was started with "
            f'the {backend!r} backend (set by KERAS_BACKEND, or by "backend" in '
            "~/.keras/keras.json). Set KERAS_BACKEND=tensorflow in the environment that "
            "runs skinlesion, before keras is first imported."
        )


@contextlib.contextmanager
def _stderr_silenced(enabled: bool = True) -> Iterator[None]:
    """Send file descriptor 2 to /dev/null (C++ logs bypass ``sys.stderr``)."""
    if not enabled:
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real fd 2 (some notebooks, embedded interpreters)
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _thread_limit() -> int | None:
    for name in ("SKINLESION_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    return None


def import_tf(verbose: int = 0) -> Any:
    """Import and return TensorFlow, quietly, configuring threads on first start.

    Parameters
    ----------
    verbose : int, default=0
        At 2 or more, TensorFlow's own start-up messages are shown.
    """
    global _STARTED
    if _STARTED:
        return sys.modules["tensorflow"]
    if "keras" not in sys.modules:
        check_keras_backend()  # before importing Keras, whose own error would be obscure
    already_imported = "tensorflow" in sys.modules
    quiet = verbose < 2
    # TensorFlow's C++ logging reads TF_CPP_MIN_LOG_LEVEL once, when it starts; the
    # variable is set for that moment only and then removed again, so that the
    # user's environment (and the child processes it is passed on to) is as it was.
    # The level TensorFlow read stays in force in this process: no API changes it.
    set_env = quiet and "TF_CPP_MIN_LOG_LEVEL" not in os.environ
    if set_env:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    try:
        tf = _start(already_imported, quiet)
    finally:
        if set_env:
            os.environ.pop("TF_CPP_MIN_LOG_LEVEL", None)
    _STARTED = True
    return tf


def _start(already_imported: bool, quiet: bool) -> Any:
    with _stderr_silenced(enabled=quiet):
        import tensorflow as tf

        if not already_imported:
            limit = _thread_limit()
            if limit is not None:
                try:
                    tf.config.threading.set_intra_op_parallelism_threads(limit)
                    # two inter-op threads even under a cap of one: with a single one the
                    # tf.data pipeline and the training step wait on each other.
                    tf.config.threading.set_inter_op_parallelism_threads(2)
                except RuntimeError:  # the runtime was already started by the user
                    pass
        # Device discovery is where CUDA is probed and complains on CPU machines.
        tf.config.list_physical_devices()
        import keras  # Keras 3 on the TensorFlow backend

        check_keras_backend(keras.backend.backend())
    return tf


_logger_lock = threading.Lock()
_logger_users = 0


@contextlib.contextmanager
def quiet_tf_logger(verbose: int = 0) -> Iterator[None]:
    """Keep TensorFlow's Python logger at ERROR inside the block, then restore it.

    TensorFlow's ``tensorflow`` logger warns about ``tf.function`` retracing each
    time a new model predicts. Inside ``fit`` and ``predict`` that noise is kept
    away from users who did not configure the logger (its level is NOTSET); a
    level the user set is left alone, and so is everything at ``verbose >= 2``.
    Nested and concurrent blocks restore the level when the last one ends.

    Examples
    --------
    >>> import logging
    >>> from skinlesion._tf import quiet_tf_logger
    >>> logger = logging.getLogger("tensorflow")
    >>> with quiet_tf_logger():
    ...     print(logging.getLevelName(logger.level))
    ERROR
    >>> logging.getLevelName(logger.level)
    'NOTSET'
    """
    global _logger_users
    logger = logging.getLogger("tensorflow")
    with _logger_lock:
        if verbose >= 2 or (_logger_users == 0 and logger.level != logging.NOTSET):
            owned = False
        else:
            owned = True
            if _logger_users == 0:
                logger.setLevel(logging.ERROR)
            _logger_users += 1
    try:
        yield
    finally:
        if owned:
            with _logger_lock:
                _logger_users -= 1
                if _logger_users == 0:
                    logger.setLevel(logging.NOTSET)
