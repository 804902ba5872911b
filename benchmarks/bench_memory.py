"""Peak resident memory while training from a list of 10 000 image paths.

The list repeats the HAM10000 image paths (7001 files) up to ``--n-images``;
the classifier streams them from disk (decoded in parallel, batch by batch), so
memory should not grow with the number of images. Target: peak RSS < 2 GB.

The figure is the whole process's peak (``ru_maxrss``), TensorFlow included;
the RSS after importing TensorFlow and before fitting is printed beside it.

Run::

    python benchmarks/bench_memory.py                 # 10 000 paths, 1 epoch
    python benchmarks/bench_memory.py --smoke
"""

from __future__ import annotations

import numpy as np

try:
    from benchmarks import _common as common
except ImportError:  # run as a script
    import _common as common  # type: ignore[no-redef]

LIMIT_MB = 2000


def current_rss_mb() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")  # pragma: no cover


def main() -> None:
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--n-images", type=int, default=10_000)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--image-size", type=int, default=64)
    args = p.parse_args()
    import keras  # noqa: F401

    from skinlesion import LesionClassifier

    root = common.setup(args)
    if args.smoke:
        args.n_images, args.image_size = 40, 16
    paths, labels, _ = common.load_ham10000(root)
    reps = int(np.ceil(args.n_images / len(paths)))
    paths = np.tile(paths, reps)[: args.n_images]
    labels = np.tile(labels, reps)[: args.n_images]
    print(
        f"work: {len(paths)} paths ({len(set(paths))} distinct HAM10000 files), "
        f"{args.image_size} px, {args.epochs} epoch(s), default network, augmentation on"
    )
    clf = LesionClassifier(
        image_size=args.image_size,
        epochs=args.epochs,
        random_state=args.seed,
        **({"filters": (4, 8)} if args.smoke else {}),
    )
    common.figure("RSS before fit", current_rss_mb(), "MB")
    common.figure("peak RSS before fit", common.peak_rss_mb(), "MB")
    with common.timed("fit"):
        clf.fit(paths, labels)
    peak = common.peak_rss_mb()
    common.figure("peak RSS during fit", peak, "MB")
    common.figure("in-memory array would take", len(paths) * args.image_size**2 * 3 / 1e6, "MB")
    common.figure(f"peak RSS under {LIMIT_MB} MB", str(peak < LIMIT_MB))


if __name__ == "__main__":
    main()
