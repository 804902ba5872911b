"""``tf.data`` input pipelines for training and prediction.

In-memory arrays are resized once and sliced; path arrays are decoded lazily,
in parallel, batch by batch, so a data set larger than memory trains. Order is
always preserved when ``shuffle`` is off.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

from skinlesion._tf import import_tf
from skinlesion.images import ImageReadError, is_path_array, read_image, resize_images

# Errors raised while TensorFlow decodes files reach the caller wrapped in a
# tf.errors.OpError; the original ImageReadError is kept here to re-raise it.
_decode_errors: list[ImageReadError] = []
_decode_errors_lock = threading.Lock()
_global_seed_lock = threading.RLock()


@contextlib.contextmanager
def _without_global_seed() -> Iterator[None]:
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


@contextlib.contextmanager
def reraise_image_errors() -> Iterator[None]:
    """Turn a TensorFlow error caused by an unreadable file back into ImageReadError."""
    tf = import_tf()
    with _decode_errors_lock:
        _decode_errors.clear()
    try:
        yield
    except tf.errors.OpError:
        with _decode_errors_lock:
            first = _decode_errors[0] if _decode_errors else None
            _decode_errors.clear()
        if first is not None:
            raise ImageReadError(first.path, first.reason) from None
        raise


@_without_global_seed()
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
    if is_path_array(X):
        paths = np.asarray([str(p) for p in X])

        def decode(path: bytes) -> np.ndarray:
            try:
                return read_image(path.decode("utf-8"), size)
            except ImageReadError as err:
                with _decode_errors_lock:
                    _decode_errors.append(err)
                raise

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
    return ds.prefetch(autotune)


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
