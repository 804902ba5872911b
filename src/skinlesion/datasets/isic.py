"""Load the ISIC 2017 challenge (part 3) layout: ``<subset>/<class>/`` plus ``labels.csv``."""

from __future__ import annotations

import csv
import os
import warnings
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from skinlesion.datasets.folders import _check_root, load_image_folder
from skinlesion.images import Size

__all__ = ["load_isic2017"]


def load_isic2017(
    root: str | os.PathLike[str],
    subset: str = "train",
    image_size: Size | None = None,
    *,
    as_paths: bool = False,
    errors: str = "raise",
    cache: bool | str | os.PathLike[str] | None = None,
    n_jobs: int | None = None,
) -> Bunch:
    """Load one subset of the ISIC 2017 challenge (melanoma, nevus, seborrheic keratosis).

    Parameters
    ----------
    root : str or path-like
        Folder with ``train/``, ``val/`` (and ``test/`` where present), each
        holding one folder per class, and optionally ``labels.csv`` (columns
        ``split, image_id, ..., label``), which is checked against the folders.
    subset : {"train", "val", "test"}, default="train"
        Which part to load.
    image_size, as_paths, errors, cache, n_jobs
        As in :func:`load_image_folder`.

    Returns
    -------
    data : Bunch
        As :func:`load_image_folder`, with class names written with spaces
        ("seborrheic keratosis") and ``image_ids`` (ISIC ids) added.

    Examples
    --------
    >>> from skinlesion.datasets import load_isic2017
    >>> data = load_isic2017("path/to/isic2017", "val", image_size=64)  # doctest: +SKIP
    >>> list(data.target_names)  # doctest: +SKIP
    ['melanoma', 'nevus', 'seborrheic keratosis']
    """
    root = _check_root(root)
    if subset not in ("train", "val", "test"):
        raise ValueError(f"subset must be 'train', 'val' or 'test', got {subset!r}.")
    folder = root / subset
    if not folder.is_dir():
        present = sorted(
            p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")
        )
        raise FileNotFoundError(
            f"no {subset!r} folder in {os.fspath(root)!r} (found: {present}); the ISIC 2017 "
            "layout is root/<subset>/<class>/<image>."
        )
    data = load_image_folder(
        folder, image_size, as_paths=as_paths, errors=errors, cache=cache, n_jobs=n_jobs
    )
    data.target = np.char.replace(data.target.astype(str), "_", " ")
    data.target_names = np.unique(data.target)
    data.image_ids = np.array([Path(f).stem for f in data.filenames], dtype=str)
    labels_csv = root / "labels.csv"
    if labels_csv.is_file():
        with open(labels_csv, newline="", encoding="utf-8-sig") as fh:
            rows = [r for r in csv.DictReader(fh) if r.get("split", subset) == subset]
        listed = {r["image_id"]: r["label"].replace("_", " ") for r in rows if "label" in r}
        disagree = [
            iid
            for iid, label in zip(data.image_ids, data.target, strict=True)
            if iid in listed and listed[iid] != label
        ]
        if disagree:
            warnings.warn(
                f"{len(disagree)} image(s) sit in a class folder that disagrees with "
                f"labels.csv (for example {disagree[:3]}); the folder names were used.",
                UserWarning,
                stacklevel=2,
            )
    data.DESCR = (
        f"ISIC 2017 challenge part 3, {subset} subset, from {os.fspath(root)}: "
        f"{len(data.target)} images ("
        + ", ".join(f"{n}: {int((data.target == n).sum())}" for n in data.target_names)
        + "). Codella N. et al., ISBI 2018; ISIC Archive, CC-BY-NC / CC-0 per image."
    )
    return data
