"""Load HAM10000: a flat folder of images plus ``HAM10000_metadata.csv``.

HAM10000 (Tschandl et al. 2018, doi:10.7910/DVN/DBW86T) holds several images of
the same lesion (``lesion_id``). A split that ignores this puts photographs of
one lesion on both sides and overstates accuracy, so the loader returns
``groups`` (the lesion ids) for scikit-learn's group-aware splitters.
"""

from __future__ import annotations

import csv
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.utils import Bunch

from skinlesion._hints import fix
from skinlesion.datasets.folders import _check_errors, _check_root, load_files
from skinlesion.images import Size, as_size, list_image_files

__all__ = ["HAM10000_CLASSES", "load_ham10000"]

#: HAM10000 diagnosis codes (``dx``) and their readable names.
HAM10000_CLASSES: dict[str, str] = {
    "akiec": "actinic keratosis",
    "bcc": "basal cell carcinoma",
    "bkl": "benign keratosis",
    "df": "dermatofibroma",
    "mel": "melanoma",
    "nv": "melanocytic nevus",
    "vasc": "vascular lesion",
}

_METADATA_NAMES = ("HAM10000_metadata.csv", "HAM10000_metadata.tab", "HAM10000_metadata")
_IMAGE_FOLDERS = ("images", "HAM10000_images_part_1", "HAM10000_images_part_2", "HAM10000_images")
_REQUIRED = ("lesion_id", "image_id", "dx")
_COLUMNS = ("lesion_id", "image_id", "dx", "dx_type", "age", "sex", "localization")


def _find_metadata(root: Path) -> Path:
    for name in _METADATA_NAMES:
        if (root / name).is_file():
            return root / name
    candidates = sorted(root.glob("*metadata*.csv"))
    if len(candidates) == 1:
        return candidates[0]
    raise FileNotFoundError(
        f"no HAM10000_metadata.csv in {os.fspath(root)!r}. The HAM10000 layout is "
        "root/HAM10000_metadata.csv with the images in root/images/ (or the original "
        "HAM10000_images_part_1/ and _part_2/); skinlesion.datasets.fetch_ham10000 downloads it."
    )


def _read_metadata(path: Path) -> dict[str, list[str]]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        sample = fh.read(4096)
        fh.seek(0)
        delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
        reader = csv.DictReader(fh, delimiter=delimiter)
        fields = [f.strip().strip('"') for f in (reader.fieldnames or [])]
        missing = [c for c in _REQUIRED if c not in fields]
        if missing:
            raise ValueError(
                f"{os.fspath(path)!r} lacks the column(s) {missing}; HAM10000 metadata has "
                f"the columns {list(_COLUMNS)}."
            )
        reader.fieldnames = fields
        columns: dict[str, list[str]] = {c: [] for c in _COLUMNS}
        for row in reader:
            for c in _COLUMNS:
                columns[c].append((row.get(c) or "").strip().strip('"'))
    return columns


def _index_images(root: Path) -> dict[str, Path]:
    index: dict[str, Path] = {}
    folders = [root / name for name in _IMAGE_FOLDERS if (root / name).is_dir()] + [root]
    for folder in folders:
        for path in list_image_files(folder):
            index.setdefault(path.stem, path)
    return index


def _age(values: list[str]) -> np.ndarray:
    out = np.full(len(values), np.nan)
    for i, v in enumerate(values):
        try:
            out[i] = float(v)
        except ValueError:
            pass
    return out


def load_ham10000(
    root: str | os.PathLike[str],
    image_size: Size | None = None,
    *,
    as_paths: bool = False,
    labels: str = "code",
    as_frame: bool = False,
    errors: str = "raise",
    cache: bool | str | os.PathLike[str] | None = None,
    n_jobs: int | None = None,
) -> Bunch:
    """Load HAM10000 (or a part of it) with its metadata and lesion groups.

    Parameters
    ----------
    root : str or path-like
        Folder with ``HAM10000_metadata.csv`` and the images in ``images/``
        (or the original ``HAM10000_images_part_1/`` and ``_part_2/``, or
        ``root`` itself). Images are matched to the metadata by ``image_id``.
    image_size : int or (height, width), default=None
        Resize every image to this size; ``None`` keeps the files' size
        (600 x 450 in the original release).
    as_paths : bool, default=False
        Return file paths (``paths``) instead of decoded pixels (``images``).
    labels : {"code", "name"}, default="code"
        ``target`` as HAM10000's ``dx`` codes ("mel", "nv", ...) or as readable
        names ("melanoma", "melanocytic nevus", ...; see ``HAM10000_CLASSES``).
    as_frame : bool, default=False
        Also return the metadata as a pandas DataFrame in ``frame`` (needs pandas).
    errors : {"raise", "warn"}, default="raise"
        What to do with an unreadable image: raise, or skip it with a warning.
    cache : bool or path, default=None
        On-disk cache of decoded images (see :func:`load_image_folder`).
    n_jobs : int, default=None
        Decoding threads; ``None`` uses one per CPU core (at most 8).

    Returns
    -------
    data : Bunch
        ``images`` or ``paths``; ``target``; ``target_names``; ``groups`` (the
        ``lesion_id`` of each image); ``image_ids``; ``metadata`` (a dict of
        arrays: lesion_id, image_id, dx, dx_type, age, sex, localization);
        ``filenames``; ``skipped``; ``missing`` (image ids listed in the
        metadata without an image file); ``frame`` if ``as_frame``; ``DESCR``.

    Notes
    -----
    Several images show the same lesion. Split by lesion, never by image, or
    the test score is inflated by near-copies of training images: use
    ``groups`` with :class:`~sklearn.model_selection.StratifiedGroupKFold` (or
    :class:`~sklearn.model_selection.GroupShuffleSplit`), as in the example.
    Metadata rows whose image file is absent (a partial copy of the data set)
    are dropped with a warning and listed in ``missing``.

    Examples
    --------
    Split by lesion so that no lesion is on both sides:

    >>> from sklearn.model_selection import StratifiedGroupKFold
    >>> from skinlesion.datasets import load_ham10000
    >>> data = load_ham10000("path/to/ham10000", as_paths=True)  # doctest: +SKIP
    >>> cv = StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=0)  # doctest: +SKIP
    >>> train, test = next(cv.split(data.paths, data.target, groups=data.groups))  # doctest: +SKIP
    >>> set(data.groups[train]) & set(data.groups[test])  # doctest: +SKIP
    set()
    """
    root = _check_root(root)
    errors = _check_errors(errors)
    if labels not in ("code", "name"):
        raise ValueError(f"labels must be 'code' or 'name', got {labels!r}.")
    as_size(image_size)
    meta = _read_metadata(_find_metadata(root))
    if not meta["image_id"]:
        raise ValueError(f"the metadata in {os.fspath(root)!r} lists no images.")
    unknown = sorted(set(meta["dx"]) - set(HAM10000_CLASSES))
    if unknown and labels == "name":
        raise ValueError(
            f"unknown diagnosis code(s) {unknown} in the metadata; "
            + fix(
                "use labels='code' to keep them as they are",
                cli="correct the dx column of the metadata",
            )
            + f" (known codes: {sorted(HAM10000_CLASSES)})."
        )
    index = _index_images(root)
    found = np.array([iid in index for iid in meta["image_id"]], dtype=bool)
    missing = [iid for iid, ok in zip(meta["image_id"], found, strict=True) if not ok]
    if not found.any():
        raise FileNotFoundError(
            f"none of the {len(found)} images listed in the metadata were found under "
            f"{os.fspath(root)!r} (looked in {', '.join(_IMAGE_FOLDERS)} and the folder itself "
            "for <image_id>.jpg)."
        )
    if missing:
        warnings.warn(
            f"{len(missing)} of {len(found)} images listed in the metadata have no image file "
            f"(for example {missing[:3]}); they are left out and listed in 'missing'.",
            UserWarning,
            stacklevel=2,
        )
    columns: dict[str, Any] = {
        c: np.asarray(meta[c], dtype=object)[found] for c in _COLUMNS if c != "age"
    }
    columns["age"] = _age(meta["age"])[found]
    paths = [os.fspath(index[iid]) for iid in columns["image_id"]]
    data, _, skipped, keep = load_files(
        paths,
        np.arange(len(paths)),
        image_size=image_size,
        as_paths=as_paths,
        errors=errors,
        cache=cache,
        n_jobs=n_jobs,
    )
    columns = {c: v[keep] for c, v in columns.items()}
    dx = columns["dx"].astype(str)
    target = np.array([HAM10000_CLASSES[d] for d in dx], dtype=str) if labels == "name" else dx
    names = np.unique(target)
    bunch = Bunch(
        target=target,
        target_names=names,
        groups=columns["lesion_id"].astype(str),
        image_ids=columns["image_id"].astype(str),
        metadata=columns,
        filenames=np.asarray(paths, dtype=object)[keep],
        skipped=skipped,
        missing=missing,
        DESCR=(
            f"HAM10000 images from {os.fspath(root)}: {len(target)} images of "
            f"{len(set(columns['lesion_id']))} lesions, classes "
            + ", ".join(f"{n}: {int((target == n).sum())}" for n in names)
            + ". Tschandl P. et al., Sci Data 5, 180161 (2018), doi:10.7910/DVN/DBW86T; "
            "CC BY-NC-SA 4.0. Split by 'groups' (lesion id), never by image."
        ),
    )
    bunch["paths" if as_paths else "images"] = data
    if as_frame:
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - pandas is usually present
            raise ImportError("as_frame=True needs pandas: pip install pandas") from None
        bunch["frame"] = pd.DataFrame({c: columns[c] for c in _COLUMNS})
    return bunch
