"""Audit an image data set for what would corrupt an evaluation.

:func:`audit` finds byte-identical and near-identical images (a perceptual
hash) within a class, across classes (conflicting labels) and across train and
test (leakage); counts the classes; and flags unreadable, tiny, grayscale and
oddly sized images. The :class:`AuditReport` it returns prints a readable
summary, converts to plain data with :meth:`AuditReport.to_dict` (for JSON or
the command line), and gives a de-duplicated, leak-free version of the data
with :meth:`AuditReport.deduplicated`.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from scipy.fft import dctn
from sklearn.utils import Bunch

from skinlesion._labels import check_label_values
from skinlesion.datasets.folders import load_image_folder
from skinlesion.images import (
    _bomb_reason,
    _pil_to_rgb,
    _unidentified_reason,
    check_images,
    is_path_array,
)

__all__ = ["AuditReport", "DuplicateGroup", "audit", "perceptual_hash"]

_THUMB = 32  # side of the thumbnails hashed and checked for colour


def perceptual_hash(images: np.ndarray) -> np.ndarray:
    """64-bit DCT perceptual hashes (pHash) of ``uint8`` RGB images.

    Each image is reduced to 32 x 32 grey levels; the sign of its 8 x 8
    lowest-frequency DCT coefficients relative to their median gives the bits.
    Near-identical images (re-encoded, resized, slightly brightened) differ in
    only a few bits; different images in about half of them.

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
            width, height = img.size
            if img.format == "JPEG":
                img.draft("RGB", (2 * _THUMB, 2 * _THUMB))
            img.load()
            img = ImageOps.exif_transpose(img)
            if img.size != (width, height) and img.format != "JPEG":
                width, height = img.size
            rgb = _pil_to_rgb(img)
            out.thumb = np.asarray(
                rgb.resize((_THUMB, _THUMB), Image.Resampling.BILINEAR), dtype=np.uint8
            )
        # EXIF rotation swaps the sides the user sees
        out.height, out.width = (height, width)
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


@dataclass
class DuplicateGroup:
    """Images that are byte-identical (``kind="exact"``) or near-identical (``"near"``).

    Attributes
    ----------
    kind : {"exact", "near"}
    members : list of int
        Positions of the images in the audit's item table.
    sources : list of str
        File paths (or ``"<split>[i]"`` for images given as arrays).
    labels : list of str
    splits : list of str

    Examples
    --------
    >>> import numpy as np
    >>> from skinlesion.datasets import audit
    >>> X = np.random.default_rng(0).integers(0, 255, (4, 32, 32, 3), dtype=np.uint8)
    >>> X[1] = X[0]
    >>> group = audit((X, ["nevus", "melanoma", "nevus", "melanoma"])).exact_duplicates[0]
    >>> group.kind, sorted(group.labels)
    ('exact', ['melanoma', 'nevus'])
    """

    kind: str
    members: list[int]
    sources: list[str]
    labels: list[str]
    splits: list[str]

    @property
    def conflicting(self) -> bool:
        """True when the copies carry different labels."""
        return len(set(self.labels)) > 1

    @property
    def leaking(self) -> bool:
        """True when the copies sit in different splits (train and test)."""
        return len(set(self.splits)) > 1

    @property
    def category(self) -> str:
        """``"leak"``, ``"conflict"`` or ``"within class"`` (the first that applies)."""
        if self.leaking:
            return "leak"
        if self.conflicting:
            return "conflict"
        return "within class"

    def to_dict(self) -> dict[str, Any]:
        """Plain data: kind, category and the members' sources, labels and splits."""
        return {
            "kind": self.kind,
            "category": self.category,
            "sources": list(self.sources),
            "labels": list(self.labels),
            "splits": list(self.splits),
        }


@dataclass
class AuditReport:
    """What :func:`audit` found. Print it for a summary; see :meth:`to_dict`.

    Examples
    --------
    >>> import numpy as np
    >>> from skinlesion.datasets import audit
    >>> X = np.random.default_rng(0).integers(0, 255, (4, 32, 32, 3), dtype=np.uint8)
    >>> report = audit((X, ["nevus", "melanoma", "nevus", "melanoma"]))
    >>> report.ok, report.class_counts
    (True, {'train': {'melanoma': 2, 'nevus': 2}})

    Attributes
    ----------
    sources, labels, splits : ndarray of str
        One entry per image audited (file path or ``"<split>[i]"``).
    class_counts : dict
        ``{split: {class: count}}``.
    imbalance_ratio : float
        Largest over smallest class count (all splits together).
    exact_duplicates, near_duplicates : list of DuplicateGroup
        Byte-identical groups, and near-identical groups that are not all
        byte-identical (perceptual hashes within ``max_distance`` bits and
        thumbnails correlated at least ``min_correlation``). A near group holds
        the byte-identical copies of its members too.
    unreadable : list of (source, reason)
    tiny, grayscale : list of str
        Sources of images smaller than ``min_size`` on a side, and of images
        without colour.
    sizes : dict
        ``{"HxW": count}`` of the images' sizes.
    odd_size : list of str
        Sources of images whose size differs from the most common one.
    """

    sources: np.ndarray
    labels: np.ndarray
    splits: np.ndarray
    class_counts: dict[str, dict[str, int]]
    imbalance_ratio: float
    exact_duplicates: list[DuplicateGroup]
    near_duplicates: list[DuplicateGroup]
    unreadable: list[tuple[str, str]]
    tiny: list[str]
    grayscale: list[str]
    sizes: dict[str, int]
    odd_size: list[str]
    min_size: int
    max_distance: int
    min_correlation: float
    _data: dict[str, Any] = field(default_factory=dict, repr=False)

    # -- findings by category ------------------------------------------------
    def _groups(self, category: str) -> list[DuplicateGroup]:
        return [g for g in self.exact_duplicates + self.near_duplicates if g.category == category]

    @property
    def conflicts(self) -> list[DuplicateGroup]:
        """Copies of one image filed under different classes (label noise)."""
        return self._groups("conflict")

    @property
    def leaks(self) -> list[DuplicateGroup]:
        """Copies of one image in more than one split (train/test leakage)."""
        return self._groups("leak")

    @property
    def redundant(self) -> list[DuplicateGroup]:
        """Copies of one image within one class and split."""
        return self._groups("within class")

    @property
    def ok(self) -> bool:
        """True when nothing was found that corrupts an evaluation."""
        return not (self.exact_duplicates or self.near_duplicates or self.unreadable)

    # -- output --------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The findings as plain, JSON-serialisable data.

        Examples
        --------
        >>> import json
        >>> from skinlesion.datasets import audit, make_lesions
        >>> X, y = make_lesions(n_samples=20, image_size=32, random_state=0)
        >>> report = audit((X, y))
        >>> json.loads(json.dumps(report.to_dict()))["n_images"]
        20
        """

        def count(groups: list[DuplicateGroup], category: str) -> int:
            return sum(g.category == category for g in groups)

        return {
            "n_images": len(self.sources),
            "class_counts": self.class_counts,
            "imbalance_ratio": self.imbalance_ratio,
            "duplicates": {
                kind: {
                    "groups": len(groups),
                    "within_class": count(groups, "within class"),
                    "conflicting_labels": count(groups, "conflict"),
                    "train_test_leaks": count(groups, "leak"),
                }
                for kind, groups in (
                    ("exact", self.exact_duplicates),
                    ("near", self.near_duplicates),
                )
            },
            "exact_duplicates": [g.to_dict() for g in self.exact_duplicates],
            "near_duplicates": [g.to_dict() for g in self.near_duplicates],
            "unreadable": [{"source": s, "reason": r} for s, r in self.unreadable],
            "tiny": list(self.tiny),
            "grayscale": list(self.grayscale),
            "sizes": dict(self.sizes),
            "odd_size": list(self.odd_size),
            "settings": {
                "min_size": self.min_size,
                "max_distance": self.max_distance,
                "min_correlation": self.min_correlation,
            },
        }

    def summary(self, max_examples: int = 3) -> str:
        """A readable, multi-line summary (also what ``str(report)`` gives)."""
        lines = [f"Audit of {len(self.sources)} images"]
        for split, counts in self.class_counts.items():
            total = sum(counts.values())
            parts = ", ".join(f"{c} {n}" for c, n in sorted(counts.items()))
            lines.append(f"  {split}: {total} images in {len(counts)} classes ({parts})")
        lines.append(f"  class imbalance (largest / smallest class): {self.imbalance_ratio:.1f}")

        def name(source: str) -> str:
            p = Path(source)
            return f"{p.parent.name}/{p.name}" if p.parent.name else source

        def describe(groups: list[DuplicateGroup], what: str) -> None:
            if not groups:
                return
            lines.append(f"  {len(groups)} {what}")
            for g in groups[:max_examples]:
                members = ", ".join(
                    f"{name(s)} [{lab}{'' if len(set(g.splits)) == 1 else ', ' + sp}]"
                    for s, lab, sp in zip(g.sources, g.labels, g.splits, strict=True)
                )
                lines.append(f"      e.g. {members}")

        for kind, groups in (
            ("byte-identical", self.exact_duplicates),
            ("near-identical", self.near_duplicates),
        ):
            describe(
                [g for g in groups if g.category == "leak"],
                f"{kind} group(s) across splits (train/test leakage)",
            )
            describe(
                [g for g in groups if g.category == "conflict"],
                f"{kind} group(s) with conflicting labels (the same image in two classes)",
            )
            describe(
                [g for g in groups if g.category == "within class"],
                f"{kind} group(s) within one class (redundant copies)",
            )
        if self.unreadable:
            lines.append(f"  {len(self.unreadable)} unreadable file(s)")
            lines.extend(f"      e.g. {s}: {r}" for s, r in self.unreadable[:max_examples])
        for items, what in (
            (self.tiny, f"tiny image(s) (a side under {self.min_size} px)"),
            (self.grayscale, "grayscale image(s)"),
            (self.odd_size, "image(s) of an unusual size"),
        ):
            if items:
                lines.append(
                    f"  {len(items)} {what}: e.g. "
                    + ", ".join(name(s) for s in items[:max_examples])
                )
        if len(self.sizes) > 1:
            common = sorted(self.sizes.items(), key=lambda kv: -kv[1])[:4]
            lines.append("  sizes: " + ", ".join(f"{s} ({n})" for s, n in common))
        if not (self.exact_duplicates or self.near_duplicates or self.unreadable):
            lines.append("  no duplicates, conflicting labels, leaks or unreadable files found")
        else:
            n_drop = int((~self.keep_mask()).sum())
            lines.append(f"  report.deduplicated() drops {n_drop} image(s) for a leak-free set")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    # -- cleaning ------------------------------------------------------------
    def keep_mask(self, drop_conflicts: bool = True) -> np.ndarray:
        """Which images a de-duplicated, leak-free data set keeps (over the item table).

        One image is kept from each group of copies; when copies span splits,
        the kept one is in the test split (so the test set is unchanged and the
        training set loses its copies of test images); groups with conflicting
        labels are dropped entirely when ``drop_conflicts`` (the right label is
        unknown). Unreadable images are dropped.
        """
        keep = np.ones(len(self.sources), dtype=bool)
        bad = {u for u, _ in self.unreadable}
        keep[[i for i, s in enumerate(self.sources) if s in bad]] = False
        for members in _merge_groups(self.exact_duplicates + self.near_duplicates):
            labels = {self.labels[i] for i in members}
            if len(labels) > 1 and drop_conflicts:
                keep[members] = False
                continue
            order = sorted(members, key=lambda i: (_split_rank(self.splits[i]), i))
            keep[order[1:]] = False
        return keep

    def deduplicated(self, drop_conflicts: bool = True) -> Bunch | tuple[Bunch, Bunch]:
        """The data without duplicates, conflicting copies and leaks.

        Returns a :class:`~sklearn.utils.Bunch` like the loaders' (``paths`` or
        ``images``, ``target``, ``filenames``), or a ``(train, test)`` pair when
        the audit was given a test set. ``dropped`` lists what was removed. The
        files on disk are never touched.

        Examples
        --------
        >>> import numpy as np
        >>> from skinlesion.datasets import audit, make_lesions
        >>> X, y = make_lesions(n_samples=10, image_size=32, random_state=0)
        >>> X2, y2 = np.concatenate([X, X[:2]]), np.concatenate([y, y[:2]])
        >>> clean = audit((X2, y2)).deduplicated()
        >>> len(clean.images), len(clean.dropped)
        (10, 2)
        """
        keep = self.keep_mask(drop_conflicts)
        out = []
        for split, payload in self._data.items():
            rows = np.flatnonzero(self.splits == split)
            kept = rows[keep[rows]]
            local = kept - rows[0]
            bunch = Bunch(
                target=self.labels[kept],
                filenames=self.sources[kept],
                dropped=list(self.sources[rows[~keep[rows]]]),
            )
            bunch["paths" if payload["is_paths"] else "images"] = payload["X"][local]
            out.append(bunch)
        return out[0] if len(out) == 1 else tuple(out)


def _split_rank(split: str) -> int:
    """Which copy to keep: one in the test split first, then validation, then train."""
    name = split.lower()
    if name in {"test", "testing"}:
        return 0
    if name in {"val", "valid", "validation"}:
        return 1
    return 2


def _merge_groups(groups: list[DuplicateGroup]) -> list[list[int]]:
    """Connected components over all groups (exact and near may share members)."""
    parent: dict[int, int] = {}

    def find(i: int) -> int:
        parent.setdefault(i, i)
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for g in groups:
        for m in g.members[1:]:
            parent[find(m)] = find(g.members[0])
    components: dict[int, list[int]] = {}
    for i in list(parent):
        components.setdefault(find(i), []).append(i)
    return [sorted(c) for c in components.values()]


def _folder_items(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """Paths and labels of a class-per-folder tree, unreadable files included."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the audit reports what the loader warns about
        bunch = load_image_folder(folder, as_paths=True, errors="warn")
    paths = [*bunch.filenames, *(p for p, _ in bunch.skipped)]
    labels = [*bunch.target, *(Path(p).parent.name for p, _ in bunch.skipped)]
    return np.array(paths, dtype=object), np.array(labels, dtype=str)


def _as_items(dataset: Any, split: str) -> list[tuple[str, Any, np.ndarray, bool]]:
    """Turn one audit argument into ``[(split, X, labels, is_paths), ...]``."""
    if isinstance(dataset, (str, os.PathLike)):
        root = Path(dataset)
        try:
            return [(split, *_folder_items(root), True)]
        except ValueError as err:
            if "folders of class folders" not in str(err):
                raise
        subs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
        return [(sub.name, *_folder_items(sub), True) for sub in subs]
    if isinstance(dataset, Bunch) or isinstance(dataset, dict):
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
        return _as_items((X, labels), split)
    if isinstance(dataset, tuple) and len(dataset) == 2:
        X, y = dataset
        y = check_label_values(y).astype(str)
        X = check_images(X)  # paths become a 1-D object array, pixels uint8 RGB
        paths = is_path_array(X)
        if len(X) != len(y):
            raise ValueError(f"X has {len(X)} images but y has {len(y)} labels.")
        return [(split, X, y, paths)]
    raise TypeError(
        "audit() takes a folder path (one sub-folder per class, or a folder of split folders), "
        "a Bunch from a skinlesion.datasets loader, or an (X, y) pair of images (array or "
        f"paths) and labels; got {type(dataset).__name__}."
    )


def audit(
    dataset: Any,
    test: Any = None,
    *,
    max_distance: int = 4,
    min_correlation: float = 0.95,
    min_size: int = 64,
    n_jobs: int | None = None,
) -> AuditReport:
    """Find duplicates, label conflicts, train/test leaks and odd images in a data set.

    Parameters
    ----------
    dataset : path, Bunch or (X, y)
        A folder with one sub-folder per class (or a folder of split folders
        such as ``train/`` and ``val/``, audited together, leakage included),
        a Bunch from a loader of :mod:`skinlesion.datasets`, or an ``(X, y)``
        pair where ``X`` is an image array or a list of paths.
    test : path, Bunch or (X, y), default=None
        A test set, checked for copies of training images (leakage).
    max_distance : int, default=4
        Largest number of differing bits (of 64) between the perceptual hashes
        of two images called near-identical; ``-1`` turns near-duplicate
        search off.
    min_correlation : float, default=0.95
        A pair within ``max_distance`` is called near-identical only if the
        correlation of their 32 x 32 grey thumbnails is at least this. The hash
        alone confuses different images of a small dark lesion on plain skin.
    min_size : int, default=64
        Images with a side shorter than this many pixels are flagged as tiny.
    n_jobs : int, default=None
        Threads for reading files; ``None`` uses one per CPU core (at most 8).

    Returns
    -------
    report : AuditReport
        Printable findings, ``to_dict()`` and ``deduplicated()``.

    Notes
    -----
    Only the files' bytes and small thumbnails are read, so an audit is fast.
    Nothing on disk is changed.

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
    parts = _as_items(dataset, "train")
    if test is not None:
        parts += _as_items(test, "test")
    splits_seen = [p[0] for p in parts]
    if len(set(splits_seen)) != len(splits_seen):
        raise ValueError(f"split names must differ, got {splits_seen}.")

    sources: list[str] = []
    labels: list[str] = []
    splits: list[str] = []
    probes: list[_Probe] = []
    workers = min(8, os.cpu_count() or 1) if n_jobs is None else max(1, int(n_jobs))
    data: dict[str, Any] = {}
    for split, X, y, is_paths in parts:
        data[split] = {"X": X, "is_paths": is_paths}
        if is_paths:
            srcs = [os.fspath(p) for p in X]
            if workers > 1 and len(srcs) > 8:
                with ThreadPoolExecutor(max_workers=workers) as pool:
                    probes.extend(pool.map(_probe_file, srcs))
            else:
                probes.extend(_probe_file(p) for p in srcs)
        else:
            srcs = [f"{split}[{i}]" for i in range(len(X))]
            probes.extend(_probe_array(im) for im in X)
        sources.extend(srcs)
        labels.extend(str(v) for v in y)
        splits.extend([split] * len(srcs))
    src = np.array(sources, dtype=object)
    lab = np.array(labels, dtype=str)
    spl = np.array(splits, dtype=str)

    def group(kind: str, members: Sequence[int]) -> DuplicateGroup:
        members = sorted(members)
        return DuplicateGroup(
            kind,
            list(members),
            [str(src[i]) for i in members],
            [str(lab[i]) for i in members],
            [str(spl[i]) for i in members],
        )

    # byte-identical groups
    by_digest: dict[str, list[int]] = {}
    for i, p in enumerate(probes):
        if p.error is None and p.digest is not None:
            by_digest.setdefault(p.digest, []).append(i)
    exact = [group("exact", m) for m in by_digest.values() if len(m) > 1]

    # near-identical groups: hash one representative per byte-identical set
    near: list[DuplicateGroup] = []
    readable = [i for i, p in enumerate(probes) if p.error is None and p.thumb is not None]
    if max_distance >= 0 and len(readable) > 1:
        reps = [m[0] for m in by_digest.values()]
        hashes = perceptual_hash(np.stack([probes[i].thumb for i in reps]))
        pairs: list[tuple[int, int]] = []
        for start in range(0, len(reps), 512):
            block = hashes[start : start + 512, None] ^ hashes[None, :]
            dist = np.bitwise_count(block)
            a, b = np.nonzero(dist <= max_distance)
            sel = a + start < b
            pairs.extend(zip((a[sel] + start).tolist(), b[sel].tolist(), strict=True))
        if pairs:
            # confirm each candidate pair on the thumbnails themselves: dermoscopy
            # images of a small dark lesion on plain skin share coarse hashes
            grey = np.stack([probes[i].thumb for i in reps]).astype(np.float32) @ np.array(
                [0.299, 0.587, 0.114], dtype=np.float32
            )
            flat = grey.reshape(len(reps), -1)
            flat = flat - flat.mean(axis=1, keepdims=True)
            flat /= np.maximum(np.linalg.norm(flat, axis=1, keepdims=True), 1e-6)
            pa, pb = np.array(pairs).T
            corr = np.einsum("ij,ij->i", flat[pa], flat[pb])
            pairs = [p for p, c in zip(pairs, corr, strict=True) if c >= min_correlation]
        if pairs:
            parent = list(range(len(reps)))

            def find(i: int) -> int:
                while parent[i] != i:
                    parent[i] = parent[parent[i]]
                    i = parent[i]
                return i

            for a_, b_ in pairs:
                parent[find(a_)] = find(b_)
            comps: dict[int, list[int]] = {}
            for r in range(len(reps)):
                comps.setdefault(find(r), []).append(r)
            digests = list(by_digest.values())
            for comp in comps.values():
                if len(comp) > 1:
                    members = [i for r in comp for i in digests[r]]
                    near.append(group("near", members))

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
    common = next(iter(sizes)) if sizes else None
    odd = [str(src[i]) for i in ok if size_of[i] != common] if len(sizes) > 1 else []

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
        _data=data,
    )
