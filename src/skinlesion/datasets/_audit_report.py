"""What :func:`skinlesion.datasets.audit` found: groups of copies and the report.

:class:`DuplicateGroup` holds one group of copies of an image; :class:`AuditReport`
holds every finding, prints a summary, converts to plain data and gives cleaned
versions of the data (:meth:`AuditReport.deduplicated`,
:meth:`AuditReport.without_leaks`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components
from sklearn.utils import Bunch

from skinlesion._hints import fix
from skinlesion.datasets._diagnoses import agree

__all__ = ["AuditReport", "DuplicateGroup"]


@dataclass
class DuplicateGroup:
    """Copies of one image: byte-identical (``kind="exact"``) or not (``"near"``).

    Attributes
    ----------
    kind : {"exact", "near"}
        ``"near"`` groups hold copies that are not all byte-identical: the same
        ISIC id in the file names, or near-identical pixels (perceptual hash).
    members : list of int
        Positions of the images in the audit's item table.
    sources : list of str
        File paths (or ``"<split>[i]"`` for images given as arrays).
    labels : list of str
    splits : list of str
    matched_by : tuple of str
        What joined the copies: ``"bytes"``, ``"id"`` (the same ISIC id) and
        ``"hash"`` (the perceptual hash, confirmed on thumbnails).

    Examples
    --------
    >>> import numpy as np
    >>> from skinlesion.datasets import audit
    >>> X = np.random.default_rng(0).integers(0, 255, (4, 32, 32, 3), dtype=np.uint8)
    >>> X[1] = X[0]
    >>> group = audit((X, ["nevus", "melanoma", "nevus", "melanoma"])).exact_duplicates[0]
    >>> group.kind, sorted(group.labels), group.conflicting
    ('exact', ['melanoma', 'nevus'], True)
    """

    kind: str
    members: list[int]
    sources: list[str]
    labels: list[str]
    splits: list[str]
    matched_by: tuple[str, ...] = ()
    _conflict: bool | None = field(default=None, repr=False, compare=False)

    @property
    def conflicting(self) -> bool:
        """True when the copies' labels disagree.

        Copies in one split disagree when their class names differ. Copies in
        different splits (often different data sets) disagree only when the
        names cannot mean one diagnosis: ``"melanoma"`` and ``"mel"`` agree,
        ``"nevus"`` and ``"akiec"`` do not (see the user guide's table).
        """
        if self._conflict is not None:
            return self._conflict
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
        """Plain data: kind, category, evidence and the members' sources, labels and splits."""
        return {
            "kind": self.kind,
            "category": self.category,
            "conflicting": self.conflicting,
            "matched_by": list(self.matched_by),
            "sources": list(self.sources),
            "labels": list(self.labels),
            "splits": list(self.splits),
        }


def labels_disagree(
    labels: Sequence[str],
    splits: Sequence[str],
    classes: Mapping[str, Sequence[str]],
    label_map: Mapping[str, str] | None = None,
) -> bool:
    """Whether any two copies' labels disagree (see :attr:`DuplicateGroup.conflicting`)."""
    for (sa, la), (sb, lb) in combinations(sorted(set(zip(splits, labels, strict=True))), 2):
        if la != lb and (sa == sb or not agree(la, lb, classes[sa], classes[sb], label_map)):
            return True
    return False


def components(edges_a: Sequence[int], edges_b: Sequence[int], n: int) -> np.ndarray:
    """The connected component of each of ``n`` nodes, given undirected edges."""
    a = np.asarray(edges_a, dtype=np.int64)
    graph = coo_array((np.ones(len(a), dtype=np.int8), (a, np.asarray(edges_b))), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def _merge_groups(groups: list[DuplicateGroup], n: int) -> list[list[int]]:
    """Connected components over all groups (exact and near may share members)."""
    a = [g.members[0] for g in groups for _ in g.members[1:]]
    b = [m for g in groups for m in g.members[1:]]
    label = components(a, b, n)
    in_groups = np.unique([m for g in groups for m in g.members]).astype(np.int64)
    by_label: dict[int, list[int]] = {}
    for i in in_groups.tolist():
        by_label.setdefault(int(label[i]), []).append(i)
    return [sorted(c) for c in by_label.values()]


def split_rank(split: str) -> int:
    """Which copy to keep: one in the test split first, then validation, then train."""
    name = split.lower()
    if name in {"test", "testing"}:
        return 0
    if name in {"val", "valid", "validation"}:
        return 1
    return 2


def _take(value: Any, rows: np.ndarray) -> Any:
    """Rows of a per-image array, dict of arrays or DataFrame."""
    if isinstance(value, dict):
        return {k: _take(v, rows) for k, v in value.items()}
    if hasattr(value, "iloc"):
        return value.iloc[rows].reset_index(drop=True)
    return np.asarray(value)[rows]


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
        Byte-identical groups, and groups of copies that are not all
        byte-identical: files named with the same ISIC id (``match_ids``), or
        images whose perceptual hashes are within ``max_distance`` bits and
        whose thumbnails correlate at least ``min_correlation``. A near group
        holds the byte-identical copies of its members too.
    unreadable : list of (source, reason)
    tiny, grayscale : list of str
        Sources of images smaller than ``min_size`` on a side, and of images
        without colour.
    sizes : dict
        ``{"HxW": count}`` of the images' sizes.
    odd_size : list of str
        Sources of images whose size differs from the most common one in their
        split.
    min_size, max_distance, min_correlation, match_ids, label_map
        The settings of the audit.
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
    match_ids: bool = True
    label_map: dict[str, str] | None = None
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

    def _rank(self, split: str) -> int:
        return self._data.get(split, {}).get("rank", split_rank(split))

    def _classes(self) -> dict[str, list[str]]:
        return {s: list(c) for s, c in self.class_counts.items()}

    def shared_labels(self) -> list[dict[str, Any]]:
        """How the labels of copies in different splits correspond.

        One entry per pair of (split, label) found on the two sides of a leak,
        with the number of groups of copies that carry it and whether the two
        labels agree (see :attr:`DuplicateGroup.conflicting`). Across data sets
        this shows how their class names map and where one set's label differs.

        Examples
        --------
        >>> import numpy as np
        >>> from skinlesion.datasets import audit
        >>> X = np.random.default_rng(0).integers(0, 255, (3, 32, 32, 3), dtype=np.uint8)
        >>> report = audit((X, ["melanoma", "nevus", "nevus"]), test=(X[:2], ["mel", "akiec"]))
        >>> [(d["labels"], d["agree"]) for d in report.shared_labels()]
        [(['melanoma', 'mel'], True), (['nevus', 'akiec'], False)]
        """
        classes = self._classes()
        order = {s: k for k, s in enumerate(self.class_counts)}
        counts: Counter[tuple[str, str, str, str]] = Counter()
        for members in _merge_groups(
            self.exact_duplicates + self.near_duplicates, len(self.sources)
        ):
            found = set()
            for i, j in combinations(members, 2):
                si, sj = str(self.splits[i]), str(self.splits[j])
                if si == sj:
                    continue
                if order[si] > order[sj]:
                    i, j, si, sj = j, i, sj, si
                found.add((si, str(self.labels[i]), sj, str(self.labels[j])))
            counts.update(found)
        out = []
        for (sa, la, sb, lb), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            out.append(
                {
                    "splits": [sa, sb],
                    "labels": [la, lb],
                    "groups": n,
                    "agree": la == lb or agree(la, lb, classes[sa], classes[sb], self.label_map),
                }
            )
        return out

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
                    "leaks_with_conflicting_labels": sum(
                        g.leaking and g.conflicting for g in groups
                    ),
                    "matched_by_id": sum("id" in g.matched_by for g in groups),
                }
                for kind, groups in (
                    ("exact", self.exact_duplicates),
                    ("near", self.near_duplicates),
                )
            },
            "leaked_images": int((~self.keep_mask(leaks_only=True)).sum()),
            "shared_labels": self.shared_labels(),
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
                "match_ids": self.match_ids,
                "label_map": dict(self.label_map) if self.label_map else None,
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

        def how(groups: list[DuplicateGroup]) -> str:
            by_id = sum("id" in g.matched_by for g in groups)
            if not by_id:
                return ""
            return f"; {by_id} matched by ISIC id, {len(groups) - by_id} by perceptual hash alone"

        for kind, groups in (
            ("byte-identical", self.exact_duplicates),
            ("near-identical", self.near_duplicates),
        ):
            leaks = [g for g in groups if g.category == "leak"]
            describe(leaks, f"{kind} group(s) across splits (train/test leakage{how(leaks)})")
            describe(
                [g for g in groups if g.category == "conflict"],
                f"{kind} group(s) with conflicting labels (the same image in two classes)",
            )
            describe(
                [g for g in groups if g.category == "within class"],
                f"{kind} group(s) within one class (redundant copies)",
            )
        shared = self.shared_labels()
        if shared:
            lines.append("  labels of the copies across splits (groups):")
            for agreeing, what in ((True, "agree"), (False, "disagree")):
                rows = [d for d in shared if d["agree"] is agreeing]
                if rows:
                    pairs = ", ".join(
                        f"{d['labels'][0]} [{d['splits'][0]}] = {d['labels'][1]} "
                        f"[{d['splits'][1]}] {d['groups']}"
                        for d in rows[: 3 * max_examples]
                    )
                    more = f", and {len(rows) - 3 * max_examples} more" * (
                        len(rows) > 3 * max_examples
                    )
                    lines.append(f"      {what}: {pairs}{more}")
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
            drops = fix("report.deduplicated() drops", cli="drop")
            lines.append(f"  {drops} {n_drop} image(s) for a leak-free set")
            n_leak = int((~self.keep_mask(leaks_only=True)).sum())
            if n_leak:
                drops = fix("report.without_leaks() drops", cli="or drop")
                lines.append(
                    f"  {drops} only the {n_leak} copies of images in another split (the test "
                    "split stays whole)"
                )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    # -- cleaning ------------------------------------------------------------
    def keep_mask(self, drop_conflicts: bool = True, *, leaks_only: bool = False) -> np.ndarray:
        """Which images a de-duplicated, leak-free data set keeps (over the item table).

        One image is kept from each group of copies; when copies span splits,
        the kept one is in the test split (so the test set is unchanged and the
        training set loses its copies of test images); groups with conflicting
        labels are dropped entirely when ``drop_conflicts`` (the right label is
        unknown). Unreadable images are dropped.

        With ``leaks_only=True`` only copies of images in another split are
        dropped: of each group that spans splits, every copy outside the split
        that ranks first (the test split, then validation, then train; splits
        of the audit's ``test`` argument are all test and never lose a copy).
        Duplicates within a split, conflicts and unreadable files stay.

        Examples
        --------
        >>> import numpy as np
        >>> from skinlesion.datasets import audit, make_lesions
        >>> X, y = make_lesions(n_samples=6, image_size=32, random_state=0)
        >>> report = audit((X, y), test=(X[:1], y[:1]))
        >>> report.keep_mask(leaks_only=True)
        array([False,  True,  True,  True,  True,  True,  True])
        """
        keep = np.ones(len(self.sources), dtype=bool)
        if not leaks_only:
            bad = {u for u, _ in self.unreadable}
            keep[[i for i, s in enumerate(self.sources) if s in bad]] = False
        classes = self._classes()
        for members in _merge_groups(
            self.exact_duplicates + self.near_duplicates, len(self.sources)
        ):
            order = sorted(members, key=lambda i: (self._rank(str(self.splits[i])), i))
            if leaks_only:
                best, first = self._rank(str(self.splits[order[0]])), self.splits[order[0]]
                keep[
                    [
                        i
                        for i in members
                        if self._rank(str(self.splits[i])) > best
                        or (best > 0 and self.splits[i] != first)
                    ]
                ] = False
                continue
            if drop_conflicts and labels_disagree(
                [str(self.labels[i]) for i in members],
                [str(self.splits[i]) for i in members],
                classes,
                self.label_map,
            ):
                keep[members] = False
                continue
            keep[order[1:]] = False
        return keep

    def _subsets(self, keep: np.ndarray) -> Bunch | tuple[Bunch, ...]:
        out = []
        for split, payload in self._data.items():
            rows = np.flatnonzero(self.splits == split)
            kept = rows[keep[rows]]
            local = kept - rows[0] if len(rows) else kept
            bunch = Bunch(
                target=self.labels[kept],
                filenames=self.sources[kept],
                dropped=list(self.sources[rows[~keep[rows]]]),
            )
            bunch["paths" if payload["is_paths"] else "images"] = payload["X"][local]
            for key, value in payload.get("extras", {}).items():
                bunch[key] = _take(value, local)
            out.append(bunch)
        return out[0] if len(out) == 1 else tuple(out)

    def deduplicated(self, drop_conflicts: bool = True) -> Bunch | tuple[Bunch, ...]:
        """The data without duplicates, conflicting copies and leaks.

        Returns a :class:`~sklearn.utils.Bunch` like the loaders' (``paths`` or
        ``images``, ``target``, ``filenames``, and the per-image fields of a
        loader's Bunch such as HAM10000's ``groups``), or one Bunch per split,
        as a ``(train, test)`` pair when the audit was given a test set.
        ``dropped`` lists what was removed. The files on disk are never
        touched. See :meth:`keep_mask` for what is kept.

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
        return self._subsets(self.keep_mask(drop_conflicts))

    def without_leaks(self) -> Bunch | tuple[Bunch, ...]:
        """The data with only the copies of test images left out of the other splits.

        Every image that has a copy (same bytes, same ISIC id or a
        near-identical image) in the test split is dropped from the training
        side; the test split is returned unchanged, and nothing else is
        removed (see ``keep_mask(leaks_only=True)``). This is the training set
        to use when a model trained on one data set is scored on another.
        Returns what :meth:`deduplicated` returns.

        Examples
        --------
        >>> from skinlesion.datasets import audit, make_lesions
        >>> X, y = make_lesions(n_samples=10, image_size=32, random_state=0)
        >>> train, test = audit((X, y), test=(X[:3], y[:3])).without_leaks()
        >>> len(train.images), len(test.images), len(train.dropped)
        (7, 3, 3)
        """
        return self._subsets(self.keep_mask(leaks_only=True))
