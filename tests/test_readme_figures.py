"""The README's picture and its caption say how they were made, and the numbers hold.

``docs/make_readme_figures.py`` runs ``skinlesion demo --out DIR``, copies the
confusion matrix the demo wrote, records what the demo printed in
``docs/images/demo.json`` and writes the caption from that record. These tests
check the caption against the record (fast) and the record against a fresh run
of the demo (slow: the demo takes 1-2 minutes on two cores).
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "docs" / "make_readme_figures.py"
RECORD = ROOT / "docs" / "images" / "demo.json"


def load_script():
    spec = importlib.util.spec_from_file_location("make_readme_figures", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_caption_quotes_what_the_demo_printed():
    record = json.loads(RECORD.read_text())
    readme = (ROOT / "README.md").read_text()
    match = re.search(
        r"!\[Confusion matrix written by `skinlesion demo --out DIR`\]\((?P<image>[^)]+)\)"
        r"\n\n\*(?P<caption>[^*]+)\*",
        readme,
    )
    assert match, "README.md lost the demo's picture or its caption"
    assert (ROOT / match["image"]).stat().st_size > 0
    caption = " ".join(match["caption"].split())
    assert f"{record['n_test']} held-out synthetic test images" in caption
    assert f"accuracy {record['printed_accuracy']} as the demo printed it" in caption
    assert f"{record['threads']} CPU threads" in caption and "make_readme_figures.py" in caption
    # the record holds together: the printed accuracy is the matrix's diagonal over its total
    support, sensitivity = record["support"], record["sensitivity"]
    assert sum(support.values()) == record["n_test"]
    correct = sum(round(sensitivity[c] * support[c]) for c in support)
    assert f"{correct / record['n_test']:.3f}" == record["printed_accuracy"]
    assert record["accuracy"] == pytest.approx(correct / record["n_test"])


@pytest.mark.slow
def test_the_demo_still_prints_the_recorded_figures(tmp_path):
    """Fails when the demo's recipe or the network changed: rerun the script then."""
    record = json.loads(RECORD.read_text())
    script = load_script()
    stdout = script.run_demo(tmp_path / "demo")  # the script's own command and threads
    assert script.printed_accuracy(stdout) == record["printed_accuracy"]
    per_class = json.loads((tmp_path / "demo" / "report.json").read_text())["per_class"]
    assert {c: int(f["support"]["value"]) for c, f in per_class.items()} == record["support"]
    sensitivity = {c: f["sensitivity"]["value"] for c, f in per_class.items()}
    assert sensitivity == pytest.approx(record["sensitivity"], abs=1e-12)
