"""The clinical-report gallery example runs end to end (it trains a small CNN: slow)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_clinical_report_example_runs(tmp_path):
    env = dict(os.environ, MPLBACKEND="Agg", TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "plot_clinical_report.py")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    for needle in (
        "Clinical report:",
        "Positive class: melanoma vs the rest",
        "number needed to biopsy",
        "ISIC challenge scores",
        "plots embedded",
    ):
        assert needle in out, needle
    assert not any(tmp_path.iterdir())  # the example writes only to its own temporary folder
