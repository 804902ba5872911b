"""The audit's arguments as parts: a folder, a loader's Bunch or an ``(X, y)`` pair, per split."""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.utils import Bunch

from skinlesion._labels import check_label_values
from skinlesion.datasets.folders import load_image_folder
from skinlesion.datasets.ham10000 import _find_metadata, _index_images, _read_metadata
from skinlesion.images import check_images, is_path_array

# fields of a loader's Bunch that are not one value per image
_NOT_PER_IMAGE = {"target", "filenames", "paths", "images", "target_names", "DESCR", "skipped",
                  "missing", "dropped"}  # fmt: skip


@dataclass
class _Part:
    split: str
    X: Any
    labels: np.ndarray
    is_paths: bool
    names: Sequence[str] | None = None  # file names to read ISIC ids from
    extras: dict[str, Any] = field(default_factory=dict)  # per-image fields to hand back


def _folder_items(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """Paths and labels of a class-per-folder tree, unreadable files included."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the audit reports what the loader warns about
        bunch = load_image_folder(folder, as_paths=True, errors="warn")
    paths = [*bunch.filenames, *(p for p, _ in bunch.skipped)]
    labels = [*bunch.target, *(Path(p).parent.name for p, _ in bunch.skipped)]
    return np.array(paths, dtype=object), np.array(labels, dtype=str)


def _ham10000_metadata(root: Path) -> Path | None:
    """The HAM10000 metadata file of ``root``, if it has HAM10000's columns."""
    try:
        path = _find_metadata(root)
        with open(path, newline="", encoding="utf-8-sig") as fh:
            header = {c.strip().strip('"') for c in re.split("[,\t]", fh.readline())}
    except (FileNotFoundError, OSError, UnicodeDecodeError):
        return None
    return path if {"lesion_id", "image_id", "dx"} <= header else None


def _ham10000_part(root: Path, metadata: Path, split: str) -> _Part:
    """A HAM10000 folder: its images with their ``dx`` codes and lesion ids.

    Files are listed, not opened: the audit reads each file once and reports
    the unreadable ones itself. Metadata rows without an image file are left out.
    """
    columns = _read_metadata(metadata)
    index = _index_images(root)
    rows = [k for k, iid in enumerate(columns["image_id"]) if iid in index]
    paths = np.array([os.fspath(index[columns["image_id"][k]]) for k in rows], dtype=object)
    labels = np.array([columns["dx"][k] for k in rows], dtype=str)
    extras = {
        "groups": np.array([columns["lesion_id"][k] for k in rows], dtype=str),
        "image_ids": np.array([columns["image_id"][k] for k in rows], dtype=str),
    }
    return _Part(split, paths, labels, True, names=list(paths), extras=extras)


def _as_parts(dataset: Any, split: str) -> list[_Part]:
    """Turn one audit argument into its parts (one per split)."""
    if isinstance(dataset, (str, os.PathLike)):
        root = Path(dataset)
        if root.is_dir() and (metadata := _ham10000_metadata(root)) is not None:
            return [_ham10000_part(root, metadata, split)]
        try:
            X, y = _folder_items(root)
            return [_Part(split, X, y, True, names=list(X))]
        except ValueError as err:
            if "folders of class folders" not in str(err):
                raise
        subs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
        parts = []
        for sub in subs:
            X, y = _folder_items(sub)
            parts.append(_Part(sub.name, X, y, True, names=list(X)))
        return parts
    if isinstance(dataset, (Bunch, dict)):
        labels = dataset.get("target")
        for key in ("filenames", "paths", "images"):
            if key in dataset and (key != "filenames" or "images" not in dataset):
                X = dataset[key]
                break
        else:
            raise ValueError(
                "a data set given as a Bunch needs 'paths', 'filenames' or 'images' and 'target', "
                "as the skinlesion.datasets loaders return."
            )
        if labels is None:
            raise ValueError("the Bunch has no 'target' (class labels).")
        (part,) = _as_parts((X, labels), split)
        n = len(part.labels)
        if "filenames" in dataset and len(dataset["filenames"]) == n:
            part.names = [os.fspath(f) for f in dataset["filenames"]]
        for key, value in dataset.items():
            if key not in _NOT_PER_IMAGE and _per_image(value, n):
                part.extras[key] = value
        return [part]
    if isinstance(dataset, tuple) and len(dataset) == 2:
        X, y = dataset
        y = check_label_values(y).astype(str)
        X = check_images(X)  # paths become a 1-D object array, pixels uint8 RGB
        paths = is_path_array(X)
        if len(X) != len(y):
            raise ValueError(f"X has {len(X)} images but y has {len(y)} labels.")
        return [_Part(split, X, y, paths, names=list(X) if paths else None)]
    raise TypeError(
        "audit() takes a folder path (one sub-folder per class, a folder of split folders "
        "such as ISIC 2017's, or a HAM10000 folder), a Bunch from a skinlesion.datasets loader, "
        f"or an (X, y) pair of images (array or paths) and labels; got {type(dataset).__name__}."
    )


def _per_image(value: Any, n: int) -> bool:
    if isinstance(value, dict):
        return bool(value) and all(_per_image(v, n) for v in value.values())
    if hasattr(value, "iloc") or isinstance(value, np.ndarray):
        return len(value) == n
    return False


def _check_label_map(label_map: Any) -> dict[str, str] | None:
    if label_map is None:
        return None
    if not isinstance(label_map, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in label_map.items()
    ):
        raise ValueError(
            "label_map must be a dict from your class names to names of the same diagnoses "
            f"(strings to strings, e.g. {{'cancer': 'melanoma'}}), got {label_map!r}."
        )
    return dict(label_map)
