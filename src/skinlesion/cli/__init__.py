"""The ``skinlesion`` command line (also ``python -m skinlesion``).

Commands
--------
``skinlesion demo``
    Train on built-in synthetic lesions and print a per-class report.
``skinlesion train DATA_DIR --out model.skl``
    Train on a class-per-folder directory (or a HAM10000 root) and save the model;
    ``--init base.skl`` starts from the trunk of a model trained before, and
    ``--backbone NAME`` uses a Keras application as the trunk.
``skinlesion evaluate MODEL DATA_DIR``
    Print the clinical report of a saved model on a labelled folder (``--report`` writes
    HTML; ``--by sex --by age`` adds each subgroup of a HAM10000 folder's metadata).
``skinlesion predict MODEL IMAGE...``
    Print the predicted class and the probability of each class for each image.
``skinlesion explain MODEL IMAGE... --out map.png``
    Draw where the model looks in each image (Grad-CAM maps over the images).
``skinlesion audit DATA_DIR``
    Find duplicates, conflicting labels, train/test leakage and imbalance in a data set.
``skinlesion card MODEL --report REPORT.json --out card.md``
    Write the model card of a saved model from the JSON of ``evaluate --json``
    (``--audit`` adds that of ``audit --json``; ``.html`` writes HTML).

Exit status: 0 on success, 1 when the data or the model cannot be used (a missing
folder, an empty class, a corrupt image, a file that is not a skinlesion model),
2 when the command line itself is wrong, and 3 from ``audit --strict`` when the
audit finds a problem. Every failure is reported as one line,
``skinlesion: error: ...``, on standard error, without a traceback (``--verbose``
shows it).
Results go to standard output; progress and notes go to standard error.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence

from skinlesion.cli import _common, audit, card, demo, evaluate, explain, predict, train
from skinlesion.cli._common import PROG, CommandError, _fail, _one_line, _quiet_libraries
from skinlesion.cli._parser import _EPILOG_EXIT, _Parser

__all__ = [
    "EXIT_FAILURE",
    "EXIT_OK",
    "EXIT_PROBLEMS",
    "EXIT_USAGE",
    "CommandError",
    "build_parser",
    "main",
]

#: The command succeeded.
EXIT_OK = _common.EXIT_OK
#: The data, the images or the model file could not be used.
EXIT_FAILURE = _common.EXIT_FAILURE
#: The command line is wrong (unknown option, missing argument, bad value).
EXIT_USAGE = _common.EXIT_USAGE
#: ``skinlesion audit --strict`` found duplicates, conflicting labels or leakage.
EXIT_PROBLEMS = _common.EXIT_PROBLEMS


def build_parser() -> argparse.ArgumentParser:
    """Build the ``skinlesion`` argument parser with all its commands.

    Returns
    -------
    parser : argparse.ArgumentParser

    Examples
    --------
    >>> from skinlesion.cli import build_parser
    >>> args = build_parser().parse_args(["demo", "--epochs", "3"])
    >>> args.command, args.epochs
    ('demo', 3)
    """
    from skinlesion._version import __version__

    parser = _Parser(
        prog=PROG,
        description="Classify dermoscopic skin-lesion images with a CNN: train, evaluate, "
        "predict and audit from the command line.",
        epilog=f"Run '{PROG} COMMAND --help' for a command's options. {_EPILOG_EXIT}.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    for command in (demo, train, evaluate, predict, explain, audit, card):
        command.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``skinlesion`` command line and return its exit status.

    Parameters
    ----------
    argv : sequence of str, default=None
        The arguments after the program name; ``None`` reads ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success, 1 when the data or model cannot be used, 2 for a wrong
        command line.

    Examples
    --------
    >>> from skinlesion.cli import main
    >>> main(["--version"])  # doctest: +ELLIPSIS
    skinlesion ...
    0
    """
    from skinlesion._hints import command_line

    argv = list(sys.argv[1:] if argv is None else argv)
    args: argparse.Namespace | None = None
    try:
        try:
            args, extra = build_parser().parse_known_args(argv)
        except SystemExit as exc:  # --help and --version
            return int(exc.code or 0)
        if extra:
            where = f"{PROG} {args.command}" if args.command else PROG
            raise CommandError(
                f"unrecognized arguments: {' '.join(extra)} (see '{where} --help')",
                status=EXIT_USAGE,
            )
        if args.command is None:
            raise CommandError(
                "no command given; choose one of demo, train, evaluate, predict, explain, audit, "
                "card "
                f"(see '{PROG} --help')",
                status=EXIT_USAGE,
            )
        with _quiet_libraries(args.verbose), command_line():  # messages name options
            return int(args.handler(args) or EXIT_OK)
    except CommandError as err:
        return _fail(str(err), err.status)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `skinlesion predict ... | head`
        with contextlib.suppress(Exception):
            sys.stdout = open(os.devnull, "w")
        return EXIT_OK
    except (ValueError, OSError) as err:
        # The library raises these for bad input with a message naming the problem and
        # the fix (ImageReadError is a ValueError). Anything else is a bug: traceback.
        if getattr(args, "verbose", 0):
            raise
        return _fail(_one_line(err), EXIT_FAILURE)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
