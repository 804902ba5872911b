"""The network's implementation: :mod:`skinlesion.network` is its public face."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from skinlesion._docstrings import NETWORK_PARAMETERS, Substitution
from skinlesion._tf import import_tf

__all__ = [
    "DEFAULT_AUGMENTATION",
    "DEFAULT_FILTERS",
    "build_cnn",
    "flops_per_image",
    "resolve_augmentation",
    "resolve_convs_per_block",
]

#: Convolution filters of each block of the default network (four blocks; see
#: ``benchmarks/RESULTS.md`` for why four at 64 px).
DEFAULT_FILTERS: tuple[int, ...] = (32, 64, 128, 256)

#: Kinds of convolution block of the custom CNN (``block=``).
BLOCKS = ("plain", "residual")

#: On-the-fly augmentation used when ``augment=True``. Dermoscopic images have no
#: natural orientation, so flips and any rotation keep the label.
DEFAULT_AUGMENTATION: dict[str, Any] = {
    "flip": True,
    "rotation": 0.5,  # fraction of a full turn either way: 0.5 = any angle
    "zoom": 0.1,
    "contrast": 0.1,
}

Augment = bool | Mapping[str, Any] | None


def resolve_augmentation(augment: Augment) -> dict[str, Any]:
    """Turn the ``augment`` parameter into a full augmentation spec.

    ``True`` gives :data:`DEFAULT_AUGMENTATION`, ``False``/``None`` no augmentation,
    and a dict overrides some of the default keys (``flip``, ``rotation``,
    ``zoom``, ``contrast``); a key left out of the dict is off.

    Examples
    --------
    >>> from skinlesion.network import resolve_augmentation
    >>> resolve_augmentation({"flip": True})
    {'flip': True, 'rotation': 0.0, 'zoom': 0.0, 'contrast': 0.0}
    """
    if augment is None or augment is False:
        return {"flip": False, "rotation": 0.0, "zoom": 0.0, "contrast": 0.0}
    if augment is True:
        return dict(DEFAULT_AUGMENTATION)
    if isinstance(augment, Mapping):
        unknown = set(augment) - set(DEFAULT_AUGMENTATION)
        if unknown:
            raise ValueError(
                f"unknown augmentation key(s) {sorted(unknown)}; use any of "
                f"{sorted(DEFAULT_AUGMENTATION)}."
            )
        spec = {"flip": bool(augment.get("flip", False))}
        for key in ("rotation", "zoom", "contrast"):
            value = float(augment.get(key, 0.0))
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"augment[{key!r}] must lie in [0, 1], got {value}.")
            spec[key] = value
        return spec
    raise ValueError(f"augment must be a bool or a dict, got {augment!r}.")


def resolve_convs_per_block(convs_per_block: int | Sequence[int], n_blocks: int) -> tuple[int, ...]:
    """Turn ``convs_per_block`` into one positive count per block.

    Examples
    --------
    >>> from skinlesion.network import resolve_convs_per_block
    >>> resolve_convs_per_block(2, 3)
    (2, 2, 2)
    >>> resolve_convs_per_block((1, 2), 2)
    (1, 2)
    """

    def positive_int(value: Any) -> bool:
        return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value > 0

    if positive_int(convs_per_block):
        return (int(convs_per_block),) * n_blocks  # type: ignore[arg-type]
    if isinstance(convs_per_block, Sequence) and not isinstance(convs_per_block, str):
        counts = tuple(convs_per_block)
        if len(counts) == n_blocks and all(positive_int(c) for c in counts):
            return tuple(int(c) for c in counts)
    raise ValueError(
        f"convs_per_block must be a positive int or one positive int per block "
        f"({n_blocks} block(s), the length of filters), got {convs_per_block!r}."
    )


@Substitution(**NETWORK_PARAMETERS)
def build_cnn(
    input_shape: Sequence[int],
    n_classes: int,
    *,
    filters: Sequence[int] = DEFAULT_FILTERS,
    kernel_size: int = 3,
    convs_per_block: int | Sequence[int] = 1,
    dense_units: Sequence[int] | int = (128,),
    dropout: float = 0.3,
    batch_norm: bool = True,
    block: str = "plain",
    augment: Augment = True,
    color_constancy: float | None = None,
    backbone: str | None = None,
    backbone_weights: str | os.PathLike[str] | None = None,
    seed: int | None = None,
) -> Any:
    """Build the lesion CNN (uncompiled), from scratch or on a Keras application's trunk.

    The network takes ``uint8`` RGB images and rescales them itself. It is:
    optional colour constancy -> optional augmentation layers (active in
    training only) -> the trunk -> global average pooling -> dropout -> for each
    entry of ``dense_units``: dense + ReLU + dropout -> softmax over
    ``n_classes``. The default trunk is, for each entry of ``filters``,
    ``convs_per_block`` times (convolution, optional batch normalisation, ReLU),
    then 2x2 max pooling. ``block="residual"`` adds a shortcut around each
    block's convolutions (He et al., CVPR 2016): the block's input, through a
    1x1 convolution (and batch normalisation) where its channels differ, is
    added to the last convolution's (normalised) output before its ReLU. With
    ``backbone``, the trunk is that Keras application (without its top), fed
    the input scaling it expects.

    Parameters
    ----------
    input_shape : (height, width, 3)
        Shape of one image.
    n_classes : int
        Number of output classes (at least 2).
    {filters}
    {kernel_size}
    {convs_per_block}
    {dense_units}
    {dropout}
    {batch_norm}
    {block}
    {augment}
    {color_constancy}
    {backbone}
    {backbone_weights}
    seed : int, default=None
        Seeds every weight initialiser, dropout and augmentation layer, so two
        builds with the same seed are identical without touching global seeds.

    Returns
    -------
    model : keras.Model

    Examples
    --------
    >>> from skinlesion import build_cnn
    >>> from skinlesion.network import trunk_layers
    >>> model = build_cnn((32, 32, 3), n_classes=3, filters=(8, 16), seed=0)
    >>> model.output_shape
    (None, 3)
    >>> deeper = build_cnn((32, 32, 3), n_classes=3, filters=(8, 16), convs_per_block=2)
    >>> sum("_conv" in layer.name for layer in deeper.layers)
    4
    >>> residual = build_cnn((32, 32, 3), n_classes=3, filters=(8, 16), block="residual")
    >>> sorted(layer.name for layer in residual.layers if layer.name.endswith(("_proj", "_add")))
    ['block1_add', 'block1_proj', 'block2_add', 'block2_proj']
    >>> mobile = build_cnn((32, 32, 3), n_classes=2, backbone="MobileNetV3Small", seed=0)
    >>> [layer.name for layer in trunk_layers(mobile)]
    ['MobileNetV3Small']
    """
    import_tf()
    import keras
    from keras import layers

    if n_classes < 2:
        raise ValueError(f"n_classes must be at least 2, got {n_classes}.")
    if backbone is not None:
        from skinlesion.model._backbones import check_backbone, check_input_size

        check_backbone(backbone)
        check_input_size(backbone, tuple(input_shape)[:2])
    elif backbone_weights is not None:
        raise ValueError(
            f"backbone_weights={backbone_weights!r} gives the weights of a Keras application's "
            "trunk, but backbone is None (the custom CNN): set backbone too, e.g. "
            "backbone='EfficientNetV2B0'. To start the custom CNN from a trained one, use "
            "LesionClassifier(init=...)."
        )
    if isinstance(dense_units, (int, np.integer)):
        dense_units = (int(dense_units),)
    convs = resolve_convs_per_block(convs_per_block, len(filters))
    if block not in BLOCKS:
        raise ValueError(f"block must be one of {list(BLOCKS)}, got {block!r}.")
    rng = np.random.RandomState(seed)

    def next_seed() -> int | None:
        return None if seed is None else int(rng.randint(0, 2**31 - 1))

    def he() -> Any:
        return keras.initializers.HeNormal(seed=next_seed())

    spec = resolve_augmentation(augment)
    inputs = keras.Input(shape=tuple(input_shape), dtype="uint8", name="image")
    x = layers.Rescaling(1.0 / 255.0, name="rescale")(inputs)
    if color_constancy is not None:
        if not color_constancy >= 1:
            raise ValueError(
                f"color_constancy must be a Minkowski power >= 1 (6 is usual), or None "
                f"for none; got {color_constancy!r}."
            )
        from skinlesion.model._layers import ShadesOfGray

        x = ShadesOfGray(color_constancy, name="color_constancy")(x)
    if spec["flip"]:
        x = layers.RandomFlip("horizontal_and_vertical", seed=next_seed(), name="aug_flip")(x)
    if spec["rotation"] > 0:
        x = layers.RandomRotation(
            spec["rotation"], fill_mode="reflect", seed=next_seed(), name="aug_rotation"
        )(x)
    if spec["zoom"] > 0:
        x = layers.RandomZoom(
            (-spec["zoom"], spec["zoom"]), fill_mode="reflect", seed=next_seed(), name="aug_zoom"
        )(x)
    if spec["contrast"] > 0:
        x = layers.RandomContrast(spec["contrast"], seed=next_seed(), name="aug_contrast")(x)

    if backbone is not None:
        from skinlesion.model._backbones import BACKBONES, build_backbone
        from skinlesion.model._layers import BackbonePreprocessing

        x = BackbonePreprocessing(
            BACKBONES[backbone].preprocessing, backbone=backbone, name="backbone_preprocessing"
        )(x)
        trunk = build_backbone(backbone, input_shape, weights=backbone_weights, seed=next_seed())
        x = trunk(x)
    else:
        for b, (n_filters, n_convs) in enumerate(zip(filters, convs, strict=True), start=1):
            shortcut = x
            if block == "residual" and x.shape[-1] != n_filters:
                shortcut = layers.Conv2D(
                    int(n_filters),
                    1,
                    use_bias=not batch_norm,
                    kernel_initializer=he(),
                    name=f"block{b}_proj",
                )(x)
                if batch_norm:
                    shortcut = layers.BatchNormalization(momentum=0.9, name=f"block{b}_proj_bn")(
                        shortcut
                    )
            for j in range(1, n_convs + 1):
                suffix = "" if j == 1 else str(j)  # block1_conv, block1_conv2, ...
                x = layers.Conv2D(
                    int(n_filters),
                    kernel_size,
                    padding="same",
                    use_bias=not batch_norm,
                    kernel_initializer=he(),
                    name=f"block{b}_conv{suffix}",
                )(x)
                if batch_norm:
                    # momentum 0.9 (not Keras' 0.99): the moving statistics must settle within
                    # the few hundred steps that small dermoscopy data sets give.
                    x = layers.BatchNormalization(momentum=0.9, name=f"block{b}_bn{suffix}")(x)
                if block == "residual" and j == n_convs:
                    x = layers.Add(name=f"block{b}_add")([x, shortcut])
                x = layers.Activation("relu", name=f"block{b}_relu{suffix}")(x)
            x = layers.MaxPooling2D(2, padding="same", name=f"block{b}_pool")(x)

    x = layers.GlobalAveragePooling2D(name="pool")(x)
    if dropout > 0:
        x = layers.Dropout(dropout, seed=next_seed(), name="dropout")(x)
    for i, units in enumerate(dense_units, start=1):
        x = layers.Dense(int(units), activation="relu", kernel_initializer=he(), name=f"dense{i}")(
            x
        )
        if dropout > 0:
            x = layers.Dropout(dropout, seed=next_seed(), name=f"dense{i}_dropout")(x)
    outputs = layers.Dense(
        n_classes,
        activation="softmax",
        kernel_initializer=keras.initializers.GlorotUniform(seed=next_seed()),
        dtype="float32",
        name="probabilities",
    )(x)
    return keras.Model(inputs, outputs, name="lesion_cnn")


def flops_per_image(model: Any) -> int:
    """Forward FLOPs (2 x multiply-adds) of one image through ``model``.

    The convolution and dense layers are counted from their shapes; nested
    models (a Keras application used as the trunk, ``backbone=``) layer by
    layer; depthwise and separable convolutions by their own multiply-adds, and
    a dense layer applied to a feature map once per position. Normalisation,
    activations, pooling and residual additions (a few FLOPs per value) are
    left out. A training step costs about 3x this per image (forward and
    backward).

    Parameters
    ----------
    model : keras.Model
        A built model, such as :func:`~skinlesion.build_cnn`'s or a fitted classifier's ``model_``.

    Returns
    -------
    flops : int

    Examples
    --------
    >>> from skinlesion import build_cnn
    >>> from skinlesion.network import flops_per_image
    >>> model = build_cnn((8, 8, 3), 2, filters=(4,), dense_units=(5,), augment=False)
    >>> flops_per_image(model)  # 3x3 conv, 3 -> 4 channels at 8x8; dense 4 -> 5 -> 2
    13884
    """
    from keras import Model, layers

    total = 0
    for layer in model.layers:
        if isinstance(layer, Model):
            total += flops_per_image(layer)
        elif isinstance(layer, layers.DepthwiseConv2D):
            _, h, w, c_out = layer.output.shape  # c_out = c_in x depth_multiplier
            kh, kw = layer.kernel_size
            total += 2 * h * w * kh * kw * c_out
        elif isinstance(layer, layers.SeparableConv2D):
            _, h, w, c_out = layer.output.shape
            kh, kw = layer.kernel_size
            depthwise = layer.input.shape[-1] * layer.depth_multiplier
            total += 2 * h * w * (kh * kw * depthwise + depthwise * c_out)
        elif isinstance(layer, layers.Conv2D):
            _, h, w, c_out = layer.output.shape
            kh, kw = layer.kernel_size
            c_in = layer.input.shape[-1] // layer.groups
            total += 2 * h * w * kh * kw * c_in * c_out
        elif isinstance(layer, layers.Dense):
            positions = int(np.prod(layer.input.shape[1:-1]))  # 1 for a vector
            total += 2 * positions * layer.input.shape[-1] * layer.units
    return int(total)
