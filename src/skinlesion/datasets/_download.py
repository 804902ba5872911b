"""Resumable, checked, atomic downloads: the machinery under :mod:`~skinlesion.datasets.fetch`.

Each file is written to ``<name>.part`` and renamed into place only after its
checksum matched, so a half-written file never passes as a good one; an
interrupted download resumes where it stopped (HTTP ``Range``). Where the
publisher states a checksum it is checked; otherwise the SHA-256 of the first
download is recorded beside the file and checked on every later use.
:mod:`skinlesion.datasets.fetch` re-exports the public names.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from skinlesion._progress import LiveLine, bar

__all__ = ["DownloadError", "RemoteFile", "download"]

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
