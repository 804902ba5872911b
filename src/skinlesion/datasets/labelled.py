"""Load a labelled image folder in whichever layout it has: ISIC folders, HAM10000, ISIC 2017."""

from __future__ import annotations

import os

from sklearn.utils import Bunch

from skinlesion._hints import fix
from skinlesion.datasets.folders import _check_root, load_image_folder
from skinlesion.datasets.ham10000 import _METADATA_NAMES, load_ham10000
from skinlesion.datasets.isic import load_isic2017
from skinlesion.images import Size, list_image_files

__all__ = ["labelled_layout", "load_labelled"]

_SUBSETS = ("train", "val", "test")


def labelled_layout(root: str | os.PathLike[str]) -> str:
    """Name the layout of a labelled image folder, as :func:`load_labelled` reads it.

    Parameters
    ----------
    root : str or path-like
        The folder.

    Returns
    -------
    layout : {"HAM10000", "ISIC 2017", "class-per-folder"}
        ``"HAM10000"`` when a metadata CSV lies in ``root``; ``"ISIC 2017"``
        when ``root`` holds ``train/``, ``val/`` or ``test/`` folders of class
        folders; else ``"class-per-folder"`` (nothing is checked further).

    Raises
    ------
    FileNotFoundError, NotADirectoryError
        If ``root`` is missing or is a file.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from skinlesion.datasets import labelled_layout
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> labelled_layout(root)
    'class-per-folder'
    >>> _ = (root / "HAM10000_metadata.csv").write_text("lesion_id,image_id,dx")
    >>> labelled_layout(root)
    'HAM10000'
    """
    root = _check_root(root)
    if any((root / name).is_file() for name in _METADATA_NAMES) or any(root.glob("*metadata*.csv")):
        return "HAM10000"
    subsets = [root / s for s in _SUBSETS if (root / s).is_dir()]
    if any(list_image_files(c) for s in subsets for c in s.iterdir() if c.is_dir()):
        return "ISIC 2017"
    return "class-per-folder"


def load_labelled(
    root: str | os.PathLike[str],
    image_size: Size | None = None,
    *,
    subset: str | None = None,
    as_paths: bool = False,
    errors: str = "raise",
    cache: bool | str | os.PathLike[str] | None = None,
    n_jobs: int | None = None,
) -> Bunch:
    """Load labelled images from a folder in any layout the loaders read.

    The layout is recognised from the folder's contents (:func:`labelled_layout`):

    - ``"HAM10000"``: a metadata CSV (``HAM10000_metadata.csv``) beside the
      images, read by :func:`load_ham10000` with readable class names;
    - ``"ISIC 2017"``: ``train/``, ``val/`` (and ``test/``) folders of class
      folders, read by :func:`load_isic2017`;
    - ``"class-per-folder"``: ``root/<class name>/<image>``, as in the ISIC
      archive, read by :func:`load_image_folder`.

    Parameters
    ----------
    root : str or path-like
        The folder.
    image_size : int or (height, width), default=None
        Resize every image to this size; ``None`` keeps the files' size.
    subset : {"train", "val", "test"}, default=None
        The part of an ISIC 2017 folder to load; it must be given for that
        layout, and only for that one.
    as_paths : bool, default=False
        Return file paths (``paths``) instead of decoded pixels (``images``).
    errors : {"raise", "warn"}, default="raise"
        What to do with an unreadable image: raise, or skip it with a warning.
    cache : bool or path, default=None
        On-disk cache of decoded images (see :func:`load_image_folder`).
    n_jobs : int, default=None
        Decoding threads; ``None`` uses one per CPU core (at most 8).

    Returns
    -------
    data : Bunch
        What the layout's loader returns (``images`` or ``paths``, ``target``,
        ``target_names``, ``filenames``, ``skipped``, ``DESCR``, ...), with
        ``layout`` (one of the names above), ``groups`` (HAM10000's
        ``lesion_id`` of each image, else ``None``) and ``metadata``
        (HAM10000's columns, else ``None``) always present.

    Raises
    ------
    FileNotFoundError, NotADirectoryError
        If ``root`` is missing or is a file.
    ValueError
        If the folder holds no labelled images, or ``subset`` is missing for
        (or given to) a layout that does not fit it.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from PIL import Image
    >>> from skinlesion.datasets import load_labelled, make_lesions
    >>> X, y = make_lesions(n_samples=6, n_classes=2, image_size=16, random_state=0)
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for i, (image, label) in enumerate(zip(X, y)):
    ...     (root / label).mkdir(exist_ok=True)
    ...     Image.fromarray(image).save(root / label / f"{i}.png")
    >>> data = load_labelled(root, as_paths=True)
    >>> data.layout, data.target_names.tolist(), data.groups
    ('class-per-folder', ['melanoma', 'nevus'], None)
    >>> load_labelled(root, image_size=8).images.shape
    (6, 8, 8, 3)
    """
    root = _check_root(root)
    layout = labelled_layout(root)
    kwargs = {"as_paths": as_paths, "errors": errors, "cache": cache, "n_jobs": n_jobs}
    if layout == "ISIC 2017":
        if subset is None:
            found = sorted(s for s in _SUBSETS if (root / s).is_dir())
            raise ValueError(
                f"{os.fspath(root)!r} holds the subsets {', '.join(found)} (the ISIC 2017 "
                "layout): "
                + fix(
                    f"choose one, for example load_labelled(root, subset={found[0]!r}).",
                    cli=f"give one of them, for example {os.fspath(root / found[0])!r}.",
                )
            )
        data = load_isic2017(root, subset, image_size, **kwargs)
    elif subset is not None:
        raise ValueError(
            f"subset={subset!r} applies to the ISIC 2017 layout (train/, val/, test/ folders "
            f"of class folders), and {os.fspath(root)!r} has the {layout} layout; leave "
            "subset out."
        )
    elif layout == "HAM10000":
        data = load_ham10000(root, image_size, labels="name", **kwargs)
    else:
        data = load_image_folder(root, image_size, **kwargs)
    data.layout = layout
    data.setdefault("groups", None)
    data.setdefault("metadata", None)
    return data
