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
import warnings
from collections.abc import Iterator
from typing import Any

from skinlesion._tf import import_tf

__all__ = ["PRECISIONS", "check_jit_compile", "dtype_policy", "fit_context"]

#: The values of ``precision``: Keras dtype policies.
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")


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
    >>> from skinlesion._hardware import dtype_policy
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


@contextlib.contextmanager
def fit_context(precision: str, distribute: Any = None) -> Iterator[Any]:
    """Build, compile and train inside this block: the dtype policy.

    Yields None.
    """
    with dtype_policy(precision):
        yield None
