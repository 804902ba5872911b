"""Keras layers of the lesion network that Keras does not ship.

This module imports Keras, so it is imported lazily: by :func:`skinlesion.build_cnn`
and before a saved network is loaded (importing it registers the layers with
Keras' serialisation).
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

__all__ = ["BackbonePreprocessing", "ShadesOfGray"]


@keras.saving.register_keras_serializable(package="skinlesion")
class ShadesOfGray(keras.layers.Layer):
    """Colour constancy by the shades-of-grey method (Finlayson and Trezzi, 2004).

    Each image's illuminant is estimated, channel by channel, as the Minkowski
    ``power``-mean of its pixels, and divided out, so that a lesion photographed
    under a yellowish and under a bluish light reaches the network with the same
    colours. Barata et al. (IEEE J. Biomed. Health Inform., 2015) found
    ``power=6`` best for dermoscopy; ``power=1`` is the grey-world assumption.

    Inputs are float images in [0, 1] of shape ``(batch, height, width, 3)``;
    outputs have the same shape, clipped to [0, 1]. The layer has no weights.
    """

    def __init__(self, power: float = 6.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.power = float(power)

    def illuminant(self, x: Any) -> Any:
        """Each image's illuminant, ``(batch, 1, 1, 3)``: the channels' power-means."""
        return ops.power(
            ops.mean(ops.power(x, self.power), axis=(1, 2), keepdims=True), 1.0 / self.power
        )

    def call(self, inputs: Any) -> Any:
        x = ops.cast(inputs, self.compute_dtype)
        illuminant = self.illuminant(x)
        # Scale the illuminant to unit length; a neutral (grey) one is 1/sqrt(3) per
        # channel and leaves the image unchanged.
        norm = ops.sqrt(ops.sum(ops.square(illuminant), axis=-1, keepdims=True))
        gain = norm / (illuminant * 3.0**0.5 + 1e-6)
        return ops.clip(x * gain, 0.0, 1.0)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "power": self.power}


#: Per-channel ImageNet statistics of the "torch" and "caffe" preprocessing modes of
#: ``keras.applications`` (``imagenet_utils.preprocess_input``).
_TORCH_MEAN = (0.485, 0.456, 0.406)
_TORCH_STD = (0.229, 0.224, 0.225)
_CAFFE_BGR_MEAN = (103.939, 116.779, 123.68)


@keras.saving.register_keras_serializable(package="skinlesion")
class BackbonePreprocessing(keras.layers.Layer):
    """Turn images in [0, 1] into the input a Keras application's trunk expects.

    The lesion network rescales its ``uint8`` input to [0, 1] (and applies colour
    constancy and augmentation there); this layer then produces what
    ``keras.applications.<module>.preprocess_input`` would produce from the
    original 0-255 pixels, inside the graph, so a saved model needs no
    preprocessing code of its own:

    ``"raw"``
        0-255 floats: the application rescales and normalises itself
        (EfficientNet, EfficientNetV2, MobileNetV3, ConvNeXt).
    ``"tf"``
        [-1, 1] (ResNetV2, MobileNet, MobileNetV2, Inception, Xception).
    ``"torch"``
        [0, 1], then each channel standardised by ImageNet's mean and standard
        deviation (DenseNet).
    ``"caffe"``
        channels reordered RGB to BGR, 0-255 minus ImageNet's mean pixel
        (ResNet, VGG).

    The layer has no weights; ``backbone`` names the application it feeds (it is
    kept in the saved model, which is how a trunk is recognised later).
    """

    def __init__(self, mode: str = "raw", backbone: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if mode not in ("raw", "tf", "torch", "caffe"):
            raise ValueError(f"mode must be 'raw', 'tf', 'torch' or 'caffe', got {mode!r}.")
        self.mode = mode
        self.backbone = backbone

    def call(self, inputs: Any) -> Any:
        x = ops.cast(inputs, self.compute_dtype)
        if self.mode == "raw":
            return x * 255.0
        if self.mode == "tf":
            return x * 2.0 - 1.0
        if self.mode == "torch":
            mean = ops.convert_to_tensor(_TORCH_MEAN, dtype=self.compute_dtype)
            std = ops.convert_to_tensor(_TORCH_STD, dtype=self.compute_dtype)
            return (x - mean) / std
        bgr = ops.flip(x, axis=-1) * 255.0
        return bgr - ops.convert_to_tensor(_CAFFE_BGR_MEAN, dtype=self.compute_dtype)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mode": self.mode, "backbone": self.backbone}
