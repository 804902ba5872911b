"""ISIC 2017 part 3: melanoma-vs-rest and seborrheic-keratosis-vs-rest ROC AUC.

Trains LesionClassifier on ``isic2017/train`` (2000 images, 3 classes) and scores
it on ``isic2017/val`` (150 images). Targets: melanoma AUC >= 0.85, seborrheic
keratosis AUC >= 0.90. The 150 validation images make these AUCs noisy (30
melanomas, 42 keratoses), so a bootstrap 95 % interval is printed with them.

Run::

    python benchmarks/bench_isic2017.py
    python benchmarks/bench_isic2017.py --config '{"image_size": 96}'
    python benchmarks/bench_isic2017.py --smoke
"""

from __future__ import annotations

import numpy as np

try:
    from benchmarks import _common as common
except ImportError:  # run as a script
    import _common as common  # type: ignore[no-redef]

TARGETS = {"melanoma": 0.85, "seborrheic_keratosis": 0.90}


def bootstrap_auc(
    y: np.ndarray, score: np.ndarray, seed: int, n: int = 1000
) -> tuple[float, float]:
    """95 % percentile interval of the ROC AUC over bootstrap resamples."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n):
        idx = rng.integers(0, len(y), len(y))
        if 0 < y[idx].sum() < len(idx):
            values.append(roc_auc_score(y[idx], score[idx]))
    return float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))


def main() -> None:
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument(
        "--config", action="append", help="JSON dict of LesionClassifier parameters (repeatable)"
    )
    args = p.parse_args()
    import keras  # noqa: F401
    from sklearn.metrics import roc_auc_score

    from skinlesion.images import read_images

    root = common.setup(args)
    train_paths, y_train = common.load_isic2017(root, "train")
    val_paths, y_val = common.load_isic2017(root, "val")
    print(f"train: {common.class_counts(y_train)}")
    print(f"val: {common.class_counts(y_val)}")
    for i, config in enumerate(common.parse_configs(args.config)):
        size = 16 if args.smoke else config.get("image_size", 64)
        X_train = read_images(train_paths, size=size)
        X_val = read_images(val_paths, size=size)
        name = f"config{i}"
        res = common.fit_and_score(
            name, config, X_train, y_train, X_val, y_val, seed=args.seed, smoke=args.smoke
        )
        classes = list(res["classes"])
        for cls, target in TARGETS.items():
            positive = (y_val == cls).astype(int)
            score = res["proba"][:, classes.index(cls)]
            auc = roc_auc_score(positive, score)
            low, high = bootstrap_auc(positive, score, args.seed, n=50 if args.smoke else 1000)
            common.figure(f"{name} {cls}-vs-rest ROC AUC", float(auc))
            common.figure(
                f"{name} {cls}-vs-rest ROC AUC 95% interval",
                f"{low:.3f} - {high:.3f} (target {target})",
            )


if __name__ == "__main__":
    main()
