"""Decode many image files fast: parallel threads, per-file errors, an on-disk cache.

The cache stores each decoded, resized image as a ``.npy`` file named by a hash
of the file's *content* and the target size, so a renamed or copied file still
hits the cache, an edited file never returns a stale image, and two loads at
different sizes do not collide. Cache files are written atomically (a temporary
file renamed into place), so a crash never leaves a half-written entry.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from skinlesion.images import ImageReadError, read_image

__all__ = ["decode_files", "default_cache_dir", "resolve_cache_dir"]

# Bump when decoding changes (resampling filter, colour handling), so that old
# cache entries are not reused.
_DECODER_VERSION = "1"


def default_cache_dir() -> Path:
    """``$SKINLESION_DATA/decoded`` (default ``~/skinlesion_data/decoded``)."""
    from skinlesion.datasets.fetch import get_data_home

    return get_data_home() / "decoded"


def resolve_cache_dir(cache: bool | str | os.PathLike[str] | None) -> Path | None:
    """Turn a loader's ``cache`` argument into a folder (or None for no cache)."""
    if cache is None or cache is False:
        return None
    if cache is True:
        return default_cache_dir()
    if isinstance(cache, (str, os.PathLike)):
        return Path(cache).expanduser()
    raise ValueError(f"cache must be True, False, None or a folder path, got {cache!r}.")


def _cache_key(path: str, size: tuple[int, int] | None) -> str:
    digest = hashlib.blake2b(digest_size=20)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    tag = "orig" if size is None else f"{size[0]}x{size[1]}"
    return f"{digest.hexdigest()}-{tag}-v{_DECODER_VERSION}"


def _load_cached(cache_dir: Path, key: str) -> np.ndarray | None:
    entry = cache_dir / key[:2] / f"{key}.npy"
    try:
        arr = np.load(entry, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None  # missing or damaged entry: decode again
    if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[-1] != 3:
        return None
    return arr


def _store_cached(cache_dir: Path, key: str, image: np.ndarray) -> None:
    folder = cache_dir / key[:2]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.save(fh, image, allow_pickle=False)
            os.replace(tmp, folder / f"{key}.npy")
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as err:  # a read-only or full disk must not break loading
        warnings.warn(
            f"could not write to the image cache {cache_dir} ({err}); "
            "loading goes on without caching.",
            RuntimeWarning,
            stacklevel=4,
        )


def decode_files(
    paths: Sequence[str],
    size: tuple[int, int] | None,
    *,
    errors: str = "raise",
    cache_dir: Path | None = None,
    n_jobs: int | None = None,
) -> tuple[list[np.ndarray | None], list[tuple[str, str]]]:
    """Decode ``paths`` in parallel threads, through the cache when one is given.

    Returns the images (``None`` where a file failed) and a list of
    ``(path, reason)`` for the failures. With ``errors="raise"`` the first
    failure raises :class:`~skinlesion.images.ImageReadError` instead.
    """
    if n_jobs is None:
        n_jobs = min(8, os.cpu_count() or 1)

    def one(path: str) -> np.ndarray | ImageReadError:
        key = None
        if cache_dir is not None:
            try:
                key = _cache_key(path, size)
            except OSError as err:
                return ImageReadError(path, f"cannot open the file ({err.strerror or err})")
            cached = _load_cached(cache_dir, key)
            if cached is not None:
                return cached
        try:
            image = read_image(path, size)
        except ImageReadError as err:
            return err
        if key is not None:
            _store_cached(cache_dir, key, image)  # type: ignore[arg-type]
        return image

    if n_jobs <= 1 or len(paths) < 4:
        results = [one(p) for p in paths]
    else:
        with ThreadPoolExecutor(max_workers=n_jobs) as pool:
            results = list(pool.map(one, paths))
    images: list[np.ndarray | None] = []
    failed: list[tuple[str, str]] = []
    for path, res in zip(paths, results, strict=True):
        if isinstance(res, ImageReadError):
            if errors == "raise":
                raise res
            failed.append((path, res.reason))
            images.append(None)
        else:
            images.append(res)
    return images, failed
