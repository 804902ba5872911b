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

import os
from collections import Counter
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from skinlesion.datasets._audit_groups import (
    DuplicateGroup,
    components,
    labels_disagree,
    split_rank,
)
from skinlesion.datasets._audit_parts import _as_parts, _check_label_map
from skinlesion.datasets._audit_probe import (
    _Probe,
    _probe_array,
    _probe_file,
    isic_id,
    perceptual_hash,
)
from skinlesion.datasets._audit_report import AuditReport

__all__ = ["AuditReport", "DuplicateGroup", "audit", "isic_id", "perceptual_hash"]


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
    verbose: int = 0,
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
    verbose : int, default=0
        0 is silent; 1 shows the progress of reading the files on stderr (a bar
        on a terminal, the finished line in a log).

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
                    found = pool.map(_probe_file, srcs)
                    probes.extend(_reading(found, len(srcs), part.split, verbose))
            else:
                found = (_probe_file(p) for p in srcs)
                probes.extend(_reading(found, len(srcs), part.split, verbose))
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


def _reading(found: Any, n: int, split: str, verbose: int) -> Any:
    """Yield the probes of ``found``, showing how many of ``n`` files are read (verbose)."""
    if not verbose:
        yield from found
        return
    import time

    from skinlesion._progress import LiveLine, bar, format_duration

    line, start = LiveLine(), time.perf_counter()
    for done, probe in enumerate(found, start=1):
        line.draw(f"audit: reading {split} [{bar(done / n)}] {done}/{n} files")
        yield probe
    line.finish(f"audit: read {n} {split} files in {format_duration(time.perf_counter() - start)}")
