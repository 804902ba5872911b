"""Reading and decoding image files, and the sizes they are read at.

The file half of :mod:`skinlesion.images` (which re-exports every public name
here): Pillow opens, decodes, rotates (EXIF) and converts each file to 8-bit RGB,
in parallel threads; :class:`ImageReadError` names the file that cannot be read.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from skinlesion._hints import fix

__all__ = [
    "IMAGE_EXTENSIONS",
    "ImageReadError",
    "Size",
    "as_size",
    "find_unreadable_images",
    "list_image_files",
    "read_image",
    "read_images",
]

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff"})

Size = int | tuple[int, int]


class ImageReadError(ValueError):
    """One or more image files could not be read or decoded.

    The message names the file(s) and what to do about them. It subclasses
    :class:`ValueError`, so code that catches bad input keeps working.

    Parameters
    ----------
    path : str or path-like
        The (first) file that cannot be read.
    reason : str
        Why it cannot be read.
    failures : list of (path, reason), default=None
        Every unreadable file, when more than one was found at once; the
        message lists the first ones, ``failures`` all of them.

    Attributes
    ----------
    path, reason : str
        The first unreadable file and why.
    failures : list of (str, str)
        ``(path, reason)`` of every unreadable file found.

    Examples
    --------
    >>> from skinlesion.images import ImageReadError, read_image
    >>> try:
    ...     read_image("no/such/file.jpg")
    ... except ImageReadError as err:
    ...     print("file.jpg" in str(err), err.failures)
    True [('no/such/file.jpg', 'no such file')]
    """

    #: How many files the message lists (``failures`` holds them all).
    max_listed = 10

    def __init__(
        self,
        path: str | os.PathLike[str],
        reason: str,
        failures: Sequence[tuple[str, str]] | None = None,
    ) -> None:
        self.path = os.fspath(path)
        self.reason = reason
        self.failures = [(os.fspath(p), r) for p, r in failures] if failures else []
        if not self.failures:
            self.failures = [(self.path, reason)]
        if len(self.failures) == 1:
            message = (
                f"cannot read image {self.path!r}: {reason}. Check that the file is a complete "
                "JPEG, PNG, BMP or TIFF image, or remove it from the data set ("
                + fix("skinlesion.datasets.audit", cli="`skinlesion audit FOLDER`")
                + " lists unreadable files)."
            )
        else:
            shown = self.failures[: self.max_listed]
            listed = "; ".join(f"{p!r} ({r})" for p, r in shown)
            more = len(self.failures) - len(shown)
            rest = (
                f"; and {more} more ("
                + fix(
                    "the error's 'failures' attribute, or skinlesion.datasets.audit,",
                    cli="`skinlesion audit FOLDER`",
                )
                + " lists them all)"
                if more
                else ""
            )
            message = (
                f"cannot read {len(self.failures)} image files: {listed}{rest}. Check that each "
                "file is a complete JPEG, PNG, BMP or TIFF image, or remove them from the data set."
            )
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:  # picklable, e.g. out of joblib workers
        return (type(self), (self.path, self.reason, self.failures))

    @classmethod
    def from_failures(cls, failures: Sequence[tuple[str, str]]) -> ImageReadError:
        """One error for a non-empty list of ``(path, reason)`` pairs."""
        return cls(failures[0][0], failures[0][1], failures)


def _unidentified_reason(path: str | os.PathLike[str]) -> str:
    try:
        if os.path.getsize(path) == 0:
            return "the file is empty (0 bytes)"
    except OSError:
        pass
    return "not a recognised image format"


def _bomb_reason(err: Exception) -> str:
    """Why Pillow refused an image as a possible decompression bomb, and the fix."""
    detail = str(err).rstrip(".")
    return (
        f"Pillow refused it as a possible decompression bomb ({detail}); if the file is "
        "trusted, raise PIL.Image.MAX_IMAGE_PIXELS, or shrink the image"
    )


def as_size(image_size: Size | None) -> tuple[int, int] | None:
    """Return ``image_size`` as a ``(height, width)`` pair of positive ints.

    Examples
    --------
    >>> from skinlesion.images import as_size
    >>> as_size(64), as_size((48, 64)), as_size(None)
    ((64, 64), (48, 64), None)
    """
    if image_size is None:
        return None
    if isinstance(image_size, (int, np.integer)) and not isinstance(image_size, bool):
        size = (int(image_size), int(image_size))
    elif (
        isinstance(image_size, (tuple, list))
        and len(image_size) == 2
        and all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in image_size)
    ):
        size = (int(image_size[0]), int(image_size[1]))
    else:
        raise ValueError(
            f"image_size must be an int or a (height, width) pair of ints, got {image_size!r}."
        )
    if min(size) < 1:
        raise ValueError(f"image_size must be positive, got {image_size!r}.")
    return size


def _pil_to_rgb(img: Image.Image) -> Image.Image:
    """Convert any PIL mode (16-bit, float, palette, alpha, CMYK) to 8-bit RGB."""
    if img.mode == "RGB":
        return img
    if img.mode in {"I;16", "I;16B", "I;16L", "I;16N", "I", "F"}:
        arr = np.asarray(img, dtype=np.float64)
        if img.mode.startswith("I;16"):
            arr = arr / 257.0
        elif img.mode == "F" and arr.size and np.nanmax(arr) <= 1.0:
            arr = arr * 255.0
        elif arr.size and arr.max() > 255:
            arr = arr * (255.0 / arr.max())
        arr = np.clip(np.rint(np.nan_to_num(arr)), 0, 255).astype(np.uint8)
        return Image.fromarray(arr, mode="L").convert("RGB")
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    return img.convert("RGB")


def read_image(path: str | os.PathLike[str], size: Size | None = None) -> np.ndarray:
    """Read one image file as a ``uint8`` RGB array.

    The EXIF orientation is honoured, any mode (grayscale, palette, RGBA,
    16-bit) becomes 8-bit RGB, and JPEGs are decoded at a reduced scale
    (draft mode) when ``size`` allows, which is several times faster.

    Parameters
    ----------
    path : str or path-like
        A JPEG, PNG, BMP or TIFF file.
    size : int or (height, width), default=None
        Resize to this size (bilinear, with anti-aliasing). ``None`` keeps the
        file's own size.

    Returns
    -------
    image : ndarray of shape (height, width, 3), dtype uint8

    Raises
    ------
    ImageReadError
        If the file is missing, not an image, or truncated.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from PIL import Image
    >>> from skinlesion.images import read_image
    >>> path = os.path.join(tempfile.mkdtemp(), "lesion.png")
    >>> Image.fromarray(np.zeros((20, 30), dtype=np.uint8)).save(path)
    >>> read_image(path).shape, read_image(path, size=16).shape
    ((20, 30, 3), (16, 16, 3))
    """
    target = as_size(size)
    try:
        with Image.open(path) as img:
            if target is not None and img.format == "JPEG":
                # Let libjpeg decode at 1/2, 1/4 or 1/8 scale when that still
                # leaves at least the target size (PIL's size is (w, h)).
                img.draft("RGB", (target[1], target[0]))
            img.load()
            img = ImageOps.exif_transpose(img)
            img = _pil_to_rgb(img)
            if target is not None and (img.height, img.width) != target:
                img = img.resize((target[1], target[0]), Image.Resampling.BILINEAR)
            return np.asarray(img, dtype=np.uint8).copy()
    except FileNotFoundError:
        raise ImageReadError(path, "no such file") from None
    except IsADirectoryError:
        raise ImageReadError(path, "it is a directory, not a file") from None
    except UnidentifiedImageError:
        raise ImageReadError(path, _unidentified_reason(path)) from None
    except Image.DecompressionBombError as err:  # an Exception, not an OSError
        raise ImageReadError(path, _bomb_reason(err)) from None
    except (OSError, SyntaxError, ValueError) as err:  # truncated or corrupt data
        raise ImageReadError(path, f"corrupt or truncated image data ({err})") from None


# Files that decoded without error, with the (size, mtime) they had then: a second
# check in the same process (the command line checks before starting TensorFlow,
# then ``fit`` checks again) costs one ``stat`` per unchanged file.
_DECODED_OK: dict[str, tuple[int, int]] = {}


def _file_key(path: str) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_size, info.st_mtime_ns)


def _decode_problem(path: str) -> str | None:
    """Why ``path`` cannot be decoded (its whole data, at the smallest scale), or None."""
    key = _file_key(path)
    if key is not None and _DECODED_OK.get(path) == key:
        return None
    problem = _decode_problem_uncached(path)
    if problem is None and key is not None:
        _DECODED_OK[path] = key
    return problem


def _decode_problem_uncached(path: str) -> str | None:
    try:
        with Image.open(path) as img:
            if img.format == "JPEG":
                # libjpeg still reads every scan at 1/8 scale, so truncation and
                # corrupt data are found, at a fraction of the full decoding cost.
                img.draft("RGB", (1, 1))
            img.load()
    except FileNotFoundError:
        return "no such file"
    except IsADirectoryError:
        return "it is a directory, not a file"
    except PermissionError:
        return "permission denied"
    except UnidentifiedImageError:
        return _unidentified_reason(path)
    except Image.DecompressionBombError as err:
        return _bomb_reason(err)
    except (OSError, SyntaxError, ValueError) as err:
        return f"corrupt or truncated image data ({err})"
    return None


def find_unreadable_images(
    paths: Sequence[str | os.PathLike[str]], *, n_jobs: int | None = None
) -> list[tuple[str, str]]:
    """Decode every file once and return the ones that cannot be read, with the reason.

    Unlike a header check, this reads each file's whole image data, so
    truncated and corrupt files are found, not only files that are not images
    at all. JPEGs are decoded at 1/8 scale (which still reads all their data),
    in parallel threads, so it costs a fraction of one training epoch.
    :class:`~skinlesion.LesionClassifier` runs it on file paths before the
    first epoch, so that every bad file is reported at once.

    Parameters
    ----------
    paths : sequence of str or path-like
        The image files.
    n_jobs : int, default=None
        Decoding threads; ``None`` uses one per CPU core (at most 8).

    Returns
    -------
    failures : list of (path, reason)
        In the order of ``paths``, each file once; empty when every file decodes.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from PIL import Image
    >>> from skinlesion.images import find_unreadable_images
    >>> folder = tempfile.mkdtemp()
    >>> good, bad = os.path.join(folder, "good.png"), os.path.join(folder, "bad.jpg")
    >>> Image.fromarray(np.zeros((8, 8, 3), dtype=np.uint8)).save(good)
    >>> with open(bad, "wb") as fh:
    ...     _ = fh.write(b"not an image")
    >>> [(os.path.basename(p), r) for p, r in find_unreadable_images([good, bad])]
    [('bad.jpg', 'not a recognised image format')]
    """
    files = list(dict.fromkeys(os.fspath(p) for p in paths))  # each file once
    workers = min(8, os.cpu_count() or 1) if n_jobs is None else max(1, int(n_jobs))
    if workers > 1 and len(files) > 8:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            reasons = list(pool.map(_decode_problem, files))
    else:
        reasons = [_decode_problem(p) for p in files]
    return [(p, r) for p, r in zip(files, reasons, strict=True) if r is not None]


def read_images(
    paths: Sequence[str | os.PathLike[str]],
    size: Size | None = None,
    *,
    n_jobs: int | None = None,
) -> np.ndarray:
    """Read many image files into one ``(n, height, width, 3)`` uint8 array.

    Files are decoded in parallel threads (Pillow releases the GIL while
    decoding).

    Parameters
    ----------
    paths : sequence of str or path-like
        The image files, in the order of the returned array.
    size : int or (height, width), default=None
        Resize every image to this size. Required when the files differ in size.
    n_jobs : int, default=None
        Number of decoding threads; ``None`` uses one per CPU core (at most 8).

    Returns
    -------
    images : ndarray of shape (n, height, width, 3), dtype uint8

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from PIL import Image
    >>> from skinlesion.images import read_images
    >>> folder = tempfile.mkdtemp()
    >>> paths = [os.path.join(folder, f"{i}.png") for i in range(3)]
    >>> for i, p in enumerate(paths):
    ...     Image.fromarray(np.full((10 + i, 12, 3), 40 * i, dtype=np.uint8)).save(p)
    >>> read_images(paths, size=8).shape
    (3, 8, 8, 3)
    """
    paths = [os.fspath(p) for p in paths]
    target = as_size(size)
    if n_jobs is None:
        n_jobs = min(8, os.cpu_count() or 1)
    if not paths:
        shape = (0, *(target or (0, 0)), 3)
        return np.empty(shape, dtype=np.uint8)
    if n_jobs <= 1 or len(paths) < 4:
        images = [read_image(p, target) for p in paths]
    else:
        with ThreadPoolExecutor(max_workers=n_jobs) as pool:
            images = list(pool.map(lambda p: read_image(p, target), paths))
    shapes = {im.shape for im in images}
    if len(shapes) > 1:
        raise ValueError(
            f"the images have {len(shapes)} different sizes (for example "
            f"{sorted(shapes)[:3]}); pass size=... (or image_size=...) to resize them "
            "to one size."
        )
    return np.stack(images)


def list_image_files(folder: str | os.PathLike[str]) -> list[Path]:
    """Sorted image files directly inside ``folder`` (case-insensitive endings).

    Hidden files are ignored.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skinlesion.images import list_image_files
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ["b.JPG", "a.png", "notes.txt", ".hidden.jpg"]:
    ...     _ = (d / name).write_bytes(b"")
    >>> [p.name for p in list_image_files(d)]
    ['a.png', 'b.JPG']
    """
    folder = Path(folder)
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_EXTENSIONS
    )
