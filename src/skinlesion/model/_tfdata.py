"""``tf.data`` input pipelines for training and prediction.

In-memory arrays are resized once and sliced; path arrays are decoded lazily,
in parallel, batch by batch, so a data set larger than memory trains. Order is
always preserved when ``shuffle`` is off.
"""

from __future__ import annotations

import contextlib
import gc
import threading
import time
import traceback
from collections.abc import Iterator
from typing import Any

import numpy as np

from skinlesion._compat import without_tf_global_seed
from skinlesion._tf import import_tf
from skinlesion.images import ImageReadError, is_path_array, read_image, resize_images


class _Decoder:
    """Decodes image files inside ``tf.data`` (a ``numpy_function``), and can be stopped.

    When a fit or a prediction fails, the ``tf.data`` threads go on decoding the
    files they had started, and fetch more until their buffers are full. An
    iterator destroyed while one of those Python calls is under way waits for
    it, and the call waits for the GIL: a deadlock, and at interpreter shutdown
    (when a thread can no longer take the GIL at all) a process that hangs at
    exit. :meth:`stop` therefore turns every later call into a no-op and waits
    until none is running, so the pipeline is idle before it is released.
    """

    def __init__(self, size: tuple[int, int]) -> None:
        self.size = size
        self.errors: list[ImageReadError] = []
        self._lock = threading.Lock()
        self._running = 0
        self._stopped = False
        self._last_call = time.monotonic()

    def __call__(self, path: bytes) -> np.ndarray:
        with self._lock:
            if self._stopped:
                return np.zeros((*self.size, 3), dtype=np.uint8)  # nobody reads it
            self._running += 1
        try:
            return read_image(path.decode("utf-8"), self.size)
        except ImageReadError as err:
            with self._lock:
                self.errors.append(err)
            raise
        finally:
            with self._lock:
                self._running -= 1
                self._last_call = time.monotonic()

    def stop(self, quiet_for: float = 0.1, timeout: float = 60.0) -> None:
        """Make later calls no-ops; wait until no call has run for ``quiet_for`` seconds."""
        with self._lock:
            self._stopped = True
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                idle = self._running == 0 and time.monotonic() - self._last_call >= quiet_for
            if idle:
                return
            time.sleep(0.01)  # releases the GIL for the calls under way


def _clear_frames(err: BaseException | None) -> None:
    """Drop the local variables of the finished frames in ``err``'s tracebacks.

    A failed ``model.fit`` leaves Keras frames whose locals hold the epoch's
    ``tf.data`` iterator; the traceback (often in a reference cycle) would keep
    it alive. The traceback itself (files and lines) is kept.
    """
    seen: set[int] = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        traceback.clear_frames(err.__traceback__)
        if err.__cause__ is not None:
            _clear_frames(err.__cause__)
        err = err.__context__


def release_iterators(err: BaseException | None, model: Any = None, datasets: Any = ()) -> None:
    """Stop the decoding of ``datasets`` and destroy the iterators a failure left behind.

    Called when :meth:`keras.Model.fit` or ``predict`` fails, while the
    interpreter is fully alive: the decoders are stopped and drained first (see
    :class:`_Decoder`), then the iterators are released, so that no pipeline
    thread is left running Python code at exit.
    """
    for ds in datasets:
        decoder = getattr(ds, "_skinlesion_decoder", None)
        if decoder is not None:
            decoder.stop()
    if model is not None and getattr(model, "_eval_epoch_iterator", None) is not None:
        model._eval_epoch_iterator = None  # Keras keeps the validation iterator here
    _clear_frames(err)
    gc.collect()


@contextlib.contextmanager
def reraise_image_errors(model: Any = None, *datasets: Any) -> Iterator[None]:
    """Run a Keras fit or predict on :func:`make_dataset` ``datasets``, failing cleanly.

    A TensorFlow error caused by an unreadable file becomes the
    :class:`~skinlesion.images.ImageReadError` that names it, and any failure
    (an unreadable file, a callback's error, Ctrl-C) stops the decoding and
    releases the ``tf.data`` iterators before it propagates (see
    :func:`release_iterators`).
    """
    tf = import_tf()
    try:
        yield
    except BaseException as err:
        release_iterators(err, model, datasets)
        failed = [
            e
            for ds in datasets
            if isinstance(err, tf.errors.OpError)
            for e in getattr(getattr(ds, "_skinlesion_decoder", None), "errors", [])
        ]
        if not failed:
            raise
        error = ImageReadError.from_failures(
            list({e.path: (e.path, e.reason) for e in failed}.values())
        )
    else:
        return
    try:
        raise error from None
    finally:
        del error  # no reference cycle through this frame


@without_tf_global_seed()
def make_dataset(
    X: np.ndarray,
    y: np.ndarray | None,
    *,
    size: tuple[int, int],
    batch_size: int,
    shuffle: bool = False,
    seed: int | None = None,
    cache: bool | None = None,
    cache_bytes: int = 512 * 2**20,
    mixup: float = 0.0,
) -> Any:
    """A batched, prefetched ``tf.data.Dataset`` of uint8 images (and labels).

    Parameters
    ----------
    X : ndarray
        Validated images: uint8 ``(n, h, w, 3)`` or a 1-D object array of paths.
    y : ndarray of int, or of float of shape (n, n_classes), or None
        Encoded labels (or one-hot targets); ``None`` for prediction.
    size : (height, width)
        Every image is resized to this size.
    batch_size : int
    shuffle : bool, default=False
        Reshuffle every epoch (seeded by ``seed``).
    cache : bool or None, default=None
        Keep decoded path images in memory for later passes (for data read once
        per epoch); ``None`` means ``shuffle`` (training data).
    cache_bytes : int, default=512 MiB
        Paths are cached only when their decoded pixels take at most this many
        bytes; larger path lists are streamed (decoded again on every pass), so
        memory stays bounded.
    mixup : float, default=0.0
        When positive (and ``y`` holds one-hot targets), blend each batch with a
        shuffled copy of itself, images and targets alike, with weights drawn
        from ``Beta(mixup, mixup)`` (``keras.layers.MixUp``, seeded by ``seed``,
        so every epoch draws new pairs and weights). The blended pixels are
        rounded back to uint8, the network's input type.
    """
    tf = import_tf()
    autotune = tf.data.AUTOTUNE
    n = len(X)
    decoder = None
    if is_path_array(X):
        paths = np.asarray([str(p) for p in X])
        decoder = decode = _Decoder(size)

        def load(path: Any) -> Any:
            image = tf.numpy_function(decode, [path], tf.uint8, stateful=False)
            image.set_shape((*size, 3))
            return image

        images = tf.data.Dataset.from_tensor_slices(paths)
        items = (
            images
            if y is None
            else tf.data.Dataset.zip(images, tf.data.Dataset.from_tensor_slices(y))
        )
        # Paths read once per epoch whose decoded pixels fit in ``cache_bytes``:
        # decode each file once (during the first epoch), keep the uint8 pixels
        # and reshuffle the decoded images from then on, so later epochs cost no
        # decoding. Larger path lists are streamed (decoded again every epoch).
        cache = (shuffle if cache is None else cache) and n * size[0] * size[1] * 3 <= cache_bytes
        if shuffle:
            items = items.shuffle(n, seed=seed, reshuffle_each_iteration=not cache)
        if y is None:
            ds = items.map(load, num_parallel_calls=autotune, deterministic=True)
        else:
            ds = items.map(
                lambda p, t: (load(p), t), num_parallel_calls=autotune, deterministic=True
            )
        if cache:
            ds = ds.cache()
            if shuffle:
                ds = ds.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    else:
        X = resize_images(X, size)
        ds = tf.data.Dataset.from_tensor_slices(X if y is None else (X, y))
        if shuffle:
            ds = ds.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    if mixup > 0 and y is not None:
        ds = ds.map(_mixup(mixup, seed))  # sequential: the layer's seed state advances in order
    options = tf.data.Options()
    # Under distribute="multi_worker" each machine takes its share of every batch: the images
    # come from memory or a path list, which TensorFlow cannot split by file.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    ds = ds.prefetch(autotune).with_options(options)
    ds._skinlesion_decoder = decoder  # for reraise_image_errors
    return ds


def _mixup(alpha: float, seed: int | None) -> Any:
    """A ``tf.data`` map that applies ``keras.layers.MixUp`` to (uint8 images, targets)."""
    tf = import_tf()
    import keras

    layer = keras.layers.MixUp(alpha=alpha, seed=seed)

    def mix(images: Any, targets: Any) -> Any:
        mixed = layer({"images": images, "labels": targets})
        pixels = tf.cast(tf.clip_by_value(tf.round(mixed["images"]), 0, 255), tf.uint8)
        return pixels, tf.cast(mixed["labels"], targets.dtype)

    return mix
