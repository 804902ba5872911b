"""The fix in an error message, in the words of whoever called: Python code or the command.

The library's messages name the problem and the fix. The problem reads the same
for everyone, but the fix does not: a Python user calls
``skinlesion.datasets.audit``, a command-line user runs ``skinlesion audit``.
A message keeps one text and asks :func:`fix` for the part that differs; the
``skinlesion`` command runs inside :func:`command_line`.

The switch is a module-level flag, not a context variable, because messages are
also built in worker threads (image decoding), which do not inherit a context.
:func:`command_line` restores the previous value on exit.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = ["command_line", "fix", "on_command_line"]

_depth = 0


@contextlib.contextmanager
def command_line() -> Iterator[None]:
    """Word the fixes of the messages raised inside the block for the command line.

    Examples
    --------
    >>> from skinlesion._hints import command_line, fix
    >>> fix("call audit()", cli="run 'skinlesion audit'")
    'call audit()'
    >>> with command_line():
    ...     fix("call audit()", cli="run 'skinlesion audit'")
    "run 'skinlesion audit'"
    """
    global _depth
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1


def on_command_line() -> bool:
    """Whether the ``skinlesion`` command is the caller."""
    return _depth > 0


def fix(python: str, *, cli: str) -> str:
    """``python`` for a Python caller, ``cli`` inside :func:`command_line`."""
    return cli if _depth > 0 else python
