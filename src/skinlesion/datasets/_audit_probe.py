"""Reading each image once for the audit: its digest, size, colour mode and thumbnail.

:func:`perceptual_hash` hashes the thumbnails, :func:`isic_id` reads the ISIC id
from a file name; :mod:`skinlesion.datasets.audit` re-exports both.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from scipy.fft import dctn

from skinlesion._imread import _bomb_reason, _pil_to_rgb, _unidentified_reason

__all__ = ["isic_id", "perceptual_hash"]

_THUMB = 32  # side of the thumbnails hashed and checked for colour
_ISIC_ID = re.compile(r"(?<![0-9A-Za-z])ISIC[_-]?(\d{7})(?!\d)", re.IGNORECASE)


def perceptual_hash(images: np.ndarray) -> np.ndarray:
    """64-bit DCT perceptual hashes (pHash) of ``uint8`` RGB images.

    Each image is reduced to 32 x 32 grey levels; the sign of its 8 x 8
    lowest-frequency DCT coefficients relative to their median gives the bits.
    Near-identical images (re-encoded, resized, slightly brightened) differ in
    only a few bits; different images in about half of them. Every image is
    squeezed to a square first, so a copy resized to another aspect ratio
    keeps its hash.

    Parameters
    ----------
    images : ndarray of shape (n, height, width, 3), dtype uint8

    Returns
    -------
    hashes : ndarray of shape (n,), dtype uint64

    Examples
    --------
    >>> import numpy as np
    >>> from skinlesion.datasets.audit import perceptual_hash
    >>> rng = np.random.default_rng(0)
    >>> a = rng.integers(0, 255, (1, 40, 40, 3), dtype=np.uint8)
    >>> b = np.clip(a.astype(int) + 6, 0, 255).astype(np.uint8)  # slightly brighter
    >>> c = rng.integers(0, 255, (1, 40, 40, 3), dtype=np.uint8)
    >>> h = perceptual_hash(np.concatenate([a, b, c]))
    >>> bin(int(h[0] ^ h[1])).count("1") < 8 < bin(int(h[0] ^ h[2])).count("1")
    True
    """
    images = np.asarray(images)
    if len(images) == 0:
        return np.zeros(0, dtype=np.uint64)
    if images.shape[1:3] != (_THUMB, _THUMB):
        images = np.stack([_thumbnail_of_array(im) for im in images])
    grey = images.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    coeffs = dctn(grey, axes=(1, 2), norm="ortho")[:, :8, :8].reshape(len(images), 64)
    median = np.median(coeffs[:, 1:], axis=1, keepdims=True)  # leave out the DC term
    bits = (coeffs > median).astype(np.uint64)
    return (bits << np.arange(64, dtype=np.uint64)).sum(axis=1, dtype=np.uint64)


def isic_id(name: str | os.PathLike[str]) -> str | None:
    """The ISIC Archive id in a file name (``"ISIC_0024306"``), or ``None``.

    The id is seven digits after ``ISIC``, with ``_``, ``-`` or nothing
    between, in any case, anywhere in the file's name (not its folders):
    ``ISIC_0024306.jpg``, ``isic-0024306_downsampled.png`` and
    ``ISIC_0024306(1).jpg`` all give ``"ISIC_0024306"``.

    Examples
    --------
    >>> from skinlesion.datasets.audit import isic_id
    >>> isic_id("Train/melanoma/ISIC_0000139(1).jpg"), isic_id("scan_017.jpg")
    ('ISIC_0000139', None)
    """
    found = _ISIC_ID.search(Path(os.fspath(name)).name)
    return f"ISIC_{found.group(1)}" if found else None


def _thumbnail_of_array(image: np.ndarray) -> np.ndarray:
    pil = Image.fromarray(image)
    return np.asarray(pil.resize((_THUMB, _THUMB), Image.Resampling.BILINEAR), dtype=np.uint8)


@dataclass
class _Probe:
    digest: str | None = None
    height: int = 0
    width: int = 0
    mode: str = ""
    thumb: np.ndarray | None = None
    error: str | None = None


def _probe_file(path: str) -> _Probe:
    out = _Probe()
    try:
        with open(path, "rb") as fh:
            data = fh.read()
        out.digest = hashlib.sha256(data).hexdigest()
        with Image.open(path) as img:
            out.mode = img.mode
            width, height = img.size  # the file's size, before a JPEG draft shrinks it
            if img.getexif().get(0x0112, 1) in (5, 6, 7, 8):
                width, height = height, width  # EXIF rotation swaps the sides the user sees
            if img.format == "JPEG":
                img.draft("RGB", (2 * _THUMB, 2 * _THUMB))
            img.load()
            rgb = _pil_to_rgb(ImageOps.exif_transpose(img))
            out.thumb = np.asarray(
                rgb.resize((_THUMB, _THUMB), Image.Resampling.BILINEAR), dtype=np.uint8
            )
        out.height, out.width = height, width
    except FileNotFoundError:
        out.error = "no such file"
    except UnidentifiedImageError:
        out.error = _unidentified_reason(path)
    except Image.DecompressionBombError as err:  # an Exception, not an OSError
        out.error = _bomb_reason(err)
    except (OSError, SyntaxError, ValueError) as err:
        out.error = f"corrupt or truncated image data ({err})"
    return out


def _probe_array(image: np.ndarray) -> _Probe:
    return _Probe(
        digest=hashlib.sha256(np.ascontiguousarray(image).tobytes()).hexdigest()
        + f"-{image.shape[0]}x{image.shape[1]}",
        height=int(image.shape[0]),
        width=int(image.shape[1]),
        mode="RGB",
        thumb=_thumbnail_of_array(image),
    )
