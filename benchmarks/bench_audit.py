"""Audit across data sets: how well the perceptual hash finds images shared by two sets.

The sets under ``--data-root`` overlap: ``isic9/Train`` (180 x 180, one folder per
class) holds 1021 images of ``ham10000/`` (200 x 150, flat with a metadata CSV) and
413 of ``isic2017/`` (256 x 256); ``ham10000/`` and ``isic2017/`` share no ISIC id.
For each pair of sets this script

1. takes the ISIC ids in the file names as the truth: a training image is shared
   when a test image carries its id;
2. audits the pair with the ids switched off (``match_ids=False``), so that only
   bytes and the perceptual hash can match, and counts the shared training images
   it finds (recall) and the training images it matches to a test image of another
   id ("other matches"; on HAM10000 those of the same ``lesion_id`` are counted
   apart: another photograph of one lesion);
3. times the audit as users run it (ids and hash), and counts what
   ``without_leaks()`` drops from the training side.

Run::

    python benchmarks/bench_audit.py
    python benchmarks/bench_audit.py --max-distance 6
    python benchmarks/bench_audit.py --smoke
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import numpy as np

try:
    from benchmarks import _common as common
except ImportError:  # run as a script
    import _common as common  # type: ignore[no-redef]


def lesion_of(root: Path) -> dict[str, str]:
    """HAM10000's image id -> lesion id (empty when there is no metadata)."""
    path = root / "ham10000" / "HAM10000_metadata.csv"
    if not path.is_file():
        return {}
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return {r["image_id"]: r["lesion_id"] for r in csv.DictReader(fh)}


def cross_matches(report) -> dict[int, set[int]]:
    """Training row -> the test rows that share a group of copies with it."""
    out: dict[int, set[int]] = {}
    for group in report.leaks:
        tests = {
            i for i, s in zip(group.members, group.splits, strict=True) if s.startswith("test")
        }
        for i, split in zip(group.members, group.splits, strict=True):
            if not split.startswith("test") and tests:
                out.setdefault(i, set()).update(tests)
    return out


def main() -> None:
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--max-distance", type=int, default=4, help="audit's max_distance")
    p.add_argument("--min-correlation", type=float, default=0.95, help="audit's min_correlation")
    p.add_argument("--n-jobs", type=int, default=None, help="threads reading files")
    args = p.parse_args()
    root = common.setup(args)
    from skinlesion.datasets import audit
    from skinlesion.datasets.audit import isic_id

    lesions = lesion_of(root)
    settings = {"max_distance": args.max_distance, "min_correlation": args.min_correlation}
    common.figure("settings", ", ".join(f"{k}={v}" for k, v in settings.items()))
    pairs = [
        ("isic9", root / "isic9" / "Train", "ham10000", root / "ham10000"),
        ("isic9", root / "isic9" / "Train", "isic2017", root / "isic2017"),
        ("ham10000", root / "ham10000", "isic2017", root / "isic2017"),
    ]
    for train_name, train, test_name, test in pairs:
        name = f"{train_name} vs {test_name}"
        hashed = audit(train, test=test, match_ids=False, n_jobs=args.n_jobs, **settings)
        ids = np.array([isic_id(s) for s in hashed.sources], dtype=object)
        is_test = np.char.startswith(hashed.splits.astype(str), "test")
        test_ids = {i for i in ids[is_test] if i is not None}
        shared = {i for i in np.flatnonzero(~is_test) if ids[i] in test_ids}
        found = cross_matches(hashed)
        hits = {i for i in shared if any(ids[j] == ids[i] for j in found.get(i, ()))}
        other = {i for i in found if i not in shared}
        same_lesion = {
            i
            for i in other
            if ids[i] in lesions and any(lesions.get(ids[j]) == lesions[ids[i]] for j in found[i])
        }
        common.figure(f"{name} training images", int((~is_test).sum()))
        common.figure(f"{name} test images", int(is_test.sum()))
        common.figure(f"{name} training images shared by ISIC id", len(shared))
        common.figure(f"{name} hash alone finds", f"{len(hits)} of {len(shared)}")
        if shared:
            common.figure(f"{name} hash recall", len(hits) / len(shared))
        common.figure(
            f"{name} hash other matches",
            f"{len(other)} training image(s) ({len(same_lesion)} of the same HAM10000 lesion)",
        )
        for i in sorted(other)[:25]:
            partners = ", ".join(sorted(Path(hashed.sources[j]).name for j in found[i]))
            print(f"    other match: {Path(hashed.sources[i]).name} ~ {partners}")

        start = time.perf_counter()
        report = audit(train, test=test, n_jobs=args.n_jobs, **settings)
        seconds = time.perf_counter() - start
        common.figure(f"{name} audit time", seconds, "s")
        common.figure(f"{name} images audited", len(report.sources))
        dropped = int((~report.keep_mask(leaks_only=True)).sum())
        common.figure(f"{name} without_leaks drops", dropped, "training images")
        disagree = sum(d["groups"] for d in report.shared_labels() if not d["agree"])
        common.figure(f"{name} shared groups whose labels disagree", disagree)


if __name__ == "__main__":
    main()
