"""The training options and the classifier they make, shared by ``demo`` and ``train``."""

from __future__ import annotations

import argparse
from typing import Any

from skinlesion.cli._parser import (
    _fraction,
    _int_tuple,
    _non_negative_int,
    _positive_float,
    _positive_int,
)


def _training_options(
    parser: argparse.ArgumentParser,
    *,
    image_size: int,
    epochs: int,
    validation_fraction: float = 0.1,
) -> None:
    group = parser.add_argument_group("network and training")
    group.add_argument(
        "--image-size",
        type=_positive_int,
        default=image_size,
        metavar="PX",
        help=f"images are resized to PX x PX pixels (default: {image_size})",
    )
    group.add_argument(
        "--epochs",
        type=_positive_int,
        default=epochs,
        help=f"largest number of passes over the training images (default: {epochs})",
    )
    group.add_argument(
        "--filters",
        type=_int_tuple,
        default=None,
        metavar="N,N,...",
        help="convolution filters per block, e.g. 32,64,128 (default: the classifier's)",
    )
    group.add_argument(
        "--batch-size", type=_positive_int, default=32, help="images per batch (default: 32)"
    )
    group.add_argument(
        "--learning-rate",
        type=_positive_float,
        default=1e-3,
        metavar="LR",
        help="Adam learning rate (default: 0.001)",
    )
    group.add_argument(
        "--patience",
        type=_positive_int,
        default=5,
        help="early stopping: epochs without improvement before stopping (default: 5)",
    )
    group.add_argument(
        "--validation-fraction",
        type=_fraction,
        default=validation_fraction,
        metavar="F",
        help="share of the training images held out for early stopping; 0 trains on all "
        f"of them for --epochs epochs (default: {validation_fraction:g})",
    )
    group.add_argument(
        "--no-augment",
        dest="augment",
        action="store_false",
        help="turn off the random flips, rotations, zoom and contrast applied while training",
    )
    group.add_argument(
        "--random-state",
        type=_non_negative_int,
        default=0,
        metavar="SEED",
        help="seed that makes the run repeatable (default: 0)",
    )


def _make_classifier(args: argparse.Namespace, **overrides: Any) -> Any:
    from skinlesion import LesionClassifier

    params: dict[str, Any] = {
        "image_size": args.image_size,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "patience": args.patience,
        "validation_fraction": args.validation_fraction,
        "early_stopping": args.validation_fraction > 0,
        "augment": args.augment,
        "random_state": args.random_state,
        "verbose": 0,
    }
    if args.filters is not None:
        params["filters"] = args.filters
    params.update(overrides)
    return LesionClassifier(**params)


def _fit(args: argparse.Namespace, model: Any, X: Any, y: Any, groups: Any = None) -> Any:
    """Fit ``model`` (a classifier or a pipeline) with a per-epoch progress line.

    ``groups`` (HAM10000's lesion ids) keep each lesion on one side of the
    classifier's early-stopping validation split; a pipeline hands them on
    resampled like the images.
    """
    prefix = f"{model.steps[-1][0]}__" if hasattr(model, "steps") else ""
    fit_params: dict[str, Any] = {}
    if groups is not None:
        fit_params[prefix + "groups"] = groups
    if not args.quiet:
        from skinlesion._progress import make_progress_callback

        fit_params[prefix + "callbacks"] = [make_progress_callback(args.epochs)]
    return model.fit(X, y, **fit_params)


def _final_estimator(model: Any) -> Any:
    return model.steps[-1][1] if hasattr(model, "steps") else model
