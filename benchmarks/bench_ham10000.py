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
    python benchmarks/bench_ham10000.py --smoke
"""

from __future__ import annotations

try:
    from benchmarks import _common as common
except ImportError:  # run as a script
    import _common as common  # type: ignore[no-redef]

TARGETS = {"accuracy": 0.78, "macro_roc_auc": 0.93, "balanced_accuracy": 0.60}
TIME_LIMIT_S = 30 * 60


def main() -> None:
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--config", action="append",
                   help="JSON dict of LesionClassifier parameters (repeatable)")
    p.add_argument("--paths", action="store_true",
                   help="fit from file paths (streaming) instead of an in-memory array")
    args = p.parse_args()
    import keras  # noqa: F401

    from skinlesion.images import read_images

    root = common.setup(args)
    paths, labels, groups = common.load_ham10000(root)
    train, test = common.grouped_split(labels, groups, test_size=0.2, seed=args.seed)
    print(f"split by lesion_id: {len(train)} training / {len(test)} test images "
          f"({len(set(groups[train]))} / {len(set(groups[test]))} lesions); seed {args.seed}")
    print(f"test classes: {common.class_counts(labels[test])}")
    for i, config in enumerate(common.parse_configs(args.config)):
        size = 16 if args.smoke else config.get("image_size", 64)
        if args.paths:
            X_train, X_test = paths[train], paths[test]
        else:
            X_train = read_images(paths[train], size=size)
            X_test = read_images(paths[test], size=size)
        name = f"config{i}"
        res = common.fit_and_score(name, config, X_train, labels[train], X_test, labels[test],
                                   seed=args.seed, smoke=args.smoke, groups=groups[train])
        met = [k for k, v in TARGETS.items() if res.get(k, 0) >= v]
        met += ["time"] if res["fit_s"] < TIME_LIMIT_S else []
        common.figure(f"{name} targets met", f"{len(met)} of {len(TARGETS) + 1} ({', '.join(met)})")


if __name__ == "__main__":
    main()
