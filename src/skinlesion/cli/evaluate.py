"""``skinlesion evaluate``: the clinical report of a saved model on labelled images."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from skinlesion.cli._common import (
    EXIT_OK,
    EXIT_USAGE,
    CommandError,
    _about,
    _check_matplotlib,
    _check_output,
    _class_counts,
    _is_stdout,
    _load_model,
    _note,
    _print_result,
    _report,
    _start_tensorflow,
    _to_json,
    _write_output,
)
from skinlesion.cli._data import _load_labelled, _subgroups
from skinlesion.cli._parser import _EPILOG_EXIT, _non_negative_int, _output_options
from skinlesion.cli._training import _tta_option


def add_parser(commands: Any) -> None:
    """Add the ``evaluate`` command to the ``commands`` of :func:`skinlesion.cli.build_parser`."""
    evaluate = commands.add_parser(
        "evaluate",
        help="clinical report of a saved model on a labelled folder of images",
        description="Predict the images of DATA_DIR (class-per-folder or HAM10000 layout) "
        "with the model and print the clinical report: sensitivity, specificity, PPV, NPV, "
        "AUC and more per class, with confidence intervals.",
        epilog=_EPILOG_EXIT,
    )
    evaluate.add_argument("model", type=Path, metavar="MODEL", help="a model file from 'train'")
    evaluate.add_argument("data_dir", type=Path, metavar="DATA_DIR", help="labelled images")
    evaluate.add_argument(
        "--report",
        type=Path,
        default=None,
        metavar="HTML",
        help="also write the report as an HTML page here ('-': standard output, and the "
        "text report goes to standard error)",
    )
    evaluate.add_argument(
        "--json",
        type=Path,
        default=None,
        metavar="FILE",
        help="also write the figures as JSON here ('-': standard output, and the text "
        "report goes to standard error)",
    )
    evaluate.add_argument(
        "--positive",
        default=None,
        metavar="CLASS",
        help="the class to screen for, e.g. melanoma; adds the operating-point block",
    )
    evaluate.add_argument(
        "--n-bootstraps",
        type=_non_negative_int,
        default=1000,
        metavar="N",
        help="bootstrap resamples for the confidence intervals (default: 1000)",
    )
    evaluate.add_argument(
        "--random-state",
        type=_non_negative_int,
        default=0,
        metavar="SEED",
        help="seed of the bootstrap (default: 0)",
    )
    evaluate.add_argument(
        "--by",
        action="append",
        default=[],
        metavar="COLUMN",
        help="also report each subgroup of this metadata column, with the largest gap "
        "between subgroups (a HAM10000 folder: age, sex, localization, dx_type); repeat "
        "for several",
    )
    evaluate.add_argument(
        "--saliency",
        type=_non_negative_int,
        default=_saliency_default(),
        metavar="N",
        help="Grad-CAM maps of the N most confident mistakes, each for the wrong class "
        "predicted, in the --report page; 0: none (default: %(default)s)",
    )
    _tta_option(evaluate)
    _output_options(evaluate)
    evaluate.set_defaults(handler=_cmd_evaluate)


def _saliency_default() -> int:
    """``ClinicalReport.from_estimator``'s own default number of Grad-CAM maps."""
    import inspect

    from skinlesion.metrics import ClinicalReport

    return inspect.signature(ClinicalReport.from_estimator).parameters["saliency"].default


def _cmd_evaluate(args: argparse.Namespace) -> int:
    import numpy as np

    if _is_stdout(args.report) and _is_stdout(args.json):
        raise CommandError(
            "--report - and --json - cannot both go to standard output; write one of them "
            "to a file",
            status=EXIT_USAGE,
        )
    if args.report is not None:
        _check_matplotlib("--report")
    for option, path in (("--report", args.report), ("--json", args.json)):
        if path is not None and not _is_stdout(path):
            _check_output(
                path, option, example="report.html" if option == "--report" else "report.json"
            )
    clf = _load_model(args.model, args.tta)
    data = _load_labelled(args.data_dir)
    X, y = data["X"], np.asarray(data["y"])
    subgroups = _subgroups(args.by, data, args.data_dir)
    known = {str(c) for c in clf.classes_}
    unknown = sorted({str(c) for c in y} - known)
    if unknown:
        raise CommandError(
            f"{str(args.data_dir)!r} has classes the model was not trained on: "
            f"{', '.join(unknown)} (the model knows {', '.join(sorted(known))})"
        )
    if args.positive is not None and args.positive not in known:
        raise CommandError(
            f"--positive {args.positive!r} is not one of the model's classes: "
            f"{', '.join(sorted(known))}",
            status=EXIT_USAGE,
        )
    _note(args, f"predicting {len(X)} images in {str(args.data_dir)!r} ({_class_counts(y)})")
    _start_tensorflow(args)
    # the maps are drawn only in the HTML page: without one, skip their Grad-CAM pass
    saliency = args.saliency if args.report is not None else 0
    report = _report(
        clf, X, y, positive=args.positive, args=args, subgroups=subgroups, saliency=saliency
    )
    _print_result(args, report, args.report, args.json)
    if args.report is not None:
        about = _about(args.model, f"{os.path.abspath(args.data_dir)} ({data['layout']} layout)")
        _write_output(args, args.report, report.to_html(about=about))
    if args.json is not None:
        _write_output(args, args.json, _to_json(report.to_dict()))
    return EXIT_OK
