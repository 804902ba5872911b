"""Audit image data sets for what would corrupt an evaluation.

:func:`audit` finds byte-identical and near-identical images (a perceptual
hash) within a class, across classes (conflicting labels) and across train and
test (leakage), also across data sets of other layouts and resolutions, where
it matches files by their ISIC id too; counts the classes; and flags
unreadable, tiny, grayscale and oddly sized images. The :class:`AuditReport`
it returns prints a readable summary, converts to plain data with
:meth:`AuditReport.to_dict` (for JSON or the command line), and gives cleaned
versions of the data with :meth:`AuditReport.deduplicated` and
:meth:`AuditReport.without_leaks`.
"""

from __future__ import annotations

import hashlib
import os
import re
import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from scipy.fft import dctn
from sklearn.utils import Bunch

from skinlesion._imread import _bomb_reason, _pil_to_rgb, _unidentified_reason
from skinlesion._labels import check_label_values
from skinlesion.datasets._audit_report import (
    AuditReport,
    DuplicateGroup,
    components,
    labels_disagree,
    split_rank,
)
from skinlesion.datasets.folders import load_image_folder
from skinlesion.datasets.ham10000 import _find_metadata, _index_images, _read_metadata
from skinlesion.images import check_images, is_path_array

__all__ = ["AuditReport", "DuplicateGroup", "audit", "isic_id", "perceptual_hash"]

_THUMB = 32  # side of the thumbnails hashed and checked for colour
_ISIC_ID = re.compile(r"(?<![0-9A-Za-z])ISIC[_-]?(\d{7})(?!\d)", re.IGNORECASE)
# fields of a loader's Bunch that are not one value per image
_NOT_PER_IMAGE = {"target", "filenames", "paths", "images", "target_names", "DESCR", "skipped",
                  "missing", "dropped"}  # fmt: skip


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


# -- the audit's arguments as parts -------------------------------------------------------
@dataclass
class _Part:
    split: str
    X: Any
    labels: np.ndarray
    is_paths: bool
    names: Sequence[str] | None = None  # file names to read ISIC ids from
    extras: dict[str, Any] = field(default_factory=dict)  # per-image fields to hand back


def _folder_items(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """Paths and labels of a class-per-folder tree, unreadable files included."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the audit reports what the loader warns about
        bunch = load_image_folder(folder, as_paths=True, errors="warn")
    paths = [*bunch.filenames, *(p for p, _ in bunch.skipped)]
    labels = [*bunch.target, *(Path(p).parent.name for p, _ in bunch.skipped)]
    return np.array(paths, dtype=object), np.array(labels, dtype=str)


def _ham10000_metadata(root: Path) -> Path | None:
    """The HAM10000 metadata file of ``root``, if it has HAM10000's columns."""
    try:
        path = _find_metadata(root)
        with open(path, newline="", encoding="utf-8-sig") as fh:
            header = {c.strip().strip('"') for c in re.split("[,\t]", fh.readline())}
    except (FileNotFoundError, OSError, UnicodeDecodeError):
        return None
    return path if {"lesion_id", "image_id", "dx"} <= header else None


def _ham10000_part(root: Path, metadata: Path, split: str) -> _Part:
    """A HAM10000 folder: its images with their ``dx`` codes and lesion ids.

    Files are listed, not opened: the audit reads each file once and reports
    the unreadable ones itself. Metadata rows without an image file are left out.
    """
    columns = _read_metadata(metadata)
    index = _index_images(root)
    rows = [k for k, iid in enumerate(columns["image_id"]) if iid in index]
    paths = np.array([os.fspath(index[columns["image_id"][k]]) for k in rows], dtype=object)
    labels = np.array([columns["dx"][k] for k in rows], dtype=str)
    extras = {
        "groups": np.array([columns["lesion_id"][k] for k in rows], dtype=str),
        "image_ids": np.array([columns["image_id"][k] for k in rows], dtype=str),
    }
    return _Part(split, paths, labels, True, names=list(paths), extras=extras)


def _as_parts(dataset: Any, split: str) -> list[_Part]:
    """Turn one audit argument into its parts (one per split)."""
    if isinstance(dataset, (str, os.PathLike)):
        root = Path(dataset)
        if root.is_dir() and (metadata := _ham10000_metadata(root)) is not None:
            return [_ham10000_part(root, metadata, split)]
        try:
            X, y = _folder_items(root)
            return [_Part(split, X, y, True, names=list(X))]
        except ValueError as err:
            if "folders of class folders" not in str(err):
                raise
        subs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
        parts = []
        for sub in subs:
            X, y = _folder_items(sub)
            parts.append(_Part(sub.name, X, y, True, names=list(X)))
        return parts
    if isinstance(dataset, (Bunch, dict)):
        labels = dataset.get("target")
        for key in ("filenames", "paths", "images"):
            if key in dataset and (key != "filenames" or "images" not in dataset):
                X = dataset[key]
                break
        else:
            raise ValueError(
                "a data set given as a Bunch needs 'paths', 'filenames' or 'images' and 'target', "
                "as the skinlesion.datasets loaders return."
            )
        if labels is None:
            raise ValueError("the Bunch has no 'target' (class labels).")
        (part,) = _as_parts((X, labels), split)
        n = len(part.labels)
        if "filenames" in dataset and len(dataset["filenames"]) == n:
            part.names = [os.fspath(f) for f in dataset["filenames"]]
        for key, value in dataset.items():
            if key not in _NOT_PER_IMAGE and _per_image(value, n):
                part.extras[key] = value
        return [part]
    if isinstance(dataset, tuple) and len(dataset) == 2:
        X, y = dataset
        y = check_label_values(y).astype(str)
        X = check_images(X)  # paths become a 1-D object array, pixels uint8 RGB
        paths = is_path_array(X)
        if len(X) != len(y):
            raise ValueError(f"X has {len(X)} images but y has {len(y)} labels.")
        return [_Part(split, X, y, paths, names=list(X) if paths else None)]
    raise TypeError(
        "audit() takes a folder path (one sub-folder per class, a folder of split folders "
        "such as ISIC 2017's, or a HAM10000 folder), a Bunch from a skinlesion.datasets loader, "
        f"or an (X, y) pair of images (array or paths) and labels; got {type(dataset).__name__}."
    )


def _per_image(value: Any, n: int) -> bool:
    if isinstance(value, dict):
        return bool(value) and all(_per_image(v, n) for v in value.values())
    if hasattr(value, "iloc") or isinstance(value, np.ndarray):
        return len(value) == n
    return False


def _check_label_map(label_map: Any) -> dict[str, str] | None:
    if label_map is None:
        return None
    if not isinstance(label_map, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in label_map.items()
    ):
        raise ValueError(
            "label_map must be a dict from your class names to names of the same diagnoses "
            f"(strings to strings, e.g. {{'cancer': 'melanoma'}}), got {label_map!r}."
        )
    return dict(label_map)


# -- the audit ---------------------------------------------------------------------------
def audit(
    dataset: Any,
    test: Any = None,
    *,
    max_distance: int = 4,
    min_correlation: float = 0.95,
    min_size: int = 64,
    match_ids: bool = True,
    label_map: Mapping[str, str] | None = None,
    n_jobs: int | None = None,
) -> AuditReport:
    """Find duplicates, label conflicts, train/test leaks and odd images in data sets.

    The training set and the test set may come from different data sets, in
    different layouts and at different resolutions (an ISIC class-per-folder
    copy against a HAM10000 folder, say): copies are matched by their bytes,
    by the ISIC id in their file names, and by a perceptual hash of their
    pixels, which survives resizing to another size or aspect ratio.

    Parameters
    ----------
    dataset : path, Bunch or (X, y)
        A folder with one sub-folder per class, a folder of split folders
        (``train/`` and ``val/``, as ISIC 2017's; audited together, leakage
        included), a HAM10000 folder (``HAM10000_metadata.csv`` and the
        images; labelled with its ``dx`` codes), a Bunch from a loader of
        :mod:`skinlesion.datasets`, or an ``(X, y)`` pair where ``X`` is an
        image array or a list of paths.
    test : path, Bunch or (X, y), default=None
        A test set, in any of the same forms, checked for copies of training
        images (leakage). A folder of split folders gives splits named
        ``test/<split>``.
    max_distance : int, default=4
        Largest number of differing bits (of 64) between the perceptual hashes
        of two images called near-identical; ``-1`` turns the perceptual hash
        off.
    min_correlation : float, default=0.95
        A pair within ``max_distance`` is called near-identical only if the
        correlation of their 32 x 32 grey thumbnails is at least this. The hash
        alone confuses different images of a small dark lesion on plain skin.
    min_size : int, default=64
        Images with a side shorter than this many pixels are flagged as tiny.
    match_ids : bool, default=True
        Treat files whose names carry the same ISIC id (``ISIC_0024306``) as
        copies of one image, whatever their size or format.
    label_map : dict, default=None
        Your class names mapped to names of the same diagnoses, used only
        where labels from different splits are compared (for example
        ``{"cancer": "melanoma"}``). The common names and codes of the public
        sets are known already (see the user guide).
    n_jobs : int, default=None
        Threads for reading files; ``None`` uses one per CPU core (at most 8).

    Returns
    -------
    report : AuditReport
        Printable findings, ``to_dict()``, ``deduplicated()`` and
        ``without_leaks()``.

    Notes
    -----
    Only the files' bytes and small thumbnails are read, so an audit is fast.
    Nothing on disk is changed. Copies in one split conflict when their class
    names differ; copies in different splits (often different data sets with
    their own class names) conflict only when their names cannot mean the
    same diagnosis: ``"melanoma"`` and ``"mel"`` agree, HAM10000's broad
    ``"bkl"`` agrees with ``"seborrheic keratosis"``, ``"nevus"`` and
    ``"akiec"`` disagree.

    Examples
    --------
    >>> import numpy as np
    >>> from skinlesion.datasets import audit, make_lesions
    >>> X, y = make_lesions(n_samples=12, image_size=32, random_state=0)
    >>> other = "nevus" if y[0] != "nevus" else "melanoma"  # file one image twice
    >>> X2, y2 = np.concatenate([X, X[:1]]), np.concatenate([y, [other]])
    >>> report = audit((X2, y2))
    >>> len(report.conflicts)
    1
    >>> print(report)  # doctest: +ELLIPSIS
    Audit of 13 images
    ...
    """
    if (
        not isinstance(max_distance, (int, np.integer))
        or isinstance(max_distance, bool)
        or not -1 <= max_distance <= 32
    ):
        raise ValueError(f"max_distance must be an int from -1 to 32, got {max_distance!r}.")
    if not isinstance(min_correlation, (int, float)) or not -1 <= min_correlation <= 1:
        raise ValueError(f"min_correlation must be a number from -1 to 1, got {min_correlation!r}.")
    if not isinstance(min_size, (int, np.integer)) or isinstance(min_size, bool) or min_size < 0:
        raise ValueError(f"min_size must be a non-negative int, got {min_size!r}.")
    if not isinstance(match_ids, (bool, np.bool_)):
        raise ValueError(f"match_ids must be True or False, got {match_ids!r}.")
    label_map = _check_label_map(label_map)
    parts = _as_parts(dataset, "train")
    ranks = {p.split: split_rank(p.split) for p in parts}
    if test is not None:
        test_parts = _as_parts(test, "test")
        if len(test_parts) > 1:
            for p in test_parts:
                p.split = f"test/{p.split}"
        parts += test_parts
        ranks.update({p.split: 0 for p in test_parts})
    splits_seen = [p.split for p in parts]
    if len(set(splits_seen)) != len(splits_seen):
        raise ValueError(f"split names must differ, got {splits_seen}.")

    sources: list[str] = []
    labels: list[str] = []
    splits: list[str] = []
    ids: list[str | None] = []
    probes: list[_Probe] = []
    workers = min(8, os.cpu_count() or 1) if n_jobs is None else max(1, int(n_jobs))
    data: dict[str, Any] = {}
    for part in parts:
        data[part.split] = {
            "X": part.X,
            "is_paths": part.is_paths,
            "rank": ranks[part.split],
            "extras": part.extras,
        }
        if part.is_paths:
            srcs = [os.fspath(p) for p in part.X]
            if workers > 1 and len(srcs) > 8:
                with ThreadPoolExecutor(max_workers=workers) as pool:
                    probes.extend(pool.map(_probe_file, srcs))
            else:
                probes.extend(_probe_file(p) for p in srcs)
        else:
            srcs = [f"{part.split}[{i}]" for i in range(len(part.X))]
            probes.extend(_probe_array(im) for im in part.X)
        names = part.names if match_ids and part.names is not None else [""] * len(srcs)
        ids.extend(isic_id(n) if n else None for n in names)
        sources.extend(srcs)
        labels.extend(str(v) for v in part.labels)
        splits.extend([part.split] * len(srcs))
    src = np.array(sources, dtype=object)
    lab = np.array(labels, dtype=str)
    spl = np.array(splits, dtype=str)
    classes = {s: sorted(set(lab[spl == s].tolist())) for s in dict.fromkeys(splits)}

    def group(kind: str, members: Sequence[int], matched_by: tuple[str, ...]) -> DuplicateGroup:
        members = sorted(members)
        g_labels = [str(lab[i]) for i in members]
        g_splits = [str(spl[i]) for i in members]
        return DuplicateGroup(
            kind,
            list(members),
            [str(src[i]) for i in members],
            g_labels,
            g_splits,
            matched_by,
            labels_disagree(g_labels, g_splits, classes, label_map),
        )

    exact, near = _find_copies(probes, ids, max_distance, min_correlation, group)

    unreadable = [(str(src[i]), p.error) for i, p in enumerate(probes) if p.error is not None]
    ok = [i for i, p in enumerate(probes) if p.error is None]
    tiny = [str(src[i]) for i in ok if min(probes[i].height, probes[i].width) < min_size]
    grayscale = []
    for i in ok:
        p = probes[i]
        thumb = p.thumb.astype(np.int16) if p.thumb is not None else None
        if p.mode in {"L", "LA", "1", "I", "I;16", "F"} or (
            thumb is not None and np.abs(thumb - thumb[..., :1]).max() <= 3
        ):
            grayscale.append(str(src[i]))
    size_of = {i: f"{probes[i].height}x{probes[i].width}" for i in ok}
    sizes = dict(Counter(size_of.values()).most_common())
    # odd within its own split: data sets of other resolutions are not odd
    common = {
        s: Counter(size_of[i] for i in ok if spl[i] == s).most_common(1)
        for s in dict.fromkeys(splits)
    }
    odd = [str(src[i]) for i in ok if size_of[i] != common[str(spl[i])][0][0]]

    class_counts: dict[str, dict[str, int]] = {}
    for s in dict.fromkeys(splits):
        vals, counts = np.unique(lab[spl == s], return_counts=True)
        class_counts[s] = {str(v): int(c) for v, c in zip(vals, counts, strict=True)}
    _, totals = np.unique(lab, return_counts=True)
    ratio = float(totals.max() / totals.min()) if len(totals) else 1.0
    return AuditReport(
        sources=src,
        labels=lab,
        splits=spl,
        class_counts=class_counts,
        imbalance_ratio=ratio,
        exact_duplicates=exact,
        near_duplicates=near,
        unreadable=unreadable,
        tiny=tiny,
        grayscale=grayscale,
        sizes=sizes,
        odd_size=odd,
        min_size=int(min_size),
        max_distance=int(max_distance),
        min_correlation=float(min_correlation),
        match_ids=bool(match_ids),
        label_map=label_map,
        _data=data,
    )


def _find_copies(
    probes: list[_Probe],
    ids: list[str | None],
    max_distance: int,
    min_correlation: float,
    group: Any,
) -> tuple[list[DuplicateGroup], list[DuplicateGroup]]:
    """Byte-identical groups, and groups joined by ISIC id or perceptual hash."""
    by_digest: dict[str, list[int]] = {}
    for i, p in enumerate(probes):
        if p.error is None and p.digest is not None:
            by_digest.setdefault(p.digest, []).append(i)
    exact = [group("exact", m, ("bytes",)) for m in by_digest.values() if len(m) > 1]

    # the nodes from here on are the byte-identical sets, one hashed representative each
    digests = list(by_digest.values())
    set_of = np.full(len(probes), -1)
    for k, members in enumerate(digests):
        set_of[members] = k
    hash_pairs: list[tuple[int, int]] = []
    if max_distance >= 0 and len(digests) > 1:
        thumbs = np.stack([probes[m[0]].thumb for m in digests])
        hash_pairs = _near_pairs(thumbs, max_distance, min_correlation)
    id_pairs: list[tuple[int, int]] = []
    by_id: dict[str, set[int]] = {}
    for i, iid in enumerate(ids):
        if iid is not None and set_of[i] >= 0:
            by_id.setdefault(iid, set()).add(int(set_of[i]))
    for sets in by_id.values():
        first, *rest = sorted(sets)
        id_pairs.extend((first, k) for k in rest)

    edges = hash_pairs + id_pairs
    label = components([a for a, _ in edges], [b for _, b in edges], len(digests))
    joined = {
        evidence: {int(label[a]) for a, _ in pairs}
        for evidence, pairs in (("id", id_pairs), ("hash", hash_pairs))
    }
    by_label: dict[int, list[int]] = {}
    for k in range(len(digests)):
        by_label.setdefault(int(label[k]), []).append(k)
    near = []
    for c, sets_ in by_label.items():
        if len(sets_) > 1:
            evidence = ("bytes",) if any(len(digests[k]) > 1 for k in sets_) else ()
            evidence += tuple(e for e in ("id", "hash") if c in joined[e])
            near.append(group("near", [i for k in sets_ for i in digests[k]], evidence))
    near.sort(key=lambda g: g.members[0])
    return exact, near


def _near_pairs(
    thumbs: np.ndarray, max_distance: int, min_correlation: float
) -> list[tuple[int, int]]:
    """Pairs of thumbnails whose hashes are close and whose grey levels correlate."""
    hashes = perceptual_hash(thumbs)
    pairs: list[tuple[int, int]] = []
    for start in range(0, len(hashes), 512):
        dist = np.bitwise_count(hashes[start : start + 512, None] ^ hashes[None, :])
        a, b = np.nonzero(dist <= max_distance)
        sel = a + start < b
        pairs.extend(zip((a[sel] + start).tolist(), b[sel].tolist(), strict=True))
    if not pairs:
        return []
    # confirm each candidate pair on the thumbnails themselves: dermoscopy
    # images of a small dark lesion on plain skin share coarse hashes
    grey = thumbs.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    flat = grey.reshape(len(thumbs), -1)
    flat = flat - flat.mean(axis=1, keepdims=True)
    flat /= np.maximum(np.linalg.norm(flat, axis=1, keepdims=True), 1e-6)
    pa, pb = np.array(pairs).T
    corr = np.einsum("ij,ij->i", flat[pa], flat[pb])
    return [p for p, c in zip(pairs, corr, strict=True) if c >= min_correlation]
