"""Every reach into another library's internals, in one place.

Keras 3 and TensorFlow's ``MultiWorkerMirroredStrategy``
--------------------------------------------------------
``keras.Model.fit`` under a ``MultiWorkerMirroredStrategy`` with workers on
several processes fails in Keras 3 (reported since Keras 3 became TensorFlow's
default, keras-team/keras#20585 and tensorflow/tensorflow#72388; seen here with
Keras 3.15.1 and TensorFlow 2.21) in two places of
``keras/src/backend/tensorflow/trainer.py``:

1. ``_maybe_symbolic_build`` averages the first batch of images *across the
   workers* (``strategy.reduce("MEAN", batch)``) only to learn its shapes, and
   the collective strategy cannot reduce that structure ("Attempt to convert a
   value (PerReplica...) to a Tensor"). :func:`keras_multi_worker_fit` builds
   from this worker's own first batch instead.
2. ``reduce_per_replica`` averages each step's scalar loss and metrics with
   ``strategy.reduce("MEAN", value, axis=0)``, and a scalar has no axis 0
   ("Invalid reduction dimension 0 for input with 0 dimensions"). The fix
   averages scalars over the replicas (``axis=None``) and leaves everything
   else to Keras.

Both are applied only to fits under a multi-worker strategy, and only for the
fit: the first on the model being fitted, the second by swapping the module's
function and putting Keras' own back afterwards. Where Keras no longer has
these names (a release that reorganised or fixed them), nothing is changed.

TensorFlow's coordination service
---------------------------------
:func:`configure_multi_worker_coordination` sets how long a multi-worker
strategy waits for every worker of ``TF_CONFIG`` to start, through the
coordination-service configuration that ``MultiWorkerMirroredStrategy``
would otherwise make itself with TensorFlow's defaults.
"""

from __future__ import annotations

import contextlib
import types
from collections.abc import Iterator
from typing import Any

__all__ = ["configure_multi_worker_coordination", "keras_multi_worker_fit"]


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
