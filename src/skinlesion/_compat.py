"""Every reach into another library's internals, in one file to check on each upgrade.

Each function here uses something its library does not document as public: a
private attribute, a private module, or a module-level name it rebinds. When a
dependency is upgraded, this is the file to read against its changelog; the rest
of the package uses only public APIs, or the names re-exported here.

* scikit-learn: ``_param_validation`` (``Interval``, ``Options``, ``StrOptions``,
  the constraint classes every scikit-learn-compatible library uses),
  ``_num_samples`` and ``_fit_context``; the call-stack walk of
  :func:`asked_by_sklearn_pipeline`.
* TensorFlow: the global seed's field of the eager context
  (:func:`without_tf_global_seed`) and the op-determinism switch
  (:func:`op_determinism_config`).
* Keras: ``SafeModeScope`` (:func:`keras_safe_mode`).
* Augmentor: the ``random`` and ``numpy`` names of ``Augmentor.Operations``
  (:func:`augmentor_own_randomness`).
"""

from __future__ import annotations

import contextlib
import inspect
import random
import threading
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import _num_samples

from skinlesion._tf import import_tf

__all__ = [
    "Interval",
    "Options",
    "StrOptions",
    "_fit_context",
    "_num_samples",
    "asked_by_sklearn_pipeline",
    "augmentor_own_randomness",
    "augmentor_seeded",
    "keras_safe_mode",
    "op_determinism_config",
    "without_tf_global_seed",
]


# --- scikit-learn ------------------------------------------------------------


def asked_by_sklearn_pipeline(sampler: Any) -> bool:
    """True when the nearest pipeline on the call stack is a plain scikit-learn one.

    imbalanced-learn's Pipeline refuses a step that has both ``fit_resample`` and
    ``transform``, while scikit-learn's refuses a step without ``transform`` with a
    message that does not help. So ``transform`` exists only when a plain
    scikit-learn pipeline asks for it, and then raises the helpful error.
    """
    from imblearn.pipeline import Pipeline as ImbPipeline
    from sklearn.pipeline import Pipeline as SkPipeline

    frame = inspect.currentframe()
    try:
        while frame is not None:
            owner = frame.f_locals.get("self")
            if isinstance(owner, SkPipeline):
                return not isinstance(owner, ImbPipeline)
            frame = frame.f_back
        return False
    finally:
        del frame


# --- TensorFlow and Keras ----------------------------------------------------


_global_seed_lock = threading.RLock()


@contextlib.contextmanager
def without_tf_global_seed() -> Iterator[None]:
    """Resolve ``tf.data`` op seeds as a fresh process would, whatever the global seed.

    ``Dataset.shuffle(seed=s)`` pairs ``s`` with TensorFlow's global seed when one
    has been set (``tf.random.set_seed``, ``keras.utils.set_random_seed``, perhaps
    by another library in the same process), so one ``random_state`` would give
    another shuffle order, and another model, after such a call. The pair is
    fixed when the dataset is built, so the global seed is hidden for that moment
    only and then put back untouched (the sequence of the user's own unseeded
    random ops is not advanced or reset).
    """
    import_tf()
    from tensorflow.python.eager import context  # the global seed's only home

    ctx = context.context()
    with _global_seed_lock:  # fits in threads must not see each other's None
        saved = getattr(ctx, "_seed", None)
        if saved is None:
            yield
            return
        ctx._seed = None
        try:
            yield
        finally:
            ctx._seed = saved


def op_determinism_config() -> Any:
    """TensorFlow's op-determinism switch (``is_op_determinism_enabled`` and its setters)."""
    import_tf()
    from tensorflow.python.framework import config  # the switch's only read/write API

    return config


def keras_safe_mode() -> Any:
    """Keras' ``SafeModeScope(True)``: no Python code from a model file, whatever the process set.

    ``keras.config.enable_unsafe_deserialization()`` overrides ``load_model``'s
    ``safe_mode`` argument process-wide; this scope (Keras' own, not public)
    overrides that again.
    """
    import_tf()
    from keras.src.saving.serialization_lib import SafeModeScope

    return SafeModeScope(True)


# --- Augmentor ---------------------------------------------------------------


class _Generators(threading.local):
    """The generators Augmentor's operations draw from, one pair per thread."""

    python: random.Random | None = None
    numpy: np.random.RandomState | None = None


_GENERATORS = _Generators()


class _RandomModule:
    """Stands in for the ``random`` module inside Augmentor: draws from our generator.

    A thread that has no generator of ours (someone using Augmentor directly while
    an Augmenter runs) gets the real module, as if nothing had changed.
    """

    def __getattr__(self, name: str) -> Any:
        generator = _GENERATORS.python
        return getattr(random if generator is None else generator, name)


class _NumpyModule:
    """Stands in for ``numpy`` inside Augmentor: ``np.random`` is our generator."""

    @property
    def random(self) -> Any:
        generator = _GENERATORS.numpy
        return np.random if generator is None else generator

    def __getattr__(self, name: str) -> Any:
        return getattr(np, name)


_INSTALL_LOCK = threading.Lock()
_INSTALLED = {"count": 0, "saved": None}


@contextlib.contextmanager
def augmentor_own_randomness() -> Iterator[None]:
    """Let Augmentor's operations draw from per-thread generators (see :func:`augmentor_seeded`).

    Augmentor's operations call the ``random`` and ``numpy`` modules they imported.
    Inside this context those two names in ``Augmentor.Operations`` point to
    stand-ins that draw from the current thread's generators; the caller's global
    ``random`` and ``numpy.random`` state is never read or changed, and the names
    are restored when the last user leaves.
    """
    import Augmentor.Operations as operations_module

    with _INSTALL_LOCK:
        if _INSTALLED["count"] == 0:
            _INSTALLED["saved"] = (operations_module.random, operations_module.np)
            operations_module.random = _RandomModule()
            operations_module.np = _NumpyModule()
        _INSTALLED["count"] += 1
    try:
        with warnings.catch_warnings():
            # Augmentor's skew builds a numpy.matrix (pending deprecation in NumPy 2).
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            yield
    finally:
        with _INSTALL_LOCK:
            _INSTALLED["count"] -= 1
            if _INSTALLED["count"] == 0:
                operations_module.random, operations_module.np = _INSTALLED["saved"]


@contextlib.contextmanager
def augmentor_seeded(seed: int) -> Iterator[None]:
    """Seed this thread's generators for one image."""
    _GENERATORS.python = random.Random(seed)
    _GENERATORS.numpy = np.random.RandomState(seed)
    try:
        yield
    finally:
        _GENERATORS.python = _GENERATORS.numpy = None
