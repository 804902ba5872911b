"""``LesionClassifier``: a custom Keras CNN behind scikit-learn's classifier API."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from skinlesion._compat import (
    Interval,
    Options,
    StrOptions,
    _fit_context,
    keras_multi_worker_fit,
    op_determinism,
)
from skinlesion._docstrings import NETWORK_PARAMETERS, Substitution, random_state_doc
from skinlesion._random import check_random_state
from skinlesion._tf import import_tf, quiet_tf_logger
from skinlesion.model._backbones import BACKBONES
from skinlesion.model._hardware import (
    PRECISIONS,
    fit_context,
    is_multi_worker,
    multi_worker_errors,
    resolve_strategy,
)
from skinlesion.model._network import DEFAULT_FILTERS
from skinlesion.model._persistence import (
    MODEL_FORMAT,
    PersistenceMixin,
    _model_from_bytes,
    _model_to_bytes,
    read_model,
)
from skinlesion.model._prediction import PredictionMixin
from skinlesion.model._training import TrainingMixin
from skinlesion.model._transfer import trunk_source
from skinlesion.model._tta import check_tta

__all__ = ["MODEL_FORMAT", "LesionClassifier", "load_model"]

_OPTIMIZERS = {"adam", "adamw", "sgd", "rmsprop", "nadam"}


@Substitution(
    **NETWORK_PARAMETERS,
    random_state=random_state_doc(
        "the weights, the validation split, the shuffling, dropout and augmentation",
        extra="Two fits on the CPU with the same int give identical predictions. "
        "TensorFlow's op-determinism switch is turned on during a seeded ``fit`` only "
        "and then restored.",
    ),
)
class LesionClassifier(
    TrainingMixin, PredictionMixin, PersistenceMixin, ClassifierMixin, BaseEstimator
):
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
    {filters}
    {kernel_size}
    {convs_per_block}
    {dense_units}
    {dropout}
    {batch_norm}
    {block}
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
        ``max(1, patience // 2)`` epochs (which schedule suits which data: see
        :ref:`what-the-benchmarks-measured`). ``"cosine"`` lowers it every epoch along a
        half cosine, from ``learning_rate`` in the first epoch to 1 % of it in
        epoch ``epochs``. ``None`` keeps it constant.
    {augment}
    {color_constancy}
    tta : {1, 2, 4, 8}, default=1
        Test-time augmentation: :meth:`predict_proba` averages the network's
        probabilities over this many views of each image, which a dermoscopic
        image has no preferred one of. 1 is the image itself; 2 adds its
        left-right mirror; 4 all four flips; 8 also the four transposed views
        (square images only). It costs ``tta`` times the prediction time and
        nothing at training. Its gains are small and depend on the data (see
        :ref:`what-the-benchmarks-measured`).
    init : LesionClassifier, FrozenEstimator, path or keras.Model, default=None
        Start from the trunk of a trained network: a fitted
        :class:`LesionClassifier` (or a fitted pipeline ending in one), the path
        of a model file written by :meth:`save` (``.skl``), or a network built
        by :func:`skinlesion.build_cnn` as a Keras model or ``.keras`` file. The
        trunk's weights, batch-normalisation statistics included, are copied; the
        head is built anew for this fit's classes, at any ``image_size``. The
        trunk's architecture comes with it: ``backbone``, ``filters``,
        ``kernel_size``, ``convs_per_block``, ``batch_norm`` and ``block`` left at
        their defaults follow init's trunk, and any set to another value must
        agree with it (a ValueError names what differs). ``clone`` (in
        ``GridSearchCV``) turns a fitted estimator parameter into an unfitted
        copy: wrap it as ``FrozenEstimator(clf)`` or pass a saved file. See
        :ref:`start-from-a-larger-set`, also for what :meth:`save` keeps of it.
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
    {backbone}
    {backbone_weights}
    precision : {"float32", "mixed_float16", "mixed_bfloat16"}, default="float32"
        Number format of the network's computations, through a Keras dtype
        policy set for the fit only. The caller's policy is restored afterwards,
        also when the fit fails. The mixed policies compute in 16 bits and keep
        the weights, and the softmax output, in float32: about twice the speed on
        GPUs with tensor cores, no faster on a CPU. ``"mixed_float16"`` adds
        Keras' dynamic loss scaling. Predictions are float32 either way; the model
        file loads on a machine without a GPU (see :ref:`distributed-training`).
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
        ``"multi_worker"`` trains on the machines that the ``TF_CONFIG``
        environment variable lists (``MultiWorkerMirroredStrategy``). A
        ``tf.distribute.Strategy`` object is used as it is (``clone`` shares it;
        pickling refuses it, with an error saying what to do). ``batch_size`` is
        the global batch, split evenly over the replicas. Predictions run without
        the strategy, and a model file holds no trace of it. How to run on
        several machines, what happens when a worker stops, and how repeatable a
        fit under a strategy is: :ref:`distributed-training`.
    {random_state}
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
    class_counts_ : dict of class to int or None
        Images of each class that the network trained on: the rows of ``X``
        outside ``validation_indices_`` (after a pipeline's resampling, before
        augmentation). None for a model file saved before this was recorded.
    fit_time_ : float or None
        Seconds the whole ``fit`` took (reading, splitting, building and
        training). None for a model file saved before this was recorded.

    See Also
    --------
    skinlesion.build_cnn : The network architecture.
    skinlesion.make_pipeline : Balancing and augmentation steps before the classifier.

    Notes
    -----
    The architecture of a fitted network's trunk, whether built from the
    parameters or taken from ``init``, is
    ``skinlesion.network.trunk_spec(clf.model_)``.

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
        "random_state": ["random_state", np.random.Generator],
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
        random_state: int | np.random.RandomState | np.random.Generator | None = None,
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
        start = time.perf_counter()
        X, y = self._check_X_y(X, y)
        self._check_architecture()
        y_enc = self._encode_labels(y)
        size = self._resolve_size(X)
        check_tta(self.tta, size)
        self.input_shape_ = (*size, 3)
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(0, 2**31 - 1))
        train_idx, val_idx = self._split(y_enc, rng, self._split_groups(X, groups))
        self.validation_indices_ = val_idx
        counts = np.bincount(y_enc[train_idx], minlength=len(self.classes_))
        self.class_counts_ = dict(zip(self.classes_.tolist(), counts.tolist(), strict=True))
        class_weight = self._class_weights(y_enc[train_idx])

        tf = import_tf(self.verbose)
        strategy = resolve_strategy(self.distribute)  # before any TF op (multi-worker)

        source, architecture = trunk_source(self.get_params(deep=False), LesionClassifier)
        pretrained = source is not None or self.backbone_weights is not None
        warmup = self._check_fine_tune(pretrained=pretrained)
        deterministic = self.random_state is not None
        with (
            op_determinism(deterministic),
            quiet_tf_logger(self.verbose),
            fit_context(self.precision, strategy),
        ):
            model = self._initialize_network(source, architecture, seed)
            del source
            train, validation = self._initialize_datasets(X, y_enc, train_idx, val_idx, size, seed)
            with multi_worker_errors(strategy), keras_multi_worker_fit(model, strategy):
                history = self._train(model, train, validation, class_weight, callbacks, warmup)
        del tf
        if is_multi_worker(strategy):
            # A network of a multi-worker fit predicts with all workers (collective
            # operations): a worker that predicts alone waits for the others, or fails
            # once they are gone. Its copy outside the strategy predicts on its own.
            model = _model_from_bytes(_model_to_bytes(model))
        self.model_ = model
        self._record_history(history, warmup)
        self.fit_time_ = time.perf_counter() - start
        return self

    # ---------------------------------------------------------- estimator
    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = False
        tags.input_tags.positive_only = True  # pixel values: negative ones are an error
        tags.non_deterministic = self.random_state is None
        return tags


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
    return read_model(path, LesionClassifier)
