"""What :func:`skinlesion.datasets.audit` found: groups of copies and the report.

:class:`DuplicateGroup` holds one group of copies of an image; :class:`AuditReport`
holds every finding, prints a summary, converts to plain data and gives cleaned
versions of the data (:meth:`AuditReport.deduplicated`,
:meth:`AuditReport.without_leaks`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
from sklearn.utils import Bunch

from skinlesion.datasets._audit_groups import (
    DuplicateGroup,
    _merge_groups,
    labels_disagree,
    split_rank,
)
from skinlesion.datasets._audit_summary import summary
from skinlesion.datasets._diagnoses import agree

__all__ = ["AuditReport", "DuplicateGroup"]


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
        return summary(self, max_examples)

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
