"""Download public dermoscopy data sets into a local cache folder.

Downloads go to ``$SKINLESION_DATA`` (default ``~/skinlesion_data``). Each file
is written to ``<name>.part`` and renamed into place only after its checksum
matched, so a half-written file never passes as a good one; an interrupted
download resumes where it stopped (HTTP ``Range``). Where the publisher states
a checksum (MedMNIST's MD5s, Dataverse's MD5s) it is checked; otherwise the
SHA-256 of the first download is recorded beside the file and checked on every
later use.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np
from sklearn.utils import Bunch

from skinlesion._progress import LiveLine, bar
from skinlesion.datasets._base import get_data_home
from skinlesion.datasets.ham10000 import HAM10000_CLASSES, load_ham10000
from skinlesion.images import IMAGE_EXTENSIONS

__all__ = [
    "DownloadError",
    "RemoteFile",
    "download",
    "fetch_dermamnist",
    "fetch_ham10000",
]

_CHUNK = 1 << 16
_USER_AGENT = "skinlesion (https://github.com/skinlesion/skinlesion)"


class DownloadError(OSError):
    """A download failed: offline, server error, or a checksum that did not match.

    The message names the address, the reason, and what to do.

    Examples
    --------
    >>> from skinlesion.datasets import DownloadError
    >>> isinstance(DownloadError("offline"), OSError)
    True
    """


@dataclass(frozen=True)
class RemoteFile:
    """A file to download: its local name, address and expected checksum.

    Parameters
    ----------
    filename : str
        Name of the file in the data folder.
    url : str
        Where to download it from.
    checksum : str or None
        ``"md5:<hex>"`` or ``"sha256:<hex>"`` as published by the source, or
        None when none is published (the SHA-256 of the first download is then
        recorded in ``<filename>.sha256`` and checked later).

    Examples
    --------
    >>> from skinlesion.datasets.fetch import DERMAMNIST
    >>> DERMAMNIST[28].filename, DERMAMNIST[28].checksum.split(":")[0]
    ('dermamnist.npz', 'md5')
    """

    filename: str
    url: str
    checksum: str | None = None


# DermaMNIST (MedMNIST+ v3, Zenodo record 10519652). The MD5s are those the
# MedMNIST authors publish in medmnist/info.py.
_ZENODO = "https://zenodo.org/records/10519652/files/"
DERMAMNIST: dict[int, RemoteFile] = {
    28: RemoteFile(
        "dermamnist.npz",
        _ZENODO + "dermamnist.npz?download=1",
        "md5:0744692d530f8e62ec473284d019b0c7",
    ),
    64: RemoteFile(
        "dermamnist_64.npz",
        _ZENODO + "dermamnist_64.npz?download=1",
        "md5:b70a2f5635c6199aeaa28c31d7202e1f",
    ),
    128: RemoteFile(
        "dermamnist_128.npz",
        _ZENODO + "dermamnist_128.npz?download=1",
        "md5:2defd784463fa5243564e855ed717de1",
    ),
    224: RemoteFile(
        "dermamnist_224.npz",
        _ZENODO + "dermamnist_224.npz?download=1",
        "md5:8974907d8e169bef5f5b96bc506ae45d",
    ),
}
# DermaMNIST label k is HAM10000 code k in this order.
_DERMAMNIST_CODES = ("akiec", "bcc", "bkl", "df", "mel", "nv", "vasc")

# HAM10000 on the Harvard Dataverse. File ids and MD5s are read from the
# Dataverse API at download time, so a new version of the record is followed.
DATAVERSE_URL = "https://dataverse.harvard.edu"
HAM10000_DOI = "doi:10.7910/DVN/DBW86T"
_HAM_FILES = ("HAM10000_images_part_1.zip", "HAM10000_images_part_2.zip", "HAM10000_metadata")


# -- progress ---------------------------------------------------------------


class _Progress:
    """A one-line download progress display (redrawn in place on a terminal)."""

    def __init__(self, name: str, total: int | None, start: int, stream: TextIO) -> None:
        self.name, self.total, self.done = name, total, start
        self.start_bytes, self.t0 = start, time.perf_counter()
        self.line = LiveLine(stream, interval=0.2)

    def _line(self) -> str:
        mb = self.done / 1e6
        rate = (self.done - self.start_bytes) / max(time.perf_counter() - self.t0, 1e-6) / 1e6
        if self.total:
            frac = min(self.done / self.total, 1.0)
            return (
                f"{self.name}: [{bar(frac)}] {100 * frac:5.1f}% "
                f"{mb:.1f}/{self.total / 1e6:.1f} MB {rate:.1f} MB/s"
            )
        return f"{self.name}: {mb:.1f} MB {rate:.1f} MB/s"

    def update(self, n: int) -> None:
        self.done += n
        if self.line.due():
            self.line.stream.write("\r" + self._line() + "\x1b[K")
            self.line.stream.flush()

    def close(self) -> None:
        self.line.finish(self._line())


# -- download -----------------------------------------------------------------


def _hash_file(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_checksum(path: Path, checksum: str) -> str | None:
    """None when ``path`` matches ``checksum`` ("md5:..." / "sha256:..."), else its actual one."""
    algorithm, _, expected = checksum.partition(":")
    if algorithm not in ("md5", "sha256") or not expected:
        raise ValueError(
            f"checksum must look like 'md5:<hex>' or 'sha256:<hex>', got {checksum!r}."
        )
    actual = _hash_file(path, algorithm)
    return None if actual == expected.lower() else f"{algorithm}:{actual}"


def _verified(path: Path, checksum: str | None) -> bool:
    """Whether an existing file is intact (by the published or the recorded checksum)."""
    if not path.is_file():
        return False
    if checksum is not None:
        return _check_checksum(path, checksum) is None
    record = path.with_name(path.name + ".sha256")
    if record.is_file():
        return _check_checksum(path, "sha256:" + record.read_text().strip()) is None
    return True  # placed by hand, no record: trust it


def _open(url: str, start: int, timeout: float) -> Any:
    headers = {"User-Agent": _USER_AGENT}
    if start:
        headers["Range"] = f"bytes={start}-"
    return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)


def _content_range_total(value: str | None) -> int | None:
    """``N`` of a ``Content-Range: bytes a-b/N`` or ``bytes */N`` header, else None."""
    if not value or "/" not in value:
        return None
    total = value.rsplit("/", 1)[1].strip()
    return int(total) if total.isdigit() else None


def _content_range_start(value: str | None) -> int | None:
    if not value:
        return None
    first = value.replace("bytes", "").strip().split("-", 1)[0].strip()
    return int(first) if first.isdigit() else None


def _fetch(
    remote: RemoteFile, part: Path, *, timeout: float, progress: bool, stream: TextIO
) -> str:
    """Download ``remote`` into ``part`` (resuming it); say whether it is provably whole.

    Returns ``"whole"`` when the server stated the file's length
    (``Content-Length``, or the total of a ``Content-Range``) and ``part`` holds
    exactly that many bytes, or sent the body in chunks and the last chunk
    arrived; ``"stale"`` when an existing ``part`` cannot be resumed (download it
    afresh); ``"unproven"`` when the body had no stated length. A shorter file
    raises (to be resumed).
    """
    start = part.stat().st_size if part.is_file() else 0
    try:
        response = _open(remote.url, start, timeout)
    except urllib.error.HTTPError as err:
        if err.code != 416 or not start:
            raise
        # "Range not satisfiable": .part may already hold every byte, or be stale
        # (longer than the file). Only the total the server states can tell.
        total = _content_range_total(err.headers.get("Content-Range") if err.headers else None)
        return "whole" if total is not None and total == start else "stale"
    with response:
        total = None
        if start and response.status == 206:
            header = response.headers.get("Content-Range")
            if _content_range_start(header) != start:
                return "stale"  # not the range asked for: start again from the beginning
            total = _content_range_total(header)
        elif start:
            start = 0  # the server ignored the range: start again
        length = response.headers.get("Content-Length")
        if total is None and length and length.isdigit():
            total = start + int(length)
        chunked = bool(getattr(response, "chunked", False))
        bar = _Progress(remote.filename, total, start, stream) if progress else None
        with open(part, "ab" if start else "wb") as fh:
            while True:
                block = response.read(_CHUNK)
                if not block:
                    break
                fh.write(block)
                if bar is not None:
                    bar.update(len(block))
        if bar is not None:
            bar.close()
    size = part.stat().st_size
    if total is not None and size < total:
        raise DownloadError(
            f"the download of {remote.url} stopped early ({size} of {total} bytes); call "
            "again to resume it."
        )
    if total is not None and size > total:
        part.unlink(missing_ok=True)
        raise DownloadError(
            f"the download of {remote.url} holds {size} bytes, more than the {total} the "
            "server announced; it was deleted: call again to download it afresh."
        )
    # http.client raises IncompleteRead when a chunked body ends before its last chunk
    return "whole" if total is not None or chunked else "unproven"


def download(
    remote: RemoteFile,
    folder: str | os.PathLike[str],
    *,
    progress: bool | None = None,
    timeout: float = 60.0,
    stream: TextIO | None = None,
) -> Path:
    """Download ``remote`` into ``folder`` (resumable, checked, atomic); return its path.

    A file already in place that passes its checksum is not downloaded again.
    The bytes go to ``<filename>.part``; an interrupted download resumes from
    there with an HTTP ``Range`` request. Only after the checksum matched is
    the file renamed to its final name, so a half-written or corrupted file
    never passes as a good one. Without a published checksum, a file is kept
    (and its SHA-256 recorded) only when its completeness is proved: the server
    stated its length and every byte arrived, or it sent the body in chunks and
    the last chunk arrived. A ``.part`` file that the server's answer does not
    vouch for (a "range not satisfiable" answer without the matching length) is
    downloaded afresh.

    Parameters
    ----------
    remote : RemoteFile
        What to download.
    folder : path
        Where to put it (created if missing).
    progress : bool, default=None
        Show a progress bar on standard error; ``None`` shows it on a terminal.
    timeout : float, default=60
        Seconds to wait for the server before giving up.
    stream : file-like, default=None
        Where to write progress (standard error by default).

    Returns
    -------
    path : Path
        The downloaded (or already present) file.

    Raises
    ------
    DownloadError
        When offline, on a server error, or when the checksum does not match
        (the bad file is deleted). The message says what to do.

    Examples
    --------
    >>> from skinlesion.datasets.fetch import DERMAMNIST, download
    >>> path = download(DERMAMNIST[28], "data")  # doctest: +SKIP
    """
    folder = Path(folder).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / remote.filename
    if _verified(target, remote.checksum):
        return target
    stream = sys.stderr if stream is None else stream
    if progress is None:
        progress = bool(getattr(stream, "isatty", lambda: False)())
    part = target.with_name(target.name + ".part")
    try:
        state = _fetch(remote, part, timeout=timeout, progress=progress, stream=stream)
        if state == "stale":
            # A .part that the server's answer does not vouch for: start again.
            part.unlink(missing_ok=True)
            state = _fetch(remote, part, timeout=timeout, progress=progress, stream=stream)
    except urllib.error.HTTPError as err:
        raise DownloadError(
            f"could not download {remote.url}: the server answered {err.code} {err.reason}. "
            "The address may have moved; check the data set's page, or download the file by "
            f"hand and put it at {target}."
        ) from None
    except (urllib.error.URLError, http.client.HTTPException, OSError) as err:
        if isinstance(err, DownloadError):
            raise
        reason = getattr(err, "reason", err)
        raise DownloadError(
            f"could not download {remote.url} ({reason}). Check the internet connection (and "
            "any proxy: the HTTPS_PROXY variable), then call again; a partial download "
            f"resumes where it stopped. Without internet, download the file elsewhere and "
            f"put it at {target}."
        ) from None
    if state != "whole" and remote.checksum is None:
        part.unlink(missing_ok=True)
        raise DownloadError(
            f"the server sent {remote.url} without saying how long it is (no Content-Length) "
            "and no checksum is published, so a complete download cannot be told from one "
            "cut short; nothing was kept. Call again later, or download the file by hand and "
            f"put it at {target}."
        )
    if remote.checksum is not None:
        actual = _check_checksum(part, remote.checksum)
        if actual is not None:
            part.unlink()
            raise DownloadError(
                f"the file downloaded from {remote.url} is corrupt or has changed: its checksum "
                f"is {actual}, expected {remote.checksum}. It was deleted; call again to "
                "download it afresh, and report the problem if it persists."
            )
    else:
        record = target.with_name(target.name + ".sha256")
        record.write_text(_hash_file(part, "sha256") + "\n")
    os.replace(part, target)
    return target


# -- DermaMNIST -------------------------------------------------------------


def fetch_dermamnist(
    size: int = 28,
    *,
    subset: str = "train",
    labels: str = "name",
    data_home: str | os.PathLike[str] | None = None,
    download_if_missing: bool = True,
    return_X_y: bool = False,
    progress: bool | None = None,
) -> Bunch | tuple[np.ndarray, np.ndarray]:
    """Load DermaMNIST (the MedMNIST release of HAM10000), downloading it if needed.

    DermaMNIST (Yang et al., Scientific Data 2023; CC BY-NC 4.0) holds the
    10 015 HAM10000 images resized to a small square, split 7007 / 1003 / 2005
    into train / val / test. Note that its split is by image, not by lesion.

    Parameters
    ----------
    size : {28, 64, 128, 224}, default=28
        Image side in pixels (the files are about 20 MB, 100 MB, 350 MB, 1 GB).
    subset : {"train", "val", "test", "all"}, default="train"
        Which split to return.
    labels : {"name", "code"}, default="name"
        ``target`` as readable names ("melanoma", ...) or HAM10000 codes ("mel", ...).
    data_home : path, default=None
        Data folder (see :func:`get_data_home`).
    download_if_missing : bool, default=True
        Download the file when it is not there; if False, raise instead.
    return_X_y : bool, default=False
        Return ``(images, target)`` instead of a Bunch.
    progress : bool, default=None
        Show a download progress bar (``None``: on a terminal).

    Returns
    -------
    data : Bunch
        ``images`` (uint8, (n, size, size, 3)), ``target``, ``target_names``,
        ``subsets`` (the split of each image), ``DESCR``.

    Examples
    --------
    >>> from skinlesion.datasets import fetch_dermamnist
    >>> X, y = fetch_dermamnist(28, subset="train", return_X_y=True)  # doctest: +SKIP
    >>> X.shape  # doctest: +SKIP
    (7007, 28, 28, 3)
    """
    if size not in DERMAMNIST:
        raise ValueError(f"size must be one of {sorted(DERMAMNIST)}, got {size!r}.")
    if subset not in ("train", "val", "test", "all"):
        raise ValueError(f"subset must be 'train', 'val', 'test' or 'all', got {subset!r}.")
    if labels not in ("name", "code"):
        raise ValueError(f"labels must be 'name' or 'code', got {labels!r}.")
    remote = DERMAMNIST[size]
    folder = get_data_home(data_home) / "dermamnist"
    path = folder / remote.filename
    if not path.is_file():
        if not download_if_missing:
            raise FileNotFoundError(
                f"{path} is missing; call with download_if_missing=True to download it from "
                f"{remote.url}, or put the file there by hand."
            )
    path = download(remote, folder, progress=progress)
    parts = ("train", "val", "test") if subset == "all" else (subset,)
    try:
        with np.load(path, allow_pickle=False) as npz:
            images = [np.asarray(npz[f"{p}_images"]) for p in parts]
            codes = [np.asarray(npz[f"{p}_labels"]).reshape(-1) for p in parts]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as err:
        raise DownloadError(
            f"{path} is not a readable DermaMNIST file ({err}); delete it and call again."
        ) from None
    X = np.concatenate(images)
    if X.ndim == 3:  # a grayscale release
        X = np.repeat(X[..., None], 3, axis=-1)
    X = X.astype(np.uint8, copy=False)
    names = [HAM10000_CLASSES[c] if labels == "name" else c for c in _DERMAMNIST_CODES]
    y = np.asarray(names, dtype=str)[np.concatenate(codes).astype(int)]
    if return_X_y:
        return X, y
    return Bunch(
        images=X,
        target=y,
        target_names=np.unique(y),
        subsets=np.repeat(np.asarray(parts, dtype=str), [len(c) for c in codes]),
        DESCR=(
            f"DermaMNIST ({size} x {size}), {subset}: {len(y)} images. Yang J. et al., "
            "MedMNIST v2, Scientific Data 10, 41 (2023); images from HAM10000 (Tschandl et "
            "al. 2018). CC BY-NC 4.0. The split is by image, not by lesion."
        ),
    )


# -- HAM10000 -----------------------------------------------------------------


def _dataverse_files(timeout: float) -> dict[str, RemoteFile]:
    """The HAM10000 files in the latest Dataverse version: name -> RemoteFile (with MD5)."""
    url = f"{DATAVERSE_URL}/api/datasets/:persistentId/?persistentId={HAM10000_DOI}"
    try:
        with _open(url, 0, timeout) as response:
            listing = json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as err:
        raise DownloadError(
            f"could not list the HAM10000 files at {url}: the server answered {err.code}."
        ) from None
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as err:
        raise DownloadError(
            f"could not reach the Harvard Dataverse ({getattr(err, 'reason', err)}) at {url}. "
            "Check the internet connection, then call again. Without internet, download "
            "HAM10000 from https://doi.org/10.7910/DVN/DBW86T elsewhere and load it with "
            "skinlesion.datasets.load_ham10000."
        ) from None
    except ValueError as err:
        raise DownloadError(f"unexpected answer from {url}: {err}") from None
    files: dict[str, RemoteFile] = {}
    for entry in listing.get("data", {}).get("latestVersion", {}).get("files", []):
        info = entry.get("dataFile", {})
        name = info.get("originalFileName") or info.get("filename", "")
        for wanted in _HAM_FILES:
            if name.startswith(wanted):
                checksum = info.get("md5") or (
                    info.get("checksum", {}).get("value")
                    if info.get("checksum", {}).get("type", "").upper() == "MD5"
                    else None
                )
                local = "HAM10000_metadata.csv" if wanted == "HAM10000_metadata" else wanted
                files[local] = RemoteFile(
                    local,
                    f"{DATAVERSE_URL}/api/access/datafile/{info['id']}?format=original",
                    f"md5:{checksum}" if checksum else None,
                )
    missing = [
        n
        for n in (
            "HAM10000_images_part_1.zip",
            "HAM10000_images_part_2.zip",
            "HAM10000_metadata.csv",
        )
        if n not in files
    ]
    if missing:
        raise DownloadError(
            f"the Dataverse record {HAM10000_DOI} no longer lists {missing}; download HAM10000 "
            "by hand and load it with skinlesion.datasets.load_ham10000."
        )
    return files


def _extract_images(archives: list[Path], dest: Path) -> None:
    """Extract the image files of ``archives`` flat into ``dest``, atomically."""
    tmp = Path(tempfile.mkdtemp(prefix=".images-", dir=dest.parent))
    try:
        for archive in archives:
            try:
                with zipfile.ZipFile(archive) as zf:
                    for info in zf.infolist():
                        name = Path(info.filename).name  # flat: no path from the archive
                        if (
                            info.is_dir()
                            or name.startswith(".")
                            or Path(name).suffix.lower() not in IMAGE_EXTENSIONS
                        ):
                            continue
                        with zf.open(info) as src, open(tmp / name, "wb") as dst:
                            shutil.copyfileobj(src, dst)
            except zipfile.BadZipFile as err:
                raise DownloadError(
                    f"{archive} is not a valid zip file ({err}); delete it and call again."
                ) from None
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def fetch_ham10000(
    *,
    data_home: str | os.PathLike[str] | None = None,
    download_if_missing: bool = True,
    progress: bool | None = None,
    timeout: float = 60.0,
    **load_kwargs: Any,
) -> Bunch:
    """Load HAM10000, downloading it from the Harvard Dataverse if needed (about 3 GB).

    The images and metadata of doi:10.7910/DVN/DBW86T (Tschandl et al. 2018,
    CC BY-NC-SA 4.0) are downloaded into ``<data_home>/ham10000`` (each file
    checked against the MD5 that Dataverse states), the images extracted to
    ``images/``, and the folder loaded with :func:`load_ham10000`.

    Parameters
    ----------
    data_home : path, default=None
        Data folder (see :func:`get_data_home`).
    download_if_missing : bool, default=True
        Download when the data are not there; if False, raise instead.
    progress : bool, default=None
        Show download progress bars (``None``: on a terminal).
    timeout : float, default=60
        Seconds to wait for the server.
    **load_kwargs
        Passed to :func:`load_ham10000` (``image_size``, ``as_paths``,
        ``labels``, ``cache``, ...). Default ``as_paths=True``: 10 015 images
        at full size would take about 8 GB of memory.

    Returns
    -------
    data : Bunch
        As :func:`load_ham10000`; split it by ``groups`` (lesion id).

    Examples
    --------
    >>> from skinlesion.datasets import fetch_ham10000
    >>> data = fetch_ham10000(image_size=64)  # doctest: +SKIP
    """
    folder = get_data_home(data_home) / "ham10000"
    metadata = folder / "HAM10000_metadata.csv"
    images = folder / "images"
    load_kwargs.setdefault("as_paths", True)
    if metadata.is_file() and images.is_dir():
        return load_ham10000(folder, **load_kwargs)
    if not download_if_missing:
        raise FileNotFoundError(
            f"HAM10000 is not in {folder}; call with download_if_missing=True to download it, "
            "or put HAM10000_metadata.csv and images/ there by hand."
        )
    files = _dataverse_files(timeout)
    downloads = folder / "downloads"
    got = {
        name: download(remote, downloads, progress=progress, timeout=timeout)
        for name, remote in sorted(files.items())
    }
    _extract_images([got["HAM10000_images_part_1.zip"], got["HAM10000_images_part_2.zip"]], images)
    tmp = metadata.with_name(metadata.name + ".part")
    shutil.copyfile(got["HAM10000_metadata.csv"], tmp)
    os.replace(tmp, metadata)
    return load_ham10000(folder, **load_kwargs)
