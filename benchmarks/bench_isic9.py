"""9-class ISIC: LesionClassifier against the notebook replica, side by side.

Both train on the same split of ``isic9/Train`` (stratified 80/20, grouped by
file content so that the 137 byte-identical images filed under two classes never
straddle it) and are scored on the same held-out 20 %. The target: balanced
accuracy at least 0.15 above the replica's, in no more training time. A config
with ``"drop_conflicts": true`` trains without the training images filed under
two classes (the copies ``skinlesion.datasets.audit`` reports as conflicts).
Every contender is also scored on the "clean" test images, those whose byte copy
is not filed under another class: each conflicting test pair can be right only
once, so the clean figures show what a test set without such pairs would score.

Run::

    python benchmarks/bench_isic9.py                       # replica + defaults
    python benchmarks/bench_isic9.py --no-replica \\
        --config '{"image_size": 96}' --config '{"class_weight": "balanced"}'
    python benchmarks/bench_isic9.py --smoke
"""

from __future__ import annotations

import warnings

import numpy as np

try:
    from benchmarks import _common as common
    from benchmarks.replica_notebook import run_replica
except ImportError:  # run as a script
    import _common as common  # type: ignore[no-redef]
    from replica_notebook import run_replica  # type: ignore[no-redef]


def print_clean(prefix: str, clean: np.ndarray, y_test, proba, classes) -> None:
    """Scores and recalls on the test images outside conflicting pairs (mask ``clean``).

    Predictions stay the argmax over all classes; a class with no clean test image
    (seborrheic keratosis on isic9) drops out of balanced accuracy and macro AUC.
    """
    y, p = y_test[clean], proba[clean]
    with warnings.catch_warnings():  # predictions of a class absent from y
        warnings.simplefilter("ignore", UserWarning)
        common.print_scores(f"{prefix} clean test", common.scores(y, p, classes))
    common.print_recalls(f"{prefix} clean test", y, p, classes)


def main() -> None:
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument(
        "--config",
        action="append",
        help="JSON dict of LesionClassifier parameters (repeatable); "
        '"pipeline": true adds make_pipeline\'s samplers, "tta": n '
        'averages n flipped views, "drop_conflicts": true trains without the '
        "images filed under two classes; default: the library defaults",
    )
    p.add_argument("--no-replica", action="store_true", help="skip the replica")
    p.add_argument("--replica-epochs", type=int, default=20)
    args = p.parse_args()
    import keras  # noqa: F401

    from skinlesion.images import read_images

    root = common.setup(args)
    paths, labels, groups = common.load_isic9(root)
    train, test = common.grouped_split(labels, groups, test_size=0.2, seed=args.seed)
    print(
        f"split: {len(train)} training / {len(test)} test images, stratified, grouped by "
        f"file content; seed {args.seed}"
    )
    print(f"test classes: {common.class_counts(labels[test])}")
    clean = np.isin(test, common.without_conflicts(test, labels, groups))
    print(
        f"clean test: the {clean.sum()} test images whose copy is not filed under "
        f"another class: {common.class_counts(labels[test][clean])}"
    )

    replica = None
    if not args.no_replica:
        size, epochs, per_class = (24, 1, 10) if args.smoke else (180, args.replica_epochs, 500)
        out = run_replica(
            read_images(paths[train], size=size),
            labels[train],
            read_images(paths[test], size=size),
            image_size=size,
            epochs=epochs,
            per_class=per_class,
            seed=args.seed,
            verbose=0 if args.smoke else 2,
            y_test=labels[test],
        )
        replica = {
            "train_s": out["augment_s"] + out["fit_s"],
            **common.scores(labels[test], out["proba"], out["classes"]),
        }
        print(
            f"replica: {size} px, {epochs} epochs, {out['n_train']} training images "
            f"(originals + {per_class}/class Augmentor copies of training images only)"
        )
        common.figure("replica train time (augment + fit)", replica["train_s"], "s")
        common.print_scores("replica test", {k: v for k, v in replica.items() if k != "train_s"})
        common.print_recalls("replica test", labels[test], out["proba"], out["classes"])
        print_clean("replica", clean, labels[test], out["proba"], out["classes"])

    for i, config in enumerate(common.parse_configs(args.config)):
        name = f"config{i}"
        fit_rows = train
        if config.pop("drop_conflicts", False):
            fit_rows = common.without_conflicts(train, labels, groups)
            print(
                f"{name}: trains without the {len(train) - len(fit_rows)} training images "
                "whose byte copy is filed under another class (audit's conflicts); "
                "the test images are unchanged"
            )
            print(f"{name} training classes: {common.class_counts(labels[fit_rows])}")
        size = 16 if args.smoke else config.get("image_size", 64)
        X_train = read_images(paths[fit_rows], size=size)
        X_test = read_images(paths[test], size=size)
        res = common.fit_and_score(
            name,
            config,
            X_train,
            labels[fit_rows],
            X_test,
            labels[test],
            seed=args.seed,
            smoke=args.smoke,
        )
        print_clean(name, clean, labels[test], res["proba"], res["classes"])
        if replica is not None:
            common.figure(
                f"{name} balanced accuracy minus replica's",
                res["balanced_accuracy"] - replica["balanced_accuracy"],
            )
            common.figure(
                f"{name} fit time / replica train time", res["fit_s"] / replica["train_s"]
            )


if __name__ == "__main__":
    main()
