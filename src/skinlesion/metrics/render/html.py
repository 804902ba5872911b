"""A :class:`~skinlesion.metrics.ClinicalReport` as one self-contained HTML page.

Styles are inline and plots are PNG images embedded as ``data:`` URIs, so the
file can be mailed or archived alone: it loads nothing from anywhere.
"""

from __future__ import annotations

import base64
import html
import io
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from skinlesion.metrics._validation import external_stacklevel
from skinlesion.metrics.render._layout import intro, tables

_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 1200px; color: #222; line-height: 1.4; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.6em 0 1.2em; font-size: 0.9em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25em 0.7em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f3f4f6; }
ul.intro { color: #444; } ul.about { list-style: none; padding: 0; }
figure { margin: 1em 0; } figcaption { color: #555; font-size: 0.9em; }
img { max-width: 100%; }
"""


def _figure_to_data_uri(fig: Any) -> str:
    from skinlesion.metrics.displays._common import pyplot

    plt = pyplot()

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(x)}</td>" for x in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _plots(report: Any) -> list[tuple[str, str]]:
    """(caption, data URI) of every plot that can be drawn for ``report``."""
    from skinlesion.metrics import displays as d

    s = report.settings
    makers: list[tuple[str, Callable[[], Any]]] = [
        (
            "Confusion matrix: counts, and each true class's share per prediction.",
            lambda: d.ConfusionMatrixDisplay.from_probabilities(
                report.y_true, report.y_score, classes=report.classes
            ),
        ),
        (
            f"One-vs-rest ROC curves with a {100 * s['confidence']:g} % bootstrap band"
            + (" and the operating point." if report.positive is not None else "."),
            lambda: d.RocCurveDisplay.from_predictions(
                report.y_true,
                report.y_score,
                classes=report.classes,
                positive=report.positive_classes,
                threshold=None if report.positive is None else report.positive["threshold"].value,
                n_bootstraps=min(s["n_bootstraps"], 200),
                confidence=s["confidence"],
                random_state=s["random_state"] if isinstance(s["random_state"], int) else 0,
            ),
        ),
        (
            f"Reliability diagram (top label, {s['n_bins']} bins).",
            lambda: d.ReliabilityDisplay.from_predictions(
                report.y_true, report.y_score, classes=report.classes, n_bins=s["n_bins"]
            ),
        ),
    ]
    if report.referral:
        makers.append(
            (
                "Referral curve: figures on the cases kept as the least-confident are referred.",
                lambda: d.ReferralCurveDisplay.from_predictions(
                    report.y_true,
                    report.y_score,
                    classes=report.classes,
                    positive=report.positive_classes,
                    threshold=(
                        0.5 if report.positive is None else report.positive["threshold"].value
                    ),
                    marks=list(report.referral),
                ),
            )
        )
    for column in report.subgroups or {}:
        makers.append(
            (
                f"Subgroups by {column}: each figure with its {100 * s['confidence']:g} % "
                "interval; the dashed line is the whole test set.",
                lambda column=column: d.SubgroupDisplay.from_report(report, column),
            )
        )
    if report.history:
        makers.append(
            ("Training history.", lambda: d.TrainingHistoryDisplay.from_history(report.history))
        )
    if report.images is not None:
        makers.append(
            (
                "Most confident mistakes (true and predicted class, probability).",
                lambda: d.WorstMistakesDisplay.from_predictions(
                    report.images, report.y_true, report.y_score, classes=report.classes
                ),
            )
        )
    maps = report.saliency
    if maps is not None and len(maps["indices"]):
        makers.append(
            (
                f"Where the network looked in its {len(maps['indices'])} most confident "
                "mistakes: Grad-CAM of the wrong class predicted (true class, predicted "
                "class and its probability above each image).",
                lambda: _saliency_display(maps),
            )
        )
    out = []
    for caption, make in makers:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                disp = make()
        except (ValueError, OSError) as err:  # e.g. image files moved since the report
            warnings.warn(
                f"could not draw a plot for the HTML report ({err}); it is left out.",
                UserWarning,
                stacklevel=external_stacklevel(),
            )
            continue
        out.append((caption, _figure_to_data_uri(disp.figure_)))
    return out


def _saliency_display(maps: Mapping[str, Any]) -> Any:
    from skinlesion.inspection import SaliencyDisplay
    from skinlesion.metrics.displays._common import wrap_text

    titles = [
        f"true: {wrap_text(t, 18)}\npred: {wrap_text(p, 18)} ({q:.2f})"
        for t, p, q in zip(maps["true"], maps["predicted"], maps["probability"], strict=True)
    ]
    return SaliencyDisplay(maps["images"], maps["maps"], titles=titles).plot()


def _intro(report: Any) -> str:
    return (
        '<ul class="intro">'
        + "".join(f"<li>{html.escape(x)}</li>" for x in intro(report))
        + "</ul>"
    )


def to_html_fragment(report: Any) -> str:
    """The intro and tables as an HTML fragment (for notebooks: ``_repr_html_``)."""
    parts = [_intro(report)]
    for table_title, header, rows in tables(report):
        parts.append(f"<h4>{html.escape(table_title)}</h4>")
        parts.append(_table(header, rows))
    return "<div>" + "\n".join(parts) + "</div>"


def _about(about: Mapping[str, Any] | None) -> list[str]:
    if not about:
        return []
    items = "".join(
        f"<li><b>{html.escape(str(k))}</b>: {html.escape(str(v))}</li>" for k, v in about.items()
    )
    return [f'<ul class="about">{items}</ul>']


def to_html(report: Any, *, plots: bool = True, about: Mapping[str, Any] | None = None) -> str:
    """The page as a string (``ClinicalReport.to_html`` writes it to a file)."""
    title = "Clinical evaluation report"
    if report.positive_label:
        title += f": {report.positive_label}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        *_about(about),
        _intro(report),
    ]
    for table_title, header, rows in tables(report):
        parts.append(f"<h2>{html.escape(table_title)}</h2>")
        parts.append(_table(header, rows))
    if plots:
        parts.append("<h2>Plots</h2>")
        for caption, uri in _plots(report):
            parts.append(
                f'<figure><img src="{uri}" alt="{html.escape(caption)}">'
                f"<figcaption>{html.escape(caption)}</figcaption></figure>"
            )
        if report.saliency is not None and report.saliency["note"]:
            parts.append(f'<p class="note">{html.escape(report.saliency["note"])}.</p>')
    parts.append(
        "<footer><small>Made with skinlesion.metrics.clinical_report. Figures marked "
        "'wilson' use the Wilson score interval, 'bootstrap' a percentile bootstrap over "
        "images.</small></footer></body></html>"
    )
    return "\n".join(parts)
