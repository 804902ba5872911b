"""``skinlesion explain``: Grad-CAM maps of where a saved model looks."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from skinlesion.cli._common import (
    EXIT_OK,
    EXIT_USAGE,
    CommandError,
    _check_output,
    _image_arguments,
    _load_model,
    _note,
    _save_figure,
    _start_tensorflow,
)
from skinlesion.cli._parser import _EPILOG_EXIT, _output_options


def add_parser(commands: Any) -> None:
    """Add the ``explain`` command to the ``commands`` of :func:`skinlesion.cli.build_parser`."""
    explain = commands.add_parser(
        "explain",
        help="draw where a saved model looks in images (Grad-CAM)",
        description="Draw each image with its Grad-CAM map over it: the regions that "
        "raised the score of the predicted class (or of --target) the most. A folder "
        "stands for the images directly inside it.",
        epilog=_EPILOG_EXIT,
    )
    explain.add_argument("model", type=Path, metavar="MODEL", help="a model file from 'train'")
    explain.add_argument("images", type=Path, nargs="+", metavar="IMAGE", help="image files")
    explain.add_argument(
        "--out", type=Path, required=True, metavar="PNG", help="where to write the picture"
    )
    explain.add_argument(
        "--target",
        default=None,
        metavar="CLASS",
        help="the class to explain (default: each image's predicted class)",
    )
    _output_options(explain)
    explain.set_defaults(handler=_cmd_explain)


def _cmd_explain(args: argparse.Namespace) -> int:
    from skinlesion.images import ImageReadError, find_unreadable_images

    _check_output(args.out, "--out", example="map.png")
    clf = _load_model(args.model)
    if args.target is not None and args.target not in {str(c) for c in clf.classes_}:
        raise CommandError(
            f"--target {args.target!r} is not one of the model's classes: "
            f"{', '.join(str(c) for c in clf.classes_)}",
            status=EXIT_USAGE,
        )
    files = _image_arguments(args.images)
    unreadable = find_unreadable_images(files)
    if unreadable:
        raise ImageReadError.from_failures(unreadable)
    _start_tensorflow(args)
    from skinlesion.inspection import SaliencyDisplay

    display = SaliencyDisplay.from_estimator(clf, files, args.target)
    _save_figure(display, args.out)
    _note(args, f"wrote {args.out}")
    return EXIT_OK
