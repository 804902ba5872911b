"""The engine's block-wise bootstrap gives, resample by resample, the scalar oracle's figures.

``_oracle.figures`` (checked against scikit-learn in test_engine.py) computes the
figures of one resample from its rows; ``_engine.figures`` computes them for many
resamples at once from draw counts. Both must agree on every resample, with tied
scores, sets of positive classes, thresholds chosen per resample, and rare classes that
drop out of unstratified resamples.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from skinlesion.metrics import _engine
from skinlesion.metrics.intervals import bootstrap_indices

from . import _oracle

FIXED_SENS, FIXED_SPEC = [0.8, 0.866, 0.9, 0.95], [0.8, 0.9, 0.95]


def _case(n: int, k: int, ties: bool, seed: int):
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, k, size=n)
    logits = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[codes]
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    if ties:
        p = np.round(p, 1)
        p[:, -1] = np.clip(1 - p[:, :-1].sum(axis=1), 0, 1)
        p /= p.sum(axis=1, keepdims=True)
    return codes, p


@pytest.mark.parametrize(
    "n, k, ties, positive, threshold, target, stratify",
    [
        (80, 3, True, [0], 0.5, None, True),
        (60, 4, True, [0, 1], None, ("sensitivity", 0.9), False),
        (50, 2, False, [1], None, ("specificity", 0.8), True),
        (40, 5, True, [2], None, ("specificity", 0.95), False),
        (30, 3, True, None, 0.5, None, False),
        (25, 3, False, [1], 0.3, None, False),
    ],
)
def test_batch_matches_per_resample_figures(n, k, ties, positive, threshold, target, stratify):
    codes, proba = _case(n, k, ties, seed=n)
    mask = None if positive is None else np.isin(np.arange(k), positive)
    plan = _engine.Plan(k, mask, threshold, target, FIXED_SENS, FIXED_SPEC, 15)
    strata = codes if stratify else None
    indices = list(bootstrap_indices(n, 40, strata=strata, random_state=1))
    W = np.stack([np.bincount(i, minlength=n) for i in indices]).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        batch = _engine.figures(codes, proba, plan, W)
        for r, idx in enumerate(indices):
            reference = _oracle.figures(codes[idx], proba[idx], plan)
            assert set(reference) == set(batch)
            for key, value in reference.items():
                np.testing.assert_allclose(
                    batch[key][r],
                    value,
                    rtol=1e-9,
                    atol=1e-12,
                    equal_nan=True,
                    err_msg=str((key, r)),
                )
