"""``skinlesion train``: train a classifier on a folder of images and save it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from skinlesion.cli._common import (
    EXIT_OK,
    EXIT_USAGE,
    PROG,
    CommandError,
    _check_output,
    _class_counts,
    _is_stdout,
    _note,
    _plot_history,
    _save_or_rescue,
    _start_tensorflow,
)
from skinlesion.cli._data import _check_classes, _check_no_empty_class, _load_labelled
from skinlesion.cli._parser import _EPILOG_EXIT, _non_negative_int, _output_options
from skinlesion.cli._training import (
    _classifier_parameters,
    _final_estimator,
    _fit,
    _hardware_options,
    _make_classifier,
    _training_options,
)


def add_parser(commands: Any) -> None:
    """Add the ``train`` command to the ``commands`` of :func:`skinlesion.cli.build_parser`."""
    train = commands.add_parser(
        "train",
        help="train a classifier on a folder of images and save it",
        description="Train a LesionClassifier on DATA_DIR and save it to a single model "
        "file, with a plot of its training history beside it. DATA_DIR is either a "
        "class-per-folder directory (DATA_DIR/<class>/*.jpg, as in the ISIC archive) or a "
        "HAM10000 root (HAM10000_metadata.csv and the images). The early-stopping "
        "validation split keeps the images of one HAM10000 lesion (lesion_id), and any "
        "file with its copies, on one side.",
        epilog=_EPILOG_EXIT,
    )
    train.add_argument("data_dir", type=Path, metavar="DATA_DIR", help="folder of images")
    train.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="MODEL",
        help="model file to write, e.g. model.skl (its history plot goes to MODEL.history.png)",
    )
    _training_options(train)
    train.add_argument(
        "--balance",
        choices=("none", "weights", "auto", "over", "under"),
        default="none",
        help="class imbalance: 'weights' weighs the loss by inverse class frequency; 'auto' "
        "and 'over' repeat images of the smaller classes up to the largest class; 'under' "
        "drops images of the larger classes down to the smallest (default: none)",
    )
    train.add_argument(
        "--overwrite", action="store_true", help="replace MODEL if it exists already"
    )
    _transfer_options(train)
    _hardware_options(train)
    _output_options(train)
    train.set_defaults(handler=_cmd_train)


def _transfer_options(parser: argparse.ArgumentParser) -> None:
    from skinlesion.backbones import BACKBONES

    group = parser.add_argument_group(
        "starting point",
        "Start from what a larger data set taught instead of from random weights. The "
        "trunk (the layers up to the global pooling) comes from --init or --backbone; the "
        "head is built anew for DATA_DIR's classes.",
    )
    group.add_argument(
        "--init",
        type=Path,
        default=_classifier_parameters()["init"][0],
        metavar="BASE",
        help="copy the trunk of this model file (from 'train' or LesionClassifier.save, or a "
        ".keras file); its architecture comes with it, and --image-size may differ",
    )
    group.add_argument(
        "--fine-tune",
        choices=("all", "head"),
        default=_classifier_parameters()["fine_tune"][0],
        help="with a pretrained trunk: 'all' trains every layer, 'head' keeps the trunk "
        "frozen and trains the head alone (default: all)",
    )
    group.add_argument(
        "--warmup-epochs",
        type=_non_negative_int,
        default=_classifier_parameters()["warmup_epochs"][0],
        metavar="N",
        help="with a pretrained trunk and --fine-tune all: train the head alone for the first "
        "N of --epochs, then everything at a tenth of the learning rate (default: 0)",
    )
    group.add_argument(
        "--backbone",
        choices=tuple(BACKBONES),
        default=_classifier_parameters()["backbone"][0],
        metavar="NAME",
        help="a Keras application as the trunk, e.g. EfficientNetV2B0, ResNet50V2, "
        "MobileNetV3Small, ConvNeXtTiny (default: the custom CNN of --filters)",
    )
    group.add_argument(
        "--backbone-weights",
        default=_classifier_parameters()["backbone_weights"][0],
        metavar="WEIGHTS",
        help="weights of the --backbone trunk: 'imagenet' (downloaded by Keras; needs a "
        "network connection) or the path of a weights file without the top, such as Keras' "
        "*_notop.h5 (default: random weights)",
    )


def _cmd_train(args: argparse.Namespace) -> int:
    out: Path = args.out
    if _is_stdout(out):
        raise CommandError(
            "--out - : the model file (and its history plot beside it) cannot go to standard "
            "output; give a file name such as model.skl",
            status=EXIT_USAGE,
        )
    if out.is_dir():
        raise CommandError(f"--out {str(out)!r} is a folder; give a file name such as model.skl")
    if out.exists() and not args.overwrite:
        raise CommandError(f"{str(out)!r} exists already; pass --overwrite to replace it")
    _check_output(out, "--out")  # before the first epoch, not after the last
    overrides = {**_transfer_overrides(args), **_hardware_overrides(args)}
    _check_no_empty_class(args.data_dir)
    data = _load_labelled(args.data_dir)
    X, y = data["X"], data["y"]
    minimum = 2 if args.validation_fraction == 0 else 3
    _check_classes(y, args.data_dir, minimum=minimum)
    _note(
        args,
        f"{len(X)} images in {str(args.data_dir)!r} ({data['layout']} layout): {_class_counts(y)}",
    )
    groups = data["groups"]
    if groups is not None and args.validation_fraction > 0:
        _note(
            args,
            f"early-stopping validation split by lesion: {len(set(groups))} lesions, "
            "each on one side",
        )
    if args.init is not None:
        _note(args, f"starting from the trunk of {str(args.init)!r} (fine-tune: {args.fine_tune})")
    if args.balance == "weights":
        overrides["class_weight"] = "balanced"
    clf = _make_classifier(args, **overrides)
    model: Any = clf
    if args.balance in ("auto", "over", "under"):
        from skinlesion.pipeline import make_pipeline

        model = make_pipeline(_rebalancer(args.balance, args.random_state), clf)
    _start_tensorflow(args)
    _fit(args, model, X, y, groups)
    clf = _final_estimator(model)  # samplers act at fit only: the classifier is the model
    _save_or_rescue(clf, out)
    written = f"wrote {out} (classes: {', '.join(map(str, clf.classes_))})"
    try:
        history_path = _plot_history(clf, out.with_name(out.name + ".history.png"))
    except ImportError as err:  # no matplotlib: the model is saved, the plot is a by-product
        _note(args, f"{PROG}: note: no history plot: {err}")
        print(written)
    else:
        print(f"{written} and {history_path}")
    return EXIT_OK


def _transfer_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The classifier parameters of the 'starting point' options, with their files checked."""
    overrides: dict[str, Any] = {
        "fine_tune": args.fine_tune,
        "warmup_epochs": args.warmup_epochs,
        "backbone": args.backbone,
    }
    if args.init is not None:
        if not args.init.exists():
            raise CommandError(f"--init model file {str(args.init)!r} does not exist")
        if args.init.is_dir():
            raise CommandError(
                f"--init {str(args.init)!r} is a folder; give a model file from 'train'"
            )
        overrides["init"] = str(args.init)
    weights = args.backbone_weights
    if weights is not None:
        if args.backbone is None:
            raise CommandError(
                "--backbone-weights needs --backbone (the Keras application they belong to); "
                "to start the custom CNN from a trained model, use --init"
            )
        if weights != "imagenet" and not Path(weights).is_file():
            raise CommandError(
                f"--backbone-weights file {weights!r} does not exist; give 'imagenet' or the "
                "path of a weights file"
            )
        overrides["backbone_weights"] = weights
    return overrides


def _hardware_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The classifier parameters of the 'hardware' options."""
    names = ("block", "precision", "jit_compile", "distribute")
    return {name: getattr(args, name) for name in names}


def _rebalancer(kind: str, random_state: int) -> Any:
    from skinlesion.resampling import Rebalancer

    method = "under" if kind == "under" else "over"
    return Rebalancer(sampling_strategy="auto", method=method, random_state=random_state)
