"""The convolutional network, as a pure function of its hyperparameters.

:func:`~skinlesion.build_cnn` returns an uncompiled Keras model; training (optimizer, seeds,
class weights, early stopping) belongs to :class:`skinlesion.LesionClassifier`.

A network is a *trunk* (everything up to the global pooling layer, ``"pool"``:
the custom CNN's convolution blocks, or a Keras application, see
:mod:`skinlesion.backbones`) and a *head* (dropout, dense layers, softmax).
:func:`trunk_spec`, :func:`copy_trunk` and :func:`set_trunk_trainable` carry a
trained trunk into a new network with another head and input size, and freeze it.
"""

# The implementation lives in skinlesion/model/ (issue 23); this module is the
# documented import path and re-exports it unchanged.
from skinlesion.model import _network
from skinlesion.model._network import (
    DEFAULT_FILTERS,
    build_cnn,
    flops_per_image,
    resolve_augmentation,
    resolve_convs_per_block,
)
from skinlesion.model._trunk import copy_trunk, set_trunk_trainable, trunk_layers, trunk_spec

__all__ = [
    "DEFAULT_AUGMENTATION",
    "DEFAULT_FILTERS",
    "build_cnn",
    "copy_trunk",
    "flops_per_image",
    "resolve_augmentation",
    "resolve_convs_per_block",
    "set_trunk_trainable",
    "trunk_layers",
    "trunk_spec",
]

#: On-the-fly augmentation used when ``augment=True``. Dermoscopic images have no
#: natural orientation, so flips and any rotation keep the label.
DEFAULT_AUGMENTATION = _network.DEFAULT_AUGMENTATION
