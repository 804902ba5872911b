"""Keras applications as the trunk of the lesion network (``backbone=``).

A *trunk* is everything of the network up to its global pooling: the part that
turns an image into features, and that can be carried from one fit (or from
ImageNet) to another. :func:`skinlesion.build_cnn` builds the custom CNN's trunk
by default; with ``backbone="EfficientNetV2B0"`` (or any name in
:data:`BACKBONES`) the trunk is that Keras application instead, without its
ImageNet classifier (``include_top=False``), with random weights, ImageNet's, or
those of a weights file.

Each application expects its own input scaling (some rescale inside the model,
some expect [-1, 1], some "caffe" BGR pixels minus ImageNet's mean); the network
applies the right one itself, inside the graph, to its ``uint8`` input, so the
same images and the same saved model work with every trunk.
"""

# The implementation lives in skinlesion/model/ (issue 23); this module is the
# documented import path and re-exports it unchanged.
from skinlesion.model import _backbones
from skinlesion.model._backbones import Backbone, build_backbone, check_backbone, check_input_size

__all__ = ["BACKBONES", "Backbone", "build_backbone", "check_backbone", "check_input_size"]

#: The Keras applications that can serve as the trunk, by their Keras name, with
#: their input scaling and smallest input size (from ``keras.applications``).
#: NASNet is left out: its ImageNet weights load only at 224 or 331 px.
BACKBONES = _backbones.BACKBONES
