"""Make the README's pictures from the output of ``skinlesion demo`` itself.

Runs ``skinlesion demo --out DIR`` with the demo's own defaults (the recipe a new user
runs), copies the confusion matrix and ROC curves it writes to ``docs/images/``, and
records beside them, in ``docs/images/demo.json``, the command, what the demo printed
(the test accuracy line) and figures of the report it wrote (``report.json``). Then it
rewrites the README's caption under the picture from that record.

``tests/test_readme_figures.py`` checks that the caption quotes the record, and (slow)
that the demo still prints the recorded accuracy. Rerun this script whenever the demo's
recipe or the network changes::

    python docs/make_readme_figures.py
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"
RECORD = IMAGES / "demo.json"
README = ROOT / "README.md"
#: The demo's threads: results are repeatable for a given thread count and CPU.
THREADS = "2"
#: The line of the demo's output that holds its test accuracy.
ACCURACY_LINE = re.compile(r"^accuracy (?P<accuracy>\d\.\d{3}) \(chance (?P<chance>\d\.\d{3})\)")
#: The README lines this script owns: the picture and its caption.
CAPTION_START = "![Confusion matrix written by `skinlesion demo --out DIR`]"


def run_demo(out: Path) -> str:
    """Run ``skinlesion demo --out OUT`` as a user would; return what it printed."""
    env = dict(os.environ, SKINLESION_NUM_THREADS=THREADS, MPLBACKEND="Agg")
    result = subprocess.run(
        [sys.executable, "-m", "skinlesion", "demo", "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"skinlesion demo failed:\n{result.stderr}")
    return result.stdout


def printed_accuracy(stdout: str) -> str:
    """The accuracy exactly as the demo printed it (three decimals)."""
    for line in stdout.splitlines():
        match = ACCURACY_LINE.match(line)
        if match:
            return match["accuracy"]
    raise ValueError("the demo printed no 'accuracy ... (chance ...)' line")


def caption(record: dict) -> str:
    """The README's picture and caption lines for ``record``."""
    return (
        f"{CAPTION_START}(docs/images/demo_confusion_matrix.png)\n\n"
        f"*The confusion matrix that `skinlesion demo --out DIR` wrote (skinlesion "
        f"{record['skinlesion_version']}, {record['threads']} CPU threads): "
        f"{record['n_test']} held-out synthetic test images, accuracy "
        f"{record['printed_accuracy']} as the demo printed it. Made by "
        f"`docs/make_readme_figures.py`, which runs the demo with its defaults.*"
    )


def main() -> None:
    import skinlesion

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "demo"
        stdout = run_demo(out)
        report = json.loads((out / "report.json").read_text())
        for name in ("confusion_matrix.png", "roc.png"):
            shutil.copyfile(out / name, IMAGES / f"demo_{name}")
    overall = report["overall"]
    record = {
        "command": "skinlesion demo --out DIR",
        "threads": int(THREADS),
        "skinlesion_version": skinlesion.__version__,
        "printed_accuracy": printed_accuracy(stdout),
        "n_test": report["settings"]["n_samples"],
        "support": {c: int(f["support"]["value"]) for c, f in report["per_class"].items()},
        "sensitivity": {c: f["sensitivity"]["value"] for c, f in report["per_class"].items()},
        "accuracy": overall["accuracy"]["value"],
        "balanced_accuracy": overall["balanced_accuracy"]["value"],
        "macro_roc_auc": overall["macro_roc_auc"]["value"],
    }
    RECORD.write_text(json.dumps(record, indent=2) + "\n")
    text = README.read_text()
    pattern = re.compile(re.escape(CAPTION_START) + r".*?\.\*", re.S)
    if not pattern.search(text):
        sys.exit(f"README.md has no picture starting with {CAPTION_START!r}")
    README.write_text(pattern.sub(lambda _: caption(record), text, count=1))
    print(f"wrote {RECORD.relative_to(ROOT)} and the README caption: accuracy "
          f"{record['printed_accuracy']} on {record['n_test']} images")  # fmt: skip


if __name__ == "__main__":
    main()
