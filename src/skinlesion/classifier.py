"""``LesionClassifier`` and ``load_model``: the estimator and its model files.

The implementation lives in :mod:`skinlesion.model` (issue 23); this module keeps
the import path ``skinlesion.classifier`` (and pickles that name it) working.
"""

from skinlesion.model._classifier import MODEL_FORMAT, LesionClassifier, load_model

__all__ = ["MODEL_FORMAT", "LesionClassifier", "load_model"]
