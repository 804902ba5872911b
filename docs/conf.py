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
    "sphinx.ext.intersphinx",
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
nitpicky = True  # every cross-reference must resolve (see intersphinx below)
myst_heading_anchors = 3
suppress_warnings = [
    # CHANGELOG.md links to keepachangelog.com etc.; they are ordinary URLs.
    "myst.xref_missing",
]

# -- autodoc / autosummary / numpydoc ----------------------------------------------------
autosummary_generate = True
autosummary_imported_members = True
# No "inherited-members" here: a boolean default overrides the directive's own value, and
# the estimator template (_templates/autosummary/estimator.rst) sets it for the
# classifier, whose methods live on its mixins. Left out, it is off, as before.
autodoc_default_options = {"members": True, "show-inheritance": False}
autodoc_typehints = "none"  # numpydoc shows the types from the docstrings
autodoc_mock_imports: list[str] = []
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# -- intersphinx -------------------------------------------------------------------------
# Links into the documentation of the libraries we build on. Keras publishes no Sphinx
# inventory (keras.io is not built with Sphinx) and TensorFlow none of its own: GPflow's
# tensorflow-intersphinx inventory points into tensorflow.org's API pages.
#
# conf.py fetches each inventory itself (10 s timeout, all at once) into
# docs/_build/inventories/ and hands intersphinx only the local files it has, so that
# an offline build does not fail on intersphinx's "failed to reach any of the
# inventories" warning (it has no type that suppress_warnings could name). A copy
# fetched before is reused for a day, and offline for ever. References into a
# library whose inventory could not be had are let through unlinked
# (nitpick_ignore_regex below, for that library's namespace only), so the build
# still fails on any reference of our own that does not resolve.
# SKINLESION_DOCS_OFFLINE=1 skips the fetching (and links nothing outside).
_INVENTORIES = {
    # name: (documentation URL, inventory URL or None for URL/objects.inv, namespace)
    "python": (
        "https://docs.python.org/3",
        None,
        r"(builtins\.)?(None|True|False|NotImplemented|Ellipsis|bool|bytes|callable|dict|float"
        r"|int|list|object|range|set|slice|str|tuple|type|[A-Z]\w*(Error|Exception|Warning)"
        r"|KeyboardInterrupt|SystemExit)|(os|pathlib|collections|typing|concurrent|"
        r"contextlib|zipfile|json|logging|argparse|warnings|tempfile|io|re)(\..*)?",
    ),
    "numpy": ("https://numpy.org/doc/stable", None, r"(numpy|np)(\..*)?"),
    "scipy": ("https://docs.scipy.org/doc/scipy", None, r"scipy(\..*)?"),
    "sklearn": ("https://scikit-learn.org/stable", None, r"sklearn(\..*)?"),
    "imblearn": ("https://imbalanced-learn.org/stable", None, r"imblearn(\..*)?"),
    "matplotlib": (
        "https://matplotlib.org/stable",
        None,
        r"(matplotlib|mpl|plt)(\..*)?",
    ),
    "pandas": ("https://pandas.pydata.org/docs", None, r"(pandas|pd)(\..*)?"),
    "tensorflow": (
        "https://www.tensorflow.org/api_docs/python",
        "https://github.com/GPflow/tensorflow-intersphinx/raw/master/tf2_py_objects.inv",
        r"(tensorflow|tf)(\..*)?",
    ),
}
_INVENTORY_CACHE = ROOT / "docs" / "_build" / "inventories"


def _fetch_inventory(name: str, url: str, inventory: str | None) -> Path | None:
    """A local copy of ``name``'s objects.inv, fetched now or before; None if none."""
    import time
    import urllib.request

    path = _INVENTORY_CACHE / f"{name}.inv"
    if path.is_file() and time.time() - path.stat().st_mtime < 24 * 3600:
        return path
    try:
        with urllib.request.urlopen(inventory or f"{url}/objects.inv", timeout=10) as response:
            data = response.read()
    except OSError:
        return path if path.is_file() else None  # offline: an old copy beats none
    if not data.startswith(b"# Sphinx inventory version"):
        return path if path.is_file() else None
    _INVENTORY_CACHE.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _intersphinx() -> tuple[dict, list]:
    from concurrent.futures import ThreadPoolExecutor

    if os.environ.get("SKINLESION_DOCS_OFFLINE"):
        found: list[Path | None] = [None] * len(_INVENTORIES)
    else:
        with ThreadPoolExecutor(len(_INVENTORIES)) as pool:
            found = list(pool.map(lambda item: _fetch_inventory(item[0], *item[1][:2]),
                                  _INVENTORIES.items()))  # fmt: skip
    mapping, ignore = {}, []
    for (name, (url, _, namespace)), path in zip(_INVENTORIES.items(), found, strict=True):
        if path is not None:
            mapping[name] = (url, str(path))
        else:
            ignore.append((r"py:.*", namespace))
    return mapping, ignore


intersphinx_mapping, _unlinked_namespaces = _intersphinx()
nitpick_ignore_regex = [
    *_unlinked_namespaces,
    # a base class that imbalanced-learn's API reference may not list ("Bases:" of
    # Rebalancer and Augmenter); linked when its inventory has it
    (r"py:class", r"imblearn\.base\.BaseSampler"),
]

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


def _public_bases(app, name, obj, options, bases):  # type: ignore[no-untyped-def]
    # "Bases:" names no private class (skinlesion.sampling._base.ImageSampler,
    # skinlesion.model._training.TrainingMixin): its public
    # ancestors stand in for it, so every base is a link.
    public = []
    for base in bases:
        pending = [base]
        while pending:
            cls = pending.pop(0)
            module = getattr(cls, "__module__", "")
            if module.startswith("skinlesion") and any(
                part.startswith("_") for part in module.split(".")
            ):
                pending[:0] = list(cls.__bases__)
            elif cls is not object and cls not in public:
                public.append(cls)
    bases[:] = public


def setup(app):  # type: ignore[no-untyped-def]
    _setup_cli_help(app)
    app.connect("autodoc-skip-member", _skip_member)
    app.connect("autodoc-process-bases", _public_bases)
    return {"parallel_read_safe": True}
