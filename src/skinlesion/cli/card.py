"""``skinlesion card``: the model card of a saved model and its evaluation."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from skinlesion.cli._common import (
    EXIT_OK,
    CommandError,
    _check_output,
    _is_stdout,
    _load_model,
    _one_line,
    _write_output,
)
from skinlesion.cli._parser import _EPILOG_EXIT, _output_options


def add_parser(commands: Any) -> None:
    """Add the ``card`` command to the ``commands`` of :func:`skinlesion.cli.build_parser`."""
    card = commands.add_parser(
        "card",
        help="write the model card of a saved model from its evaluation",
        description="Write a model card (CLEAR Derm headings): the data, the model and its "
        "training, the evaluation with every interval, the intended use and the "
        "limitations. The figures come from the JSON of 'evaluate --json', the data's "
        "findings from that of 'audit --json'.",
        epilog=_EPILOG_EXIT,
    )
    card.add_argument("model", type=Path, metavar="MODEL", help="a model file from 'train'")
    card.add_argument(
        "--report",
        type=Path,
        required=True,
        metavar="JSON",
        help="the figures of the model on a test set, from 'evaluate --json'",
    )
    card.add_argument(
        "--audit",
        type=Path,
        default=None,
        metavar="JSON",
        help="the data audit, from 'audit --json' (default: the card says none was given)",
    )
    card.add_argument(
        "--intended-use",
        default=None,
        metavar="TEXT",
        help="who should use the model, for what (default: 'Not stated.')",
    )
    card.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="FILE",
        help="where to write the card: HTML for a .html or .htm file, Markdown otherwise "
        "('-': Markdown on standard output)",
    )
    _output_options(card)
    card.set_defaults(handler=_cmd_card)


def _read_json(path: Path, option: str, command: str) -> Any:
    """The JSON in ``path``, or a one-line error naming the option and the fix."""
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "does not exist"
        raise CommandError(f"{option} {str(path)!r} {what}; give the JSON file of '{command}'")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise CommandError(
            f"{option} {str(path)!r} is not JSON ({_one_line(err)}); give the file that "
            f"'{command}' wrote"
        ) from None


def _cmd_card(args: argparse.Namespace) -> int:
    from skinlesion.model_card import ModelCard

    if not _is_stdout(args.out):
        _check_output(args.out, "--out", example="card.md")
    report = _read_json(args.report, "--report", "evaluate --json")
    audit = None if args.audit is None else _read_json(args.audit, "--audit", "audit --json")
    if not isinstance(report, dict) or "per_class" not in report:
        raise CommandError(
            f"--report {str(args.report)!r} holds no clinical report's figures; give the "
            "file that 'evaluate --json' wrote"
        )
    if audit is not None and not (isinstance(audit, dict) and "class_counts" in audit):
        raise CommandError(
            f"--audit {str(args.audit)!r} holds no data audit; give the file that "
            "'audit --json' wrote"
        )
    clf = _load_model(args.model)
    known = {str(c) for c in clf.classes_}
    if set(report.get("classes", [])) != known:
        raise CommandError(
            f"--report {str(args.report)!r} evaluates classes "
            f"{', '.join(report.get('classes', []))}, but the model has "
            f"{', '.join(sorted(known))}; give the report of this model"
        )
    card = ModelCard.from_estimator(clf, report, audit, intended_use=args.intended_use)
    html = not _is_stdout(args.out) and args.out.suffix.lower() in (".html", ".htm")
    _write_output(args, args.out, card.to_html() if html else card.to_markdown())
    return EXIT_OK
