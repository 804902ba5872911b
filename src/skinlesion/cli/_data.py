"""Labelled image folders for the commands: layout, loading and the checks on classes."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from skinlesion.cli._common import EXIT_USAGE, CommandError, _check_folder


def _is_ham10000(root: Path) -> bool:
    return any(root.glob("*metadata*.csv")) or (root / "HAM10000_metadata.csv").exists()


def _load_labelled(root: Path, *, image_size: int | None = None) -> dict[str, Any]:
    """Load a labelled folder as image paths: class-per-folder or HAM10000 layout."""
    from skinlesion import datasets
    from skinlesion.images import ImageReadError, find_unreadable_images

    _check_folder(root)
    with warnings.catch_warnings():  # unreadable files are reported below, all together
        warnings.filterwarnings("ignore", message="skipped .* unreadable image file")
        if _is_ham10000(root):
            bunch = datasets.load_ham10000(root, as_paths=True, labels="name", errors="warn")
            layout = "HAM10000"
        else:
            bunch = datasets.load_image_folder(root, as_paths=True, errors="warn")
            layout = "class-per-folder"
    paths = bunch.get("paths", bunch.get("images"))
    target = bunch["target"]
    # The loader read the headers only; decode every file once (cheaply) so that
    # truncated files are found too, before TensorFlow starts, and all of them listed.
    unreadable = [*bunch.get("skipped", []), *find_unreadable_images(paths)]
    if unreadable:
        raise ImageReadError.from_failures(unreadable)
    if len(paths) == 0:
        raise CommandError(f"no images found in {str(root)!r}")
    return {
        "X": paths,
        "y": target,
        "groups": bunch.get("groups"),
        "metadata": bunch.get("metadata"),
        "layout": layout,
        "target_names": list(bunch.get("target_names", sorted(set(target)))),
    }


def _check_no_empty_class(root: Path) -> None:
    """Refuse class folders without images: a class the model could never learn."""
    from skinlesion.images import list_image_files

    _check_folder(root)
    if _is_ham10000(root):
        return
    empty = sorted(
        sub.name
        for sub in root.iterdir()
        if sub.is_dir()
        and not sub.name.startswith(".")
        and not list_image_files(sub)
        and not any(p.is_dir() for p in sub.iterdir())  # split folders: the loader explains
    )
    if empty:
        raise CommandError(
            f"class folder(s) without images in {str(root)!r}: {', '.join(empty)}; add "
            "images to them or remove them"
        )


def _check_classes(y: Sequence[Any], root: Path, *, minimum: int = 2) -> None:
    import numpy as np

    names, counts = np.unique(np.asarray(y), return_counts=True)
    if len(names) < 2:
        raise CommandError(
            f"{str(root)!r} holds only one class ({names[0] if len(names) else 'none'}); "
            "training needs images of at least two classes"
        )
    small = [f"{n!r} ({c})" for n, c in zip(names, counts, strict=True) if c < minimum]
    if small:
        raise CommandError(
            f"too few images in class {', '.join(small)} of {str(root)!r}: each class needs "
            f"at least {minimum} images to train"
        )


def _subgroups(columns: list[str], data: dict[str, Any], root: Path) -> dict | None:
    """``{column: values}`` of the ``--by`` columns, from the folder's metadata."""
    if not columns:
        return None
    metadata = data.get("metadata")
    if metadata is None:
        raise CommandError(
            f"--by needs metadata per image, and {str(root)!r} is a {data['layout']} folder; "
            "give a HAM10000 folder (HAM10000_metadata.csv beside images/)",
            status=EXIT_USAGE,
        )
    usable = [c for c in metadata if c not in ("image_id", "lesion_id", "dx")]
    unknown = [c for c in columns if c not in usable]
    if unknown:
        raise CommandError(
            f"--by {unknown[0]!r} is not a metadata column; choose from {', '.join(usable)}",
            status=EXIT_USAGE,
        )
    return {c: metadata[c] for c in dict.fromkeys(columns)}
