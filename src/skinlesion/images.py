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
from typing import Any

import numpy as np
from PIL import Image

from skinlesion._imread import (
    IMAGE_EXTENSIONS,
    ImageReadError,
    Size,
    as_size,
    find_unreadable_images,
    read_image,
    read_images,
)
from skinlesion._imread import list_image_files as list_image_files  # not in __all__

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
