"""Transfer learning: pretrain on HAM10000, fine-tune on a small set, against from scratch.

Stage ``pretrain`` fits a :class:`~skinlesion.LesionClassifier` on the shared part of
HAM10000, less every image that one of the target sets (``isic9/Train``,
``isic2017``) also holds, and caches the fitted model (paid once, reused by every
later run). A grouped tenth of HAM10000 is held out to print how good the trunk is.

Stage ``finetune`` starts target fits from a cached trunk
(``LesionClassifier(init=...)``) and compares them, seed by seed, with
from-scratch fits of the same network. It is honest by construction:

1. *choose*: every candidate fine-tuning recipe (``RECIPES``) is fitted once on
   80 % of the target's training part and scored on the other 20 % (split
   stratified and grouped by file content); the best by the target's criterion
   is chosen. Test images play no part.
2. *score once*: the chosen recipe and the from-scratch recipe are each fitted on
   the whole training part with seeds 0, 1, 2, ... and scored once on the test
   part. Every figure of a row comes from one model.

Targets: ``isic2017`` (3 classes; train -> val; melanoma and seborrheic
keratosis AUC, specificity at 86.6 % melanoma sensitivity), ``isic9`` (9 classes;
``bench_isic9.py``'s split; balanced accuracy), ``melanoma`` (ISIC 2017 as
melanoma vs benign, 2 classes: the head changes shape).

Run::

    python benchmarks/bench_transfer.py pretrain --trunk default64
    python benchmarks/bench_transfer.py finetune --trunk default64 --target isic2017
    python benchmarks/bench_transfer.py finetune --trunk default64 --target isic9 --seeds 3
    python benchmarks/bench_transfer.py finetune --trunk default64 --target melanoma --smoke
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import numpy as np

try:
    from benchmarks import _common as common
except ImportError:  # run as a script
    import _common as common  # type: ignore[no-redef]

#: Trunks to pretrain: the LesionClassifier parameters that shape the network.
TRUNKS: dict[str, dict] = {
    # the library's default network at its default size
    "default64": {"image_size": 64},
    # twice the resolution for about 2.6x the default's FLOPs: a thin first block
    # and a fifth block (the twelfth session's isic9 recipe, at 128 px)
    "thin128": {
        "image_size": 128,
        "filters": (16, 32, 64, 128, 256),
        "convs_per_block": (1, 1, 1, 2, 2),
    },
}

#: How every trunk is pretrained: a fixed cosine budget, balanced class weights
#: (HAM10000 is two-thirds nevi; the targets score the rare classes).
PRETRAIN = {
    "class_weight": "balanced",
    "lr_schedule": "cosine",
    "early_stopping": False,
    "validation_fraction": 0.0,
    "epochs": 30,
}

CACHE = Path(os.environ.get("SKINLESION_BENCH_CACHE", Path.home() / ".cache" / "skinlesion-bench"))


def isic_ids(paths) -> set[str]:
    """ISIC ids (file stems such as ``ISIC_0024306``) of image paths."""
    return {Path(p).stem for p in paths}


def target_test_ids(root: Path, seed: int) -> dict[str, set[str]]:
    """ISIC ids of every image a target scores on, by target set.

    isic9: the test part of ``bench_isic9.py``'s split with this seed (stratified,
    grouped by file content); ISIC 2017: all of it (it shares no id with HAM10000,
    so this costs nothing and keeps every ISIC 2017 task clean).
    """
    paths, labels, groups = common.load_isic9(root)
    _, test = common.grouped_split(labels, groups, test_size=0.2, seed=seed)
    out = {"isic9 test split": isic_ids(paths[test]), "isic2017": set()}
    for part in ("train", "val"):
        part_paths, _ = common.load_isic2017(root, part)
        out["isic2017"] |= isic_ids(part_paths)
    return out


def pretraining_set(root: Path, seed: int):
    """HAM10000 paths, labels and lesion ids, less every image a target scores on.

    A lesion with any such image leaves entirely: its other images are other
    photographs of the same lesion. Returns the kept paths, labels, lesion ids and
    the number of images left out per reason.
    """
    paths, labels, groups = common.load_ham10000(root)
    stems = np.array([Path(p).stem for p in paths])
    dropped: dict[str, int] = {}
    keep = np.ones(len(paths), dtype=bool)
    for name, ids in target_test_ids(root, seed).items():
        held = np.isin(stems, list(ids))
        lesions = np.isin(groups, groups[held])
        dropped[f"{name} images"] = int(held.sum())
        dropped[f"{name} same-lesion images"] = int((lesions & ~held).sum())
        keep &= ~lesions
    return paths[keep], labels[keep], groups[keep], dropped


def cache_path(trunk: str, config: dict, paths) -> Path:
    key = json.dumps(
        {"trunk": config, "pretrain": PRETRAIN, "images": sorted(isic_ids(paths))},
        sort_keys=True,
        default=list,
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return CACHE / "transfer" / f"ham10000-{trunk}-{digest}.skl"


def pretrain(args, root: Path) -> Path:
    from skinlesion import LesionClassifier
    from skinlesion.images import read_images

    paths, labels, groups, dropped = pretraining_set(root, args.seed)
    for reason, count in dropped.items():
        common.figure(f"HAM10000 images left out: {reason}", count)
    common.figure("pretraining images", len(paths))
    config = {**TRUNKS[args.trunk], **PRETRAIN}
    if args.epochs:
        config["epochs"] = args.epochs
    if args.smoke:
        config.update(epochs=1, image_size=16, filters=(4, 8), convs_per_block=1)
    out = cache_path(args.trunk, config, paths)
    if args.smoke:
        import tempfile

        out = Path(tempfile.mkdtemp(prefix="skinlesion-bench-smoke-")) / out.name
    if out.is_file():
        print(f"cached: {out}")
        return out
    train, held = common.grouped_split(
        labels, groups, test_size=1 / 3 if args.smoke else 0.1, seed=args.seed
    )
    print(f"pretrain on: {common.class_counts(labels[train])}")
    size = config["image_size"]
    X = read_images(paths, size=size)
    clf = LesionClassifier(random_state=args.seed, verbose=0 if args.smoke else 1, **config)
    print(f"pretrain: LesionClassifier({common.describe(config)})", flush=True)
    start = time.perf_counter()
    clf.fit(X[train], labels[train])
    fit_s = time.perf_counter() - start
    common.figure(f"pretrain {args.trunk} fit time", fit_s, "s")
    proba = clf.predict_proba(X[held])
    values = common.scores(labels[held], proba, clf.classes_)
    common.print_scores(f"pretrain {args.trunk} held-out HAM10000", values)
    common.print_recalls(
        f"pretrain {args.trunk} held-out HAM10000", labels[held], proba, clf.classes_
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    clf.save(out)
    meta = {"trunk": args.trunk, "config": config, "fit_s": fit_s, "held_out": values}
    meta.update(n_images=len(train), left_out=dropped)
    out.with_suffix(".json").write_text(json.dumps(meta, indent=2, default=list))
    print(f"saved: {out}")
    return out


#: The from-scratch recipe on a target: a fixed cosine budget, balanced class weights.
SCRATCH = {
    "class_weight": "balanced",
    "lr_schedule": "cosine",
    "early_stopping": False,
    "validation_fraction": 0.0,
    "epochs": 30,
}

#: Candidate fine-tuning recipes; ``finetune`` chooses one on a validation split.
RECIPES: dict[str, dict] = {
    "all": {"fine_tune": "all", "epochs": 20},
    "all, lr 3e-4": {"fine_tune": "all", "learning_rate": 3e-4, "epochs": 20},
    "warm-up 3": {"fine_tune": "all", "warmup_epochs": 3, "epochs": 20},
    "head only": {"fine_tune": "head", "epochs": 20},
}
_FINETUNE_BASE = {key: SCRATCH[key] for key in ("class_weight", "lr_schedule", "early_stopping")}
_FINETUNE_BASE["validation_fraction"] = 0.0


def load_target(root: Path, target: str, seed: int):
    """Training paths, labels and content groups, then test paths and labels."""
    if target == "isic9":
        paths, labels, groups = common.load_isic9(root)
        train, test = common.grouped_split(labels, groups, test_size=0.2, seed=seed)
        return paths[train], labels[train], groups[train], paths[test], labels[test]
    train_paths, train_labels = common.load_isic2017(root, "train")
    test_paths, test_labels = common.load_isic2017(root, "val")
    if target == "melanoma":  # the same images as a 2-class task
        train_labels = np.where(train_labels == "melanoma", "melanoma", "benign").astype(object)
        test_labels = np.where(test_labels == "melanoma", "melanoma", "benign").astype(object)
    groups = common.file_hashes(train_paths)
    return train_paths, train_labels, groups, test_paths, test_labels


def target_figures(target: str, y, proba, classes) -> dict[str, float]:
    """Accuracy, balanced accuracy, macro AUC, and the target's own figures."""
    from sklearn.metrics import roc_auc_score

    from skinlesion.metrics import specificity_at_sensitivity

    out = common.scores(y, proba, classes)
    classes = list(classes)
    for name in ("melanoma", "seborrheic_keratosis"):
        if target != "isic9" and name in classes:
            out[f"{name} AUC"] = roc_auc_score(y == name, proba[:, classes.index(name)])
    if target != "isic9":
        out["specificity at 86.6% melanoma sensitivity"] = specificity_at_sensitivity(
            y, proba, 0.866, "melanoma", classes=np.asarray(classes)
        )
    return out


def criterion(target: str, values: dict[str, float]) -> float:
    """What a recipe is chosen by, on the validation split."""
    if target == "isic2017":
        return (values["melanoma AUC"] + values["seborrheic_keratosis AUC"]) / 2
    if target == "melanoma":
        return values["melanoma AUC"]
    return values["balanced_accuracy"]


def fit_scored(name: str, config: dict, X, y, X_test, y_test, target: str, seed: int, smoke: bool):
    """Fit ``LesionClassifier(**config)``, print its time and figures, return them."""
    from skinlesion import LesionClassifier

    clf = LesionClassifier(random_state=seed, verbose=0 if smoke else 1, **config)
    shown = {k: (Path(v).name if k == "init" else v) for k, v in config.items()}
    print(f"{name}: LesionClassifier({common.describe(shown)}, random_state={seed})", flush=True)
    start = time.perf_counter()
    clf.fit(X, y)
    fit_s = time.perf_counter() - start
    values = target_figures(target, y_test, clf.predict_proba(X_test), clf.classes_)
    common.figure(f"{name} fit time", fit_s, "s")
    common.print_scores(name, values)
    return {"fit_s": fit_s, **values}


def finetune(args, root: Path) -> None:
    from skinlesion.images import read_images

    trunk_config = dict(TRUNKS[args.trunk])
    if args.smoke:
        trunk_config.update(image_size=16, filters=(4, 8), convs_per_block=1)
    kinds = ("scratch", "fine-tuned") if args.only is None else (args.only,)
    trunk_path = None
    if "fine-tuned" in kinds:
        trunk_path = pretrain(args, root)  # the cached file, or a fresh (smoke) pretraining
        meta = json.loads(trunk_path.with_suffix(".json").read_text())
        common.figure("pretraining time (paid once, apart)", meta["fit_s"], "s")
        common.figure(
            "pretraining held-out HAM10000",
            ", ".join(f"{k} {v:.4f}" for k, v in meta["held_out"].items()),
        )
    train_p, train_y, groups, test_p, test_y = load_target(root, args.target, args.seed)
    print(f"{args.target} training part: {common.class_counts(train_y)}")
    print(f"{args.target} test part: {common.class_counts(test_y)}")
    size = trunk_config["image_size"]
    X, X_test = read_images(train_p, size=size), read_images(test_p, size=size)
    budget = {"epochs": 1} if args.smoke else {}

    def recipe_config(recipe: dict) -> dict:
        config = {**trunk_config, **_FINETUNE_BASE, **recipe, **budget, "init": str(trunk_path)}
        if args.smoke and config.get("warmup_epochs"):
            config.update(epochs=2, warmup_epochs=1)
        return config

    scratch = {**trunk_config, **SCRATCH, **budget}
    if "fine-tuned" not in kinds:
        chosen = None
    elif args.recipe:
        chosen = args.recipe
        print(f"recipe given on the command line: {chosen!r} (no choice made in this run)")
    else:  # choose on a validation split of the training part; the test part waits
        fit_rows, val_rows = common.grouped_split(
            train_y, groups, test_size=1 / 3 if args.smoke else 0.2, seed=args.seed
        )
        print(f"choose: {len(fit_rows)} fitting / {len(val_rows)} validation images")
        found = {}
        for name, recipe in RECIPES.items():
            values = fit_scored(
                f"choose [{name}] validation",
                recipe_config(recipe),
                X[fit_rows],
                train_y[fit_rows],
                X[val_rows],
                train_y[val_rows],
                args.target,
                args.seed,
                args.smoke,
            )
            found[name] = criterion(args.target, values)
        chosen = max(found, key=found.get)
        print(f"chosen on validation: {chosen!r} ({found[chosen]:.4f})")
    results: dict[str, list[dict]] = {"scratch": [], "fine-tuned": []}
    if args.scratch_from:  # the same scratch fits, run earlier (in parallel with pretraining)
        results["scratch"] = json.loads(Path(args.scratch_from).read_text())["scratch"]
        print(f"scratch fits read from {args.scratch_from} ({len(results['scratch'])} seeds)")
    configs = {"scratch": scratch}
    if chosen is not None:
        configs["fine-tuned"] = recipe_config(RECIPES[chosen])
    for seed in range(args.seeds):
        for kind in kinds:
            config = configs[kind]
            results[kind].append(
                fit_scored(
                    f"{kind} seed {seed} test",
                    config,
                    X,
                    train_y,
                    X_test,
                    test_y,
                    args.target,
                    seed,
                    args.smoke,
                )
            )
            if args.save:  # after every fit, so an interrupted run keeps its seeds
                Path(args.save).write_text(json.dumps(results, indent=1))
    if args.save:
        print(f"results written to {args.save}")
    results = {kind: runs for kind, runs in results.items() if runs}
    for kind, runs in results.items():
        common.print_cv_summary(
            f"{args.target} {args.trunk} {kind}",
            runs,
            keys=list(runs[0]),
            label=f"{len(runs)} seeds",
        )
    if len(results) < 2:
        return
    for key in results["scratch"][0]:
        diffs = [
            f[key] - s[key] for f, s in zip(results["fine-tuned"], results["scratch"], strict=True)
        ]
        common.figure(
            f"{args.target} {args.trunk} fine-tuned minus scratch {key}",
            f"mean {np.mean(diffs):+.4f} (per seed: {' '.join(f'{d:+.4f}' for d in diffs)})",
        )


def main() -> None:
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("stage", choices=["pretrain", "finetune"])
    p.add_argument("--target", choices=["isic2017", "isic9", "melanoma"], default="isic2017")
    p.add_argument("--seeds", type=int, default=3, help="model seeds of the final fits")
    p.add_argument("--recipe", choices=sorted(RECIPES), help="skip the choice, use this recipe")
    p.add_argument("--trunk", choices=sorted(TRUNKS), default="default64")
    p.add_argument("--epochs", type=int, default=None, help="override the pretraining epochs")
    p.add_argument(
        "--only",
        choices=["scratch", "fine-tuned"],
        help="fit one kind only (scratch needs no trunk: run it while pretraining runs)",
    )
    p.add_argument("--save", help="write the per-seed results to this JSON file")
    p.add_argument("--scratch-from", help="read the scratch fits from a --save file")
    args = p.parse_args()
    import keras  # noqa: F401  (so the header reports the versions)

    root = common.setup(args)
    if args.stage == "pretrain":
        pretrain(args, root)
    else:
        finetune(args, root)


if __name__ == "__main__":
    main()
