"""``LesionClassifier``: a custom Keras CNN behind scikit-learn's classifier API."""

from __future__ import annotations

import io
import json
import os
import re
import tempfile
import warnings
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.exceptions import DataConversionWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from skinlesion._compat import keras_multi_worker_fit
from skinlesion._files import TMP_PREFIX, TMP_SUFFIX, check_writable, remove_stale_temporaries
from skinlesion._hardware import (
    PRECISIONS,
    check_jit_compile,
    fit_context,
    is_multi_worker,
    multi_worker_errors,
    resolve_strategy,
)
from skinlesion._labels import check_label_values
from skinlesion._tf import import_tf, op_determinism, quiet_tf_logger
from skinlesion.backbones import BACKBONES
from skinlesion.images import (
    ImageReadError,
    as_size,
    check_images,
    find_unreadable_images,
    is_path_array,
)
from skinlesion.network import DEFAULT_FILTERS

__all__ = ["MODEL_FORMAT", "LesionClassifier", "load_model"]

#: Name written into every model file, checked when loading one.
MODEL_FORMAT = "skinlesion-model"
_FORMAT_VERSION = 1
_OPTIMIZERS = {"adam", "adamw", "sgd", "rmsprop", "nadam"}
#: After ``warmup_epochs``, the whole network trains at ``learning_rate`` times this.
_UNFREEZE_RATE_FACTOR = 0.1


class LesionClassifier(ClassifierMixin, BaseEstimator):
    """A convolutional network for dermoscopic images, with scikit-learn's API.

    The network (see :func:`skinlesion.build_cnn`) is built from scratch by
    default. It can instead start from what a larger data set taught: ``init``
    copies the trunk (the layers up to the global pooling) of a trained network,
    and ``backbone`` uses a Keras application, such as EfficientNetV2B0, as the
    trunk, with ImageNet's or a file's weights. Every hyperparameter of the
    network and of its training is a constructor parameter, so
    :class:`~sklearn.model_selection.GridSearchCV` tunes them by their plain names.

    Parameters
    ----------
    image_size : int or (height, width), default=64
        Images are resized to this size, at training and at prediction time.
        ``None`` keeps the size of the training images (arrays only).
    filters : tuple of int, default=(32, 64, 128, 256)
        Filters of each convolution block; its length is the number of blocks.
    kernel_size : int, default=3
        Side of the square convolution kernels.
    convs_per_block : int or tuple of int, default=1
        Convolutions in each block before its pooling: one int for every block,
        or one per entry of ``filters``. ``2`` gives a VGG-style network with
        about 3.5x the FLOPs of the default one.
    dense_units : tuple of int, default=(128,)
        Units of the dense layers before the softmax.
    dropout : float, default=0.3
        Dropout rate before and between the dense layers.
    batch_norm : bool, default=True
        Batch normalisation after each convolution.
    block : {"plain", "residual"}, default="plain"
        Structure of each convolution block. ``"residual"`` adds a shortcut
        around each block's convolutions (see :func:`skinlesion.build_cnn`),
        which lets deeper networks train; the ``filters``, ``kernel_size`` and
        ``convs_per_block`` are the same.
    optimizer : {"adam", "adamw", "sgd", "rmsprop", "nadam"}, default="adam"
        Keras optimizer.
    learning_rate : float, default=1e-3
        The optimizer's learning rate.
    batch_size : int, default=32
        Images per gradient step.
    epochs : int, default=30
        Maximum number of passes over the training images.
    early_stopping : bool, default=True
        Stop when the validation loss has not improved for ``patience`` epochs,
        and keep the best weights. Needs ``validation_fraction > 0``; with no
        validation split the training loss is watched instead.
    validation_fraction : float, default=0.1
        Share of the training images held out (stratified) to watch for early
        stopping and to report ``val_*`` figures in ``history_``. An image and
        its copies are held out together: the same file twice, identical pixel
        arrays, the images of one group of ``fit(groups=...)`` and, in a
        :class:`skinlesion.Pipeline`, every image a sampler made from one source
        image (see ``validation_indices_``).
    patience : int, default=5
        Epochs without improvement before early stopping.
    class_weight : "balanced", dict or None, default=None
        Weights of the classes in the loss. ``"balanced"`` weights them inversely
        to their frequency; a dict maps class names to weights.
    label_smoothing : float in [0, 1), default=0.0
        Train against targets that give the true class ``1 - label_smoothing``
        plus an equal share of ``label_smoothing`` to every class (Keras'
        ``CategoricalCrossentropy(label_smoothing=...)``). It discourages
        over-confident probabilities; 0 is the plain cross-entropy.
    mixup : float, default=0.0
        Train on blends of two images of the same batch, ``w * a + (1 - w) * b``,
        against the same blend of their one-hot labels (mixup, Zhang et al.,
        ICLR 2018, via ``keras.layers.MixUp``). ``w`` is drawn for every image and
        epoch from ``Beta(mixup, mixup)``: small values such as 0.2 keep most
        blends close to one image, 1 draws ``w`` uniformly. It regularises a
        network trained from scratch on few images; 0 turns it off. With
        ``class_weight``, a blend is weighted as the class of its larger part.
    lr_schedule : {"plateau", "cosine"} or None, default="plateau"
        ``"plateau"`` halves the learning rate when the watched loss (validation
        loss, or training loss without a validation split) has not improved for
        ``max(1, patience // 2)`` epochs; on real dermoscopy data this steadied
        the epoch-to-epoch swings of balanced accuracy (see
        ``benchmarks/RESULTS.md``). ``"cosine"`` lowers it every epoch along a
        half cosine, from ``learning_rate`` in the first epoch to 1 % of it in
        epoch ``epochs``. ``None`` keeps it constant.
    augment : bool or dict, default=True
        On-the-fly augmentation inside the network during training (flips,
        rotation, zoom, contrast). A dict sets some of them, e.g.
        ``{"flip": True, "rotation": 0.5}``.
    color_constancy : float, default=None
        Divide out each image's illuminant before the network sees it
        (shades-of-grey colour constancy with this Minkowski power; 6 is the
        usual choice for dermoscopy, 1 is grey world), at training and at
        prediction alike. It evens out the colour casts of different cameras
        and lights, but also any class information in an image's overall colour:
        on the 9-class ISIC set it lowered balanced accuracy by 0.08-0.13 on each
        of three seeds (see ``benchmarks/RESULTS.md``). ``None`` keeps the
        colours as they are.
    tta : {1, 2, 4, 8}, default=1
        Test-time augmentation: :meth:`predict_proba` averages the network's
        probabilities over this many views of each image, which a dermoscopic
        image has no preferred one of. 1 is the image itself; 2 adds its
        left-right mirror; 4 all four flips; 8 also the four transposed views
        (square images only). It costs ``tta`` times the prediction time and
        nothing at training. Measured gains are small and data-dependent: on
        HAM10000 8 views raised accuracy from 0.768 to 0.777 and macro AUC from
        0.930 to 0.932; on the 9-class ISIC set they moved balanced accuracy by
        -0.007 (see ``benchmarks/RESULTS.md``).
    init : LesionClassifier, FrozenEstimator, path or keras.Model, default=None
        Start from the trunk of a trained network: a fitted
        :class:`LesionClassifier` (or a fitted pipeline ending in one), the path
        of a model file written by :meth:`save` (``.skl``), or a network built
        by :func:`skinlesion.build_cnn` as a Keras model or ``.keras`` file. The
        trunk's weights, batch-normalisation statistics included, are copied; the
        head (dropout, ``dense_units``, softmax) is built anew for this fit's
        classes, so a network pretrained on 7 classes can learn 3 or 2. The
        trunk does not depend on the image size, so ``image_size`` may differ
        from the pretraining size. The trunk's architecture comes with it:
        ``backbone``, ``filters``, ``kernel_size``, ``convs_per_block``,
        ``batch_norm`` and ``block`` left at their defaults follow init's trunk, and any set
        to another value must agree with it (a ValueError names what differs),
        so ``LesionClassifier(init="ham.skl")`` needs nothing else. The
        preprocessing in front of the trunk (``color_constancy``, ``augment``)
        and the head follow this estimator's parameters. scikit-learn's
        ``clone`` (in ``GridSearchCV``, ``cross_val_score``) turns a fitted
        estimator parameter into an unfitted copy: wrap it as
        ``FrozenEstimator(clf)`` (``sklearn.frozen``), or pass a saved file; an
        unfitted classifier reaching ``fit`` raises a ValueError saying so.
        :meth:`save` keeps a path as given; an estimator or Keras model is not
        written into the model file (its trunk is, inside the fitted network)
        and loads back as ``init=None``.
    fine_tune : {"all", "head"}, default="all"
        What trains when the trunk is pretrained (``init`` or
        ``backbone_weights``): ``"all"`` trains every layer; ``"head"`` keeps
        the trunk frozen (its weights and batch-normalisation statistics end
        the fit exactly as they began, batch normalisation running in inference
        mode) and trains the head alone, much faster. ``"head"`` needs a
        pretrained trunk.
    warmup_epochs : int, default=0
        With ``fine_tune="all"``: train the head alone, on the frozen trunk, for
        this many of the ``epochs`` at ``learning_rate``, then unfreeze the
        trunk and train everything at ``learning_rate / 10`` for the rest, so
        that the random new head does not send large gradients through the
        pretrained trunk. Early stopping and ``lr_schedule`` act on the epochs
        after the warmup. It must be smaller than ``epochs`` and needs a
        pretrained trunk; with ``fine_tune="head"`` it changes nothing (the
        trunk never unfreezes). 0 trains everything at ``learning_rate`` from
        the first epoch.
    backbone : str, default=None
        ``None`` builds the custom CNN from ``filters``, ``kernel_size``,
        ``convs_per_block`` and ``batch_norm``. The name of a Keras
        application (any key of :data:`skinlesion.backbones.BACKBONES`, such
        as ``"EfficientNetV2B0"``, ``"ResNet50V2"``, ``"MobileNetV3Small"`` or
        ``"ConvNeXtTiny"``) uses it as the trunk instead (those four parameters
        are then ignored), fed the input scaling it expects. Each has a
        smallest ``image_size`` (32 px for most, 71-75 for Xception and the
        Inception networks). The accuracy of ImageNet-pretrained trunks on
        dermoscopy was not measured by this project (its machines cannot
        download the weights).
    backbone_weights : None, "imagenet" or path, default=None
        Weights of the ``backbone`` trunk: random (``None``), ImageNet's
        (``"imagenet"``; Keras downloads them once into ``~/.keras/models/``,
        and an OSError explains how to pass a local file when the machine is
        offline), or the path of a weights file of that application without its
        top (Keras' ``*_notop.h5`` download, or a ``.weights.h5``/``.keras``
        file saved from ``keras.applications.<name>(include_top=False)``).
    precision : {"float32", "mixed_float16", "mixed_bfloat16"}, default="float32"
        Number format of the network's computations, through a Keras dtype
        policy set for the fit only. The caller's policy is restored afterwards,
        also when the fit fails. The mixed policies compute in 16 bits and keep
        the weights, and the softmax output, in float32: about twice the speed
        on GPUs with tensor cores (float16 on NVIDIA from Volta on, bfloat16
        from Ampere on and on TPUs). ``"mixed_float16"`` trains with dynamic loss
        scaling (Keras wraps the optimizer in a ``LossScaleOptimizer``) so that
        small gradients do not underflow; bfloat16 has float32's range and
        needs none. The fitted network keeps its layers' policy (predictions
        are float32 either way), and its saved file loads and predicts on a
        machine without a GPU. On a CPU the mixed policies run, but no faster.
    jit_compile : bool or "auto", default=False
        Compile the training step with XLA (``model.compile(jit_compile=...)``),
        which fuses operations and often speeds up training on GPUs; ``"auto"``
        lets Keras decide. Keras runs without XLA, with a warning, when a layer
        cannot be compiled (the ``augment`` layers cannot) and in seeded fits
        (``random_state`` set: TensorFlow's op determinism excludes XLA).
    distribute : None, "mirrored", list of str, "multi_worker" or tf.distribute.Strategy, \
default=None
        Where the fit runs. ``None`` leaves placement to TensorFlow (its first
        GPU when it sees one, else the CPU). ``"mirrored"`` trains a copy of the
        network on every local GPU (``tf.distribute.MirroredStrategy``), and a
        list of devices, such as ``["/gpu:0", "/gpu:1"]``, on those.
        ``"multi_worker"`` trains on several machines
        (``MultiWorkerMirroredStrategy``), which the ``TF_CONFIG`` environment
        variable lists, as TensorFlow documents; every machine runs the same
        fit, and TensorFlow wants it to be the first thing the process runs on
        TensorFlow (see the user guide, "Training on several GPUs or
        machines"). When a worker stops, the others' fits raise a
        RuntimeError that says so; a worker waits for the chief (worker 0) to
        start for ``SKINLESION_WORKER_START_TIMEOUT`` seconds (default 600).
        A ``tf.distribute.Strategy`` object is used as it is (``clone`` shares
        it; pickling refuses it, with an error saying what to do). The
        network is built and compiled inside the strategy's scope; the strategy
        for a string or list is made once per process and reused.
        ``batch_size`` is the global batch: each step splits it evenly over the
        replicas (32 over 4 GPUs is 8 images each), so scale it, and perhaps
        ``learning_rate``, with the number of GPUs. Batch normalisation
        computes its statistics on each replica's share. Predictions run
        without the strategy, and a model file holds no trace of it (a strategy
        object is saved as ``None``): it loads on a machine without GPUs. With
        ``random_state`` set, a fit under a strategy is repeatable on the CPU
        (across GPUs the order of the gradient sums is TensorFlow's, and
        repeatability is not promised), but it is not the one-device fit:
        TensorFlow reseeds the per-epoch shuffle when it distributes the
        images, so they come in another order.
    random_state : int, RandomState instance or None, default=None
        Seeds the weights, the validation split, the shuffling, dropout and
        augmentation. With an int, two fits on the CPU give identical
        predictions. Global seeds are never touched; TensorFlow's op-determinism
        switch is turned on during ``fit`` only and then restored.
    verbose : int, default=0
        0 is silent, 1 prints one line per epoch, 2 shows Keras progress bars.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels, sorted.
    model_ : keras.Model
        The trained network. It takes uint8 images of ``input_shape_``.
    history_ : dict of str to list of float
        Per-epoch training figures: ``loss``, ``accuracy`` and, with a
        validation split, ``val_loss``, ``val_accuracy``.
    n_epochs_ : int
        Epochs actually run (fewer than ``epochs`` after early stopping).
    best_epoch_ : int
        Epoch (1-based) whose weights were kept.
    validation_indices_ : ndarray of int
        Sorted rows of the ``X`` that ``fit`` received that were held out for
        early stopping (empty with ``validation_fraction=0``); the other rows
        were trained on. In a :class:`skinlesion.Pipeline` they are rows of the
        resampled images the classifier was fitted on:
        ``pipe.sample_indices_[validation_indices_]`` gives the rows of the
        pipeline's own input they were made from, none of which was also the
        source of a training image.
    input_shape_ : tuple of int
        ``(height, width, 3)`` of the images the network takes.

    Notes
    -----
    The architecture of a fitted network's trunk, whether built from the
    parameters or taken from ``init``, is
    ``skinlesion.network.trunk_spec(clf.model_)``.

    See Also
    --------
    skinlesion.build_cnn : The network architecture.
    skinlesion.make_pipeline : Balancing and augmentation steps before the classifier.

    Examples
    --------
    >>> from skinlesion import LesionClassifier
    >>> from skinlesion.datasets import make_lesions
    >>> X, y = make_lesions(n_samples=60, image_size=16, random_state=0)
    >>> clf = LesionClassifier(image_size=16, filters=(8,), epochs=2, random_state=0)
    >>> clf = clf.fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 3)
    >>> clf.classes_.tolist()
    ['melanoma', 'nevus', 'seborrheic keratosis']

    Start from that network's trunk, with a new head for two classes, at
    another image size, training the head alone (see ``init`` and
    ``fine_tune``); ``FrozenEstimator`` keeps ``clf`` fitted through ``clone``:

    >>> from sklearn.frozen import FrozenEstimator
    >>> y2 = (y == "melanoma").astype(int)
    >>> tuned = LesionClassifier(init=FrozenEstimator(clf), fine_tune="head", image_size=24,
    ...                          filters=(8,), epochs=2, random_state=0).fit(X, y2)
    >>> tuned.predict_proba(X[:2]).shape
    (2, 2)

    A Keras application as the trunk, with ImageNet's weights (downloaded by
    Keras; see ``backbone_weights`` for a local file), fine-tuned after two
    epochs of training the new head alone:

    >>> clf = LesionClassifier(backbone="EfficientNetV2B0", backbone_weights="imagenet",
    ...                        image_size=128, warmup_epochs=2)
    >>> clf.fit(X, y)  # doctest: +SKIP
    """

    _parameter_constraints: dict = {
        "image_size": [Interval(Integral, 1, None, closed="left"), tuple, list, None],
        "filters": [tuple, list],
        "kernel_size": [Interval(Integral, 1, None, closed="left")],
        "convs_per_block": [Interval(Integral, 1, None, closed="left"), tuple, list],
        "dense_units": [tuple, list, Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "batch_norm": ["boolean"],
        "block": [StrOptions({"plain", "residual"})],
        "optimizer": [StrOptions(_OPTIMIZERS)],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "patience": [Interval(Integral, 0, None, closed="left")],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
        "mixup": [Interval(Real, 0, None, closed="left")],
        "lr_schedule": [StrOptions({"plateau", "cosine"}), None],
        "augment": ["boolean", dict, None],
        "color_constancy": [Interval(Real, 1, None, closed="left"), None],
        "tta": [Options(Integral, {1, 2, 4, 8})],
        "init": "no_validation",  # an estimator, a path or a Keras model: checked in fit
        "fine_tune": [StrOptions({"all", "head"})],
        "warmup_epochs": [Interval(Integral, 0, None, closed="left")],
        "backbone": [StrOptions(set(BACKBONES)), None],
        "backbone_weights": [StrOptions({"imagenet"}), str, os.PathLike, None],
        "precision": [StrOptions(set(PRECISIONS))],
        "jit_compile": ["boolean", StrOptions({"auto"})],
        "distribute": "no_validation",  # a name, devices or a Strategy: checked in fit
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        image_size: int | tuple[int, int] | None = 64,
        filters: Sequence[int] = DEFAULT_FILTERS,
        kernel_size: int = 3,
        convs_per_block: int | Sequence[int] = 1,
        dense_units: Sequence[int] = (128,),
        dropout: float = 0.3,
        batch_norm: bool = True,
        block: str = "plain",
        optimizer: str = "adam",
        learning_rate: float = 1e-3,
        batch_size: int = 32,
        epochs: int = 30,
        early_stopping: bool = True,
        validation_fraction: float = 0.1,
        patience: int = 5,
        class_weight: str | Mapping[Any, float] | None = None,
        label_smoothing: float = 0.0,
        mixup: float = 0.0,
        lr_schedule: str | None = "plateau",
        augment: bool | Mapping[str, Any] | None = True,
        color_constancy: float | None = None,
        tta: int = 1,
        init: Any = None,
        fine_tune: str = "all",
        warmup_epochs: int = 0,
        backbone: str | None = None,
        backbone_weights: str | os.PathLike[str] | None = None,
        precision: str = "float32",
        jit_compile: bool | str = False,
        distribute: Any = None,
        random_state: int | np.random.RandomState | None = None,
        verbose: int = 0,
    ) -> None:
        self.image_size = image_size
        self.filters = filters
        self.kernel_size = kernel_size
        self.convs_per_block = convs_per_block
        self.dense_units = dense_units
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.block = block
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.epochs = epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.class_weight = class_weight
        self.label_smoothing = label_smoothing
        self.mixup = mixup
        self.lr_schedule = lr_schedule
        self.augment = augment
        self.color_constancy = color_constancy
        self.tta = tta
        self.init = init
        self.fine_tune = fine_tune
        self.warmup_epochs = warmup_epochs
        self.backbone = backbone
        self.backbone_weights = backbone_weights
        self.precision = precision
        self.jit_compile = jit_compile
        self.distribute = distribute
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self,
        X: Any,
        y: Any,
        *,
        groups: Any = None,
        callbacks: Sequence[Any] | None = None,
    ) -> LesionClassifier:
        """Train the network on images ``X`` with class labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n, height, width, channels) or sequence of paths
            Images as uint8 or float in [0, 1] with 1, 3 or 4 channels, or image
            files (JPEG, PNG, BMP, TIFF) that are read in a streaming pipeline.
        y : array-like of shape (n,)
            Class labels: any hashable names, such as ``"melanoma"``.
        groups : array-like of shape (n,), default=None
            Group of each image, such as HAM10000's lesion id. The validation
            split for early stopping keeps each group on one side (and classes
            in proportion as far as whole groups allow), so images of one lesion
            never straddle training and validation. Repeated files and
            identical pixel arrays are kept together with or without groups. In
            a :class:`skinlesion.Pipeline`, pass them for the pipeline's input
            (``pipe.fit(X, y, lesionclassifier__groups=groups)``): the pipeline
            gives each resampled image the group of the image it was made from.
        callbacks : list of keras.callbacks.Callback, default=None
            Extra Keras callbacks (progress bars, logging).

        Returns
        -------
        self : LesionClassifier
            The fitted estimator.
        """
        X, y = self._check_X_y(X, y)
        self._check_architecture()
        encoder = LabelEncoder()
        y_enc = encoder.fit_transform(y).astype(np.int32)
        self.classes_ = encoder.classes_
        if len(self.classes_) < 2:
            raise ValueError(
                f"y holds one class only ({self.classes_.tolist()[0]!r}); a classifier needs at "
                "least two classes. Check that labels were read from the right column or folders."
            )
        size = self._resolve_size(X)
        _check_tta(self.tta, size)
        self.input_shape_ = (*size, 3)
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(0, 2**31 - 1))
        train_idx, val_idx = self._split(y_enc, rng, self._split_groups(X, groups))
        self.validation_indices_ = val_idx
        class_weight = self._class_weights(y_enc[train_idx])

        tf = import_tf(self.verbose)
        strategy = resolve_strategy(self.distribute)  # before any TF op (multi-worker)

        from skinlesion._dataset import make_dataset
        from skinlesion.network import build_cnn, copy_trunk

        source, architecture = self._trunk_source()
        pretrained = source is not None or self.backbone_weights is not None
        warmup = self._check_fine_tune(pretrained=pretrained)
        deterministic = self.random_state is not None
        with (
            op_determinism(deterministic),
            quiet_tf_logger(self.verbose),
            fit_context(self.precision, strategy),
        ):
            model = build_cnn(
                self.input_shape_,
                len(self.classes_),
                **architecture,
                dense_units=self.dense_units,
                dropout=self.dropout,
                augment=self.augment,
                color_constancy=self.color_constancy,
                backbone_weights=None if source is not None else self.backbone_weights,
                seed=seed,
            )
            if source is not None:
                copy_trunk(source, model)
            del source
            if self.label_smoothing or self.mixup:  # one-hot targets, smoothed or blended
                targets = np.eye(len(self.classes_), dtype=np.float32)[y_enc]
            else:
                targets = y_enc
            train = make_dataset(
                X[train_idx],
                targets[train_idx],
                size=size,
                batch_size=self.batch_size,
                shuffle=True,
                seed=seed,
                mixup=self.mixup,
            )
            validation = None
            if len(val_idx):
                validation = make_dataset(
                    X[val_idx], targets[val_idx], size=size, batch_size=self.batch_size, cache=True
                )
            with multi_worker_errors(strategy), keras_multi_worker_fit(model, strategy):
                history = self._train(model, train, validation, class_weight, callbacks, warmup)
        del tf
        if is_multi_worker(strategy):
            # A network of a multi-worker fit predicts with all workers (collective
            # operations): a worker that predicts alone waits for the others, or fails
            # once they are gone. Its copy outside the strategy predicts on its own.
            model = _model_from_bytes(_model_to_bytes(model))
        self.model_ = model
        self.history_ = history
        self.n_epochs_ = len(self.history_.get("loss", []))
        monitor = "val_loss" if "val_loss" in self.history_ else "loss"
        # early stopping watches the epochs after the warmup and keeps the best of those
        self.best_epoch_ = (
            warmup + int(np.argmin(self.history_[monitor][warmup:])) + 1
            if self.early_stopping and self.history_.get(monitor)
            else self.n_epochs_
        )
        return self

    def _trunk_source(self) -> tuple[Any, dict[str, Any]]:
        """The network whose trunk ``init`` gives (or None), and the architecture to build."""
        params = self.get_params(deep=False)
        architecture = {
            "backbone": self.backbone,
            "filters": tuple(self.filters),
            "kernel_size": self.kernel_size,
            "convs_per_block": self.convs_per_block,
            "batch_norm": self.batch_norm,
            "block": self.block,
        }
        if self.init is None:
            return None, architecture
        from skinlesion._transfer import resolve_architecture, source_network

        if self.backbone_weights is not None:
            raise ValueError(
                f"init and backbone_weights={self.backbone_weights!r} both give the trunk's "
                "weights; pass one of them (init=None to start from backbone_weights)."
            )
        network, where = source_network(self.init)
        return network, resolve_architecture(params, network, where)

    def _check_fine_tune(self, *, pretrained: bool) -> int:
        """Check ``fine_tune`` and ``warmup_epochs``; return the warmup epochs to run."""
        if not pretrained and (self.fine_tune == "head" or self.warmup_epochs):
            what = (
                "fine_tune='head' trains the head alone on a frozen trunk"
                if self.fine_tune == "head"
                else f"warmup_epochs={self.warmup_epochs} trains the head alone first"
            )
            raise ValueError(
                f"{what}, but this trunk starts from random weights (init=None and "
                "backbone_weights=None): pass init= (a trained LesionClassifier or its model "
                "file) or backbone= with backbone_weights=, or use fine_tune='all' with "
                "warmup_epochs=0."
            )
        if self.fine_tune == "head":
            return 0
        if self.warmup_epochs >= self.epochs:
            raise ValueError(
                f"warmup_epochs={self.warmup_epochs} leaves no epoch to fine-tune the whole "
                f"network (epochs={self.epochs}): make warmup_epochs smaller than epochs, or "
                "use fine_tune='head' to train the head alone."
            )
        return int(self.warmup_epochs)

    def _train(
        self,
        model: Any,
        train: Any,
        validation: Any,
        class_weight: dict[int, float] | None,
        callbacks: Sequence[Any] | None,
        warmup: int,
    ) -> dict[str, list[float]]:
        """Compile and fit ``model``: the head alone for ``warmup`` epochs, then as asked."""
        import keras

        from skinlesion._dataset import reraise_image_errors
        from skinlesion._transfer import phase_callbacks
        from skinlesion.network import set_trunk_trainable

        if self.label_smoothing or self.mixup:
            loss: Any = keras.losses.CategoricalCrossentropy(label_smoothing=self.label_smoothing)
        else:
            loss = "sparse_categorical_crossentropy"
        monitor = "val_loss" if validation is not None else "loss"
        keras_verbose = {0: 0, 1: 2}.get(int(self.verbose), 1)
        jit_compile = check_jit_compile(
            self.jit_compile, deterministic=self.random_state is not None
        )

        def run(rate: float, epochs: tuple[int, int], fit_callbacks: list[Any]) -> dict:
            model.compile(
                optimizer=keras.optimizers.get(
                    {"class_name": self.optimizer, "config": {"learning_rate": rate}}
                ),
                loss=loss,
                metrics=["accuracy"],
                jit_compile=jit_compile,
            )
            with reraise_image_errors(model, train, validation):
                history = model.fit(
                    train,
                    validation_data=validation,
                    initial_epoch=epochs[0],
                    epochs=epochs[1],
                    class_weight=class_weight,
                    callbacks=fit_callbacks,
                    shuffle=False,  # the dataset shuffles itself, seeded
                    verbose=keras_verbose,
                )
            out = {k: [float(v) for v in vs] for k, vs in history.history.items()}
            if warmup:  # record the rate of both phases, so the drop shows in history_
                out.setdefault("learning_rate", [float(rate)] * len(out.get("loss", [])))
            return out

        user_callbacks = list(callbacks or [])
        history: dict[str, list[float]] = {}
        rate = float(self.learning_rate)
        if warmup:
            # the head alone first; the callbacks see one run: begin here, end after phase 2
            set_trunk_trainable(model, False)
            history = run(rate, (0, warmup), phase_callbacks(user_callbacks, skip="on_train_end"))
            user_callbacks = phase_callbacks(user_callbacks, skip="on_train_begin")
            set_trunk_trainable(model, True)
            rate *= _UNFREEZE_RATE_FACTOR
        elif self.fine_tune == "head":
            set_trunk_trainable(model, False)
        all_callbacks = list(user_callbacks)
        if self.lr_schedule == "plateau":
            all_callbacks.append(
                keras.callbacks.ReduceLROnPlateau(
                    monitor=monitor, factor=0.5, patience=max(1, self.patience // 2)
                )
            )
        elif self.lr_schedule == "cosine":
            all_callbacks.append(
                keras.callbacks.LearningRateScheduler(
                    _cosine_schedule(rate, self.epochs - warmup, start=warmup)
                )
            )
        if self.early_stopping:
            all_callbacks.append(
                keras.callbacks.EarlyStopping(
                    monitor=monitor, patience=self.patience, restore_best_weights=True
                )
            )
        after = run(rate, (warmup, self.epochs), all_callbacks)
        set_trunk_trainable(model, True)  # model_ is a plain network again (freezing is fit's)
        return {k: history.get(k, []) + after.get(k, []) for k in {**history, **after}}

    def _check_X_y(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        if y is None:
            raise ValueError(
                "LesionClassifier requires y to be passed, but the target y is None: pass one "
                "class label per image."
            )
        X = check_images(X)
        y = check_label_values(y)
        if y.ndim == 2 and y.shape[1] == 1:
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected; it was flattened "
                "to shape (n,). Pass a 1-D array of class labels.",
                DataConversionWarning,  # scikit-learn's category, which users filter by
                stacklevel=3,
            )
            y = y.ravel()
        if y.ndim != 1:
            raise ValueError(
                f"y must be 1-D (one class label per image), got shape {y.shape}. "
                "One-hot labels can be turned into names with classes[y.argmax(axis=1)]."
            )
        if len(y) != len(X):
            raise ValueError(
                f"X and y have different lengths: {len(X)} images but {len(y)} labels."
            )
        if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
            raise ValueError("y contains NaN or infinite labels; drop those images first.")
        if y.dtype.kind == "O" and any(v is None for v in y):
            raise ValueError("y contains None labels; drop those images first.")
        check_classification_targets(y)
        if is_path_array(X):
            missing = [p for p in X if not os.path.isfile(p)]
            if missing:
                raise ValueError(
                    f"{len(missing)} image file(s) not found, for example {missing[0]!r}. "
                    "Check the paths (relative paths are resolved from the current directory)."
                )
            # Decode every file once before the first epoch (JPEGs at 1/8 scale), so that
            # a truncated or corrupt file stops the fit now, with every bad file listed,
            # instead of part-way through an epoch.
            unreadable = find_unreadable_images(X)
            if unreadable:
                raise ImageReadError.from_failures(unreadable)
        return X, y

    def _check_architecture(self) -> None:
        filters = tuple(self.filters)
        if not filters or not all(
            isinstance(f, (int, np.integer)) and not isinstance(f, bool) and f > 0 for f in filters
        ):
            raise ValueError(
                f"filters must be a non-empty sequence of positive ints, got {self.filters!r}."
            )
        dense = (self.dense_units,) if isinstance(self.dense_units, Integral) else self.dense_units
        if not all(isinstance(u, (int, np.integer)) and u > 0 for u in dense):
            raise ValueError(
                f"dense_units must be a sequence of positive ints, got {self.dense_units!r}."
            )
        from skinlesion.network import resolve_augmentation, resolve_convs_per_block

        resolve_convs_per_block(self.convs_per_block, len(filters))
        resolve_augmentation(self.augment)

    def _resolve_size(self, X: np.ndarray) -> tuple[int, int]:
        size = as_size(self.image_size)
        if size is not None:
            return size
        if is_path_array(X):
            raise ValueError(
                "image_size=None keeps the size of in-memory images only; with file paths "
                "set image_size (for example image_size=128)."
            )
        return (int(X.shape[1]), int(X.shape[2]))

    def _split_groups(self, X: np.ndarray, groups: Any) -> np.ndarray | None:
        """Groups the validation split keeps whole: ``groups`` joined with duplicates."""
        from skinlesion._groups import check_groups, duplicate_groups, merge_groups

        if groups is not None:
            groups = check_groups(groups, len(X))
        if not self.validation_fraction:
            return None
        return merge_groups(groups, duplicate_groups(X))

    def _split(
        self, y_enc: np.ndarray, rng: np.random.RandomState, groups: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        indices = np.arange(len(y_enc))
        n_classes = len(self.classes_)
        n_val = int(np.ceil(self.validation_fraction * len(y_enc)))
        if not self.validation_fraction or n_val == 0:
            return indices, indices[:0]
        if len(y_enc) - n_val < n_classes:
            raise ValueError(
                f"validation_fraction={self.validation_fraction} leaves fewer training images "
                f"than classes ({len(y_enc)} images, {n_classes} classes); lower it or set it to 0."
            )
        if groups is not None and len(np.unique(groups)) < len(groups):
            from skinlesion._groups import stratified_group_holdout

            train_idx, val_idx = stratified_group_holdout(
                y_enc, groups, self.validation_fraction, rng
            )
            if len(val_idx) == 0:
                warnings.warn(
                    f"validation_fraction={self.validation_fraction}: no group of images can "
                    "be held out for early stopping without taking the last training images "
                    "of a class, so there is no validation split and the training loss is "
                    "watched instead. Give more images (or smaller groups), or set "
                    "validation_fraction=0.",
                    UserWarning,
                    stacklevel=4,
                )
            return train_idx, val_idx
        counts = np.bincount(y_enc)
        stratify = y_enc if counts.min() >= 2 and n_val >= n_classes else None
        train_idx, val_idx = train_test_split(
            indices, test_size=n_val, stratify=stratify, random_state=rng
        )
        return np.sort(train_idx), np.sort(val_idx)

    def _class_weights(self, y_train: np.ndarray) -> dict[int, float] | None:
        if self.class_weight is None:
            return None
        n_classes = len(self.classes_)
        if isinstance(self.class_weight, str):
            present = np.unique(y_train)
            weights = np.ones(n_classes)
            weights[present] = compute_class_weight("balanced", classes=present, y=y_train)
            return {i: float(w) for i, w in enumerate(weights)}
        unknown = [k for k in self.class_weight if k not in set(self.classes_.tolist())]
        if unknown:
            raise ValueError(
                f"class_weight names class(es) {unknown} that are not in y; the classes are "
                f"{self.classes_.tolist()}."
            )
        lookup = {c: i for i, c in enumerate(self.classes_.tolist())}
        weights = {i: 1.0 for i in range(n_classes)}
        for name, weight in self.class_weight.items():
            weights[lookup[name]] = float(weight)
        return weights

    # ------------------------------------------------------------- predict
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
        from skinlesion._dataset import make_dataset, reraise_image_errors

        _check_tta(self.tta, self.input_shape_[:2])
        model = self.model_ if int(self.tta) == 1 else _tta_model(self.model_, int(self.tta))
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

    # ---------------------------------------------------------- estimator
    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = False
        tags.input_tags.positive_only = True  # pixel values: negative ones are an error
        tags.non_deterministic = self.random_state is None
        return tags

    def __sklearn_clone__(self) -> LesionClassifier:
        """An unfitted copy with the same parameters; a strategy object is shared, not copied.

        A ``tf.distribute.Strategy`` stands for devices of this process (and
        TensorFlow allows one multi-worker strategy per process), so the clone
        gets the same object, as the clones of ``GridSearchCV`` should.
        """
        strategy = self.distribute
        if not _is_strategy_object(strategy):
            return super().__sklearn_clone__()
        view = object.__new__(type(self))  # self without the strategy, nothing copied
        view.__dict__.update(self.__dict__)
        view.distribute = None
        new = super(LesionClassifier, view).__sklearn_clone__()
        new.distribute = strategy
        return new

    def __getstate__(self) -> dict[str, Any]:
        if _is_strategy_object(self.distribute):
            raise TypeError(
                f"a LesionClassifier with distribute={type(self.distribute).__name__}(...) "
                "cannot be pickled: a tf.distribute.Strategy belongs to the devices of the "
                "process that made it. Pass distribute='mirrored', a list of devices or "
                "'multi_worker' instead (those pickle, and make their strategy in the process "
                "that fits), or call set_params(distribute=None) before pickling (a fitted "
                "classifier predicts without it); save() stores distribute=None by itself."
            )
        state = super().__getstate__()
        if "model_" in state:
            state = dict(state)
            state["model_"] = _model_to_bytes(state["model_"])
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        if isinstance(state.get("model_"), bytes):
            state = dict(state)
            state["model_"] = _model_from_bytes(state["model_"])
        super().__setstate__(state)

    # -------------------------------------------------------- persistence
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save the fitted classifier to one file (see :func:`load_model`).

        The file is a ZIP archive holding ``skinlesion.json`` (format name and
        version, the skinlesion version, the parameters, ``classes_``,
        ``history_``, ``validation_indices_``) and ``model.keras`` (the network
        in Keras' own format). It is written to a temporary name and renamed, so
        an interrupted save never leaves a half-written file under ``path``; the
        hidden temporary file a killed save leaves behind
        (``.skinlesion-XXXXXXXX.tmp``) is removed by the next save into the same
        folder, once it is 15 minutes old.

        ``init`` is kept in the file when it is a path (as given, so a relative
        path is read from the current directory when the loaded classifier is
        fitted again). A fitted estimator or Keras model given as ``init`` is not
        written (the file holds no Python objects; the fitted network already
        holds the trunk it gave): the loaded classifier has ``init=None``, and
        ``skinlesion.json`` names what it was under ``init_source``.

        Parameters
        ----------
        path : str or path-like
            Destination file (conventionally ending in ``.skl``).

        Returns
        -------
        path : pathlib.Path

        Raises
        ------
        OSError
            Before anything is written, when ``path`` is a folder, its folder
            does not exist or does not accept new files.

        Examples
        --------
        >>> import os, tempfile
        >>> from skinlesion import LesionClassifier, load_model
        >>> from skinlesion.datasets import make_lesions
        >>> X, y = make_lesions(n_samples=40, image_size=16, random_state=0)
        >>> clf = LesionClassifier(image_size=16, filters=(4,), epochs=1, random_state=0).fit(X, y)
        >>> path = clf.save(os.path.join(tempfile.mkdtemp(), "model.skl"))
        >>> (load_model(path).predict(X) == clf.predict(X)).all()
        np.True_
        """
        check_is_fitted(self, "model_")
        from skinlesion import __version__

        path = check_writable(path, "path")
        remove_stale_temporaries(path.parent)  # left by saves that were killed
        params, init_source = _params_for_file(self.get_params(deep=False))
        meta = {
            "format": MODEL_FORMAT,
            "format_version": _FORMAT_VERSION,
            "skinlesion_version": __version__,
            "params": _jsonable_params(params),
            "classes": _encode_classes(self.classes_),
            "history": self.history_,
            "n_epochs": self.n_epochs_,
            "best_epoch": self.best_epoch_,
            "input_shape": list(self.input_shape_),
            "validation_indices": self.validation_indices_.tolist(),
        }
        if init_source is not None:
            meta["init_source"] = init_source
        model_bytes = _model_to_bytes(self.model_)
        fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, suffix=TMP_SUFFIX, dir=path.parent)
        os.close(fd)
        try:
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                archive.writestr("skinlesion.json", json.dumps(meta, indent=2))
                archive.writestr("model.keras", model_bytes)
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the usual mode
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path


def load_model(path: str | os.PathLike[str]) -> LesionClassifier:
    """Load a classifier saved with :meth:`LesionClassifier.save`.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    clf : LesionClassifier
        Fitted, predicting exactly as the saved one did.

    Raises
    ------
    FileNotFoundError, IsADirectoryError
        If ``path`` is missing or a folder.
    ValueError
        If the file is not a skinlesion model file, was written by a newer
        skinlesion, is damaged or was edited (its description does not match its
        network), or holds Python code. The network is read in Keras' safe mode,
        even after ``keras.config.enable_unsafe_deserialization()``, so loading
        a model file never runs code from it.

    Examples
    --------
    >>> from skinlesion import load_model
    >>> load_model("model.skl")  # doctest: +SKIP
    """
    path = Path(path)
    name = str(path)
    if not path.exists():
        raise FileNotFoundError(f"model file {name!r} does not exist; check the path.")
    if path.is_dir():
        raise IsADirectoryError(
            f"model file {name!r} is a folder; give the file written by LesionClassifier.save "
            "or `skinlesion train` (such as model.skl)."
        )
    not_ours = (
        f"{name!r} is not a skinlesion model file (expected a file written by "
        "LesionClassifier.save or `skinlesion train`)."
    )

    def damaged(problem: str) -> ValueError:
        return ValueError(
            f"model file {name!r} is damaged or was edited: {problem}. Load a copy of the "
            "file as LesionClassifier.save wrote it, or train and save the model again."
        )

    try:
        with zipfile.ZipFile(path) as archive:
            members = set(archive.namelist())
            if "skinlesion.json" not in members:
                raise ValueError(not_ours)
            try:
                meta = json.loads(archive.read("skinlesion.json"))
            except (zipfile.BadZipFile, ValueError, zlib.error, EOFError) as err:
                raise damaged(f"its skinlesion.json cannot be read ({err})") from None
            model_bytes = None
            if "model.keras" in members:
                try:
                    model_bytes = archive.read("model.keras")
                except (zipfile.BadZipFile, ValueError, zlib.error, EOFError) as err:
                    raise damaged(f"its network (model.keras) cannot be read ({err})") from None
    except (zipfile.BadZipFile, EOFError):
        with open(path, "rb") as handle:
            if handle.read(4) == b"PK\x03\x04":  # a ZIP archive, cut short or corrupt
                raise ValueError(
                    f"{name!r} is not a skinlesion model file that can be read: it starts "
                    "like a ZIP archive but is truncated or corrupt (a copy cut short?). Copy "
                    "the file again, or train and save the model again."
                ) from None
        raise ValueError(not_ours) from None
    if not isinstance(meta, dict) or meta.get("format") != MODEL_FORMAT:
        raise ValueError(not_ours)
    version = meta.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise damaged(f"its format_version is {version!r}, not a whole number from 1")
    if version > _FORMAT_VERSION:
        raise ValueError(
            f"{name!r} was written by a newer skinlesion "
            f"({meta.get('skinlesion_version')}) in model format {version}; this one reads "
            f"format {_FORMAT_VERSION}: upgrade skinlesion to load it."
        )
    clf = _classifier_from_meta(meta, damaged, name)
    if model_bytes is None:
        raise damaged("it holds no network (model.keras)")
    if not zipfile.is_zipfile(io.BytesIO(model_bytes)):
        raise damaged("its network (model.keras) is not a Keras archive (truncated or overwritten)")
    try:
        clf.model_ = _model_from_bytes(model_bytes)
    except Exception as err:  # Keras raises many kinds for a damaged archive
        reason = " ".join(str(err).split()) or type(err).__name__
        if "safe_mode" in reason:
            raise ValueError(
                f"model file {name!r} holds Python code in its network (a Lambda layer or "
                "a function), which skinlesion never loads: it was not written by "
                "LesionClassifier.save. Do not use a model file from an untrusted source."
            ) from None
        reason = re.sub(r"\S*model\.keras", "model.keras", reason)  # no temporary paths
        raise damaged(f"its network (model.keras) cannot be loaded ({reason[:300]})") from None
    n_outputs = clf.model_.output_shape[-1]
    if n_outputs != len(clf.classes_):
        raise damaged(
            f"its network predicts {n_outputs} classes but it lists {len(clf.classes_)} "
            f"class names ({clf.classes_.tolist()})"
        )
    if tuple(clf.model_.input_shape[1:]) != clf.input_shape_:
        raise damaged(
            f"its network takes images of shape {tuple(clf.model_.input_shape[1:])} but it "
            f"records input_shape {clf.input_shape_}"
        )
    return clf


def _classifier_from_meta(meta: dict[str, Any], damaged: Any, name: str) -> LesionClassifier:
    """The unfitted-network part of a model file: parameters and fitted attributes."""
    from skinlesion import __version__

    for key in ("params", "classes", "history", "n_epochs", "best_epoch", "input_shape"):
        if key not in meta:
            raise damaged(f"it has no {key!r} entry")
    params = meta["params"]
    if not isinstance(params, dict):
        raise damaged(f"its 'params' entry is a {type(params).__name__}, not a mapping")
    known = set(LesionClassifier().get_params())
    unknown = sorted(set(params) - known)
    if unknown:
        written_by = meta.get("skinlesion_version")
        fix = (
            "the file was edited: remove them, or load an unedited copy"
            if written_by == __version__
            else f"it was written by skinlesion {written_by}: upgrade skinlesion to load it"
        )
        raise ValueError(
            f"model file {name!r} sets parameter(s) {unknown} that this skinlesion "
            f"({__version__}) does not know; {fix}."
        )
    params = dict(params)
    for key in ("filters", "convs_per_block", "dense_units", "image_size"):
        if isinstance(params.get(key), list):
            params[key] = tuple(params[key])
    clf = LesionClassifier(**params)
    try:
        clf._validate_params()
        clf._check_architecture()
    except ValueError as err:
        raise damaged(f"its parameters are invalid ({' '.join(str(err).split())})") from None
    try:
        classes = _decode_classes(meta["classes"])
    except (TypeError, ValueError, KeyError) as err:
        raise damaged(f"its class names cannot be read ({err!r})") from None
    if classes.ndim != 1 or len(classes) < 2 or len(set(classes.tolist())) != len(classes):
        raise damaged(f"its class names {meta['classes'].get('values')!r} are not 2 or more names")
    history = meta["history"]
    if not isinstance(history, dict) or not all(
        isinstance(v, list) and all(isinstance(x, (int, float)) for x in v)
        for v in history.values()
    ):
        raise damaged("its training history is not a mapping of lists of numbers")
    shape = meta["input_shape"]
    if (
        not isinstance(shape, list)
        or len(shape) != 3
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in shape)
        or shape[2] != 3
    ):
        raise damaged(f"its input_shape {shape!r} is not [height, width, 3]")
    for key in ("n_epochs", "best_epoch"):
        value = meta[key]
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise damaged(f"its {key} is {value!r}, not a whole number")
    clf.classes_ = classes
    clf.history_ = history
    clf.n_epochs_ = int(meta["n_epochs"])
    clf.best_epoch_ = int(meta["best_epoch"])
    clf.input_shape_ = tuple(shape)
    if "validation_indices" in meta:  # absent from files saved by earlier versions
        rows = meta["validation_indices"]
        if not isinstance(rows, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in rows
        ):
            raise damaged("its validation_indices are not a list of row numbers")
        clf.validation_indices_ = np.asarray(rows, dtype=np.intp)
    return clf


def _params_for_file(params: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """``params`` with paths as strings and an in-memory ``init`` replaced by None.

    Returns the parameters and, when ``init`` was dropped, a description of it.
    """
    params = dict(params)
    for key in ("init", "backbone_weights"):
        if isinstance(params.get(key), os.PathLike):
            params[key] = os.fspath(params[key])
    if _is_strategy_object(params.get("distribute")):
        params["distribute"] = None  # a strategy object: hardware of the fit, not of the model
    init = params.get("init")
    if init is None or isinstance(init, str):
        return params, None
    params["init"] = None
    inner = getattr(init, "estimator", None)
    name = type(init).__name__
    if inner is not None:
        name = f"{name}({type(inner).__name__})"
    return params, f"{name}, not stored (the fitted network holds its trunk)"


def _is_strategy_object(distribute: Any) -> bool:
    """Whether ``distribute`` is a strategy object rather than None, a name or devices."""
    return distribute is not None and not isinstance(distribute, (str, list, tuple))


def _jsonable_params(params: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in params.items():
        if isinstance(value, np.random.RandomState):
            value = None
        elif isinstance(value, Mapping):
            value = dict(value)
        try:
            json.dumps(value)
        except TypeError:
            raise ValueError(
                f"parameter {key}={value!r} cannot be saved in a model file; use plain "
                "ints, floats, strings, tuples and dicts, or pickle the estimator instead."
            ) from None
        out[key] = value
    return out


def _encode_classes(classes: np.ndarray) -> dict[str, Any]:
    values = classes.tolist()
    if not all(isinstance(v, (str, int, float, bool)) for v in values):
        raise ValueError(
            "class labels other than strings and numbers cannot be saved in a model file; "
            "pickle the estimator instead (joblib.dump)."
        )
    return {"dtype": classes.dtype.str, "values": values}


def _decode_classes(encoded: dict[str, Any]) -> np.ndarray:
    dtype = np.dtype(encoded["dtype"])
    if dtype.kind == "O":
        out = np.empty(len(encoded["values"]), dtype=object)
        out[:] = encoded["values"]
        return out
    return np.asarray(encoded["values"], dtype=dtype)


def _model_to_bytes(model: Any) -> bytes:
    import_tf()
    with tempfile.TemporaryDirectory() as folder:
        file = os.path.join(folder, "model.keras")
        model.save(file)
        return Path(file).read_bytes()


def _model_from_bytes(data: bytes) -> Any:
    import_tf()
    import keras

    # Keras' safe mode refuses Python code (Lambda layers) in a model file, but a
    # process-wide keras.config.enable_unsafe_deserialization() overrides the
    # safe_mode argument; its scope (Keras' own, not public) overrides that again.
    from keras.src.saving.serialization_lib import SafeModeScope

    import skinlesion._layers  # noqa: F401  (registers the network's own layers)

    with tempfile.TemporaryDirectory() as folder:
        file = os.path.join(folder, "model.keras")
        with open(file, "wb") as handle:
            handle.write(data)
        with SafeModeScope(True):
            return keras.saving.load_model(file, compile=False, safe_mode=True)


def _cosine_schedule(learning_rate: float, epochs: int, start: int = 0) -> Any:
    """Per-epoch half-cosine decay from ``learning_rate`` at epoch ``start`` (0-based)
    to 1 % of it ``epochs`` epochs later."""
    floor = 0.01 * learning_rate

    def schedule(epoch: int, lr: float | None = None) -> float:
        progress = (epoch - start) / max(1, epochs - 1)
        return float(floor + (learning_rate - floor) * 0.5 * (1.0 + np.cos(np.pi * progress)))

    return schedule


def _check_tta(tta: Any, size: tuple[int, int]) -> None:
    if tta not in (1, 2, 4, 8) or isinstance(tta, bool):
        raise ValueError(f"tta must be 1, 2, 4 or 8 views, got {tta!r}.")
    if tta == 8 and size[0] != size[1]:
        raise ValueError(
            f"tta=8 needs square images (its last four views are transposed), but the network "
            f"takes {size[0]}x{size[1]} images: use tta=4, or a square image_size."
        )


def _tta_model(model: Any, n_views: int) -> Any:
    """``model`` averaged over ``n_views`` flips/transposes of its input (shared weights)."""
    import keras
    from keras import ops

    inputs = keras.Input(shape=model.input_shape[1:], dtype=model.inputs[0].dtype)
    views = [inputs, ops.flip(inputs, axis=2), ops.flip(inputs, axis=1)]
    views.append(ops.flip(views[1], axis=1))
    transposed = ops.transpose(inputs, (0, 2, 1, 3))
    views += [transposed, ops.flip(transposed, axis=1), ops.flip(transposed, axis=2)]
    views.append(ops.flip(views[-2], axis=2))
    outputs = keras.layers.Average(dtype="float32")([model(v) for v in views[:n_views]])
    return keras.Model(inputs, outputs, name=f"{model.name}_tta{n_views}")
