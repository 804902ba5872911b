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

import json
import os
import shutil
import tempfile
import urllib.error
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.utils import Bunch

from skinlesion.datasets._base import get_data_home
from skinlesion.datasets._download import DownloadError, RemoteFile, _open, download
from skinlesion.datasets.ham10000 import HAM10000_CLASSES, load_ham10000
from skinlesion.images import IMAGE_EXTENSIONS

__all__ = [
    "DownloadError",
    "RemoteFile",
    "download",
    "fetch_dermamnist",
    "fetch_ham10000",
]

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
