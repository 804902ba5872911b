"""Replica of the popular "melanoma detection" notebook recipe, without its leak.

The recipe: 180x180 images, batch 32; ``Rescaling(1/255)`` -> Conv 16/32/64 (3x3,
ReLU, same padding) each followed by 2x2 max pooling -> Dropout 0.2 -> Flatten ->
Dense 128 (ReLU) -> Dense(n classes); Adam 1e-3, sparse categorical cross-entropy
on logits; Augmentor ``rotate(probability=0.7, max_left_rotation=10,
max_right_rotation=10)`` and ``sample(500)`` per class; 20 epochs.

The notebooks ran Augmentor over the whole ``Train`` folder before splitting off
their validation images, so rotated copies of validation images were trained on.
Here Augmentor samples from the TRAINING split only, and the held-out split is
never seen in training.

Run::

    python benchmarks/replica_notebook.py            # isic9, grouped 80/20 split
    python benchmarks/replica_notebook.py --smoke    # tiny synthetic run
"""

from __future__ import annotations

import random
import time
from typing import Any

import numpy as np

try:
    from benchmarks import _common as common
except ImportError:  # run as a script: benchmarks/ is on sys.path
    import _common as common  # type: ignore[no-redef]


def augmentor_sample(
    X: np.ndarray, y: np.ndarray, per_class: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """The notebooks' Augmentor step: per class, ``rotate(0.7, 10, 10)`` then ``sample``.

    Only the images given (the training split) are sampled from. Returns the
    ``per_class * n_classes`` new images and their labels (the originals are kept
    by the caller, as the notebooks' ``output/`` folders sat beside them).
    """
    import Augmentor

    random.seed(seed)  # Augmentor draws from the global ``random`` module
    np.random.seed(seed)  # noqa: NPY002  (and some operations from NumPy's legacy one)
    new_X, new_y = [], []
    for label in np.unique(y):
        members = X[y == label]
        pipeline = Augmentor.DataPipeline([[image] for image in members], [label] * len(members))
        pipeline.rotate(probability=0.7, max_left_rotation=10, max_right_rotation=10)
        images, labels = pipeline.sample(per_class)
        new_X.extend(np.asarray(im[0], dtype=np.uint8) for im in images)
        new_y.extend(labels)
    return np.stack(new_X), np.array(new_y, dtype=object)


def build_replica(image_size: int, n_classes: int, seed: int) -> Any:
    """The notebooks' network (uncompiled), outputs logits."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((image_size, image_size, 3)),
            layers.Rescaling(1.0 / 255),
            layers.Conv2D(16, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(32, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(64, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(),
            layers.Dropout(0.2),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dense(n_classes),
        ],
        name="notebook_replica",
    )


def run_replica(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_test: np.ndarray,
    *,
    image_size: int = 180,
    epochs: int = 20,
    per_class: int = 500,
    batch_size: int = 32,
    seed: int = 0,
    verbose: int = 0,
    y_test: np.ndarray | None = None,
) -> dict[str, Any]:
    """Augment the training split, train the replica, return test probabilities.

    ``X_train``/``X_test`` are uint8 arrays already at ``image_size``.
    """
    import keras
    import tensorflow as tf

    start = time.perf_counter()
    X_aug, y_aug = augmentor_sample(X_train, y_train, per_class, seed)
    augment_s = time.perf_counter() - start
    X_all = np.concatenate([X_train, X_aug])
    y_all = np.concatenate([y_train, y_aug])
    classes = np.unique(y_all)
    y_enc = np.searchsorted(classes, y_all).astype(np.int32)

    model = build_replica(image_size, len(classes), seed)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    data = (
        tf.data.Dataset.from_tensor_slices((X_all, y_enc))
        .shuffle(len(X_all), seed=seed)
        .batch(batch_size)
        .prefetch(tf.data.AUTOTUNE)
    )
    callbacks = []
    if y_test is not None:  # report held-out scores per epoch (nothing is selected on them)
        callbacks.append(
            common.test_score_callback("replica", X_test, y_test, classes, logits=True)
        )
    start = time.perf_counter()
    history = model.fit(data, epochs=epochs, verbose=verbose, shuffle=False, callbacks=callbacks)
    fit_s = time.perf_counter() - start
    if callbacks:
        fit_s -= callbacks[0].own
    logits = model.predict(X_test, batch_size=batch_size, verbose=0)
    proba = tf.nn.softmax(logits).numpy().astype(np.float64)
    return {
        "proba": proba,
        "classes": classes,
        "augment_s": augment_s,
        "fit_s": fit_s,
        "n_train": len(X_all),
        "history": history.history,
        "model": model,
    }


def main() -> None:
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--image-size", type=int, default=180)
    p.add_argument("--per-class", type=int, default=500, help="Augmentor sample() per class")
    args = p.parse_args()
    import keras  # noqa: F401  (so the header lists TensorFlow/Keras versions)

    from skinlesion.images import read_images

    root = common.setup(args)
    if args.smoke:
        args.epochs, args.image_size, args.per_class = 1, 24, 10
    paths, labels, groups = common.load_isic9(root)
    train, test = common.grouped_split(labels, groups, test_size=0.2, seed=args.seed)
    print(
        f"split: {len(train)} training / {len(test)} test images, grouped by file content "
        f"(identical files never straddle it), stratified; seed {args.seed}"
    )
    X_train = read_images(paths[train], size=args.image_size)
    X_test = read_images(paths[test], size=args.image_size)
    out = run_replica(
        X_train,
        labels[train],
        X_test,
        image_size=args.image_size,
        epochs=args.epochs,
        per_class=args.per_class,
        seed=args.seed,
        verbose=2,
        y_test=labels[test],
    )
    print(
        f"replica: {args.image_size} px, {args.epochs} epochs, {out['n_train']} training "
        f"images ({len(train)} originals + {args.per_class}/class Augmentor copies)"
    )
    common.figure("replica augment time", out["augment_s"], "s")
    common.figure("replica fit time", out["fit_s"], "s")
    common.print_scores("replica test", common.scores(labels[test], out["proba"], out["classes"]))


if __name__ == "__main__":
    main()
