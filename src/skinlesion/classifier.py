"""``LesionClassifier`` and ``load_model``: the estimator and its model files.

The implementation lives in :mod:`skinlesion.model` (issue 23); this module keeps
the import path ``skinlesion.classifier`` (and pickles that name it) working.
"""

from skinlesion.model._classifier import MODEL_FORMAT, LesionClassifier, load_model
from skinlesion.model._tta import check_tta as _check_tta  # noqa: F401  (skinlesion.cli uses it)

__all__ = ["MODEL_FORMAT", "LesionClassifier", "load_model"]
