"""``skinlesion predict``: the class and class probabilities of images."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from skinlesion.cli._common import (
    EXIT_OK,
    _image_arguments,
    _load_model,
    _predict_proba,
    _start_tensorflow,
)
from skinlesion.cli._parser import _EPILOG_EXIT, _output_options
from skinlesion.cli._training import _tta_option


def add_parser(commands: Any) -> None:
    """Add the ``predict`` command to the ``commands`` of :func:`skinlesion.cli.build_parser`."""
    predict = commands.add_parser(
        "predict",
        help="predict the class of images with a saved model",
        description="Print, for each image, the predicted class and the probability of "
        "every class. A folder stands for the images directly inside it.",
        epilog=_EPILOG_EXIT,
    )
    predict.add_argument("model", type=Path, metavar="MODEL", help="a model file from 'train'")
    predict.add_argument("images", type=Path, nargs="+", metavar="IMAGE", help="image files")
    predict.add_argument(
        "--format",
        choices=("table", "csv", "json"),
        default="table",
        help="output format (default: table)",
    )
    _tta_option(predict)
    _output_options(predict)
    predict.set_defaults(handler=_cmd_predict)


def _cmd_predict(args: argparse.Namespace) -> int:
    import numpy as np

    from skinlesion.images import ImageReadError, find_unreadable_images

    clf = _load_model(args.model, args.tta)
    files = _image_arguments(args.images)
    unreadable = find_unreadable_images(files)  # fail early, naming every bad file
    if unreadable:
        raise ImageReadError.from_failures(unreadable)
    _start_tensorflow(args)
    proba = _predict_proba(clf, files, args)
    classes = [str(c) for c in clf.classes_]
    predicted = [classes[i] for i in np.argmax(proba, axis=1)]
    _write_predictions(files, predicted, proba, classes, args.format)
    return EXIT_OK


def _write_predictions(
    files: Sequence[str], predicted: Sequence[str], proba: Any, classes: Sequence[str], fmt: str
) -> None:
    out = sys.stdout
    if fmt == "json":
        rows = [
            {
                "image": f,
                "class": p,
                "probabilities": {c: round(float(v), 6) for c, v in zip(classes, row, strict=True)},
            }
            for f, p, row in zip(files, predicted, proba, strict=True)
        ]
        json.dump(rows, out, indent=2)
        out.write("\n")
    elif fmt == "csv":
        import csv

        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["image", "class", *classes])
        for f, p, row in zip(files, predicted, proba, strict=True):
            writer.writerow([f, p, *(f"{float(v):.6f}" for v in row)])
    else:
        width = max(len("image"), *(len(f) for f in files))
        class_width = max(len("class"), *(len(c) for c in classes))
        columns = [max(len(c), 5) for c in classes]
        header = f"{'image':<{width}}  {'class':<{class_width}}  " + "  ".join(
            f"{c:>{w}}" for c, w in zip(classes, columns, strict=True)
        )
        out.write(header.rstrip() + "\n")
        for f, p, row in zip(files, predicted, proba, strict=True):
            values = "  ".join(f"{float(v):>{w}.3f}" for v, w in zip(row, columns, strict=True))
            out.write(f"{f:<{width}}  {p:<{class_width}}  {values}\n")
