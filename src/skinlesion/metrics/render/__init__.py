"""Rendering of a :class:`~skinlesion.metrics.ClinicalReport`: text, Markdown and HTML.

The report holds the figures; this package only arranges them. :mod:`._layout`
turns a report into an intro and tables of text cells, which :mod:`.text` prints
as aligned columns or Markdown and :mod:`.html` as a self-contained page with the
plots embedded (or a fragment for notebooks).
"""

from __future__ import annotations

from skinlesion.metrics.render.html import to_html, to_html_fragment
from skinlesion.metrics.render.text import to_markdown, to_text

__all__ = ["to_html", "to_html_fragment", "to_markdown", "to_text"]
