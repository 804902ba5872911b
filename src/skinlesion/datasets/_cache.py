"""Decode many image files fast: parallel threads, per-file errors, an on-disk cache.

The cache is one SQLite database (``decoded.sqlite`` in the cache folder) that
maps a hash of each file's *content* plus the target size to the decoded,
resized pixels. A renamed or copied file still hits the cache, an edited file
never returns a stale image, and loads at different sizes do not collide.
SQLite writes in transactions, so a crash never leaves a half-written entry,
and a second load reads thousands of images from one file instead of opening
one small file per image (which costs milliseconds each on many file systems).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import sqlite3
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from skinlesion.datasets._base import get_data_home
from skinlesion.images import ImageReadError, read_image

__all__ = ["decode_files", "default_cache_dir", "resolve_cache_dir"]

# Bump when decoding changes (resampling filter, colour handling), so that old
# cache entries are not reused.
_DECODER_VERSION = "1"
_DB_NAME = "decoded.sqlite"


def default_cache_dir() -> Path:
    """``$SKINLESION_DATA/decoded`` (default ``~/skinlesion_data/decoded``)."""
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


def _warn(cache_dir: Path, err: Exception) -> None:
    warnings.warn(
        f"the image cache in {cache_dir} cannot be used ({err}); loading goes on without it. "
        f"Delete {cache_dir / _DB_NAME} if it is damaged.",
        RuntimeWarning,
        stacklevel=4,
    )


def _connect(cache_dir: Path) -> sqlite3.Connection:
    cache_dir.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(cache_dir / _DB_NAME, timeout=60)
    con.execute(
        "CREATE TABLE IF NOT EXISTS images "
        "(key TEXT PRIMARY KEY, height INTEGER, width INTEGER, pixels BLOB)"
    )
    return con


def _cache_get(con: sqlite3.Connection, keys: list[str]) -> dict[str, np.ndarray]:
    found: dict[str, np.ndarray] = {}
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        marks = ",".join("?" * len(chunk))
        rows = con.execute(
            f"SELECT key, height, width, pixels FROM images WHERE key IN ({marks})", chunk
        )
        for key, h, w, blob in rows:
            if len(blob) == h * w * 3:
                found[key] = np.frombuffer(blob, dtype=np.uint8).reshape(h, w, 3)
    return found


def _cache_put(con: sqlite3.Connection, entries: dict[str, np.ndarray]) -> None:
    with con:  # one transaction: all entries or none
        con.executemany(
            "INSERT OR REPLACE INTO images VALUES (?, ?, ?, ?)",
            [
                (k, int(im.shape[0]), int(im.shape[1]), np.ascontiguousarray(im).tobytes())
                for k, im in entries.items()
            ],
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
    failure raises :class:`~skinlesion.ImageReadError` instead.
    """
    if n_jobs is None:
        n_jobs = min(8, os.cpu_count() or 1)

    def run(func, items):
        if n_jobs <= 1 or len(items) < 4:
            return [func(x) for x in items]
        with ThreadPoolExecutor(max_workers=n_jobs) as pool:
            return list(pool.map(func, items))

    def decode(path: str) -> np.ndarray | ImageReadError:
        try:
            return read_image(path, size)
        except ImageReadError as err:
            return err

    results: list[np.ndarray | ImageReadError | None] = [None] * len(paths)
    con = None
    keys: list[str | None] = [None] * len(paths)
    if cache_dir is not None:
        try:
            con = _connect(cache_dir)
        except (OSError, sqlite3.Error) as err:
            _warn(cache_dir, err)
    if con is not None:

        def key_of(path: str) -> str | ImageReadError:
            try:
                return _cache_key(path, size)
            except OSError as err:
                return ImageReadError(path, f"cannot open the file ({err.strerror or err})")

        # hashing is cheap per file: hand each thread one contiguous chunk
        # rather than one task per file (task overhead would dominate)
        n_chunks = max(1, min(n_jobs, len(paths) // 64))
        bounds = np.linspace(0, len(paths), n_chunks + 1).astype(int)
        chunks = [list(paths[a:b]) for a, b in itertools.pairwise(bounds)]
        with ThreadPoolExecutor(max_workers=len(chunks)) as pool:
            per_chunk = list(pool.map(lambda c: [key_of(p) for p in c], chunks))
        computed = [k for chunk in per_chunk for k in chunk]
        for i, k in enumerate(computed):
            if isinstance(k, ImageReadError):
                results[i] = k
            else:
                keys[i] = k
        try:
            hits = _cache_get(con, [k for k in keys if k is not None])
        except sqlite3.Error as err:
            _warn(cache_dir, err)  # type: ignore[arg-type]
            hits = {}
        for i, k in enumerate(keys):
            if k is not None and k in hits:
                results[i] = hits[k]
    todo = [i for i, r in enumerate(results) if r is None]
    for i, r in zip(todo, run(decode, [paths[i] for i in todo]), strict=True):
        results[i] = r
    if con is not None:
        fresh = {
            keys[i]: results[i]
            for i in todo
            if keys[i] is not None and isinstance(results[i], np.ndarray)
        }
        try:
            if fresh:
                _cache_put(con, fresh)  # type: ignore[arg-type]
        except sqlite3.Error as err:
            _warn(cache_dir, err)  # type: ignore[arg-type]
        finally:
            con.close()
    images: list[np.ndarray | None] = []
    failed: list[tuple[str, str]] = []
    for path, res in zip(paths, results, strict=True):
        if isinstance(res, ImageReadError):
            failed.append((path, res.reason))
            images.append(None)
        else:
            images.append(res)
    if failed and errors == "raise":
        raise ImageReadError.from_failures(failed)  # every bad file at once
    return images, failed
