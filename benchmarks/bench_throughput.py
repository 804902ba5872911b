"""Throughput: LesionClassifier.fit / predict_proba against plain Keras on the same work.

Measured side by side in one run, alternating the contenders and keeping each
one's best of ``--repeats`` (the machine is shared, so the best run is the one
least disturbed by others):

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
32 FLOP/cycle for AVX2 with two FMA units) and a measured float32 matmul rate.

Run::

    python benchmarks/bench_throughput.py
    python benchmarks/bench_throughput.py --smoke
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

try:
    from benchmarks import _common as common
except ImportError:  # run as a script
    import _common as common  # type: ignore[no-redef]


def flops_per_image(model) -> int:
    """Forward FLOPs (2 x multiply-adds) of the convolution and dense layers."""
    from keras import layers

    total = 0
    for layer in model.layers:
        if isinstance(layer, layers.Conv2D):
            _, h, w, c_out = layer.output.shape
            kh, kw = layer.kernel_size
            c_in = layer.input.shape[-1]
            total += 2 * h * w * kh * kw * c_in * c_out
        elif isinstance(layer, layers.Dense):
            total += 2 * layer.input.shape[-1] * layer.units
    return int(total)


def peak_gflops() -> tuple[float, float]:
    """(theoretical fp32 peak, measured float32 matmul rate) in GFLOP/s."""
    mhz = 0.0
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("cpu MHz"):
                mhz = max(mhz, float(line.split(":")[1]))
    except OSError:  # pragma: no cover
        pass
    theoretical = (os.cpu_count() or 1) * mhz / 1000 * 32
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


def plain_fit(X, y_enc, n_classes, params, *, epochs, batch_size, seed) -> float:
    """Seconds for build + compile + ``keras.Model.fit`` on in-memory arrays."""
    import keras

    from skinlesion import build_cnn

    start = time.perf_counter()
    model = build_cnn(X.shape[1:], n_classes, seed=seed, **params)
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(X, y_enc, batch_size=batch_size, epochs=epochs, shuffle=True, verbose=0)
    return time.perf_counter() - start


def ours_fit(X, y, params, *, epochs, batch_size, seed, size):
    from skinlesion import LesionClassifier

    clf = LesionClassifier(image_size=size, epochs=epochs, batch_size=batch_size,
                           validation_fraction=0.0, early_stopping=False, random_state=seed,
                           **params)
    start = time.perf_counter()
    clf.fit(X, y)
    return time.perf_counter() - start, clf


def main() -> None:
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--n-images", type=int, default=1024)
    p.add_argument("--image-size", type=int, default=64)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--repeats", type=int, default=2)
    args = p.parse_args()
    import keras  # noqa: F401

    from skinlesion.images import read_images

    root = common.setup(args)
    if args.smoke:
        args.n_images, args.image_size, args.epochs, args.repeats = 16, 16, 1, 1
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
    print(f"work: {n} isic9 images at {size} px, {args.epochs} epochs, batch {bs}, "
          f"default network; best of {args.repeats} alternating runs")

    times: dict[str, list[float]] = {k: [] for k in ("plain", "ours", "plain_aug", "paths_aug")}
    clf = None
    for _ in range(args.repeats):
        times["plain"].append(plain_fit(X, y_enc, len(classes), base, epochs=args.epochs,
                                        batch_size=bs, seed=args.seed))
        t, clf = ours_fit(X, labels, base, epochs=args.epochs, batch_size=bs, seed=args.seed,
                          size=size)
        times["ours"].append(t)
        times["plain_aug"].append(plain_fit(X, y_enc, len(classes), aug, epochs=args.epochs,
                                            batch_size=bs, seed=args.seed))
        times["paths_aug"].append(ours_fit(paths, labels, aug, epochs=args.epochs,
                                           batch_size=bs, seed=args.seed, size=size)[0])
    ips = {k: n * args.epochs / min(v) for k, v in times.items()}
    common.figure("plain keras fit (array)", ips["plain"], "images/s")
    common.figure("LesionClassifier.fit (array)", ips["ours"], "images/s")
    common.figure("fit ratio, array (target >= 0.95)", ips["ours"] / ips["plain"])
    common.figure("plain keras fit (array, augmentation layers)", ips["plain_aug"], "images/s")
    common.figure("LesionClassifier.fit (paths, augmentation)", ips["paths_aug"], "images/s")
    common.figure("fit ratio, paths + augmentation (target >= 0.9)",
                  ips["paths_aug"] / ips["plain_aug"])

    model = clf.model_
    pred: dict[str, list[float]] = {"plain": [], "ours": []}
    model.predict(X[:bs], verbose=0)
    clf.predict_proba(X[:bs])
    for _ in range(max(3, args.repeats)):
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
