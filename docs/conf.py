"""Sphinx configuration of the skinlesion documentation.

Build it (warnings are errors) with::

    pip install -e ".[docs]"
    sphinx-build -W --keep-going -b html docs docs/_build/html

The gallery (``examples/plot_*.py``) runs at build time on synthetic data. Skip it
for a quick build of the text with ``-D plot_gallery=0``. Examples that need real
images (``examples/real_*.py``) are shown but not run, unless the folder they read
is named in ``SKINLESION_ISIC_DIR``.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")
# Keep the examples' TensorFlow to the cores we have (2 on CI).
os.environ.setdefault("SKINLESION_NUM_THREADS", str(min(4, os.cpu_count() or 1)))

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # _gallery_order

import skinlesion

# -- project -----------------------------------------------------------------------------
project = "skinlesion"
author = "The skinlesion developers"
copyright = "2026, The skinlesion developers"
release = skinlesion.__version__
version = ".".join(release.split(".")[:2])

# -- general -----------------------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = [
    "_build",
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "auto_examples/*.zip",
    "auto_examples/*.md5",
    "auto_examples/*.codeobj.json",
]
templates_path = ["_templates"]
default_role = "py:obj"
nitpicky = False
myst_heading_anchors = 3
suppress_warnings = [
    # CHANGELOG.md links to keepachangelog.com etc.; they are ordinary URLs.
    "myst.xref_missing",
]

# -- autodoc / autosummary / numpydoc ----------------------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": True, "inherited-members": False, "show-inheritance": False}
autodoc_typehints = "none"  # numpydoc shows the types from the docstrings
autodoc_mock_imports: list[str] = []
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# -- HTML --------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skinlesion {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_theme_options = {
    "github_url": "https://github.com/skinlesion/skinlesion",
    "navbar_align": "left",
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc", "sourcelink"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_context = {"default_mode": "light"}
html_show_sourcelink = True

# -- sphinx-gallery ----------------------------------------------------------------------
# Examples named plot_*.py run on synthetic data in seconds; real_*.py need real
# images and run only when the folder they read is given.
_RUN = r"plot_"
if os.environ.get("SKINLESION_ISIC_DIR"):
    _RUN = r"(plot_|real_)"

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": rf"/{_RUN}",
    "ignore_pattern": r"(__init__|conftest)\.py",
    "within_subsection_order": "_gallery_order.ExampleOrder",
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "remove_config_comments": True,
    "doc_module": ("skinlesion",),
    "backreferences_dir": "generated/backreferences",
    "show_memory": False,
    "min_reported_time": 1,
    "download_all_examples": False,
    "promote_jupyter_magic": False,
    "capture_repr": ("_repr_html_",),  # print() what matters; no "<Display object at ...>"
}

# Library warnings printed by examples are not documentation warnings.
warnings.filterwarnings("ignore", category=UserWarning, message=".*Matplotlib.*non-GUI.*")
warnings.filterwarnings("ignore", category=DeprecationWarning)


# -- the command line's --help, rendered from the parser itself ---------------------------
def _setup_cli_help(app):  # type: ignore[no-untyped-def]
    from docutils import nodes
    from docutils.parsers.rst import Directive, directives

    class CommandHelp(Directive):
        """``.. skinlesion-help:: train`` renders ``skinlesion train --help``."""

        optional_arguments = 1
        has_content = False
        option_spec = {"class": directives.class_option}

        def run(self):  # type: ignore[no-untyped-def]
            import argparse

            from skinlesion.cli import build_parser

            parser = build_parser()
            if self.arguments:
                actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
                parser = actions[0].choices[self.arguments[0]]
            os.environ["COLUMNS"] = "88"
            text = parser.format_help()
            node = nodes.literal_block(text, text)
            node["language"] = "text"
            return [node]

    app.add_directive("skinlesion-help", CommandHelp)


def _skip_member(app, what, name, obj, skip, options):  # type: ignore[no-untyped-def]
    # scikit-learn's metadata-routing setters (set_fit_request, ...) are generated for
    # every estimator; their docstrings point into scikit-learn's own documentation.
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):  # type: ignore[no-untyped-def]
    _setup_cli_help(app)
    app.connect("autodoc-skip-member", _skip_member)
    return {"parallel_read_safe": True}
