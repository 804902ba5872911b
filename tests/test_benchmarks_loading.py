"""Smoke run of benchmarks/bench_loading.py (starts TensorFlow in a subprocess, hence slow)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_bench_loading_smoke_prints_its_figures():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_loading.py"), "--smoke"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    for line in (
        "machine:",
        "keras image_dataset_from_directory images/s:",
        "speed ratio vs keras, load_image_folder:",
        "second load time / first load time (cache):",
    ):
        assert line in proc.stdout, proc.stdout
