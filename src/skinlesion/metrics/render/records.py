"""The report as plain data: nested dicts (JSON) and one record per figure (DataFrame)."""

from __future__ import annotations

from typing import Any


def _block(figures: dict) -> dict:
    return {str(k): v.to_dict() for k, v in figures.items()}


def to_dict(report: Any) -> dict[str, Any]:
    """All figures as nested plain dicts, class names as str (``ClinicalReport.to_dict``)."""
    settings = dict(report.settings)
    if not isinstance(settings["random_state"], (int, type(None))):
        settings["random_state"] = repr(settings["random_state"])
    isic = report.isic
    subgroups = None
    if report.subgroups is not None:
        subgroups = {
            column: {
                "groups": {g: _block(figs) for g, figs in section["groups"].items()},
                "small": list(section["small"]),
                "gaps": {
                    figure: {
                        **gap.estimate.to_dict(),
                        "highest": gap.highest,
                        "lowest": gap.lowest,
                        "excludes_zero": gap.excludes_zero,
                        "confidence": gap.confidence,
                    }
                    for figure, gap in section["gaps"].items()
                },
            }
            for column, section in report.subgroups.items()
        }
    return {
        "settings": settings,
        "classes": [str(c) for c in report.classes],
        "positive_label": report.positive_label,
        "positive_classes": None
        if report.positive_classes is None
        else [str(c) for c in report.positive_classes],
        "referral_label": report.referral_label,
        "per_class": {str(c): _block(v) for c, v in report.per_class.items()},
        "overall": _block(report.overall),
        "positive": None if report.positive is None else _block(report.positive),
        "referral": None
        if report.referral is None
        else {f"{share:g}": _block(v) for share, v in report.referral.items()},
        "subgroups": subgroups,
        "isic": {
            "per_category": {str(c): _block(v) for c, v in isic["per_category"].items()},
            "macro_average": _block(isic["macro_average"]),
            "aggregate": _block(isic["aggregate"]),
        },
    }


def _figures(block: dict) -> dict:
    from skinlesion.metrics.intervals import Estimate

    def number(value: Any) -> float:
        return float("nan") if value is None else float(value)

    return {
        name: Estimate(
            number(f["value"]),
            number(f["low"]),
            number(f["high"]),
            f["method"],
            int(f.get("n_undefined", 0)),
        )
        for name, f in block.items()
    }


def from_dict(cls: type, data: dict[str, Any]) -> Any:
    """The report that ``to_dict`` gave ``data`` (``ClinicalReport.from_dict``)."""
    from skinlesion.metrics.subgroups import SubgroupGap

    if not isinstance(data, dict) or not {"settings", "classes", "per_class", "overall",
                                          "isic"} <= set(data):  # fmt: skip
        keys = sorted(data) if isinstance(data, dict) else type(data).__name__
        raise ValueError(
            f"this is not a clinical report's figures (found {keys}); give the JSON that "
            "ClinicalReport.to_dict or 'skinlesion evaluate --json' wrote."
        )
    subgroups = None
    if data.get("subgroups") is not None:
        subgroups = {
            column: {
                "groups": {g: _figures(figs) for g, figs in section["groups"].items()},
                "small": list(section["small"]),
                "gaps": {
                    figure: SubgroupGap(
                        _figures({figure: gap})[figure],
                        gap["highest"],
                        gap["lowest"],
                        bool(gap["excludes_zero"]),
                        float(gap["confidence"]),
                    )
                    for figure, gap in section["gaps"].items()
                },
            }
            for column, section in data["subgroups"].items()
        }
    referral = data.get("referral")
    isic = data["isic"]
    return cls(
        classes=list(data["classes"]),
        per_class={c: _figures(figs) for c, figs in data["per_class"].items()},
        overall=_figures(data["overall"]),
        positive=None if data.get("positive") is None else _figures(data["positive"]),
        positive_label=data.get("positive_label"),
        positive_classes=data.get("positive_classes"),
        isic={
            "per_category": {c: _figures(v) for c, v in isic["per_category"].items()},
            "macro_average": _figures(isic["macro_average"]),
            "aggregate": _figures(isic["aggregate"]),
        },
        settings=dict(data["settings"]),
        referral=None
        if referral is None
        else {float(share): _figures(v) for share, v in referral.items()},
        # files written before referral_label was kept: the positive class, as the report does
        referral_label=data.get("referral_label", data.get("positive_label")),
        subgroups=subgroups,
        y_true=None,
        y_score=None,
    )


def rows(report: Any) -> list[dict[str, Any]]:
    """One dict per figure: section, class, figure and the estimate's fields."""
    blocks: list[tuple[str, Any, dict]] = [
        ("per_class", c, figs) for c, figs in report.per_class.items()
    ]
    blocks.append(("overall", None, report.overall))
    if report.positive is not None:
        blocks.append(("positive", report.positive_label, report.positive))
    blocks += [
        ("referral", f"{100 * share:g} % referred", figs)
        for share, figs in (report.referral or {}).items()
    ]
    for column, section in (report.subgroups or {}).items():
        blocks += [(f"subgroup {column}", g, figs) for g, figs in section["groups"].items()]
    blocks += [("isic", c, figs) for c, figs in report.isic["per_category"].items()]
    blocks.append(("isic", "macro_average", report.isic["macro_average"]))
    blocks.append(("isic", None, report.isic["aggregate"]))
    return [
        {"section": section, "class": cls, "figure": name, **est.to_dict()}
        for section, cls, figures in blocks
        for name, est in figures.items()
    ]
