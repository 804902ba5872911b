"""Where the network looks: Grad-CAM saliency maps.

:func:`grad_cam` gives, for each image, a map of the regions that raised the
score of a class (the predicted one, or one you name), by Grad-CAM (Selvaraju
et al., ICCV 2017): the last convolution block's feature maps, weighted by the
mean gradient of the class's score (its logit, before the softmax) over each
map, summed, kept where positive, scaled to [0, 1] and resized to the
network's input. It works for the custom CNN and for a Keras-application trunk
(``backbone=``), on arrays and on file paths. :class:`SaliencyDisplay` draws
the maps over the images. :class:`NoveltyDetector` flags inputs far from
the training images (a blank frame, a photograph that is not dermoscopy), from
the network's own features.

A model that looks at a ruler, a hair or the frame of the dermatoscope instead
of the lesion shows it here.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin

__all__ = ["NoveltyDetector", "SaliencyDisplay", "grad_cam"]

_RELU = re.compile(r"block(\d+)_relu\d*$")


def _classifier(estimator: Any) -> Any:
    """The fitted LesionClassifier itself, or the last step of a pipeline."""
    from sklearn.utils.validation import check_is_fitted

    clf = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    if not hasattr(clf, "model_") and not hasattr(clf, "get_params"):
        raise TypeError(
            f"grad_cam needs a fitted LesionClassifier (or a pipeline ending in one), got "
            f"{type(estimator).__name__}."
        )
    check_is_fitted(clf, "model_")
    return clf


def _feature_tensor(model: Any) -> Any:
    """The last convolution block's activation (the custom CNN) or the trunk's output."""
    relus = [layer for layer in model.layers if _RELU.match(layer.name)]
    if relus:
        return relus[-1].output
    names = [layer.name for layer in model.layers]
    if "pool" not in names:
        raise ValueError(
            f"{model.name!r} has no global pooling layer named 'pool'; grad_cam works on "
            "networks built by skinlesion (LesionClassifier, build_cnn)."
        )
    return model.get_layer("pool").input


def _target_codes(target: Any, classes: np.ndarray, n: int) -> np.ndarray | None:
    """Class index per image (None: the predicted class)."""
    if target is None:
        return None
    names = classes.tolist()
    wanted = [target] * n if np.ndim(target) == 0 else list(np.asarray(target).tolist())
    if len(wanted) != n:
        raise ValueError(f"target has {len(wanted)} class names for {n} images; give one or n.")
    unknown = sorted({str(t) for t in wanted if t not in names})
    if unknown:
        raise ValueError(
            f"target names classes the model does not know: {unknown}; choose from {names}."
        )
    return np.array([names.index(t) for t in wanted], dtype=np.int32)


def grad_cam(estimator: Any, X: Any, target: Any = None) -> np.ndarray:
    """Grad-CAM saliency maps: where each image raised the score of a class.

    Parameters
    ----------
    estimator : LesionClassifier or Pipeline
        A fitted classifier (or a pipeline whose last step is one), with the
        custom CNN or a Keras-application trunk.
    X : array-like of shape (n, height, width, channels) or sequence of paths
        The images, as for ``predict_proba``: resized to the network's input.
    target : class name, sequence of class names, or None, default=None
        The class whose score is explained: one for every image, one per image,
        or None for each image's predicted class.

    Returns
    -------
    maps : ndarray of shape (n, height, width)
        One map per image at the network's input size (``estimator.image_size``),
        in [0, 1], 1 at each map's maximum; all 0 where nothing raised the score.

    Examples
    --------
    >>> from skinlesion import LesionClassifier
    >>> from skinlesion.datasets import make_lesions
    >>> from skinlesion.inspection import grad_cam
    >>> X, y = make_lesions(16, n_classes=2, image_size=16, random_state=0)
    >>> clf = LesionClassifier(image_size=16, filters=(4,), dense_units=(), epochs=1,
    ...                        random_state=0).fit(X, y)
    >>> maps = grad_cam(clf, X[:3], target="melanoma")
    >>> maps.shape, bool(maps.min() >= 0 and maps.max() <= 1)
    ((3, 16, 16), True)
    """
    from skinlesion._tf import import_tf, quiet_tf_logger
    from skinlesion.images import check_images
    from skinlesion.model._tfdata import make_dataset

    clf = _classifier(estimator)
    X = check_images(X)
    codes = _target_codes(target, np.asarray(clf.classes_), len(X))
    tf = import_tf(clf.verbose)
    import keras

    model = clf.model_
    head = model.get_layer("probabilities")
    explain = keras.Model(model.inputs, [_feature_tensor(model), head.input])
    size = tuple(clf.input_shape_[:2])
    data = make_dataset(X, None, size=size, batch_size=clf.batch_size)
    maps, start = [], 0
    with quiet_tf_logger(clf.verbose):
        for batch in data:
            with tf.GradientTape() as tape:
                features, pooled = explain(batch, training=False)
                logits = tf.matmul(tf.cast(pooled, tf.float32), head.kernel) + head.bias
                if codes is None:
                    index = tf.argmax(logits, axis=1, output_type=tf.int32)
                else:
                    index = tf.constant(codes[start : start + len(logits)])
                score = tf.gather(logits, index, batch_dims=1)
            grads = tape.gradient(score, features)
            weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)
            cam = tf.nn.relu(tf.reduce_sum(weights * tf.cast(features, grads.dtype), axis=-1))
            cam = tf.image.resize(cam[..., None], size, method="bilinear")[..., 0]
            maps.append(cam.numpy().astype(np.float64))
            start += len(logits)
    out = np.concatenate(maps) if maps else np.empty((0, *size))
    peak = out.max(axis=(1, 2), keepdims=True)
    return np.divide(out, peak, out=np.zeros_like(out), where=peak > 0)


class SaliencyDisplay:
    """Images with their saliency maps over them.

    Parameters
    ----------
    images : ndarray of shape (n, height, width, 3)
        The images (uint8 RGB), as drawn.
    maps : ndarray of shape (n, h, w)
        One map per image in [0, 1] (any size: stretched over the image).
    titles : sequence of str, default=None
        One title per image.

    Attributes
    ----------
    im_ : list of AxesImage
        The images.
    overlay_ : list of AxesImage
        The maps over them.
    ax_ : ndarray of matplotlib Axes
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skinlesion.inspection import SaliencyDisplay
    >>> images = np.zeros((2, 8, 8, 3), dtype=np.uint8)
    >>> maps = np.random.default_rng(0).random((2, 4, 4))
    >>> disp = SaliencyDisplay(images, maps, titles=["a", "b"]).plot()
    >>> len(disp.overlay_), disp.ax_[1].get_title()
    (2, 'b')
    """

    def __init__(self, images: np.ndarray, maps: np.ndarray, *, titles: Any = None) -> None:
        self.images = images
        self.maps = maps
        self.titles = titles

    def plot(self, *, ax: Any = None, alpha: float = 0.45, cmap: str = "jet") -> SaliencyDisplay:
        """Draw each image with its map (``alpha`` opaque), one Axes per image."""
        from skinlesion.metrics.displays._common import axes_array, pyplot

        n = len(self.images)
        if len(self.maps) != n:
            raise ValueError(f"{len(self.maps)} maps for {n} images; give one map per image.")
        if ax is None:
            cols = min(n, 4)
            rows = -(-n // cols)
            _, ax = pyplot().subplots(
                rows, cols, figsize=(2.6 * cols, 2.8 * rows), squeeze=False, layout="constrained"
            )
            for extra in np.ravel(ax)[n:]:
                extra.set_visible(False)
            ax = np.ravel(ax)[:n]
        ax = axes_array(ax, n, "one per image")
        self.im_, self.overlay_ = [], []
        for i, a in enumerate(ax):
            image = self.images[i]
            h, w = image.shape[:2]
            self.im_.append(a.imshow(image))
            self.overlay_.append(
                a.imshow(
                    self.maps[i],
                    cmap=cmap,
                    alpha=alpha,
                    vmin=0,
                    vmax=1,
                    extent=(-0.5, w - 0.5, h - 0.5, -0.5),
                    interpolation="bilinear",
                )
            )
            a.set_xticks([])
            a.set_yticks([])
            if self.titles is not None:
                a.set_title(str(self.titles[i]), fontsize="small")
        self.ax_ = ax
        self.figure_ = ax[0].figure
        return self

    @classmethod
    def from_estimator(
        cls,
        estimator: Any,
        X: Any,
        target: Any = None,
        *,
        ax: Any = None,
        alpha: float = 0.45,
        cmap: str = "jet",
    ) -> SaliencyDisplay:
        """Grad-CAM maps of ``estimator`` on images ``X`` (see :func:`grad_cam`), drawn.

        Each title names the class explained and its probability.
        """
        from skinlesion.images import check_images, read_images

        X = check_images(X)
        maps = grad_cam(estimator, X, target)
        proba = estimator.predict_proba(X)
        classes = np.asarray(estimator.classes_)
        if target is None:
            index = proba.argmax(axis=1)
        else:
            index = _target_codes(target, classes, len(X))
        titles = [f"{classes[k]} {proba[i, k]:.2f}" for i, k in enumerate(index)]
        size = _classifier(estimator).input_shape_[:2]
        images = read_images(X.tolist(), size=size) if X.dtype == object else X
        return cls(images, maps, titles=titles).plot(ax=ax, alpha=alpha, cmap=cmap)


def _why_no_grad_cam(estimator: Any) -> str | None:
    """Why ``estimator`` has no Grad-CAM maps (not a fitted skinlesion network), or None."""
    clf = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    model = getattr(clf, "model_", None)
    layers = {layer.name for layer in getattr(model, "layers", ())}
    if model is None or "probabilities" not in layers:
        return (
            f"no Grad-CAM maps: {type(clf).__name__} is not a fitted skinlesion network "
            "(LesionClassifier), so there is no network to explain"
        )
    return None


def mistake_maps(estimator: Any, X: Any, y_true: Any, y_score: Any, n: int) -> dict[str, Any]:
    """Grad-CAM maps of the ``n`` most confident mistakes (``ClinicalReport.saliency``).

    The mistakes are the images whose predicted (wrong) class has the highest
    probability in ``y_score`` (columns in ``estimator.classes_`` order); each map
    explains that wrong class. Returns a dict of ``indices`` (positions in
    ``X``), ``true`` and ``predicted`` class names, ``probability`` of the
    predicted class, ``images`` (uint8, at the network's input size) and
    ``maps`` (float32, the same size), and ``note``: None, or why there are no
    maps (an estimator without a skinlesion network gets empty arrays and a note).
    """
    from skinlesion.images import check_images, read_images, resize_images
    from skinlesion.metrics._validation import check_predictions
    from skinlesion.metrics.displays._common import most_confident_mistakes

    codes, proba, classes = check_predictions(y_true, y_score, estimator.classes_)
    note = _why_no_grad_cam(estimator)
    index = most_confident_mistakes(codes, proba, n) if note is None else np.arange(0)
    pred = proba[index].argmax(axis=1)
    if index.size:
        size = tuple(_classifier(estimator).input_shape_[:2])
        shown = check_images(X)[index]
        maps = grad_cam(estimator, shown, target=classes[pred]).astype(np.float32)
        images = read_images(shown.tolist(), size=size) if shown.dtype == object else shown
        images = resize_images(images, size)
    else:
        images, maps = np.zeros((0, 1, 1, 3), np.uint8), np.zeros((0, 1, 1), np.float32)
    return {
        "indices": index,
        "true": classes[codes[index]].tolist(),
        "predicted": classes[pred].tolist(),
        "probability": proba[index, pred],
        "images": images,
        "maps": maps,
        "note": note,
    }


def features(estimator: Any, X: Any) -> np.ndarray:
    """The network's pooled trunk features of each image, shape ``(n, n_features)``."""
    from skinlesion._tf import import_tf, quiet_tf_logger
    from skinlesion.images import check_images
    from skinlesion.model._tfdata import make_dataset

    clf = _classifier(estimator)
    X = check_images(X)
    import_tf(clf.verbose)
    import keras

    model = clf.model_
    trunk = keras.Model(model.inputs, model.get_layer("pool").output)
    data = make_dataset(X, None, size=tuple(clf.input_shape_[:2]), batch_size=clf.batch_size)
    with quiet_tf_logger(clf.verbose):
        return np.asarray(trunk.predict(data, verbose=0), dtype=np.float64)


class NoveltyDetector(OutlierMixin, BaseEstimator):
    """Flags images far from the training images, from a fitted classifier's features.

    The score is the Mahalanobis distance of an image's pooled trunk features to
    the nearest class mean of the training images, with one shared, shrunk
    (Ledoit-Wolf) covariance (Lee et al., NeurIPS 2018). ``predict_proba`` of the
    classifier is left as it is: this is a separate check to run beside it, and
    a flagged image's prediction should not be trusted. It follows
    scikit-learn's outlier detectors: ``score_samples`` is higher for more
    typical images, ``predict`` gives 1 (like the training images) or -1 (novel).

    Parameters
    ----------
    estimator : LesionClassifier or Pipeline
        A fitted classifier (or a pipeline ending in one); it is not refitted.
        ``clone`` makes an unfitted copy of it, as for any parameter: wrap it in
        :class:`sklearn.frozen.FrozenEstimator` to clone the detector.
    quantile : float, default=0.99
        Images farther than this quantile of the training images' distances are
        flagged, so about ``1 - quantile`` of images like the training ones are.

    Attributes
    ----------
    means_ : ndarray of shape (n_classes, n_features)
        Class means of the training features (one row without ``y``).
    precision_ : ndarray of shape (n_features, n_features)
        Inverse of the shared covariance.
    threshold_ : float
        The training distances' ``quantile``: farther is novel.
    offset_ : float
        ``-threshold_``, so that ``decision_function = score_samples - offset_``
        is negative for novel images.

    Examples
    --------
    >>> import numpy as np
    >>> from skinlesion import LesionClassifier
    >>> from skinlesion.datasets import make_lesions
    >>> from skinlesion.inspection import NoveltyDetector
    >>> X, y = make_lesions(40, n_classes=2, image_size=16, random_state=0)
    >>> clf = LesionClassifier(image_size=16, filters=(4, 8), dense_units=(), epochs=1,
    ...                        random_state=0).fit(X, y)
    >>> detector = NoveltyDetector(clf).fit(X, y)
    >>> blank = np.full((2, 16, 16, 3), 255, dtype=np.uint8)
    >>> detector.predict(blank).tolist()
    [-1, -1]
    """

    def __init__(self, estimator: Any, *, quantile: float = 0.99) -> None:
        self.estimator = estimator
        self.quantile = quantile

    def fit(self, X: Any, y: Any = None) -> NoveltyDetector:
        """Learn the training images' features: class means, covariance, threshold.

        Parameters
        ----------
        X : array-like of images or sequence of paths
            The classifier's training images (or images like them).
        y : array-like of shape (n,), default=None
            Their classes: one mean per class. None: one mean for all.
        """
        from sklearn.covariance import LedoitWolf

        if not 0.0 < float(self.quantile) < 1.0:
            raise ValueError(f"quantile must lie in (0, 1), e.g. 0.99, got {self.quantile!r}.")
        F = features(self.estimator, X)
        if len(F) < 2:
            raise ValueError(f"fit needs at least 2 images, got {len(F)}.")
        labels = np.zeros(len(F), dtype=int) if y is None else np.asarray(y)
        if len(labels) != len(F):
            raise ValueError(f"y has {len(labels)} labels for {len(F)} images.")
        classes = np.unique(labels)
        self.means_ = np.stack([F[labels == c].mean(axis=0) for c in classes])
        centred = F - self.means_[np.searchsorted(classes, labels)]
        self.precision_ = LedoitWolf(assume_centered=True).fit(centred).precision_
        self.threshold_ = float(np.quantile(self._distance(F), self.quantile))
        self.offset_ = -self.threshold_
        return self

    def _distance(self, F: np.ndarray) -> np.ndarray:
        d = F[:, None, :] - self.means_[None, :, :]
        squared = np.einsum("nkf,fg,nkg->nk", d, self.precision_, d)
        return np.sqrt(np.maximum(squared.min(axis=1), 0.0))

    def distance(self, X: Any) -> np.ndarray:
        """Mahalanobis distance of each image to the nearest training class mean."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "threshold_")
        return self._distance(features(self.estimator, X))

    def score_samples(self, X: Any) -> np.ndarray:
        """``-distance(X)``: higher for images more like the training images."""
        return -self.distance(X)

    def decision_function(self, X: Any) -> np.ndarray:
        """``score_samples(X) - offset_``: negative for novel images."""
        return self.score_samples(X) - self.offset_

    def predict(self, X: Any) -> np.ndarray:
        """1 for images like the training images, -1 for novel ones."""
        return np.where(self.decision_function(X) < 0, -1, 1)
