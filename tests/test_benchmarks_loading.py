"""Smoke run of benchmarks/bench_loading.py (starts TensorFlow in a subprocess, hence slow)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ._subprocess import run_python

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_bench_loading_smoke_prints_its_figures():
    proc = run_python(
        ROOT / "benchmarks" / "bench_loading.py",
        "--smoke",
        env={"TF_CPP_MIN_LOG_LEVEL": "3"},
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
