"""The report's figures, section by section: name, label, engine key and interval kind.

:data:`TABLE` is the one place that says what the clinical report shows and how
each figure gets its interval: a Wilson interval from the engine's counts for
proportions, a percentile bootstrap over resampled images for the rest, none for
counts. :func:`estimates` turns the engine's point estimates and bootstrap
samples into :class:`~skinlesion.metrics.Estimate` objects by this table; the
renderers take the figures' labels from it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from skinlesion.metrics._engine import ISIC_FIGURES, Plan
from skinlesion.metrics.intervals import Estimate, percentile_interval, wilson_interval


@dataclass(frozen=True)
class Wilson:
    """A proportion with its Wilson interval: ``successes / (successes + failures)``.

    Each side names engine counts of the same section (summed when several).
    """

    successes: tuple[str, ...]
    failures: tuple[str, ...]


@dataclass(frozen=True)
class Reciprocal:
    """``1 / figure``, with the inverted interval bounds of that figure."""

    of: str


#: The percentile bootstrap over resamples of the test images.
BOOTSTRAP = "bootstrap"
#: Bootstrap when the operating threshold is chosen on the data, none when fixed.
TUNED = "tuned"


class Row(NamedTuple):
    """One figure of the report.

    ``figure`` is the name in the report (and the engine's key within the
    section); ``"{:g}"`` in it is filled with each of the ``each`` targets.
    ``interval`` is None (no interval: a count), :data:`BOOTSTRAP`, :data:`TUNED`,
    a :class:`Wilson` or a :class:`Reciprocal`.
    """

    figure: str
    label: str
    interval: Any
    each: str | None = None


def _w(successes: str | tuple[str, ...], failures: str | tuple[str, ...]) -> Wilson:
    def names(x: str | tuple[str, ...]) -> tuple[str, ...]:
        return (x,) if isinstance(x, str) else x

    return Wilson(names(successes), names(failures))


_ONE_VS_REST = (
    Row("sensitivity", "sensitivity", _w("tp", "fn")),
    Row("specificity", "specificity", _w("tn", "fp")),
    Row("ppv", "PPV", _w("tp", "fp")),
    Row("npv", "NPV", _w("tn", "fn")),
)

#: Every figure of the report, section by section, in the order shown.
TABLE: dict[str, tuple[Row, ...]] = {
    "per_class": (
        Row("support", "support", None),
        *_ONE_VS_REST,
        Row("f1", "F1", BOOTSTRAP),
        Row("roc_auc", "ROC AUC", BOOTSTRAP),
        Row("average_precision", "average precision", BOOTSTRAP),
    ),
    "overall": (
        Row("accuracy", "accuracy", _w("correct", "incorrect")),
        Row("balanced_accuracy", "balanced accuracy", BOOTSTRAP),
        Row("macro_f1", "macro F1", BOOTSTRAP),
        Row("weighted_f1", "weighted F1", BOOTSTRAP),
        Row("macro_roc_auc", "macro ROC AUC (one-vs-rest)", BOOTSTRAP),
        Row("cohen_kappa", "Cohen's kappa", BOOTSTRAP),
        Row("log_loss", "log loss", BOOTSTRAP),
        Row("brier_score", "Brier score", BOOTSTRAP),
        Row("expected_calibration_error", "expected calibration error", BOOTSTRAP),
    ),
    "positive": (
        Row("prevalence", "prevalence in this test set", _w(("tp", "fn"), ("fp", "tn"))),
        Row("roc_auc", "ROC AUC", BOOTSTRAP),
        Row("auc_sens_80", "partial AUC, sensitivity >= 0.8 (ISIC AUC80)", BOOTSTRAP),
        Row("average_precision", "average precision", BOOTSTRAP),
        Row(
            "sensitivity_at_specificity_{:g}",
            "sensitivity at specificity {:g}",
            BOOTSTRAP,
            "fixed_spec",
        ),
        Row(
            "specificity_at_sensitivity_{:g}",
            "specificity at sensitivity {:g}",
            BOOTSTRAP,
            "fixed_sens",
        ),
        Row("threshold", "threshold", TUNED),
        *_ONE_VS_REST,
        Row("number_needed_to_biopsy", "number needed to biopsy (1 / PPV)", Reciprocal("ppv")),
        Row("lr_positive", "likelihood ratio LR+", BOOTSTRAP),
        Row("lr_negative", "likelihood ratio LR-", BOOTSTRAP),
    ),
    # the ISIC scorer's figures, at a probability above 0.5 (see skinlesion.metrics.isic)
    "isic": (
        Row("accuracy", "accuracy", _w(("tp", "tn"), ("fp", "fn"))),
        Row("sensitivity", "sensitivity", _w("tp", "fn")),
        Row("specificity", "specificity", _w("tn", "fp")),
        Row("dice", "dice", BOOTSTRAP),
        Row("ppv", "ppv", _w("tp", "fp")),
        Row("npv", "npv", _w("tn", "fn")),
        Row("auc", "auc", BOOTSTRAP),
        Row("auc_sens_80", "auc_sens_80", BOOTSTRAP),
        Row("ap", "ap", BOOTSTRAP),
    ),
    # on the cases kept when the least-confident share is referred (see metrics.referral)
    "referral": (
        Row("threshold", "refer below confidence", BOOTSTRAP),
        Row("accuracy", "accuracy", BOOTSTRAP),
        Row("balanced_accuracy", "balanced accuracy", BOOTSTRAP),
    ),
    "referral_positive": (
        Row("sensitivity", "sensitivity", BOOTSTRAP),
        Row("specificity", "specificity", BOOTSTRAP),
    ),
    # each subgroup of a metadata column (see metrics.subgroups)
    "subgroup": (
        Row("n", "n", None),
        Row("balanced_accuracy", "balanced accuracy", BOOTSTRAP),
        Row("roc_auc", "ROC AUC", BOOTSTRAP),
    ),
    "subgroup_positive": (
        Row("sensitivity", "sensitivity", _w("tp", "fn")),
        Row("specificity", "specificity", _w("tn", "fp")),
    ),
    "isic_macro": tuple(Row(f, f, BOOTSTRAP) for f in ISIC_FIGURES),
    "isic_aggregate": (Row("balanced_accuracy", "balanced accuracy", BOOTSTRAP),),
}


def expand(section: str, plan: Plan) -> Iterator[tuple[str, Row]]:
    """``(figure name, row)`` of each figure of ``section``, templates filled in."""
    for row in TABLE[section]:
        if row.each is None:
            yield row.figure, row
        else:
            for t in getattr(plan, row.each):
                yield row.figure.format(t), row._replace(label=row.label.format(t))


def label(section: str, figure: str) -> str:
    """The readable name of a figure (as the text, Markdown and HTML tables show it)."""
    for row in TABLE[section]:
        if row.each is None and row.figure == figure:
            return row.label
        if row.each is not None and figure.startswith(row.figure.split("{")[0]):
            return row.label.format(float(figure.rsplit("_", 1)[1]))
    return figure.replace("_", " ")


def estimates(
    section: str,
    prefix: tuple,
    plan: Plan,
    point: dict[tuple, float],
    samples: dict[tuple, np.ndarray],
    confidence: float,
) -> dict[str, Estimate]:
    """The :class:`Estimate` of each figure of ``section``.

    A figure's engine key is ``(*prefix, name)``: ``("overall",)`` or
    ``("per_class", i)`` for class ``i``, for example.
    """
    out: dict[str, Estimate] = {}
    empty = np.empty(0)
    for name, row in expand(section, plan):
        key = (*prefix, name)
        value = point[key]
        kind = row.interval
        if kind is TUNED:
            kind = BOOTSTRAP if plan.target is not None else None
        if kind is None:
            out[name] = Estimate(value)
        elif kind is BOOTSTRAP:
            low, high, n_undefined = percentile_interval(samples.get(key, empty), confidence)
            out[name] = Estimate(value, low, high, "bootstrap", n_undefined)
        elif isinstance(kind, Wilson):
            hits = round(sum(point[(*prefix, c)] for c in kind.successes))
            misses = round(sum(point[(*prefix, c)] for c in kind.failures))
            out[name] = Estimate(value, *wilson_interval(hits, hits + misses, confidence), "wilson")
        else:  # Reciprocal
            of = out[kind.of]
            with np.errstate(divide="ignore", invalid="ignore"):
                high, low = np.divide(1.0, [of.low, of.high])
            out[name] = Estimate(value, float(low), float(high), of.method, of.n_undefined)
    return out


def sections(
    plan: Plan,
    point: dict[tuple, float],
    samples: dict[tuple, np.ndarray],
    confidence: float,
    classes: list,
) -> dict[str, Any]:
    """The report's sections: ``per_class``, ``overall``, ``positive``, ``referral``, ``isic``."""

    def section(name: str, *prefix: Any) -> dict[str, Estimate]:
        return estimates(name, prefix or (name,), plan, point, samples, confidence)

    referral = {}
    for j, fraction in enumerate(plan.referral):
        block = section("referral", "referral", j)
        if plan.referral_mask is not None:
            block.update(section("referral_positive", "referral", j))
        referral[fraction] = block
    return {
        "referral": referral or None,
        "per_class": {c: section("per_class", "per_class", i) for i, c in enumerate(classes)},
        "overall": section("overall"),
        "positive": None if plan.mask is None else section("positive"),
        "isic": {
            "per_category": {c: section("isic", "isic", i) for i, c in enumerate(classes)},
            "macro_average": section("isic_macro"),
            "aggregate": section("isic_aggregate"),
        },
    }
