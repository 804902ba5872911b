"""Where data sets and caches live (the one module every loader may import).

Kept apart, as scikit-learn keeps ``get_data_home`` in ``datasets/_base.py``, so
that the decoded-image cache (``_cache``), the loaders (``folders``,
``ham10000``) and the downloads (``fetch``) import downwards only.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["get_data_home"]


def get_data_home(data_home: str | os.PathLike[str] | None = None) -> Path:
    """The folder where downloaded data sets and caches are kept.

    ``data_home`` if given, else the ``SKINLESION_DATA`` environment variable,
    else ``~/skinlesion_data``. The folder is created if missing.

    Examples
    --------
    >>> import tempfile
    >>> from skinlesion.datasets import get_data_home
    >>> folder = tempfile.mkdtemp()
    >>> str(get_data_home(folder)) == folder
    True
    """
    if data_home is None:
        data_home = os.environ.get("SKINLESION_DATA") or Path("~") / "skinlesion_data"
    path = Path(data_home).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path
