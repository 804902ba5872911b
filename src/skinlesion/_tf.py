"""Lazy, quiet TensorFlow import and the context that makes training repeatable.

TensorFlow is imported here and only here, the first time a network is built or
used, so ``import skinlesion`` stays fast. Its C++ start-up messages (CUDA
probing on a machine without a GPU, oneDNN notices) are kept away from the user
unless they ask for them.

Thread pools: TensorFlow sizes its pools once per process. When TensorFlow has
not been started yet, they are sized from ``SKINLESION_NUM_THREADS`` or, failing
that, ``OMP_NUM_THREADS`` (which joblib's loky backend sets in its workers so that
``GridSearchCV(n_jobs=2)`` does not run two TensorFlows that each want every core).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

_STARTED = False


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
    already_imported = "tensorflow" in sys.modules
    quiet = verbose < 2
    if quiet:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
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
        import keras  # noqa: F401  (Keras 3 on the TensorFlow backend)

        if quiet:
            # TensorFlow's Python logger warns about tf.function retracing each time a
            # new model predicts; keep that away from users who did not configure it.
            import logging

            tf_logger = logging.getLogger("tensorflow")
            if tf_logger.level == logging.NOTSET:
                tf_logger.setLevel(logging.ERROR)
    _STARTED = True
    return tf


@contextlib.contextmanager
def op_determinism(enabled: bool) -> Iterator[None]:
    """Enable TensorFlow's op determinism inside the block, restoring it after.

    Examples
    --------
    >>> from skinlesion._tf import op_determinism
    >>> with op_determinism(True):
    ...     pass
    """
    if not enabled:
        yield
        return
    import_tf()
    from tensorflow.python.framework import config  # the switch's only read/write API

    was_enabled = config.is_op_determinism_enabled()
    if not was_enabled:
        config.enable_op_determinism()
    try:
        yield
    finally:
        if not was_enabled:
            config.disable_op_determinism()
