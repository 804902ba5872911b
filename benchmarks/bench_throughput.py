"""Throughput: LesionClassifier.fit / predict_proba against plain Keras on the same work.

Measured side by side in one run, alternating the contenders and keeping each
one's best of ``--repeats`` (the machine is shared, so the best run is the one
least disturbed by others). Each fit ratio is printed twice:

* **end to end**: images x epochs over the whole call (building, compiling,
  tracing the training step in the first epoch, and the input pipeline);
* **steady state**: images over the fastest epoch after the first, timed by a
  Keras callback. On a shared machine single epochs of either contender
  sometimes take twice as long because a neighbour takes a core; the fastest
  epoch is the one least disturbed, for both contenders alike. The first
  epoch carries the one-off tracing (several seconds), which dominates short
  end-to-end runs.

The contenders are:

1. ``fit`` on an in-memory uint8 array vs ``keras.Model.fit`` on the same array,
   same network (``build_cnn`` with the classifier's parameters), same epochs,
   same batch size, no validation split (target >= 0.95x).
2. ``fit`` streaming from JPEG paths with augmentation on vs plain
   ``keras.Model.fit`` on the decoded in-memory array with the same augmentation
   layers (target >= 0.9x).
3. ``predict_proba`` vs ``model.predict`` on the same array (target >= 1.0x).

It also prints the network's FLOPs per image (multiply-adds x 2, counted from
the layer shapes), the training FLOP rate (forward + backward ~ 3x forward) and
its fraction of the machine's peak: the theoretical fp32 peak (cores x clock x
32 FLOP/cycle for AVX2 with two FMA units, 64 where the CPU has AVX-512) and a
measured float32 matmul rate.

Run::

    python benchmarks/bench_throughput.py
    python benchmarks/bench_throughput.py --smoke
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from skinlesion.network import flops_per_image

try:
    from benchmarks import _common as common
except ImportError:  # run as a script
    import _common as common  # type: ignore[no-redef]


def peak_gflops() -> tuple[float, float]:
    """(theoretical fp32 peak, measured float32 matmul rate) in GFLOP/s."""
    mhz, flops_per_cycle = 0.0, 32  # AVX2: two 8-wide FMA units
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("cpu MHz"):
                mhz = max(mhz, float(line.split(":")[1]))
            elif line.startswith("flags") and " avx512f " in f"{line} ":
                flops_per_cycle = 64  # AVX-512: two 16-wide FMA units (server parts)
    except OSError:  # pragma: no cover
        pass
    theoretical = (os.cpu_count() or 1) * mhz / 1000 * flops_per_cycle
    import tensorflow as tf

    a = tf.random.normal((1024, 1024))
    tf.matmul(a, a).numpy()
    best = np.inf
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(4):
            out = tf.matmul(a, a)
        out.numpy()
        best = min(best, time.perf_counter() - start)
    measured = 4 * 2 * 1024**3 / best / 1e9
    return theoretical, measured


def epoch_timer():
    """A Keras callback keeping the wall time of every epoch in ``.seconds``."""
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.seconds: list[float] = []

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self.start)

    return EpochTimer()


def plain_fit(X, y_enc, n_classes, params, *, epochs, batch_size, seed):
    """(total s, epoch s) of build + compile + ``keras.Model.fit`` on in-memory arrays."""
    import keras

    from skinlesion import build_cnn

    timer = epoch_timer()
    start = time.perf_counter()
    model = build_cnn(X.shape[1:], n_classes, seed=seed, **params)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(
        X, y_enc, batch_size=batch_size, epochs=epochs, shuffle=True, verbose=0, callbacks=[timer]
    )
    return time.perf_counter() - start, timer.seconds


def ours_fit(X, y, params, *, epochs, batch_size, seed, size):
    """(total s, epoch s, fitted classifier) of ``LesionClassifier.fit``."""
    from skinlesion import LesionClassifier

    clf = LesionClassifier(
        image_size=size,
        epochs=epochs,
        batch_size=batch_size,
        validation_fraction=0.0,
        early_stopping=False,
        random_state=seed,
        **params,
    )
    timer = epoch_timer()
    start = time.perf_counter()
    clf.fit(X, y, callbacks=[timer])
    return time.perf_counter() - start, timer.seconds, clf


def main() -> None:
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--n-images", type=int, default=1024)
    p.add_argument("--image-size", type=int, default=64)
    p.add_argument(
        "--epochs",
        type=int,
        default=3,
        help="epochs per fit, at least 2 (the first carries the tracing)",
    )
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    import keras  # noqa: F401

    from skinlesion.images import read_images

    root = common.setup(args)
    if args.smoke:
        args.n_images, args.image_size, args.epochs, args.repeats = 16, 16, 2, 1
    if args.epochs < 2:
        p.error("--epochs must be at least 2: the steady-state rate leaves out the first epoch")
    paths, labels, _ = common.load_isic9(root)
    rng = np.random.default_rng(args.seed)
    pick = rng.choice(len(paths), size=min(args.n_images, len(paths)), replace=False)
    paths, labels = paths[pick], labels[pick]
    size, n, bs = args.image_size, len(paths), 32
    X = read_images(paths, size=size)
    classes = np.unique(labels)
    y_enc = np.searchsorted(classes, labels).astype(np.int32)
    base = {"augment": False}
    aug = {"augment": True}
    print(
        f"work: {n} isic9 images at {size} px, {args.epochs} epochs, batch {bs}, "
        f"default network; best of {args.repeats} alternating runs"
    )

    runs: dict[str, list[tuple[float, list[float]]]] = {
        k: [] for k in ("plain", "ours", "plain_aug", "paths_aug")
    }
    clf = None
    for _ in range(args.repeats):
        runs["plain"].append(
            plain_fit(
                X, y_enc, len(classes), base, epochs=args.epochs, batch_size=bs, seed=args.seed
            )
        )
        *run, clf = ours_fit(
            X, labels, base, epochs=args.epochs, batch_size=bs, seed=args.seed, size=size
        )
        runs["ours"].append(tuple(run))
        runs["plain_aug"].append(
            plain_fit(
                X, y_enc, len(classes), aug, epochs=args.epochs, batch_size=bs, seed=args.seed
            )
        )
        runs["paths_aug"].append(
            tuple(
                ours_fit(
                    paths, labels, aug, epochs=args.epochs, batch_size=bs, seed=args.seed, size=size
                )[:2]
            )
        )
    # end to end: the fastest whole call; steady state: the fastest epoch after the first
    total = {k: n * args.epochs / min(t for t, _ in v) for k, v in runs.items()}
    steady = {k: n / min(min(e[1:]) for _, e in v) for k, v in runs.items()}
    labels_of = {
        "plain": "plain keras fit (array)",
        "ours": "LesionClassifier.fit (array)",
        "plain_aug": "plain keras fit (array, augmentation layers)",
        "paths_aug": "LesionClassifier.fit (paths, augmentation)",
    }
    for key, label in labels_of.items():
        common.figure(f"{label}, end to end", total[key], "images/s")
        common.figure(f"{label}, steady state", steady[key], "images/s")
    for rates, how in ((total, "end to end"), (steady, "steady state")):
        common.figure(f"fit ratio, array, {how} (target >= 0.95)", rates["ours"] / rates["plain"])
        common.figure(
            f"fit ratio, paths + augmentation, {how} (target >= 0.9)",
            rates["paths_aug"] / rates["plain_aug"],
        )
    ips = steady

    model = clf.model_
    pred: dict[str, list[float]] = {"plain": [], "ours": []}
    model.predict(X[:bs], verbose=0)
    clf.predict_proba(X[:bs])
    for _ in range(max(5, args.repeats)):
        start = time.perf_counter()
        model.predict(X, batch_size=bs, verbose=0)
        pred["plain"].append(time.perf_counter() - start)
        start = time.perf_counter()
        clf.predict_proba(X)
        pred["ours"].append(time.perf_counter() - start)
    pips = {k: n / min(v) for k, v in pred.items()}
    common.figure("plain model.predict", pips["plain"], "images/s")
    common.figure("LesionClassifier.predict_proba", pips["ours"], "images/s")
    common.figure("predict ratio (target >= 1.0)", pips["ours"] / pips["plain"])

    flops = flops_per_image(model)
    train_gflops = 3 * flops * ips["ours"] / 1e9
    theoretical, measured = peak_gflops()
    common.figure("forward FLOPs per image", f"{flops / 1e6:.1f} MFLOP")
    common.figure("training rate", train_gflops, "GFLOP/s")
    common.figure("peak fp32, theoretical", theoretical, "GFLOP/s")
    common.figure("peak fp32, measured 1024^2 matmul", measured, "GFLOP/s")
    if theoretical:
        common.figure("fraction of theoretical peak", train_gflops / theoretical)
    common.figure("fraction of measured matmul peak", train_gflops / measured)


if __name__ == "__main__":
    main()
