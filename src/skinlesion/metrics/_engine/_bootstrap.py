"""The point estimate and the bootstrap: one computation over blocks of resample weights."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from skinlesion.metrics._engine._core import unit_weights
from skinlesion.metrics._engine._figures import Plan, figures
from skinlesion.metrics.intervals import bootstrap_indices


def resample_weights(
    n: int,
    n_bootstraps: int,
    *,
    strata: np.ndarray | None,
    random_state: Any,
    block_elements: int = 2_000_000,
) -> Iterator[np.ndarray]:
    """Blocks of bootstrap weights: rows of draw counts of :func:`bootstrap_indices`.

    Each block holds at most ``block_elements`` numbers (and at least one row).
    """
    indices = bootstrap_indices(n, n_bootstraps, strata=strata, random_state=random_state)
    per_block = max(1, block_elements // max(n, 1))
    for start in range(0, n_bootstraps, per_block):
        rows = min(per_block, n_bootstraps - start)
        W = np.empty((rows, n))
        for r in range(rows):
            W[r] = np.bincount(next(indices), minlength=n)
        yield W


def evaluate(
    codes: np.ndarray,
    proba: np.ndarray,
    plan: Plan,
    n_bootstraps: int,
    *,
    stratify: bool,
    random_state: Any,
) -> tuple[dict[tuple, float], dict[tuple, np.ndarray]]:
    """Every figure on the test set and on each of ``n_bootstraps`` resamples.

    The test set is one more row of weights, all ones, put before the first block
    of resamples: the point estimate and the bootstrap are one computation.

    Returns
    -------
    point : dict
        ``{key: float}``, the figures on the test set.
    samples : dict
        ``{key: ndarray of shape (n_bootstraps,)}``; empty when ``n_bootstraps``
        is 0.
    """
    n = codes.size
    blocks = resample_weights(
        n, n_bootstraps, strata=codes if stratify else None, random_state=random_state
    )
    first = np.vstack([unit_weights(n), next(blocks, np.empty((0, n)))])
    results = [figures(codes, proba, plan, first)]
    results += [figures(codes, proba, plan, W) for W in blocks]
    point = {key: float(v[0]) for key, v in results[0].items()}
    if not n_bootstraps:
        return point, {}
    samples = {key: np.concatenate([r[key] for r in results])[1:] for key in results[0]}
    return point, samples
