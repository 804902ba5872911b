"""The clinical-report gallery example runs end to end (it trains a small CNN: slow)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .._subprocess import run_python

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_clinical_report_example_runs(tmp_path):
    proc = run_python(
        ROOT / "examples" / "plot_clinical_report.py",
        env={"MPLBACKEND": "Agg", "TF_CPP_MIN_LOG_LEVEL": "3"},
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
