"""Groups of copies of an image, and how they connect: :class:`DuplicateGroup` and its helpers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from skinlesion.datasets._diagnoses import agree

__all__ = ["DuplicateGroup", "components", "labels_disagree", "split_rank"]


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
