"""Output files: check a destination before the long work, and tidy up after a crash.

Training takes minutes to hours; a model file that cannot be written at the end
loses all of it. :func:`check_writable` is called before the first epoch (by
:meth:`LesionClassifier.save`'s callers and every command-line option that
writes a file) and tries the destination for real, which also holds for root,
whom permission bits do not stop.

Saves write to a hidden temporary file (``.skinlesion-XXXXXXXX.tmp``) and rename
it into place. A save killed with SIGKILL cannot remove its temporary file;
:func:`remove_stale_temporaries` removes such leftovers on the next save into
the same folder, touching nothing else.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
import time
from pathlib import Path

__all__ = ["TMP_PREFIX", "TMP_SUFFIX", "check_writable", "remove_stale_temporaries"]

TMP_PREFIX = ".skinlesion-"
TMP_SUFFIX = ".tmp"
# tempfile.mkstemp's names: the prefix, 8 characters from [a-z0-9_], the suffix
_TMP_NAME = re.compile(re.escape(TMP_PREFIX) + r"[a-z0-9_]{8}" + re.escape(TMP_SUFFIX))
#: A temporary file untouched for this many seconds belongs to no running save.
STALE_AFTER = 15 * 60


def check_writable(path: str | os.PathLike[str], what: str, example: str = "model.skl") -> Path:
    """Raise a clear ``OSError`` unless a file can be written at ``path``.

    Parameters
    ----------
    path : path-like
        The file to be written (it may exist; it is not touched).
    what : str
        How the user named it, for messages (``"--out"``, ``"path"``).
    example : str, default="model.skl"
        An example file name, for the message when ``path`` is a folder.

    Returns
    -------
    path : Path

    Raises
    ------
    IsADirectoryError, FileNotFoundError, NotADirectoryError, PermissionError
        With a message that names ``what``, the path and the fix.

    Examples
    --------
    >>> import tempfile, os
    >>> from skinlesion._files import check_writable
    >>> folder = tempfile.mkdtemp()
    >>> check_writable(os.path.join(folder, "model.skl"), "path").name
    'model.skl'
    >>> check_writable(os.path.join(folder, "missing", "model.skl"), "path")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    FileNotFoundError: path ... cannot be written: its folder ... does not exist; ...
    """
    path = Path(path)
    folder = path.parent
    if path.is_dir():
        raise IsADirectoryError(
            f"{what} {str(path)!r} is a folder; give a file name inside it, such as "
            f"{str(path / example)!r}."
        )
    if not folder.exists():
        blocker = next((p for p in folder.parents if p.exists() and not p.is_dir()), None)
        if blocker is not None:
            raise NotADirectoryError(
                f"{what} {str(path)!r} cannot be written: {str(blocker)!r} is a file, not a "
                "folder; choose another path."
            )
        raise FileNotFoundError(
            f"{what} {str(path)!r} cannot be written: its folder {str(folder)!r} does not "
            "exist; create it first or choose another path."
        )
    if not folder.is_dir():
        raise NotADirectoryError(
            f"{what} {str(path)!r} cannot be written: {str(folder)!r} is a file, not a "
            "folder; choose another path."
        )
    try:  # try it for real: permission bits do not stop root, a read-only mount does
        fd, probe = tempfile.mkstemp(prefix=".skinlesion-probe-", dir=folder)
    except OSError as err:
        raise PermissionError(
            f"{what} {str(path)!r} cannot be written: the folder {str(folder)!r} does not "
            f"accept new files ({err.strerror or err}); choose a folder you can write to."
        ) from None
    os.close(fd)
    os.unlink(probe)
    if path.exists() and not os.access(path, os.W_OK):
        raise PermissionError(
            f"{what} {str(path)!r} exists and is read-only; choose another name, or make "
            "it writable."
        )
    return path


def remove_stale_temporaries(
    folder: str | os.PathLike[str], now: float | None = None
) -> list[Path]:
    """Delete the temporary files that killed saves left in ``folder``; return them.

    Only regular files whose name is exactly ``.skinlesion-XXXXXXXX.tmp`` (as
    :meth:`LesionClassifier.save` creates them), that have not changed for
    :data:`STALE_AFTER` seconds and that are empty or start like a ZIP archive
    are removed; nothing else is touched, and errors are ignored.

    Examples
    --------
    >>> import os, tempfile, time
    >>> from skinlesion._files import remove_stale_temporaries
    >>> folder = tempfile.mkdtemp()
    >>> old = os.path.join(folder, ".skinlesion-abcd1234.tmp")
    >>> open(old, "wb").close()
    >>> os.utime(old, (time.time() - 3600, time.time() - 3600))
    >>> [p.name for p in remove_stale_temporaries(folder)], os.path.exists(old)
    (['.skinlesion-abcd1234.tmp'], False)
    """
    now = time.time() if now is None else now
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not _TMP_NAME.fullmatch(entry.name):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(info.st_mode) or now - info.st_mtime < STALE_AFTER:
                continue
            with open(entry.path, "rb") as handle:
                head = handle.read(4)
            if head not in (b"", b"PK\x03\x04"):  # not a (partial) model archive
                continue
            os.unlink(entry.path)
            removed.append(Path(entry.path))
        except OSError:
            continue
    return removed
