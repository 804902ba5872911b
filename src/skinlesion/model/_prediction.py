"""Prediction: :class:`PredictionMixin`, ``LesionClassifier``'s ``predict*`` methods.

The fitted network takes uint8 images of ``input_shape_``; ``predict_proba``
streams ``X`` through the same ``tf.data`` input as training (``_tfdata``), with
test-time augmentation (``_tta``) when ``tta > 1``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from skinlesion._tf import import_tf, quiet_tf_logger
from skinlesion.images import check_images
from skinlesion.model._tta import check_tta, tta_model

__all__ = ["PredictionMixin"]


class PredictionMixin:
    """The prediction methods of :class:`~skinlesion.LesionClassifier`."""

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, one row per image, columns in ``classes_`` order.

        Parameters
        ----------
        X : array-like of shape (n, height, width, channels) or sequence of paths
            Images of any size: they are resized to the training size.

        Returns
        -------
        proba : ndarray of shape (n, n_classes)
            Rows sum to 1, in the order of ``X``. With ``tta > 1`` they are the
            mean over that many flipped or transposed views of each image.
        """
        check_is_fitted(self, "model_")
        X = check_images(X)
        import_tf(self.verbose)
        from skinlesion.model._tfdata import make_dataset, reraise_image_errors

        check_tta(self.tta, self.input_shape_[:2])
        model = self.model_ if int(self.tta) == 1 else tta_model(self.model_, int(self.tta))
        data = make_dataset(X, None, size=self.input_shape_[:2], batch_size=self.batch_size)
        with reraise_image_errors(model, data), quiet_tf_logger(self.verbose):
            proba = np.asarray(model.predict(data, verbose=0), dtype=np.float64)
        proba = np.clip(proba, 0.0, None)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each image.

        Parameters
        ----------
        X : array-like of shape (n, height, width, channels) or sequence of paths

        Returns
        -------
        y_pred : ndarray of shape (n,)
            Class labels from ``classes_``, in the order of ``X``.
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Logarithm of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))
