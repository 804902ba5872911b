"""Keras applications as trunks: :mod:`skinlesion.backbones` is the public face."""

from __future__ import annotations

import contextlib
import difflib
import os
import random
import re
import threading
import warnings
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

from skinlesion._hints import fix

__all__ = ["BACKBONES", "Backbone", "build_backbone", "check_backbone", "check_input_size"]


class Backbone(NamedTuple):
    """What the network needs to know about one Keras application.

    Attributes
    ----------
    module : str
        Its module in ``keras.applications`` (which holds its ``preprocess_input``).
    preprocessing : {"raw", "tf", "torch", "caffe"}
        The input it expects (see the layer ``BackbonePreprocessing``):
        ``"raw"`` for 0-255 pixels that the application scales itself.
    min_size : int
        Smallest image side it accepts, in pixels.
    """

    module: str
    preprocessing: str
    min_size: int


def _family(module: str, preprocessing: str, min_size: int, *names: str) -> dict[str, Backbone]:
    return {name: Backbone(module, preprocessing, min_size) for name in names}


#: The Keras applications that can serve as the trunk, by their Keras name, with
#: their input scaling and smallest input size (from ``keras.applications``).
#: NASNet is left out: its ImageNet weights load only at 224 or 331 px.
BACKBONES: dict[str, Backbone] = {
    **_family(
        "convnext",
        "raw",
        32,
        "ConvNeXtTiny",
        "ConvNeXtSmall",
        "ConvNeXtBase",
        "ConvNeXtLarge",
        "ConvNeXtXLarge",
    ),
    **_family("densenet", "torch", 32, "DenseNet121", "DenseNet169", "DenseNet201"),
    **_family("efficientnet", "raw", 32, *(f"EfficientNetB{i}" for i in range(8))),
    **_family(
        "efficientnet_v2",
        "raw",
        32,
        *(f"EfficientNetV2B{i}" for i in range(4)),
        "EfficientNetV2S",
        "EfficientNetV2M",
        "EfficientNetV2L",
    ),
    **_family("inception_resnet_v2", "tf", 75, "InceptionResNetV2"),
    **_family("inception_v3", "tf", 75, "InceptionV3"),
    **_family("mobilenet", "tf", 32, "MobileNet"),
    **_family("mobilenet_v2", "tf", 32, "MobileNetV2"),
    **_family("mobilenet_v3", "raw", 32, "MobileNetV3Small", "MobileNetV3Large"),
    **_family("resnet", "caffe", 32, "ResNet50", "ResNet101", "ResNet152"),
    **_family("resnet_v2", "tf", 32, "ResNet50V2", "ResNet101V2", "ResNet152V2"),
    **_family("vgg16", "caffe", 32, "VGG16"),
    **_family("vgg19", "caffe", 32, "VGG19"),
    **_family("xception", "tf", 71, "Xception"),
}

# Unseeded Keras layers draw their seeds from Python's ``random`` when they are built;
# the lock keeps two seeded builds in threads from interleaving their draws.
_SEED_LOCK = threading.RLock()


def check_backbone(name: str) -> Backbone:
    """The :class:`Backbone` entry of ``name``, or a ValueError listing the names.

    Examples
    --------
    >>> from skinlesion.backbones import check_backbone
    >>> check_backbone("ResNet50V2").preprocessing
    'tf'
    >>> check_backbone("resnet50v2")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: unknown backbone 'resnet50v2' (did you mean 'ResNet50V2'?); ...
    """
    if isinstance(name, str) and name in BACKBONES:
        return BACKBONES[name]
    close = difflib.get_close_matches(str(name), list(BACKBONES), n=1, cutoff=0.6)
    if not close:
        lowered = {key.lower(): key for key in BACKBONES}
        close = [lowered[str(name).lower()]] if str(name).lower() in lowered else []
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ValueError(
        f"unknown backbone {name!r}{hint}; use None for the custom CNN or one of the "
        f"Keras applications {', '.join(BACKBONES)}."
    )


def check_input_size(name: str, size: Sequence[int]) -> None:
    """Raise a ValueError when images of ``size`` (height, width) are too small for ``name``.

    Examples
    --------
    >>> from skinlesion.backbones import check_input_size
    >>> check_input_size("InceptionV3", (64, 64))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: backbone='InceptionV3' needs images of at least 75x75 pixels, ...
    """
    minimum = check_backbone(name).min_size
    height, width = int(size[0]), int(size[1])
    if min(height, width) < minimum:
        raise ValueError(
            f"backbone={name!r} needs images of at least {minimum}x{minimum} pixels, but the "
            f"network takes {height}x{width} images: "
            + fix(f"set image_size={minimum}", cli=f"use --image-size {minimum}")
            + " or more, or use a backbone with a smaller minimum (most take 32 px)."
        )


@contextlib.contextmanager
def _python_random_seeded(seed: int | None) -> Iterator[None]:
    """Seed Python's ``random`` inside the block and put its previous state back after."""
    if seed is None:
        yield
        return
    with _SEED_LOCK:
        state = random.getstate()
        random.seed(seed)
        try:
            yield
        finally:
            random.setstate(state)


def build_backbone(
    name: str,
    input_shape: Sequence[int],
    *,
    weights: str | os.PathLike[str] | None = None,
    seed: int | None = None,
) -> Any:
    """Build the Keras application ``name`` as a trunk: no classifier, no pooling.

    Parameters
    ----------
    name : str
        A key of :data:`BACKBONES`, such as ``"EfficientNetV2B0"``.
    input_shape : (height, width, 3)
        Shape of the images it takes (at least ``BACKBONES[name].min_size`` a side).
    weights : None, "imagenet" or path, default=None
        ``None``: random weights (seeded by ``seed``). ``"imagenet"``: Keras'
        ImageNet weights, downloaded by Keras on first use into
        ``~/.keras/models/`` (an OSError says what to do when the download fails,
        e.g. offline). A path: a weights file of this application without its
        top: Keras' own ``*_notop.h5`` download, or a ``.weights.h5`` or
        ``.keras`` file saved from ``keras.applications.<name>(include_top=False)``.
    seed : int, default=None
        Makes random weights repeatable without touching global seeds.

    Returns
    -------
    model : keras.Model
        Takes the application's own input scaling (see :attr:`Backbone.preprocessing`)
        and returns its last feature map.

    Examples
    --------
    >>> from skinlesion.backbones import build_backbone
    >>> trunk = build_backbone("MobileNetV3Small", (32, 32, 3), seed=0)
    >>> trunk.output_shape
    (None, 1, 1, 576)
    """
    check_backbone(name)
    if len(input_shape) != 3 or int(input_shape[-1]) != 3:
        raise ValueError(
            f"backbone={name!r} takes RGB images, shape (height, width, 3); got input shape "
            f"{tuple(input_shape)}."
        )
    check_input_size(name, input_shape[:2])
    path = None
    if weights is not None and not (isinstance(weights, str) and weights == "imagenet"):
        path = os.fspath(weights)
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"backbone_weights file {path!r} does not exist; pass the path of a weights "
                f"file of {name} without its top (e.g. Keras' own *_notop.h5 download), "
                "'imagenet' to download ImageNet's, or None for random weights."
            )
    from skinlesion._tf import import_tf

    import_tf()
    import keras

    constructor = getattr(keras.applications, name)
    kwargs: dict[str, Any] = {
        "include_top": False,
        "input_shape": tuple(int(s) for s in input_shape),
        "weights": "imagenet" if weights == "imagenet" else None,
    }
    with _python_random_seeded(seed):
        if weights == "imagenet":
            try:
                trunk = constructor(**kwargs)
            except ValueError:
                raise
            except Exception as err:  # Keras raises a bare Exception when a download fails
                raise OSError(_download_failure(name, err)) from err
        else:
            trunk = constructor(**kwargs)
    if path is not None:
        _load_weights(trunk, name, path)
    return trunk


def _load_weights(trunk: Any, name: str, path: str) -> None:
    """Load ``path`` into ``trunk``, refusing a file that leaves any layer unloaded."""
    fix = (
        f"Pass a weights file of {name} with include_top=False: Keras' *_notop.h5 download, "
        f"or a .weights.h5 or .keras file saved from keras.applications.{name}("
        "include_top=False)."
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            trunk.load_weights(path)
        except Exception as err:
            reason = " ".join(str(err).split())[:300]
            raise ValueError(
                f"backbone_weights {path!r} cannot be loaded into {name} without its top "
                f"({type(err).__name__}: {reason}). {fix}"
            ) from None
    skipped = [w for w in caught if "skipping" in str(w.message).lower()]
    if skipped:  # Keras loaded part of the file and left other layers random
        raise ValueError(
            f"backbone_weights {path!r} holds no weights for {len(skipped)} part(s) of {name} "
            f"(Keras: {' '.join(str(skipped[0].message).split())[:200]}); those layers would "
            f"keep random weights. {fix}"
        )
    for warning in caught:
        warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)


def _download_failure(name: str, err: BaseException) -> str:
    reason = " ".join(str(err).split())
    url = re.search(r"https?://\S+?(?=[:\s]|$)", reason)
    file_name = os.path.basename(url.group(0)) if url else None
    saves = f"saves {file_name}" if file_name else "saves its *_notop.h5 weights file"
    return (
        f"could not download the ImageNet weights of {name} ({reason}). This machine seems "
        "to be offline or cannot reach the download server. On a machine that is online, "
        f"run keras.applications.{name}(include_top=False, weights='imagenet'), which "
        f"{saves} in ~/.keras/models/; copy that file here and pass its path, "
        f"backbone_weights='/path/to/{file_name or 'file_notop.h5'}' (or put it in "
        "~/.keras/models/ here, where Keras looks before downloading)."
    )
