"""Keras layers of the lesion network that Keras does not ship.

This module imports Keras, so it is imported lazily: by :func:`skinlesion.build_cnn`
and before a saved network is loaded (importing it registers the layers with
Keras' serialisation).
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

__all__ = ["ShadesOfGray"]


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
