"""What every rendering shows: the intro lines and the tables, as text cells."""

from __future__ import annotations

from typing import Any

import numpy as np

from skinlesion.metrics._engine import ISIC_FIGURES
from skinlesion.metrics._table import label
from skinlesion.metrics.intervals import Estimate

Table = tuple[str, list[str], list[list[str]]]

#: The per-class figures of the first table; the others go in the second.
_COUNTED = ("support", "sensitivity", "specificity", "ppv", "npv")


def _cell(est: Estimate, fmt: str) -> str:
    return "undefined" if np.isnan(est.value) else format(est, fmt)


def _figure_rows(section: str, figures: dict[str, Estimate], fmt: str) -> list[list[str]]:
    return [[label(section, n), _cell(e, fmt), e.method or ""] for n, e in figures.items()]


def tables(report: Any, fmt: str = ".3f") -> list[Table]:
    """(title, header, rows) of every table of ``report``, cells as text."""
    out: list[Table] = []
    first = next(iter(report.per_class.values()))
    for title, names in (
        ("Per class, one-vs-rest (predicted class = highest probability)", _COUNTED),
        ("Per class, ranking figures", [n for n in first if n not in _COUNTED]),
    ):
        header = ["class", *[label("per_class", n) for n in names]]
        rows = [
            [
                str(c),
                *[
                    str(int(figs[n].value)) if n == "support" else _cell(figs[n], fmt)
                    for n in names
                ],
            ]
            for c, figs in report.per_class.items()
        ]
        out.append((title, header, rows))
    figure_header = ["figure", "value [interval]", "interval"]
    out.append(("Overall", figure_header, _figure_rows("overall", report.overall, fmt)))
    if report.positive is not None:
        title = f"Positive class: {report.positive_label} vs the rest"
        out.append((title, figure_header, _figure_rows("positive", report.positive, fmt)))
    if report.referral:
        out.append(_referral_table(report, fmt))
    for column, section in (report.subgroups or {}).items():
        out.extend(_subgroup_tables(column, section, report, fmt))
    isic = report.isic
    rows = [
        [str(c), *[format(figs[f].value, ".4f") for f in ISIC_FIGURES]]
        for c, figs in isic["per_category"].items()
    ]
    rows.append(
        ["macro average", *[format(isic["macro_average"][f].value, ".4f") for f in ISIC_FIGURES]]
    )
    out.append(
        (
            "ISIC challenge scores (threshold 0.5, as the official scorer)",
            ["class", *ISIC_FIGURES],
            rows,
        )
    )
    rows = _figure_rows("isic_aggregate", isic["aggregate"], fmt)
    out.append(("ISIC aggregate", figure_header, rows))
    return out


def _referral_table(report: Any, fmt: str) -> Table:
    """One row per share referred: the figures on the cases kept."""
    first = next(iter(report.referral.values()))
    header = ["referred"]
    for name in first:
        section = "referral_positive" if name in ("sensitivity", "specificity") else "referral"
        prefix = f"{report.referral_label} " if section == "referral_positive" else ""
        header.append(prefix + label(section, name))
    rows = [
        [f"{100 * share:g} %", *[_cell(e, fmt) for e in figures.values()]]
        for share, figures in report.referral.items()
    ]
    return "Referral of the least-confident cases: figures on the cases kept", header, rows


def _subgroup_tables(column: str, section: dict, report: Any, fmt: str) -> list[Table]:
    """The figures per subgroup of ``column``, then the largest gap of each figure."""
    groups = section["groups"]
    first = next(iter(groups.values()))
    header = [column]
    for name in first:
        positive = name in ("sensitivity", "specificity")
        text = label("subgroup_positive" if positive else "subgroup", name)
        header.append(f"{report.positive_label} {text}" if positive else text)
    header.append("note")
    rows = []
    for group, figures in groups.items():
        note = "too small" if group in section["small"] else ""
        if group == "unknown":
            note = "missing value" + (", too small" if note else "")
        cells = [
            str(int(e.value)) if n == "n" else _subgroup_cell(figures, e, fmt, report)
            for n, e in figures.items()
        ]
        rows.append([group, *cells, note])
    out = [(f"Subgroups by {column}", header, rows)]
    gap_rows = [
        [
            label("subgroup", figure),
            f"{gap.highest} - {gap.lowest}",
            _cell(gap.estimate, fmt),
            f"{100 * gap.confidence:.3g} %",
            "yes" if gap.excludes_zero else "no",
        ]
        for figure, gap in section["gaps"].items()
    ]
    if gap_rows:
        header = ["figure", "between", "largest gap [interval]", "level", "excludes 0"]
        out.append((f"Largest gap between subgroups by {column}", header, gap_rows))
    return out


def _subgroup_cell(figures: dict[str, Estimate], est: Estimate, fmt: str, report: Any) -> str:
    """A subgroup's figure, or why it has none (e.g. no melanoma in the subgroup)."""
    if not np.isnan(est.value):
        return format(est, fmt)
    # sensitivity is undefined exactly when the subgroup has no positive case,
    # specificity when it has no other; AUC needs both
    positive = report.positive_label
    if "sensitivity" in figures and np.isnan(figures["sensitivity"].value):
        return f"n/a (no {positive})"
    if "specificity" in figures and np.isnan(figures["specificity"].value):
        return f"n/a (only {positive})"
    return "n/a"


def intro(report: Any) -> list[str]:
    """The lines before the tables: what was computed and how to read it."""
    s = report.settings
    conf = f"{100 * s['confidence']:g} %"
    strat = ", stratified by true class" if s["stratified"] else ""
    lines = [
        f"Clinical report: {s['n_samples']} images, {len(report.classes)} classes.",
        f"Intervals: {conf}; Wilson for proportions, percentile bootstrap "
        f"({s['n_bootstraps']} resamples{strat}) for the rest.",
        f"Expected calibration error: top-label, {s['n_bins']} uniform bins.",
    ]
    if report.positive is not None:
        lines.append(
            f"PPV, NPV and number needed to biopsy depend on the prevalence of "
            f"{report.positive_label!r} in this test set "
            f"({report.positive['prevalence']:.3f}); they change with the population."
        )
        lines.append(f"Operating point: {s['threshold_source']}.")
    if report.referral:
        lines.append(
            "Referral: the cases with the lowest top probability go to a dermatologist; "
            "the figures are on the cases kept, with bootstrap intervals."
        )
    if report.subgroups:
        lines.append(
            "Subgroups: gaps are between the subgroups with the highest and lowest figure, "
            "leaving out those marked too small or missing; the interval is a bootstrap of "
            "that difference at a level Bonferroni-adjusted for the pairs of subgroups."
        )
    lines.extend(s["notes"])
    return lines
