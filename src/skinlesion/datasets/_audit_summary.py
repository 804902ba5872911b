"""The readable summary of an :class:`~skinlesion.datasets.AuditReport`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from skinlesion._hints import fix

if TYPE_CHECKING:
    from skinlesion.datasets._audit_groups import DuplicateGroup
    from skinlesion.datasets._audit_report import AuditReport

__all__ = ["summary"]


def summary(report: AuditReport, max_examples: int = 3) -> str:
    """A readable, multi-line summary of ``report`` (what ``str(report)`` gives)."""
    lines = [f"Audit of {len(report.sources)} images"]
    for split, counts in report.class_counts.items():
        total = sum(counts.values())
        parts = ", ".join(f"{c} {n}" for c, n in sorted(counts.items()))
        lines.append(f"  {split}: {total} images in {len(counts)} classes ({parts})")
    lines.append(f"  class imbalance (largest / smallest class): {report.imbalance_ratio:.1f}")

    def name(source: str) -> str:
        p = Path(source)
        return f"{p.parent.name}/{p.name}" if p.parent.name else source

    def describe(groups: list[DuplicateGroup], what: str) -> None:
        if not groups:
            return
        lines.append(f"  {len(groups)} {what}")
        for g in groups[:max_examples]:
            members = ", ".join(
                f"{name(s)} [{lab}{'' if len(set(g.splits)) == 1 else ', ' + sp}]"
                for s, lab, sp in zip(g.sources, g.labels, g.splits, strict=True)
            )
            lines.append(f"      e.g. {members}")

    def how(groups: list[DuplicateGroup]) -> str:
        by_id = sum("id" in g.matched_by for g in groups)
        if not by_id:
            return ""
        return f"; {by_id} matched by ISIC id, {len(groups) - by_id} by perceptual hash alone"

    for kind, groups in (
        ("byte-identical", report.exact_duplicates),
        ("near-identical", report.near_duplicates),
    ):
        leaks = [g for g in groups if g.category == "leak"]
        describe(leaks, f"{kind} group(s) across splits (train/test leakage{how(leaks)})")
        describe(
            [g for g in groups if g.category == "conflict"],
            f"{kind} group(s) with conflicting labels (the same image in two classes)",
        )
        describe(
            [g for g in groups if g.category == "within class"],
            f"{kind} group(s) within one class (redundant copies)",
        )
    shared = report.shared_labels()
    if shared:
        lines.append("  labels of the copies across splits (groups):")
        for agreeing, what in ((True, "agree"), (False, "disagree")):
            rows = [d for d in shared if d["agree"] is agreeing]
            if rows:
                pairs = ", ".join(
                    f"{d['labels'][0]} [{d['splits'][0]}] = {d['labels'][1]} "
                    f"[{d['splits'][1]}] {d['groups']}"
                    for d in rows[: 3 * max_examples]
                )
                more = f", and {len(rows) - 3 * max_examples} more" * (len(rows) > 3 * max_examples)
                lines.append(f"      {what}: {pairs}{more}")
    if report.unreadable:
        lines.append(f"  {len(report.unreadable)} unreadable file(s)")
        lines.extend(f"      e.g. {s}: {r}" for s, r in report.unreadable[:max_examples])
    for items, what in (
        (report.tiny, f"tiny image(s) (a side under {report.min_size} px)"),
        (report.grayscale, "grayscale image(s)"),
        (report.odd_size, "image(s) of an unusual size"),
    ):
        if items:
            lines.append(
                f"  {len(items)} {what}: e.g. " + ", ".join(name(s) for s in items[:max_examples])
            )
    if len(report.sizes) > 1:
        common = sorted(report.sizes.items(), key=lambda kv: -kv[1])[:4]
        lines.append("  sizes: " + ", ".join(f"{s} ({n})" for s, n in common))
    if not (report.exact_duplicates or report.near_duplicates or report.unreadable):
        lines.append("  no duplicates, conflicting labels, leaks or unreadable files found")
    else:
        n_drop = int((~report.keep_mask()).sum())
        drops = fix("report.deduplicated() drops", cli="drop")
        lines.append(f"  {drops} {n_drop} image(s) for a leak-free set")
        n_leak = int((~report.keep_mask(leaks_only=True)).sum())
        if n_leak:
            drops = fix("report.without_leaks() drops", cli="or drop")
            lines.append(
                f"  {drops} only the {n_leak} copies of images in another split (the test "
                "split stays whole)"
            )
    return "\n".join(lines)
