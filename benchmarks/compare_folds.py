"""Paired, fold-by-fold comparison of two cross-validation logs.

Two runs of ``bench_ham10000.py --cv K`` (or ``--folds``) on the same folds
differ by their settings and by noise. The fold-to-fold spread of the scores is
larger than most setting effects, so this compares them fold by fold: for each
score, each common fold's difference (new minus base), their mean and standard
deviation, and on how many folds the new run is higher. It measures nothing
itself; it reads the figures the benchmark printed.

Run::

    python benchmarks/compare_folds.py base.log new.log
    python benchmarks/compare_folds.py base.log new.log --base-config config1
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np

# the per-fold lines bench_ham10000.py prints, e.g. "config0 fold3 test accuracy: 0.7702"
# and "config0 fold3 fit time: 1388 s"
SCORE = re.compile(r"^(config\d+) fold(\d+) test (\w+): (\S+)$")
FIT = re.compile(r"^(config\d+) fold(\d+) fit time: (\S+) s$")


def read_folds(text: str, config: str) -> dict[str, dict[int, float]]:
    """``{score: {fold: value}}`` for one configuration of a benchmark log."""
    out: dict[str, dict[int, float]] = {}
    for line in text.splitlines():
        line = line.strip()
        if match := SCORE.match(line):
            name, fold, key, value = match.groups()
        elif match := FIT.match(line):
            name, fold, value = match.groups()
            key = "fit_s"
        else:
            continue
        if name == config:
            out.setdefault(key, {})[int(fold)] = float(value)
    return out


def compare(base: dict[str, dict[int, float]], new: dict[str, dict[int, float]]) -> list[str]:
    """One line per score present in both logs, over the folds both ran."""
    lines = []
    for key in base:
        if key not in new:
            continue
        folds = sorted(set(base[key]) & set(new[key]))
        if not folds:
            continue
        b = np.array([base[key][k] for k in folds])
        n = np.array([new[key][k] for k in folds])
        diff = n - b
        sd = diff.std(ddof=1) if len(diff) > 1 else 0.0
        d = 0 if key == "fit_s" else 4  # seconds, or scores
        each = " ".join(f"{k}:{x:+.{d}f}" for k, x in zip(folds, diff, strict=True))
        line = (
            f"{key}: base mean {b.mean():.{d}f}, new mean {n.mean():.{d}f}, paired difference "
            f"mean {diff.mean():+.{d}f} sd {sd:.{d}f}, higher on {int(np.sum(diff > 0))} of "
            f"{len(folds)} folds (by fold {each})"
        )
        if key == "fit_s":
            line += f"; time ratio new / base {n.sum() / b.sum():.2f}x"
        lines.append(line)
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("base", type=Path, help="log of the baseline run")
    p.add_argument("new", type=Path, help="log of the run to compare with it")
    p.add_argument("--base-config", default="config0", help="configuration in the base log")
    p.add_argument("--new-config", default="config0", help="configuration in the new log")
    args = p.parse_args(argv)
    texts = {}
    for label, path in (("base", args.base), ("new", args.new)):
        try:
            texts[label] = path.read_text(errors="replace")
        except OSError as exc:
            p.error(f"cannot read the {label} log {path}: {exc.strerror}")
    print(f"command: compare_folds.py {' '.join(sys.argv[1:] if argv is None else argv)}")
    for label in ("base", "new"):
        commands = [s for s in texts[label].splitlines() if s.startswith("command: ")]
        run = commands[0] if commands else "(no command line)"
        print(f"{label} log {getattr(args, label)}: {run}")
    base = read_folds(texts["base"], args.base_config)
    new = read_folds(texts["new"], args.new_config)
    lines = compare(base, new)
    if not lines:
        p.error(
            f"no fold in common: the base log has {args.base_config} folds "
            f"{sorted({k for v in base.values() for k in v})}, the new log has "
            f"{args.new_config} folds {sorted({k for v in new.values() for k in v})}; "
            "compare two --cv runs of bench_ham10000.py (check --base-config / --new-config)"
        )
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
