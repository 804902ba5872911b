"""Where and in which number format a fit runs: precision, XLA, ``tf.distribute``.

``LesionClassifier`` hands the hardware plumbing to TensorFlow and Keras and
keeps none of its own: a Keras dtype policy for mixed precision, ``jit_compile``
for XLA and a ``tf.distribute`` strategy for several devices or machines. This
module turns the estimator's ``precision``, ``jit_compile`` and ``distribute``
parameters into those, and :func:`fit_context` applies them for one fit only,
restoring the caller's dtype policy afterwards (even when the fit fails).
"""

from __future__ import annotations

import contextlib
import os
import threading
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

from skinlesion._tf import import_tf

__all__ = [
    "PRECISIONS",
    "WORKER_START_TIMEOUT",
    "check_jit_compile",
    "dtype_policy",
    "fit_context",
    "is_multi_worker",
    "multi_worker_errors",
    "resolve_strategy",
]

#: The values of ``precision``: Keras dtype policies.
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")

#: Seconds a multi-worker fit waits for the chief (worker 0) of ``TF_CONFIG`` to
#: start, unless the environment variable ``SKINLESION_WORKER_START_TIMEOUT`` says.
WORKER_START_TIMEOUT = 600.0
_START_TIMEOUT_VARIABLE = "SKINLESION_WORKER_START_TIMEOUT"
_strategies: dict[Any, Any] = {}  # one per device set and process, see resolve_strategy
_strategies_lock = threading.Lock()


@contextlib.contextmanager
def dtype_policy(precision: str) -> Iterator[None]:
    """Set Keras' dtype policy to ``precision`` inside the block, then restore it.

    Layers take their policy when they are built, so a network built inside the
    block computes in ``precision`` for good (its layers keep the policy, also in
    a saved file) while Keras' global policy is the caller's again afterwards.
    Keras keeps the policy per thread, so fits in other threads are unaffected.

    Examples
    --------
    >>> import keras
    >>> from skinlesion.model._hardware import dtype_policy
    >>> with dtype_policy("mixed_bfloat16"):
    ...     print(keras.config.dtype_policy().name)
    mixed_bfloat16
    >>> keras.config.dtype_policy().name
    'float32'
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {list(PRECISIONS)}, got {precision!r}.")
    import_tf()
    import keras

    saved = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(saved)


def check_jit_compile(jit_compile: bool | str, *, deterministic: bool) -> bool | str:
    """The ``jit_compile`` to pass to ``model.compile``, warning where Keras ignores it."""
    if jit_compile is True and deterministic:
        warnings.warn(
            "jit_compile=True is not honoured: a seeded fit (random_state set) runs with "
            "TensorFlow's op determinism, which Keras does not combine with XLA, so the "
            "network runs without XLA. Set random_state=None to compile it with XLA.",
            UserWarning,
            stacklevel=4,
        )
        return False  # what Keras would do, after a warning of its own that says less
    return jit_compile


def resolve_strategy(distribute: Any) -> Any:
    """The ``tf.distribute.Strategy`` that ``distribute`` asks for, or None.

    ``"mirrored"`` and a list of devices give a ``MirroredStrategy``, and
    ``"multi_worker"`` a ``MultiWorkerMirroredStrategy`` configured by the
    ``TF_CONFIG`` environment variable. They are made once per process and
    device set and then reused: TensorFlow allows one multi-worker strategy per
    process, created before anything else runs on its devices, and several
    mirrored strategies over the same CPUs in one process disagree on their
    collective operations.
    """
    if distribute is None:
        return None
    tf = import_tf()
    if isinstance(distribute, tf.distribute.Strategy):
        return distribute
    if isinstance(distribute, str):
        if distribute == "mirrored":
            key: Any = ("mirrored", None)
        elif distribute == "multi_worker":
            key = ("multi_worker", None)
        else:
            raise ValueError(
                f"distribute={distribute!r} is not a strategy: use None (TensorFlow's default "
                "placement), 'mirrored' (every local GPU), a list of devices such as "
                "['/gpu:0', '/gpu:1'], 'multi_worker' (machines listed in TF_CONFIG) or a "
                "tf.distribute.Strategy."
            )
    elif isinstance(distribute, Sequence) and all(isinstance(d, str) for d in distribute):
        if not distribute:
            raise ValueError("distribute is an empty list of devices; list one or more.")
        known = {_device_key(tf, d.name) for d in tf.config.list_logical_devices()}
        for device in distribute:
            if _device_key(tf, device) not in known:
                raise ValueError(
                    f"distribute lists device {device!r}, which this machine does not have; "
                    f"its devices are {[d.name for d in tf.config.list_logical_devices()]}."
                )
        key = ("mirrored", tuple(distribute))
    else:
        raise ValueError(
            f"distribute must be None, 'mirrored', 'multi_worker', a list of device names or a "
            f"tf.distribute.Strategy, got {type(distribute).__name__}."
        )
    with _strategies_lock:
        if key not in _strategies:
            _strategies[key] = _make_strategy(tf, *key)
        return _strategies[key]


def _device_key(tf: Any, name: str) -> tuple[str, int]:
    """``("GPU", 1)`` for ``"/gpu:1"`` or ``"/job:localhost/replica:0/task:0/device:GPU:1"``."""
    try:
        spec = tf.DeviceSpec.from_string(name)
    except ValueError:
        return ("", -1)
    return (str(spec.device_type or "").upper(), int(spec.device_index or 0))


def _make_strategy(tf: Any, kind: str, devices: tuple[str, ...] | None) -> Any:
    if kind == "mirrored":
        return tf.distribute.MirroredStrategy(list(devices) if devices else None)
    from skinlesion._compat import configure_multi_worker_coordination

    timeout = _worker_start_timeout()
    configure_multi_worker_coordination(timeout)
    try:
        return tf.distribute.MultiWorkerMirroredStrategy()
    except (tf.errors.DeadlineExceededError, tf.errors.UnavailableError) as err:
        raise RuntimeError(
            f"distribute='multi_worker': the chief (worker 0 of TF_CONFIG's cluster) did not "
            f"answer within {timeout:g} s ({_first_line(err)}). Start the same program on "
            "every machine of TF_CONFIG's cluster, each with its own task index, and check "
            "that this one reaches worker 0's address; set SKINLESION_WORKER_START_TIMEOUT "
            "(seconds) to wait longer."
        ) from None
    except (RuntimeError, ValueError) as err:
        raise RuntimeError(
            "distribute='multi_worker' could not start TensorFlow's "
            f"MultiWorkerMirroredStrategy ({' '.join(str(err).split())[:300]}). It must be "
            "created before anything else runs on TensorFlow in the process, with TF_CONFIG "
            "set: fit with distribute='multi_worker' first thing in the program, or create "
            "tf.distribute.MultiWorkerMirroredStrategy() at its start and pass it as "
            "distribute=."
        ) from None


def _worker_start_timeout() -> float:
    text = os.environ.get(_START_TIMEOUT_VARIABLE, "").strip()
    if not text:
        return WORKER_START_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise ValueError(
            f"{_START_TIMEOUT_VARIABLE}={text!r} is not a number of seconds above 0; "
            f"set it to one, such as 600, or unset it (default {WORKER_START_TIMEOUT:g})."
        )
    return value


def _first_line(err: BaseException) -> str:
    message = getattr(err, "message", None) or str(err)
    lines = [line.strip() for line in str(message).splitlines() if line.strip()]
    return " ".join(lines[:3])[:400] or type(err).__name__


def is_multi_worker(strategy: Any) -> bool:
    """Whether ``strategy`` is TensorFlow's multi-worker strategy (False for None)."""
    if strategy is None:
        return False
    tf = import_tf()
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


@contextlib.contextmanager
def multi_worker_errors(strategy: Any) -> Iterator[None]:
    """Turn the error of a fit whose fellow worker stopped into one that says what to do.

    When a worker of a multi-worker fit dies, TensorFlow aborts the collective
    operations of the others: the worker that notices a missing heartbeat
    (about 10 s) or a closed connection raises ``UnavailableError`` (or
    ``AbortedError``, ``DeadlineExceededError``, ``CancelledError``) from
    ``model.fit``. This context re-raises those as a :class:`RuntimeError`
    naming the problem and the fix, with TensorFlow's error as its cause.
    Other strategies' errors pass unchanged.
    """
    tf = import_tf()
    if not is_multi_worker(strategy):
        yield
        return
    try:
        yield
    except (
        tf.errors.UnavailableError,
        tf.errors.AbortedError,
        tf.errors.DeadlineExceededError,
        tf.errors.CancelledError,
    ) as err:
        raise RuntimeError(
            "the multi-worker fit stopped because another worker of TF_CONFIG's cluster "
            f"stopped or cannot be reached (TensorFlow: {_first_line(err)}). Find why it "
            "stopped in its own output, then start the fit again on every worker, in new "
            "processes: a worker that lost a peer cannot go on, and TensorFlow's "
            "multi-worker strategy cannot be reused after such a failure."
        ) from err


@contextlib.contextmanager
def fit_context(precision: str, distribute: Any = None) -> Iterator[Any]:
    """Build, compile and train inside this block: the dtype policy and strategy scope.

    Yields the strategy (or None).
    """
    strategy = resolve_strategy(distribute)
    scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
    with dtype_policy(precision), scope:
        yield strategy
