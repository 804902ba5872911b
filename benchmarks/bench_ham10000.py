"""HAM10000: LesionClassifier on a split by lesion id.

The shared copy holds 7001 of the 10015 images. Several images show the same
lesion, so the split keeps each ``lesion_id`` on one side (one fold of a
stratified group 5-fold: ~80 % training, ~20 % test). Targets: accuracy >= 0.78,
macro ROC AUC >= 0.93, balanced accuracy >= 0.60, training under 30 minutes on
2 CPU cores. For scale, MedMNIST v2 (DermaMNIST, split by image, easier):
ResNet-18 at 28 px 0.735 / AUC 0.917; Google AutoML Vision 0.768 / 0.914.

Run::

    python benchmarks/bench_ham10000.py
    python benchmarks/bench_ham10000.py --config '{"class_weight": "balanced"}'
    python benchmarks/bench_ham10000.py --cv 5    # every image tested once
    python benchmarks/bench_ham10000.py --cv 5 --folds 0,3    # two of those folds
    python benchmarks/bench_ham10000.py --smoke
"""

from __future__ import annotations

try:
    from benchmarks import _common as common
except ImportError:  # run as a script
    import _common as common  # type: ignore[no-redef]

TARGETS = {"accuracy": 0.78, "macro_roc_auc": 0.93, "balanced_accuracy": 0.60}
TIME_LIMIT_S = 30 * 60


def fold_numbers(text: str) -> list[int]:
    """``"0,3"`` -> ``[0, 3]`` (sorted, no repeats)."""
    return sorted({int(part) for part in text.split(",")})


def main() -> None:
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument(
        "--config", action="append", help="JSON dict of LesionClassifier parameters (repeatable)"
    )
    p.add_argument(
        "--paths",
        action="store_true",
        help="fit from file paths (streaming) instead of an in-memory array",
    )
    p.add_argument(
        "--cv",
        type=int,
        default=0,
        metavar="K",
        help="stratified group K-fold by lesion id: train and test every fold "
        "(fold 0 is the default single split) and print mean and sd",
    )
    p.add_argument(
        "--folds",
        type=fold_numbers,
        default=None,
        metavar="I,J,...",
        help="with --cv K: train and test only these folds (numbered from 0), for a "
        "paired comparison with a full --cv K run in fewer CPU-minutes",
    )
    args = p.parse_args()
    if args.folds is not None and not (args.cv >= 2 and all(0 <= k < args.cv for k in args.folds)):
        p.error(f"--folds needs --cv K and fold numbers from 0 to K - 1, got {args.folds}")
    import keras  # noqa: F401

    from skinlesion.images import read_images

    root = common.setup(args)
    paths, labels, groups = common.load_ham10000(root)
    n_splits = args.cv if args.cv >= 2 else 5
    folds = common.grouped_folds(labels, groups, n_splits=n_splits, seed=args.seed)
    selected = [0] if args.cv < 2 else args.folds or list(range(n_splits))  # 0: one 80/20 split
    for i, config in enumerate(common.parse_configs(args.config)):
        size = 16 if args.smoke else config.get("image_size", 64)
        images = None if args.paths else read_images(paths, size=size)
        results = []
        for k in selected:
            train, test = folds[k]
            print(
                f"fold {k} of {n_splits}, split by lesion_id: {len(train)} training / "
                f"{len(test)} test images ({len(set(groups[train]))} / "
                f"{len(set(groups[test]))} lesions); seed {args.seed}"
            )
            print(f"test classes: {common.class_counts(labels[test])}", flush=True)
            X = paths if images is None else images
            name = f"config{i}" if args.cv < 2 else f"config{i} fold{k}"
            res = common.fit_and_score(
                name,
                config,
                X[train],
                labels[train],
                X[test],
                labels[test],
                seed=args.seed,
                smoke=args.smoke,
                groups=groups[train],
            )
            results.append(res)
        name = f"config{i}"
        if args.cv >= 2:
            label = None if len(selected) == n_splits else f"folds {selected} of {n_splits}"
            res = common.print_cv_summary(name, results, label=label)
        met = [k for k, v in TARGETS.items() if res.get(k, 0) >= v]
        met += ["time"] if res["fit_s"] < TIME_LIMIT_S else []
        common.figure(
            f"{name} targets met{' (fold means)' if args.cv >= 2 else ''}",
            f"{len(met)} of {len(TARGETS) + 1} ({', '.join(met)})",
        )


if __name__ == "__main__":
    main()
