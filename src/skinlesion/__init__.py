"""skinlesion: dermoscopic skin-lesion classification behind a scikit-learn API.

The public names are imported lazily, so ``import skinlesion`` is fast and does
not start TensorFlow; TensorFlow is imported the first time a network is built
or used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from skinlesion._version import __version__

# public name -> module that defines it
_LAZY = {
    "LesionClassifier": "skinlesion.model._classifier",
    "load_model": "skinlesion.model._classifier",
    "build_cnn": "skinlesion.model._network",
    "Rebalancer": "skinlesion.sampling._rebalancer",
    "Augmenter": "skinlesion.sampling._augmenter",
    "Pipeline": "skinlesion.pipeline",
    "make_pipeline": "skinlesion.pipeline",
    "ImageReadError": "skinlesion.images",
    "ModelCard": "skinlesion.model_card",
}
_SUBMODULES = {
    "datasets",
    "metrics",
    "images",
    "network",
    "classifier",
    "backbones",
    "inspection",
}

__all__ = [
    "Augmenter",
    "ImageReadError",
    "LesionClassifier",
    "ModelCard",
    "Pipeline",
    "Rebalancer",
    "__version__",
    "build_cnn",
    "load_model",
    "make_pipeline",
]  # written out for static tools; tests check it matches _LAZY

if TYPE_CHECKING:  # pragma: no cover
    from skinlesion.images import ImageReadError
    from skinlesion.model._classifier import LesionClassifier, load_model
    from skinlesion.model._network import build_cnn
    from skinlesion.model_card import ModelCard
    from skinlesion.pipeline import Pipeline, make_pipeline
    from skinlesion.sampling._augmenter import Augmenter
    from skinlesion.sampling._rebalancer import Rebalancer


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"skinlesion.{name}")
    raise AttributeError(f"module 'skinlesion' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*__all__, *_SUBMODULES])
