"""Run Python, or the ``skinlesion`` command, in a fresh process as a user would.

The one helper for tests that need a process of their own: a command's exit
status and output, an environment variable read at start-up, another Keras
backend.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def run_python(
    *args: Any,
    env: Mapping[str, str | None] | None = None,
    cwd: Path | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess:
    """``python ARGS`` in this environment, changed by ``env`` (None unsets a variable)."""
    environ = dict(os.environ)
    for name, value in (env or {}).items():
        if value is None:
            environ.pop(name, None)
        else:
            environ[name] = value
    return subprocess.run(
        [sys.executable, *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environ,
        timeout=timeout,
    )


def run_cli(
    *args: Any, cwd: Path | None = None, timeout: float = 600
) -> subprocess.CompletedProcess:
    """Run ``python -m skinlesion ARGS`` the way a user would (no log level preset)."""
    env = {
        "TF_CPP_MIN_LOG_LEVEL": None,
        "MPLBACKEND": "Agg",
        "SKINLESION_NUM_THREADS": os.environ.get("SKINLESION_NUM_THREADS", "2"),
    }
    return run_python("-m", "skinlesion", *args, env=env, cwd=cwd, timeout=timeout)
