"""Reading, decoding, resizing and validating images.

This is the one module where images enter the library. Whatever the user holds
(grayscale, RGBA, 16-bit, floats in [0, 1], files with an EXIF rotation) is
normalised here, once, into one of the two representations that cross module
borders:

* a 4-D ``uint8`` RGB array of shape ``(n_images, height, width, 3)``, or
* a 1-D ``object`` array of file paths, decoded lazily at one fixed size.
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
    "as_size",
    "check_images",
    "find_unreadable_images",
    "is_path_array",
    "n_images",
    "read_image",
    "read_images",
    "resize_images",
    "to_rgb_uint8",
]

#: File name endings (lower case) that the library reads as images.
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


def is_path_array(X: Any) -> bool:
    """Return True if ``X`` is a sequence of file paths rather than pixel data.

    Examples
    --------
    >>> import numpy as np
    >>> from skinlesion.images import is_path_array
    >>> is_path_array(["a.jpg", "b.png"]), is_path_array(np.zeros((2, 4, 4, 3)))
    (True, False)
    """
    if isinstance(X, (str, bytes, os.PathLike)):
        return False
    if _is_dataframe(X):  # iterating a DataFrame gives its column names, not its rows
        return X.shape[1] == 1 and is_path_array(X.iloc[:, 0])
    if getattr(X, "ndim", 1) != 1:
        return False
    if isinstance(X, np.ndarray):
        if X.ndim != 1:
            return False
        if X.dtype.kind in "US":
            return True
        if X.dtype.kind != "O":
            return False
    try:
        n = len(X)
    except TypeError:
        return False
    return n > 0 and all(isinstance(x, (str, os.PathLike)) for x in X)


def _is_dataframe(X: Any) -> bool:
    return hasattr(X, "columns") and hasattr(X, "iloc") and getattr(X, "ndim", 0) == 2


def n_images(X: Any) -> int:
    """Number of images in a validated image array or path array.

    Examples
    --------
    >>> import numpy as np
    >>> from skinlesion.images import n_images
    >>> n_images(np.zeros((5, 8, 8, 3), np.uint8)), n_images(np.array(["a.jpg"], dtype=object))
    (5, 1)
    """
    return len(X)


def to_rgb_uint8(X: Any, *, name: str = "images") -> np.ndarray:
    """Convert an image array to ``uint8`` RGB ``(n, height, width, 3)``.

    Accepts 1 (grayscale), 3 (RGB) or 4 (RGBA, alpha dropped) channels and the
    dtypes users hold: ``uint8``, other integers within [0, 255], ``uint16``
    (scaled by 1/257), booleans, and floats in [0, 1]. The input is never
    modified; a ``uint8`` RGB input is returned as is.

    Raises
    ------
    ValueError
        With the problem and the fix: wrong number of dimensions or channels,
        NaN or infinite values, floats outside [0, 1], integers outside [0, 255].

    Examples
    --------
    >>> import numpy as np
    >>> from skinlesion.images import to_rgb_uint8
    >>> X = np.full((2, 4, 4, 1), 0.5)
    >>> out = to_rgb_uint8(X)
    >>> out.shape, out.dtype, int(out[0, 0, 0, 0])
    ((2, 4, 4, 3), dtype('uint8'), 128)
    """
    X = np.asarray(X)
    if X.dtype.kind == "c":
        raise ValueError(
            f"Complex data not supported: {name} must be real-valued; pass np.abs({name}) or "
            f"{name}.real."
        )
    if X.dtype.kind not in "biuf":
        raise ValueError(
            f"{name} must be numeric (uint8, or float in [0, 1]), got dtype {X.dtype}. "
            "To pass image files, give a list of paths."
        )
    if X.ndim != 4:
        hint = ""
        if X.ndim == 3:
            hint = (
                " For one image use X[np.newaxis]; for a stack of grayscale images "
                "add a channel axis with X[..., np.newaxis]."
            )
        elif X.ndim == 2:
            hint = " Images cannot be flattened rows; reshape them to (n, height, width, channels)."
        raise ValueError(
            f"{name} must be a 4-D array of images (n_images, height, width, channels), got "
            f"an array of shape {X.shape}.{hint}"
        )
    if X.shape[-1] not in (1, 3, 4):
        raise ValueError(
            f"{name} must have 1, 3 or 4 channels in the last axis (channels-last), got "
            f"shape {X.shape}. If your array is channels-first, use np.moveaxis({name}, 1, -1)."
        )
    if X.shape[1] < 1 or X.shape[2] < 1:
        raise ValueError(f"{name} must be images of at least 1x1 pixels, got shape {X.shape}.")
    if X.dtype == np.uint8:
        out = X
    elif X.dtype.kind == "b":
        out = X.astype(np.uint8) * 255
    elif X.dtype.kind == "f":
        if not np.all(np.isfinite(X)):
            raise ValueError(
                f"{name} contains NaN or infinite values; replace or drop those images first."
            )
        if X.size and (X.min() < 0.0 or X.max() > 1.0):
            raise ValueError(
                f"{_negative(X)}float images ({name}) must lie in [0, 1], got values in "
                f"[{X.min():.3g}, {X.max():.3g}]. Divide 0-255 data by 255, or pass it as uint8."
            )
        out = np.rint(X * 255.0).astype(np.uint8)
    elif X.dtype == np.uint16:
        out = np.rint(X / 257.0).astype(np.uint8)
    else:  # other integers
        if X.size and (X.min() < 0 or X.max() > 255):
            raise ValueError(
                f"{_negative(X)}integer images ({name}) must lie in [0, 255], got values in "
                f"[{X.min()}, {X.max()}]. Rescale them, or pass uint16 data as dtype uint16."
            )
        out = X.astype(np.uint8)
    if out.shape[-1] == 1:
        out = np.repeat(out, 3, axis=-1)
    elif out.shape[-1] == 4:
        out = out[..., :3]
    return out


def _negative(X: np.ndarray) -> str:
    """The start of scikit-learn's message for negative input, when ``X`` has any."""
    return "Negative values in data: " if X.min() < 0 else ""


def resize_images(X: np.ndarray, size: Size) -> np.ndarray:
    """Resize a ``uint8`` ``(n, h, w, 3)`` array to ``size`` (bilinear, anti-aliased).

    Returns the input itself when it already has that size.

    Examples
    --------
    >>> import numpy as np
    >>> from skinlesion.images import resize_images
    >>> resize_images(np.zeros((2, 10, 20, 3), dtype=np.uint8), 8).shape
    (2, 8, 8, 3)
    """
    target = as_size(size)
    assert target is not None
    if X.shape[1:3] == target:
        return X
    out = np.empty((len(X), *target, X.shape[-1]), dtype=np.uint8)
    for i, image in enumerate(X):
        pil = Image.fromarray(image)
        out[i] = np.asarray(pil.resize((target[1], target[0]), Image.Resampling.BILINEAR))
    return out


def check_images(X: Any, *, name: str = "X") -> np.ndarray:
    """Validate image input: an array becomes ``uint8`` RGB, paths a 1-D object array.

    Parameters
    ----------
    X : array-like of shape (n, h, w, c), or sequence of paths
        Pixel data (see :func:`to_rgb_uint8`) or image file paths.
    name : str, default="X"
        Name used in error messages.

    Returns
    -------
    images : ndarray
        ``uint8`` of shape (n, h, w, 3), or a 1-D object array of ``str`` paths.

    Examples
    --------
    >>> import numpy as np
    >>> from skinlesion.images import check_images
    >>> check_images(np.zeros((1, 4, 4, 3), dtype=np.float32)).dtype
    dtype('uint8')
    >>> check_images(["a.jpg", "b.jpg"])
    array(['a.jpg', 'b.jpg'], dtype=object)
    """
    if isinstance(X, (str, bytes, os.PathLike)):
        raise ValueError(
            f"{name} is a single path ({X!r}); pass a list of image paths, or load a folder "
            "with skinlesion.datasets.load_image_folder."
        )
    if hasattr(X, "tocsr") or type(X).__module__.startswith("scipy.sparse"):
        raise TypeError(
            f"{name} is a sparse matrix: sparse input is not supported. Pass images as a "
            "dense 4-D array or as a list of file paths."
        )
    if _is_dataframe(X):
        columns = [str(c) for c in X.columns]
        if len(columns) != 1:
            example = f"{name}=df[{columns[0]!r}]" if columns else f"{name}=df['path']"
            raise ValueError(
                f"{name} is a pandas DataFrame with {len(columns)} columns ({columns[:5]}); "
                f"pass the one column that holds the image paths, for example {example}."
            )
        X = X.iloc[:, 0].to_numpy()  # a one-column table of paths: its rows
    if is_path_array(X):
        return np.array([os.fspath(p) for p in X], dtype=object)
    if (
        isinstance(X, (list, tuple))
        and len(X) > 0
        and any(isinstance(x, (str, os.PathLike)) for x in X)
    ):
        bad = next(x for x in X if not isinstance(x, (str, os.PathLike)))
        raise ValueError(
            f"{name} mixes file paths with other values (for example {bad!r}); pass either "
            "a list of paths or one 4-D image array."
        )
    try:
        arr = np.asarray(X)
    except ValueError as err:  # ragged nested lists
        raise ValueError(
            f"{name} could not be turned into one array ({err}); images of different sizes "
            "must be passed as file paths or resized to one size first."
        ) from None
    if arr.ndim >= 1 and arr.shape[0] == 0:
        raise ValueError(f"{name} is empty: at least one image is required.")
    return to_rgb_uint8(arr, name=name)


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
