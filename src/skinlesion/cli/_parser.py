"""The argument parser of the command line: its error handling, option types and groups."""

from __future__ import annotations

import argparse
from typing import NoReturn

from skinlesion.cli._common import EXIT_USAGE, CommandError


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors become one-line :class:`CommandError`."""

    def error(self, message: str) -> NoReturn:
        command = self.prog
        raise CommandError(f"{message} (see '{command} --help')", status=EXIT_USAGE)


# --------------------------------------------------------------------------------------
# argument types
# --------------------------------------------------------------------------------------
def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {text!r}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number of at least 0, got {text!r}")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1), got {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _int_tuple(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(part) for part in text.replace(" ", "").split(",") if part)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated whole numbers such as 32,64,128, got {text!r}"
        ) from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive numbers such as 32,64,128, got {text!r}"
        )
    return values


# --------------------------------------------------------------------------------------
# option groups shared by several commands
# --------------------------------------------------------------------------------------
_EPILOG_EXIT = "Exit status: 0 success, 1 the data or model cannot be used, 2 bad command line"


def _output_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("output")
    group.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="show TensorFlow's messages and Python tracebacks (repeat for more)",
    )
    group.add_argument("-q", "--quiet", action="store_true", help="print results only, no progress")
