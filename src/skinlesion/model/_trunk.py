"""The trunk of a network: its layers, its architecture, copying and freezing it.

The trunk is everything before the global pooling layer ``"pool"``; see
:mod:`skinlesion.network`, which re-exports these functions.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["copy_trunk", "set_trunk_trainable", "trunk_layers", "trunk_spec"]


_BLOCK_LAYER = re.compile(r"block(\d+)_(conv|bn|proj|proj_bn)(\d*)$")
_ADD_LAYER = re.compile(r"block\d+_add$")
_NOT_OURS = (
    "is not a network built by skinlesion (it has no global pooling layer named 'pool' "
    "after a trunk of convolution blocks or a Keras application); pass a fitted "
    "LesionClassifier, a model file from LesionClassifier.save, or a .keras file of its "
    "model_. To start from a Keras application's weights file, use backbone= and "
    "backbone_weights= instead."
)


def trunk_layers(model: Any) -> list[Any]:
    """The layers of ``model``'s trunk that hold weights, in order.

    The trunk is everything before the global pooling layer ``"pool"``: the
    custom CNN's convolution and batch-normalisation layers, or the one nested
    Keras application of a network built with ``backbone``.

    Parameters
    ----------
    model : keras.Model
        A network built by :func:`~skinlesion.build_cnn`.

    Returns
    -------
    layers : list of keras.layers.Layer

    Examples
    --------
    >>> from skinlesion import build_cnn
    >>> from skinlesion.network import trunk_layers
    >>> model = build_cnn((16, 16, 3), 2, filters=(4, 8), seed=0)
    >>> [layer.name for layer in trunk_layers(model)]
    ['block1_conv', 'block1_bn', 'block2_conv', 'block2_bn']
    """
    names = [layer.name for layer in model.layers]
    if "pool" not in names:
        raise ValueError(f"{getattr(model, 'name', 'the model')!r} {_NOT_OURS}")
    trunk = model.layers[: names.index("pool")]
    return [layer for layer in trunk if layer.weights]


def trunk_spec(model: Any) -> dict[str, Any]:
    """The architecture of ``model``'s trunk, read from its layers.

    Parameters
    ----------
    model : keras.Model
        A network built by :func:`~skinlesion.build_cnn` (a fitted classifier's ``model_``).

    Returns
    -------
    spec : dict
        ``backbone`` (the Keras application's name, or ``None`` for the custom
        CNN) and ``channels`` (of the input images); for the custom CNN also
        ``filters``, ``kernel_size``, ``convs_per_block`` (one count per block),
        ``batch_norm`` and ``block``, as :func:`~skinlesion.build_cnn` takes them.

    Examples
    --------
    >>> from skinlesion import build_cnn
    >>> from skinlesion.network import trunk_spec
    >>> spec = trunk_spec(build_cnn((16, 16, 3), 2, filters=(4, 8), convs_per_block=(1, 2)))
    >>> spec["filters"], spec["convs_per_block"], spec["kernel_size"], spec["batch_norm"]
    ((4, 8), (1, 2), 3, True)
    >>> spec["block"]
    'plain'
    """
    layers = trunk_layers(model)
    channels = int(model.input_shape[-1])
    for layer in model.layers:
        if type(layer).__name__ == "BackbonePreprocessing":
            return {"backbone": layer.backbone, "channels": channels}
    convs: dict[int, list[Any]] = {}
    batch_norm = False
    for layer in layers:
        match = _BLOCK_LAYER.match(layer.name)
        if match is None:
            raise ValueError(f"{model.name!r} {_NOT_OURS} (unexpected layer {layer.name!r})")
        if match.group(2) == "bn":
            batch_norm = True
        elif match.group(2).startswith("proj"):
            continue  # a residual block's shortcut projection
        else:
            convs.setdefault(int(match.group(1)), []).append(layer)
    if not convs or sorted(convs) != list(range(1, len(convs) + 1)):
        raise ValueError(f"{model.name!r} {_NOT_OURS}")
    blocks = [convs[b] for b in sorted(convs)]
    kernel_sizes = {int(layer.kernel_size[0]) for block in blocks for layer in block}
    return {
        "backbone": None,
        "channels": channels,
        "filters": tuple(int(block[0].filters) for block in blocks),
        "kernel_size": kernel_sizes.pop() if len(kernel_sizes) == 1 else tuple(kernel_sizes),
        "convs_per_block": tuple(len(block) for block in blocks),
        "batch_norm": batch_norm,
        "block": "residual" if any(_ADD_LAYER.match(x.name) for x in model.layers) else "plain",
    }


def copy_trunk(source: Any, target: Any) -> None:
    """Copy the trunk weights of ``source`` into ``target``, layer by layer.

    Both must have the same trunk architecture (see :func:`trunk_spec`); their
    input sizes and heads may differ, since a trunk's weights do not depend on
    the image size. Batch normalisation's moving statistics are copied too.

    Parameters
    ----------
    source, target : keras.Model
        Networks built by :func:`~skinlesion.build_cnn`; ``target`` is changed in place.

    Examples
    --------
    >>> import numpy as np
    >>> from skinlesion import build_cnn
    >>> from skinlesion.network import copy_trunk
    >>> a = build_cnn((16, 16, 3), 7, filters=(4,), seed=0)
    >>> b = build_cnn((24, 24, 3), 2, filters=(4,), seed=1)
    >>> copy_trunk(a, b)
    >>> np.array_equal(a.get_layer("block1_conv").kernel, b.get_layer("block1_conv").kernel)
    True
    """
    source_layers, target_layers = trunk_layers(source), trunk_layers(target)
    source_names = [layer.name for layer in source_layers]
    target_names = [layer.name for layer in target_layers]
    if source_names != target_names:
        raise ValueError(
            f"the trunks differ: the source's has layers {source_names}, the target's "
            f"{target_names}."
        )
    for src, dst in zip(source_layers, target_layers, strict=True):
        weights = src.get_weights()
        shapes = [w.shape for w in weights]
        expected = [tuple(w.shape) for w in dst.weights]
        if shapes != expected:
            raise ValueError(
                f"the trunks differ in layer {src.name!r}: weights of shapes {shapes} in the "
                f"source, {expected} in the target."
            )
        dst.set_weights(weights)


def set_trunk_trainable(model: Any, trainable: bool) -> None:
    """Freeze (``False``) or unfreeze (``True``) the trunk of ``model``.

    A frozen trunk's weights do not change in training, and its batch
    normalisation runs in inference mode (Keras 3 does this for a layer with
    ``trainable=False``), so its moving statistics do not change either.
    Compile the model after changing this.

    Examples
    --------
    >>> from skinlesion import build_cnn
    >>> from skinlesion.network import set_trunk_trainable
    >>> model = build_cnn((16, 16, 3), 2, filters=(4,), dense_units=(), seed=0)
    >>> set_trunk_trainable(model, False)
    >>> [w.path for w in model.trainable_weights]
    ['probabilities/kernel', 'probabilities/bias']
    """
    for layer in trunk_layers(model):
        layer.trainable = trainable
