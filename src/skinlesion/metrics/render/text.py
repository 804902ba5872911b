"""The report as aligned plain-text tables and as Markdown."""

from __future__ import annotations

from typing import Any

from skinlesion.metrics.render._layout import intro, tables


def to_text(report: Any) -> str:
    """The intro and every table, columns aligned (``str(report)``)."""
    parts = ["\n".join(intro(report))]
    for title, header, rows in tables(report):
        widths = [max(len(x) for x in col) for col in zip(header, *rows, strict=True)]
        lines = [title, "-" * len(title)]
        for r in [header, *rows]:
            first = r[0].ljust(widths[0])
            rest = [x.rjust(w) for x, w in zip(r[1:], widths[1:], strict=True)]
            lines.append("  ".join([first, *rest]).rstrip())
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def to_markdown(report: Any) -> str:
    """The intro as a list and every table as a pipe table."""
    out = ["\n".join(f"- {line}" for line in intro(report))]
    for title, header, rows in tables(report):
        lines = [
            f"### {title}",
            "",
            "| " + " | ".join(header) + " |",
            "|" + "|".join("---" for _ in header) + "|",
        ]
        lines += ["| " + " | ".join(x.replace("|", "\\|") for x in r) + " |" for r in rows]
        out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"
