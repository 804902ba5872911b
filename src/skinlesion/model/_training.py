"""The steps of ``LesionClassifier.fit``, in the manner of skorch's ``initialize_*``.

:class:`TrainingMixin` holds what ``fit`` runs, in order: the checks of ``X``,
``y`` and the architecture parameters, the validation split and class weights,
building the network (:meth:`~TrainingMixin._initialize_network`), its
``tf.data`` inputs (:meth:`~TrainingMixin._initialize_datasets`), the Keras
callbacks (:meth:`~TrainingMixin._initialize_callbacks`) and the training loop
(:meth:`~TrainingMixin._train`, with the head-only warmup). ``fit`` itself, in
:mod:`skinlesion.model._classifier`, only orchestrates them.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from numbers import Integral
from typing import Any

import numpy as np
from sklearn.exceptions import DataConversionWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets

from skinlesion._labels import check_label_values
from skinlesion.images import (
    ImageReadError,
    as_size,
    check_images,
    find_unreadable_images,
    is_path_array,
)
from skinlesion.model._hardware import check_jit_compile

__all__ = ["TrainingMixin"]

#: After ``warmup_epochs``, the whole network trains at ``learning_rate`` times this.
_UNFREEZE_RATE_FACTOR = 0.1


class TrainingMixin:
    """The steps of :meth:`LesionClassifier.fit <skinlesion.LesionClassifier.fit>`."""

    def _initialize_network(self, source: Any, architecture: dict[str, Any], seed: int) -> Any:
        """Build the network for this fit; copy the trunk of ``source`` into it if given."""
        from skinlesion.model._network import build_cnn
        from skinlesion.model._trunk import copy_trunk

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
        return model

    def _initialize_datasets(
        self,
        X: Any,
        y_enc: np.ndarray,
        train_idx: np.ndarray,
        val_idx: np.ndarray,
        size: tuple[int, int],
        seed: int,
    ) -> tuple[Any, Any]:
        """The ``tf.data`` training input (shuffled, seeded) and validation input (or None)."""
        from skinlesion.model._tfdata import make_dataset

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
        return train, validation

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

        from skinlesion.model._tfdata import reraise_image_errors
        from skinlesion.model._transfer import phase_callbacks
        from skinlesion.model._trunk import set_trunk_trainable

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
        all_callbacks = self._initialize_callbacks(user_callbacks, monitor, rate, warmup)
        after = run(rate, (warmup, self.epochs), all_callbacks)
        set_trunk_trainable(model, True)  # model_ is a plain network again (freezing is fit's)
        return {k: history.get(k, []) + after.get(k, []) for k in {**history, **after}}

    def _record_history(self, history: dict[str, list[float]], warmup: int) -> None:
        """Set ``history_``, ``n_epochs_`` and ``best_epoch_`` from the fit's history."""
        self.history_ = history
        self.n_epochs_ = len(history.get("loss", []))
        monitor = "val_loss" if "val_loss" in history else "loss"
        # early stopping watches the epochs after the warmup and keeps the best of those
        self.best_epoch_ = (
            warmup + int(np.argmin(history[monitor][warmup:])) + 1
            if self.early_stopping and history.get(monitor)
            else self.n_epochs_
        )

    def _initialize_callbacks(
        self, user_callbacks: list[Any], monitor: str, rate: float, warmup: int
    ) -> list[Any]:
        """The user's callbacks, then the learning-rate schedule and early stopping."""
        import keras

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
        return all_callbacks

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

    def _encode_labels(self, y: np.ndarray) -> np.ndarray:
        """Set ``classes_`` (sorted) and return ``y`` as int32 codes into it."""
        encoder = LabelEncoder()
        y_enc = encoder.fit_transform(y).astype(np.int32)
        self.classes_ = encoder.classes_
        if len(self.classes_) < 2:
            raise ValueError(
                f"y holds one class only ({self.classes_.tolist()[0]!r}); a classifier needs at "
                "least two classes. Check that labels were read from the right column or folders."
            )
        return y_enc

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
        from skinlesion.model._network import resolve_augmentation, resolve_convs_per_block

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


def _cosine_schedule(learning_rate: float, epochs: int, start: int = 0) -> Any:
    """Per-epoch half-cosine decay from ``learning_rate`` at epoch ``start`` (0-based)
    to 1 % of it ``epochs`` epochs later."""
    floor = 0.01 * learning_rate

    def schedule(epoch: int, lr: float | None = None) -> float:
        progress = (epoch - start) / max(1, epochs - 1)
        return float(floor + (learning_rate - floor) * 0.5 * (1.0 + np.cos(np.pi * progress)))

    return schedule
