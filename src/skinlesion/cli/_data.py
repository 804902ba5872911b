"""Labelled image folders for the commands: layout, loading and the checks on classes."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from skinlesion.cli._common import EXIT_USAGE, CommandError, _check_folder


def _load_labelled(root: Path, *, image_size: int | None = None) -> dict[str, Any]:
    """Load a labelled folder as image paths, in any layout :func:`load_labelled` reads."""
    from skinlesion.datasets import load_labelled
    from skinlesion.images import ImageReadError, find_unreadable_images

    _check_folder(root)
    with warnings.catch_warnings():  # unreadable files are reported below, all together
        warnings.filterwarnings("ignore", message="skipped .* unreadable image file")
        bunch = load_labelled(root, image_size, as_paths=True, errors="warn")
    paths = bunch.paths
    # The loader read the headers only; decode every file once (cheaply) so that
    # truncated files are found too, before TensorFlow starts, and all of them listed.
    unreadable = [*bunch.skipped, *find_unreadable_images(paths)]
    if unreadable:
        raise ImageReadError.from_failures(unreadable)
    if len(paths) == 0:
        raise CommandError(f"no images found in {str(root)!r}")
    return {
        "X": paths,
        "y": bunch.target,
        "groups": bunch.groups,
        "metadata": bunch.metadata,
        "layout": bunch.layout,
        "target_names": list(bunch.target_names),
    }


def _check_no_empty_class(root: Path) -> None:
    """Refuse class folders without images: a class the model could never learn."""
    from skinlesion.datasets import labelled_layout
    from skinlesion.images import list_image_files

    _check_folder(root)
    if labelled_layout(root) != "class-per-folder":
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
