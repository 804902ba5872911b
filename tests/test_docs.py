"""The documentation covers the public API, and the gallery examples run.

The full check is the Sphinx build (``sphinx-build -W -b html docs docs/_build/html``),
which CI runs; these tests catch the common drift quickly: a public name missing from
the API reference, a gallery example without its title block or that fails.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXAMPLES = sorted((ROOT / "examples").glob("plot_*.py"))
PUBLIC_MODULES = [
    "skinlesion",
    "skinlesion.datasets",
    "skinlesion.metrics",
    "skinlesion.images",
    "skinlesion.cli",
    "skinlesion.backbones",
    "skinlesion.inspection",
]

pytestmark = pytest.mark.skipif(not DOCS.is_dir(), reason="docs/ is not in this checkout")


def documented_names() -> set[str]:
    """Names listed in the API reference (autosummary entries and autodata targets)."""
    text = (DOCS / "api.rst").read_text()
    names = set(re.findall(r"^   ([A-Za-z_][A-Za-z0-9_]*)\s*$", text, flags=re.MULTILINE))
    names |= set(re.findall(r"^\.\. autodata:: ([A-Za-z_][A-Za-z0-9_]*)", text, re.MULTILINE))
    return names


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_every_public_name_is_in_the_api_reference(module):
    public = set(importlib.import_module(module).__all__) - {"__version__"}
    missing = sorted(public - documented_names())
    assert not missing, f"add these names of {module} to docs/api.rst: {missing}"


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_gallery_example_has_a_title_block(example):
    docstring = ast.get_docstring(ast.parse(example.read_text()))
    assert docstring, f"{example.name} needs a docstring: a title, '=====' and an introduction"
    title, underline, *body = docstring.splitlines()
    assert underline == "=" * len(title), f"{example.name}: underline the title with '='"
    assert any(line.strip() for line in body), f"{example.name}: introduce the example"


def test_user_guide_pages_are_in_the_toctree():
    index = (DOCS / "user_guide" / "index.rst").read_text()
    for page in (DOCS / "user_guide").glob("*.rst"):
        if page.stem != "index":
            assert f"\n   {page.stem}\n" in index, f"{page.name} is not in the user guide"


def test_install_commands_agree_that_there_is_no_release_yet():
    """README and docs install from a checkout; the index only "after the first release"."""
    pages = [ROOT / "README.md", *DOCS.glob("*.rst"), *DOCS.glob("user_guide/*.rst")]
    for page in pages:
        for line in page.read_text().splitlines():
            if re.search(r"pip install [\"']?skinlesion\b", line):
                assert "release" in line, f"{page.name}: {line.strip()}"
    for page in (ROOT / "README.md", DOCS / "install.rst"):
        assert "pip install ." in page.read_text(), page.name
