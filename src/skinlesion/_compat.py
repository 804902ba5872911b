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
  (:func:`op_determinism_config`, :func:`op_determinism`).
* Keras: ``SafeModeScope`` (:func:`keras_safe_mode`).
* Augmentor: the ``random`` and ``numpy`` names of ``Augmentor.Operations``
  (:func:`augmentor_own_randomness`).
* Keras' TensorFlow trainer and TensorFlow's coordination service, for fits under
  a ``MultiWorkerMirroredStrategy`` (:func:`keras_multi_worker_fit`,
  :func:`configure_multi_worker_coordination`; see the section below).
"""

from __future__ import annotations

import contextlib
import inspect
import random
import threading
import types
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
    "configure_multi_worker_coordination",
    "keras_multi_worker_fit",
    "keras_safe_mode",
    "op_determinism",
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


@contextlib.contextmanager
def op_determinism(enabled: bool) -> Iterator[None]:
    """Enable TensorFlow's op determinism inside the block, restoring it after.

    Examples
    --------
    >>> from skinlesion._compat import op_determinism
    >>> with op_determinism(True):
    ...     pass
    """
    if not enabled:
        yield
        return
    config = op_determinism_config()
    was_enabled = config.is_op_determinism_enabled()
    if not was_enabled:
        config.enable_op_determinism()
    try:
        yield
    finally:
        if not was_enabled:
            config.disable_op_determinism()


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


# --- Keras 3 and TensorFlow's MultiWorkerMirroredStrategy ---------------------
#
# ``keras.Model.fit`` under a ``MultiWorkerMirroredStrategy`` with workers on
# several processes fails in Keras 3 (reported since Keras 3 became TensorFlow's
# default, keras-team/keras#20585 and tensorflow/tensorflow#72388; seen here with
# Keras 3.15.1 and TensorFlow 2.21) in two places of
# ``keras/src/backend/tensorflow/trainer.py``:
#
# 1. ``_maybe_symbolic_build`` averages the first batch of images *across the
#    workers* (``strategy.reduce("MEAN", batch)``) only to learn its shapes, and
#    the collective strategy cannot reduce that structure ("Attempt to convert a
#    value (PerReplica...) to a Tensor"). :func:`keras_multi_worker_fit` builds
#    from this worker's own first batch instead.
# 2. ``reduce_per_replica`` averages each step's scalar loss and metrics with
#    ``strategy.reduce("MEAN", value, axis=0)``, and a scalar has no axis 0
#    ("Invalid reduction dimension 0 for input with 0 dimensions"). The fix
#    averages scalars over the replicas (``axis=None``) and leaves everything
#    else to Keras.
#
# Both are applied only to fits under a multi-worker strategy, and only for the
# fit: the first on the model being fitted, the second by swapping the module's
# function and putting Keras' own back afterwards. Where Keras no longer has
# these names (a release that reorganised or fixed them), nothing is changed.
#
# TensorFlow's coordination service
# ---------------------------------
# :func:`configure_multi_worker_coordination` sets how long a multi-worker
# strategy waits for every worker of ``TF_CONFIG`` to start, through the
# coordination-service configuration that ``MultiWorkerMirroredStrategy``
# would otherwise make itself with TensorFlow's defaults.


def _keras_trainer_module() -> Any:
    try:
        from keras.src.backend.tensorflow import trainer
    except ImportError:  # pragma: no cover - a Keras without this layout
        return None
    needed = ("reduce_per_replica", "_collective_all_reduce_multi_worker", "TensorFlowTrainer")
    if not all(hasattr(trainer, name) for name in needed):
        return None  # pragma: no cover
    if not hasattr(trainer.TensorFlowTrainer, "_maybe_symbolic_build"):
        return None  # pragma: no cover
    return trainer


def _local_symbolic_build(self: Any, iterator: Any = None, data_batch: Any = None) -> None:
    """Keras' ``_maybe_symbolic_build``, with this worker's first batch instead of a mean."""
    import tensorflow as tf
    from keras import tree

    strategy = self.distribute_strategy
    if iterator is not None:
        for _, _, it in iterator:
            data_batch = tree.map_structure(
                lambda x: (
                    strategy.experimental_local_results(x)[0]
                    if isinstance(x, tf.distribute.DistributedValues)
                    else x
                ),
                next(it),
            )
            break
    with strategy.scope():
        self._symbolic_build(data_batch=data_batch)


@contextlib.contextmanager
def keras_multi_worker_fit(model: Any, strategy: Any) -> Iterator[None]:
    """Let ``model.fit`` run under ``strategy`` when it spans several workers.

    Does nothing for other strategies (or none), and where this Keras lacks
    the internals it mends (see the module's docstring).
    """
    trainer = _keras_trainer_module()
    if strategy is None or trainer is None:
        yield
        return
    if not trainer._collective_all_reduce_multi_worker(strategy):
        yield
        return
    keras_reduce = trainer.reduce_per_replica

    def reduce_per_replica(values: Any, strategy: Any, reduction: Any) -> Any:
        if reduction in ("auto", "mean") and trainer._collective_all_reduce_multi_worker(strategy):
            from keras import tree

            def mean(value: Any) -> Any:
                axis = None if value.shape.rank == 0 else 0
                return strategy.reduce("MEAN", value, axis=axis)

            return tree.map_structure(mean, values)
        return keras_reduce(values, strategy, reduction)

    model._maybe_symbolic_build = types.MethodType(_local_symbolic_build, model)
    trainer.reduce_per_replica = reduce_per_replica
    try:
        yield
    finally:
        trainer.reduce_per_replica = keras_reduce
        del model._maybe_symbolic_build


def configure_multi_worker_coordination(register_timeout_s: float) -> None:
    """Start workers' coordination with a limit on the wait for all of them.

    What ``MultiWorkerMirroredStrategy`` configures itself when nothing has
    (same leader and jobs), plus ``cluster_register_timeout_in_ms``; call it
    just before creating the strategy. Without ``TF_CONFIG``, or once
    TensorFlow has started, it leaves everything as it is.
    """
    import tensorflow as tf

    try:
        from tensorflow.python.distribute import collective_all_reduce_strategy as cars
        from tensorflow.python.distribute import multi_worker_util
        from tensorflow.python.eager import context
    except ImportError:  # pragma: no cover - a TensorFlow that moved them
        return
    ctx = context.context()
    if ctx.coordination_service is not None or getattr(ctx, "_context_handle", None):
        return
    resolver = tf.distribute.cluster_resolver.TFConfigClusterResolver()
    spec = resolver.cluster_spec()
    jobs = [job for job in ("chief", "worker") if job in spec.jobs]
    if resolver.task_type not in jobs or not hasattr(cars, "coordination_config_pb2"):
        return  # pragma: no cover - not a worker, or TensorFlow moved the protocol
    ctx.configure_coordination_service(
        service_type="standalone",
        service_leader=multi_worker_util.coordination_leader(spec),
        coordinated_jobs=[
            cars.coordination_config_pb2.CoordinatedJob(name=job, num_tasks=spec.num_tasks(job))
            for job in jobs
        ],
        cluster_register_timeout_in_ms=int(register_timeout_s * 1000),
    )
