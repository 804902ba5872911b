"""Docstring fragments that several public docstrings share, and :class:`Substitution`.

In the manner of imbalanced-learn (``imblearn.utils.Substitution`` and the
samplers' ``_docstring`` fragments): a docstring names a shared fragment by a
placeholder, ``{name}``, and :class:`Substitution` writes the fragment there when
the module is imported. A placeholder alone on its line takes a multi-line
fragment, such as a whole parameter entry, indented like the placeholder; one
inside a sentence takes a one-line fragment. The rendered ``__doc__`` is
complete, so Sphinx, ``help()``, the doctests and the command line (which reads
its option help from :class:`~skinlesion.LesionClassifier`'s docstring) see the
text, not the placeholder.

Each parameter described here has one meaning across the package: the parameters
of the network that :func:`~skinlesion.build_cnn` and
:class:`~skinlesion.LesionClassifier` share, and ``random_state``
(:func:`random_state_doc`).
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from typing import TypeVar

__all__ = ["NETWORK_PARAMETERS", "Substitution", "listed", "random_state_doc"]

T = TypeVar("T")

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_WIDTH = 76  # of a fragment's description lines, before the docstring's indentation


def _entry(head: str, text: str) -> str:
    """A numpydoc parameter entry: ``head``, then ``text`` wrapped and indented by 4."""
    body = textwrap.fill(" ".join(text.split()), _WIDTH, break_on_hyphens=False)
    return head + "\n" + textwrap.indent(body, "    ")


def listed(names: Sequence[str]) -> str:
    """String options as a docstring lists them.

    Examples
    --------
    >>> from skinlesion._docstrings import listed
    >>> print(listed(["auto", "all"]))
    ``"auto"``, ``"all"``
    """
    return ", ".join(f'``"{name}"``' for name in names)


def random_state_doc(seeds: str, repeatable: str = "the result", extra: str = "") -> str:
    """The entry of a ``random_state`` parameter: the package's one meaning of it.

    Parameters
    ----------
    seeds : str
        What it seeds, as in "Seeds *the bootstrap*."
    repeatable : str, default="the result"
        What an int makes repeatable.
    extra : str, default=""
        Sentences that this use of it adds, before the link to the user guide.

    Examples
    --------
    >>> from skinlesion._docstrings import random_state_doc
    >>> print(random_state_doc("the bootstrap", "the intervals"))
    random_state : int, RandomState instance, Generator or None, default=None
        Seeds the bootstrap. An int makes the intervals repeatable; a RandomState or
        Generator is drawn from; None gives fresh draws. Global random states are
        never read or changed. See :ref:`random-state`.
    """
    return _entry(
        "random_state : int, RandomState instance, Generator or None, default=None",
        f"Seeds {seeds}. An int makes {repeatable} repeatable; a RandomState or Generator "
        "is drawn from; None gives fresh draws. Global random states are never read or "
        f"changed. {extra} See :ref:`random-state`.",
    )


#: The parameters of the network, shared by :func:`~skinlesion.build_cnn` and
#: :class:`~skinlesion.LesionClassifier` (placeholders ``{filters}``, ...).
NETWORK_PARAMETERS: dict[str, str] = {
    "filters": _entry(
        "filters : tuple of int, default=(32, 64, 128, 256)",
        "Convolution filters of each block; its length is the number of blocks.",
    ),
    "kernel_size": _entry(
        "kernel_size : int, default=3",
        "Side of the square convolution kernels.",
    ),
    "convs_per_block": _entry(
        "convs_per_block : int or tuple of int, default=1",
        "Convolutions in each block before its pooling: one int for every block, or one "
        "per entry of ``filters``. ``2`` gives a VGG-style network with about 3.5x the "
        "FLOPs of the default one at 64 px: an extra convolution has as many input "
        "channels as output channels.",
    ),
    "dense_units": _entry(
        "dense_units : int or tuple of int, default=(128,)",
        "Units of the dense layers before the softmax; ``()`` for none.",
    ),
    "dropout": _entry(
        "dropout : float, default=0.3",
        "Dropout rate before and between the dense layers.",
    ),
    "batch_norm": _entry(
        "batch_norm : bool, default=True",
        "Batch normalisation after each convolution.",
    ),
    "block": _entry(
        'block : {"plain", "residual"}, default="plain"',
        'Structure of each convolution block. ``"plain"`` stacks each block\'s '
        'convolutions; ``"residual"`` adds a shortcut around them (see '
        ":func:`skinlesion.build_cnn`), which lets deeper networks (more blocks, or "
        "``convs_per_block=2``) train. The same ``filters``, ``kernel_size`` and "
        "``convs_per_block`` give the same convolutions either way, plus one 1x1 "
        "projection per block whose channels change (a few % more FLOPs).",
    ),
    "augment": _entry(
        "augment : bool or dict, default=True",
        "On-the-fly augmentation inside the network during training (flips, rotation, "
        'zoom, contrast). A dict sets some of them, e.g. ``{"flip": True, '
        '"rotation": 0.5}`` (see :func:`~skinlesion.network.resolve_augmentation`).',
    ),
    "color_constancy": _entry(
        "color_constancy : float, default=None",
        "Divide out each image's illuminant before the network sees it (shades-of-grey "
        "colour constancy with this Minkowski power; 6 is the usual choice for "
        "dermoscopy, 1 is grey world). It is part of the network, so it applies at "
        "training and at prediction alike. It evens out the colour casts of different "
        "cameras and lights, but also any class information in an image's overall "
        "colour, which can cost accuracy (see :ref:`what-the-benchmarks-measured`). "
        "``None`` keeps the colours as they are.",
    ),
    "backbone": _entry(
        "backbone : str, default=None",
        "``None`` builds the custom CNN's trunk from ``filters``, ``kernel_size``, "
        "``convs_per_block`` and ``batch_norm``. The name of a Keras application (any "
        "key of :data:`skinlesion.backbones.BACKBONES`, such as "
        '``"EfficientNetV2B0"``, ``"ResNet50V2"``, ``"MobileNetV3Small"`` or '
        '``"ConvNeXtTiny"``) uses it as the trunk instead (those four parameters are '
        "then ignored), fed the input scaling it expects. Each has a smallest image "
        "size (32 px for most, 71-75 for Xception and the Inception networks). The "
        "accuracy of ImageNet-pretrained trunks on dermoscopy was not measured by this "
        "project (its machines cannot download the weights).",
    ),
    "backbone_weights": _entry(
        'backbone_weights : None, "imagenet" or path, default=None',
        "Weights of the ``backbone`` trunk: random (``None``), ImageNet's "
        '(``"imagenet"``; Keras downloads them once into ``~/.keras/models/``, and an '
        "OSError explains how to pass a local file when the machine is offline), or "
        "the path of a weights file of that application without its top (Keras' "
        "``*_notop.h5`` download, or a ``.weights.h5``/``.keras`` file saved from "
        "``keras.applications.<name>(include_top=False)``). Needs ``backbone``.",
    ),
}


def _substitute(doc: str, fragments: dict[str, str]) -> str:
    used: set[str] = set()

    def whole_line(match: re.Match[str]) -> str:
        indent, name = match.group(1), match.group(2)
        if name not in fragments:  # a line of its own is a placeholder: a typo, surely
            raise ValueError(f"no fragment for the placeholder {{{name}}}")
        used.add(name)
        return textwrap.indent(fragments[name], indent)

    doc = re.sub(r"^([ \t]*)\{(\w+)\}[ \t]*$", whole_line, doc, flags=re.M)

    def inline(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in fragments:
            return match.group(0)
        if "\n" in fragments[name]:
            raise ValueError(f"the fragment {name!r} has several lines: give it a line of its own")
        used.add(name)
        return fragments[name]

    doc = _PLACEHOLDER.sub(inline, doc)
    unused = set(fragments) - used
    if unused:
        raise ValueError(f"no placeholder for the fragment(s) {sorted(unused)}")
    return doc


class Substitution:
    """Fill the ``{name}`` placeholders of a docstring with shared fragments.

    Parameters
    ----------
    **fragments : str
        Fragment of each placeholder name. Every fragment must have a
        placeholder, and every placeholder on a line of its own a fragment (a
        ValueError names the one missing); ``{word}`` inside a sentence without
        a fragment is left as it is.

    Examples
    --------
    >>> from skinlesion._docstrings import Substitution
    >>> @Substitution(seed="seed : int\\n    Seeds it.", what="the thing")
    ... def f(seed):
    ...     '''Make {what}.
    ...
    ...     Parameters
    ...     ----------
    ...     {seed}
    ...     '''
    >>> print(f.__doc__.strip())
    Make the thing.
    <BLANKLINE>
        Parameters
        ----------
        seed : int
            Seeds it.
    """

    def __init__(self, **fragments: str) -> None:
        self.fragments = fragments

    def __call__(self, obj: T) -> T:
        doc = getattr(obj, "__doc__", None)
        if doc:  # None under python -OO
            obj.__doc__ = _substitute(doc, self.fragments)  # type: ignore[misc]
        return obj
