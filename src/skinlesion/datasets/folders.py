"""Load the class-per-folder layout: ``root/<class name>/<image files>``.

This is the layout of the ISIC "Train/<class>/*.jpg" sets that most notebooks
use, and of Keras' ``image_dataset_from_directory``. The traps it guards
against: hidden folders (``.ipynb_checkpoints``), non-image files, image
endings in upper case, sub-folders that Augmentor leaves inside a class folder
(``<class>/output/``), a folder of splits passed instead of one split, and
corrupt files.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError
from sklearn.utils import Bunch

from skinlesion._hints import fix
from skinlesion._imread import (
    IMAGE_EXTENSIONS,
    ImageReadError,
    Size,
    _bomb_reason,
    _unidentified_reason,
    as_size,
    list_image_files,
)
from skinlesion.datasets._cache import decode_files, resolve_cache_dir

__all__ = ["load_image_folder"]

_ERRORS = ("raise", "warn")


def _check_errors(errors: Any) -> str:
    if errors not in _ERRORS:
        raise ValueError(f"errors must be 'raise' or 'warn', got {errors!r}.")
    return errors


def _check_root(root: str | os.PathLike[str]) -> Path:
    if not isinstance(root, (str, os.PathLike)):
        raise TypeError(
            f"root must be a folder path (str or pathlib.Path), got {type(root).__name__}."
        )
    path = Path(root).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"folder {os.fspath(path)!r} does not exist; check the path.")
    if not path.is_dir():
        raise NotADirectoryError(
            f"{os.fspath(path)!r} is a file, not a folder; pass the folder that holds the images."
        )
    return path


def _subfolders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _scan(folder: Path) -> tuple[list[str], list[str], list[str]]:
    """Image files, sub-folders and other files directly in ``folder``, each sorted.

    Hidden entries are skipped; image files are recognised by their ending in
    any case. One ``os.scandir`` pass (much faster than ``Path`` objects on
    folders of thousands of files).
    """
    images, subs, others = [], [], []
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir():
                subs.append(entry.path)
            elif entry.is_file():
                ext = os.path.splitext(entry.name)[1].lower()
                (images if ext in IMAGE_EXTENSIONS else others).append(entry.path)
    return sorted(images), sorted(subs), sorted(others)


def _count_images(folder: Path) -> int:
    n = 0
    for _dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        n += sum(
            1
            for f in filenames
            if not f.startswith(".") and os.path.splitext(f)[1].lower() in IMAGE_EXTENSIONS
        )
    return n


def _check_header(path: str) -> str | None:
    """Reason why ``path`` is not a readable image (header only), or None."""
    try:
        with Image.open(path) as img:
            img.size  # noqa: B018 - reading the header is the check
    except FileNotFoundError:
        return "no such file"
    except UnidentifiedImageError:
        return _unidentified_reason(path)
    except Image.DecompressionBombError as err:  # an Exception, not an OSError
        return _bomb_reason(err)
    except (OSError, SyntaxError, ValueError) as err:
        return f"corrupt image header ({err})"
    return None


def load_files(
    paths: Sequence[str],
    target: np.ndarray,
    *,
    image_size: Size | None,
    as_paths: bool,
    errors: str,
    cache: bool | str | os.PathLike[str] | None,
    n_jobs: int | None,
) -> tuple[np.ndarray, np.ndarray, list[tuple[str, str]], np.ndarray]:
    """Decode (or check) ``paths``; return data, target, skipped files and the kept mask.

    Shared by the loaders. With ``as_paths=True`` only the file headers are
    checked (fast); the pixels are decoded later, by whoever reads the paths.
    """
    size = as_size(image_size)
    paths = [os.fspath(p) for p in paths]
    if as_paths:
        workers = min(8, os.cpu_count() or 1) if n_jobs is None else n_jobs
        if workers > 1 and len(paths) > 16:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                reasons = list(pool.map(_check_header, paths))
        else:
            reasons = [_check_header(p) for p in paths]
        skipped = [(p, r) for p, r in zip(paths, reasons, strict=True) if r is not None]
        if skipped and errors == "raise":
            raise ImageReadError.from_failures(skipped)
        keep = np.array([r is None for r in reasons], dtype=bool)
        data = np.array([p for p, k in zip(paths, keep, strict=True) if k], dtype=object)
    else:
        images, skipped = decode_files(
            paths, size, errors=errors, cache_dir=resolve_cache_dir(cache), n_jobs=n_jobs
        )
        keep = np.array([im is not None for im in images], dtype=bool)
        kept = [im for im in images if im is not None]
        shapes = {im.shape for im in kept}
        if len(shapes) > 1:
            examples = sorted(shapes)[:3]
            raise ValueError(
                f"the images have {len(shapes)} different sizes (for example {examples}); pass "
                "image_size=... to resize them to one size, or as_paths=True to get file paths."
            )
        if kept:
            data = np.stack(kept)
        else:
            data = np.empty((0, *(size or (0, 0)), 3), dtype=np.uint8)
    if skipped:
        listed = "; ".join(f"{p} ({r})" for p, r in skipped[:5])
        more = f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
        warnings.warn(
            f"skipped {len(skipped)} unreadable image file(s): {listed}{more}. Remove or "
            "replace them; they are listed in the result's 'skipped'.",
            UserWarning,
            stacklevel=3,
        )
    return data, np.asarray(target)[keep], skipped, keep


def load_image_folder(
    root: str | os.PathLike[str],
    image_size: Size | None = None,
    *,
    as_paths: bool = False,
    errors: str = "raise",
    cache: bool | str | os.PathLike[str] | None = None,
    n_jobs: int | None = None,
) -> Bunch:
    """Load images stored one folder per class: ``root/<class name>/<image>``.

    Parameters
    ----------
    root : str or path-like
        The folder whose sub-folders are the classes, for example ISIC's
        ``Train/`` (``Train/melanoma/ISIC_0000139.jpg``, ...).
    image_size : int or (height, width), default=None
        Resize every image to this size (JPEGs are decoded at a reduced scale
        when the size allows, which is several times faster). ``None`` keeps
        the files' size, which must then be the same for all images.
    as_paths : bool, default=False
        Return the file paths (``paths``) instead of decoded pixels. Only the
        file headers are checked, so this is fast; the classifier decodes the
        paths lazily.
    errors : {"raise", "warn"}, default="raise"
        What to do with a corrupt or unreadable image file: raise an
        :class:`~skinlesion.ImageReadError` naming it, or skip it with a
        warning (the skipped files are listed in ``skipped``).
    cache : bool or path, default=None
        Keep decoded, resized images in an on-disk cache keyed by each file's
        content and the size, so later loads skip decoding. ``True`` uses
        ``$SKINLESION_DATA/decoded`` (default ``~/skinlesion_data/decoded``);
        a path uses that folder; ``None`` or False uses no cache.
    n_jobs : int, default=None
        Decoding threads; ``None`` uses one per CPU core (at most 8).

    Returns
    -------
    data : Bunch
        ``images`` (uint8 array of shape (n, height, width, 3)) or ``paths``
        (1-D object array of str), ``target`` (class name of each image, the
        folder name), ``target_names`` (sorted class names), ``filenames``
        (the file of each image), ``skipped`` (list of ``(path, reason)``),
        ``nested_folders`` (sub-folders inside class folders, not loaded),
        ``ignored_files`` (files that are not images) and ``DESCR``.

    Raises
    ------
    FileNotFoundError, NotADirectoryError
        If ``root`` is missing or is a file.
    ValueError
        If ``root`` has no class folders (or is a folder of splits such as
        ``train/`` and ``test/``), or the images differ in size and no
        ``image_size`` was given.
    ImageReadError
        If a file is corrupt and ``errors="raise"``.

    Notes
    -----
    Image files are recognised by their ending, in any case (``.jpg``,
    ``.JPEG``, ``.png``, ``.bmp``, ``.tif``). Hidden files and folders are
    ignored. Sub-folders inside a class folder (such as the ``output/`` folder
    that Augmentor writes) are *not* loaded, because their augmented copies
    would leak into any test split; a warning names them.

    Examples
    --------
    >>> import numpy as np, pathlib, tempfile
    >>> from PIL import Image
    >>> from skinlesion.datasets import load_image_folder
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for label in ["melanoma", "nevus"]:
    ...     (root / label).mkdir()
    ...     for i in range(2):
    ...         image = np.full((12, 12, 3), 60 * i, dtype=np.uint8)
    ...         Image.fromarray(image).save(root / label / f"{i}.png")
    >>> data = load_image_folder(root, image_size=8)
    >>> data.images.shape, data.target_names.tolist()
    ((4, 8, 8, 3), ['melanoma', 'nevus'])
    >>> load_image_folder(root, as_paths=True).target.tolist()
    ['melanoma', 'melanoma', 'nevus', 'nevus']
    """
    root = _check_root(root)
    errors = _check_errors(errors)
    as_size(image_size)  # validate early
    classes = _subfolders(root)
    loose = list_image_files(root)
    paths: list[str] = []
    target: list[str] = []
    nested: list[str] = []
    ignored: list[str] = []
    empty: list[str] = []
    for folder in classes:
        files, subs, others = _scan(folder)
        if not files and subs:
            nested_classes = [s for s in subs if _scan(Path(s))[0]]
            if nested_classes:
                # a folder of splits (train/, test/) or of groups: one level too high
                split_names = ", ".join(p.name for p in classes[:4])
                raise ValueError(
                    f"{os.fspath(root)!r} holds folders of class folders ({split_names}), not "
                    "class folders: "
                    + fix(
                        f"load one of them, for example load_image_folder({os.fspath(folder)!r}).",
                        cli=f"give one of them, for example {os.fspath(folder)!r}.",
                    )
                )
        nested.extend(subs)
        ignored.extend(others)
        if not files:
            empty.append(folder.name)
            continue
        paths.extend(files)
        target.extend([folder.name] * len(files))
    if not paths:
        if loose:
            raise ValueError(
                f"{os.fspath(root)!r} holds {len(loose)} image file(s) but no class folders; the "
                "layout is root/<class name>/<image>. Move the images into one folder per class "
                + fix(
                    "(or read unlabelled images with skinlesion.images.read_images).",
                    cli="(or predict unlabelled images with `skinlesion predict MODEL FOLDER`).",
                )
            )
        raise ValueError(
            f"no image files found in class folders under {os.fspath(root)!r}; the layout is "
            f"root/<class name>/<image> with endings {sorted(IMAGE_EXTENSIONS)}."
        )
    if nested:
        counts = ", ".join(f"{p} ({_count_images(Path(p))} images)" for p in nested[:5])
        warnings.warn(
            f"{len(nested)} sub-folder(s) inside class folders were not loaded: {counts}. "
            "Augmentor writes its augmented copies to <class>/output/; mixing them in would "
            "leak copies of training images into any test split. Move them out of the class "
            "folder to use them, or delete them.",
            UserWarning,
            stacklevel=2,
        )
    if empty:
        warnings.warn(
            f"class folder(s) without images ignored: {', '.join(empty)}.",
            UserWarning,
            stacklevel=2,
        )
    if loose:
        warnings.warn(
            f"{len(loose)} image file(s) directly in {os.fspath(root)!r} have no class folder and "
            "were not loaded.",
            UserWarning,
            stacklevel=2,
        )
    data, y, skipped, keep = load_files(
        paths,
        np.asarray(target, dtype=object),
        image_size=image_size,
        as_paths=as_paths,
        errors=errors,
        cache=cache,
        n_jobs=n_jobs,
    )
    filenames = np.asarray(paths, dtype=object)[keep]
    y = y.astype(str)
    names = np.unique(y)
    bunch = Bunch(
        target=y,
        target_names=names,
        filenames=filenames,
        skipped=skipped,
        nested_folders=nested,
        ignored_files=ignored,
        DESCR=(
            f"Images loaded from {os.fspath(root)} (one folder per class): {len(y)} images, "
            f"{len(names)} classes ("
            + ", ".join(f"{n}: {int((y == n).sum())}" for n in names)
            + ")."
        ),
    )
    bunch["paths" if as_paths else "images"] = data
    return bunch
