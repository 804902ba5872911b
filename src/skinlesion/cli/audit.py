"""``skinlesion audit``: duplicates, conflicting labels, leakage and imbalance."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from skinlesion.cli._common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    _check_folder,
    _check_output,
    _is_stdout,
    _print_result,
    _to_json,
    _write_output,
)
from skinlesion.cli._parser import _EPILOG_EXIT, _output_options


def add_parser(commands: Any) -> None:
    """Add the ``audit`` command to the ``commands`` of :func:`skinlesion.cli.build_parser`."""
    audit = commands.add_parser(
        "audit",
        help="find duplicates, conflicting labels, leakage and imbalance in a data set",
        description="Audit a class-per-folder directory, a folder of split folders (such as "
        "ISIC 2017's train/ and val/) or a HAM10000 root: byte-identical and near-identical "
        "images within a class and across classes, class counts and imbalance, tiny, grayscale "
        "or oddly sized images; with --test, images shared between the training and test sets "
        "(leakage), also when the two are different data sets in other layouts and sizes "
        "(matched by ISIC id and by a perceptual hash).",
        epilog=_EPILOG_EXIT + " (and 3 with --strict when the audit finds problems)",
    )
    audit.add_argument("data_dir", type=Path, metavar="DATA_DIR", help="folder of images")
    audit.add_argument(
        "--test",
        type=Path,
        default=None,
        metavar="TEST_DIR",
        help="test set to check for leakage, in any of the layouts DATA_DIR may have",
    )
    audit.add_argument(
        "--json",
        type=Path,
        default=None,
        metavar="FILE",
        help="also write the findings as JSON here ('-': standard output, and the text "
        "findings go to standard error)",
    )
    audit.add_argument(
        "--strict",
        action="store_true",
        help="exit with status 3 when the audit finds duplicates, conflicts, leakage or "
        "unreadable files",
    )
    _output_options(audit)
    audit.set_defaults(handler=_cmd_audit)


def _audit_source(path: Path, what: str) -> Path:
    """A folder for :func:`skinlesion.datasets.audit`, which reads every layout itself.

    HAM10000 is audited with its own ``dx`` codes: its readable name for ``akiec``
    ("actinic keratosis") would hide that the class holds intraepithelial carcinoma.
    """
    _check_folder(path, what)
    return path


def _cmd_audit(args: argparse.Namespace) -> int:
    from skinlesion import datasets

    if args.json is not None and not _is_stdout(args.json):
        _check_output(args.json, "--json", example="audit.json")
    train = _audit_source(args.data_dir, "data folder")
    test = None if args.test is None else _audit_source(args.test, "test folder")
    result = datasets.audit(train, test=test, verbose=0 if args.quiet else 1)
    _print_result(args, result, args.json)
    if args.json is not None:
        _write_output(args, args.json, _to_json(result.to_dict()))
    if args.strict and not result.ok:
        return EXIT_PROBLEMS
    return EXIT_OK
