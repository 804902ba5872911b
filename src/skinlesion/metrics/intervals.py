"""Confidence intervals: Wilson for proportions, stratified percentile bootstrap for the rest.

A test set of a few hundred images gives wide intervals; reporting them is the
point. Proportions (sensitivity, specificity, PPV, NPV, accuracy, prevalence)
get the Wilson score interval, which keeps its coverage near the nominal level
for small counts and proportions near 0 or 1, where the normal ("Wald")
interval fails. Every other figure (AUC, F1, kappa, calibration error, ...) gets
a percentile bootstrap over images, resampled within each true class so that
every resample keeps the test set's class counts.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np

from skinlesion._docstrings import Substitution, random_state_doc
from skinlesion._random import check_random_state
from skinlesion.metrics._validation import check_unit_interval

__all__ = ["Estimate", "bootstrap_indices", "bootstrap_interval", "wilson_interval"]

#: The default bootstrap resamples and confidence level of every interval in
#: ``skinlesion.metrics`` (the ROC display draws with fewer resamples, 200).
N_BOOTSTRAPS = 1000
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Estimate:
    """A figure with its confidence interval.

    Attributes
    ----------
    value : float
        The figure on the whole test set (NaN when undefined).
    low, high : float
        Bounds of the confidence interval (NaN when it cannot be computed).
    method : str or None
        ``"wilson"``, ``"bootstrap"``, or None for a figure without an interval
        (a count, or a threshold the user fixed).
    n_undefined : int
        Bootstrap resamples in which the figure was undefined (for example a
        class absent from the resample); they are left out of the interval.

    Examples
    --------
    >>> from skinlesion.metrics import Estimate
    >>> e = Estimate(0.8, 0.7, 0.88, "wilson")
    >>> float(e), f"{e}"
    (0.8, '0.800 [0.700, 0.880]')
    """

    value: float
    low: float = float("nan")
    high: float = float("nan")
    method: str | None = None
    n_undefined: int = 0

    def __float__(self) -> float:
        return float(self.value)

    def __format__(self, spec: str) -> str:
        spec = spec or ".3f"
        if self.method is None:
            return format(self.value, spec)
        return f"{self.value:{spec}} [{self.low:{spec}}, {self.high:{spec}}]"

    def __str__(self) -> str:
        return format(self)

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (floats, str, int)."""
        return {
            "value": float(self.value),
            "low": float(self.low),
            "high": float(self.high),
            "method": self.method,
            "n_undefined": int(self.n_undefined),
        }


def wilson_interval(successes: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion ``successes / n``.

    The closed form (Wilson 1927), without continuity correction; it agrees with
    ``scipy.stats.binomtest(successes, n).proportion_ci(method="wilson")``.

    Parameters
    ----------
    successes : int
        Number of successes (for sensitivity: true positives).
    n : int
        Number of trials (for sensitivity: all positives). With ``n == 0`` the
        proportion is undefined and ``(nan, nan)`` is returned.
    confidence : float, default=0.95
        Confidence level.

    Returns
    -------
    low, high : float

    Examples
    --------
    >>> from skinlesion.metrics import wilson_interval
    >>> low, high = wilson_interval(45, 50)
    >>> round(low, 3), round(high, 3)
    (0.786, 0.957)
    """
    confidence = check_unit_interval(confidence, "confidence")
    successes, n = int(successes), int(n)
    if n < 0 or not 0 <= successes <= max(n, 0):
        raise ValueError(f"need 0 <= successes <= n, got successes={successes}, n={n}.")
    if n == 0:
        return math.nan, math.nan
    if confidence == 1.0:
        return 0.0, 1.0
    z = NormalDist().inv_cdf(0.5 + confidence / 2.0)
    p = successes / n
    denominator = 1.0 + z * z / n
    centre = (p + z * z / (2.0 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def bootstrap_indices(
    n_samples: int,
    n_bootstraps: int,
    *,
    strata: np.ndarray | None = None,
    random_state: Any = None,
) -> Iterator[np.ndarray]:
    """Yield ``n_bootstraps`` arrays of resampled row indices.

    With ``strata`` (for example the true class of each image) each stratum is
    resampled within itself, so every resample keeps the stratum sizes.

    Examples
    --------
    >>> import numpy as np
    >>> from skinlesion.metrics import bootstrap_indices
    >>> strata = np.array([0, 0, 0, 1])
    >>> idx = next(bootstrap_indices(4, 1, strata=strata, random_state=0))
    >>> sorted(strata[idx].tolist())
    [0, 0, 0, 1]
    """
    draw = _integer_sampler(random_state)
    if strata is None:
        for _ in range(n_bootstraps):
            yield draw(n_samples, n_samples)
        return
    groups = [np.flatnonzero(strata == s) for s in np.unique(strata)]
    for _ in range(n_bootstraps):
        yield np.concatenate([g[draw(g.size, g.size)] for g in groups])


def _integer_sampler(random_state: Any) -> Callable[[int, int], np.ndarray]:
    """``draw(high, size)``: uniform ints in [0, high), drawn as ``random_state`` says."""
    rng = check_random_state(random_state)
    return lambda high, size: rng.randint(0, high, size=size)


def percentile_interval(samples: np.ndarray, confidence: float) -> tuple[float, float, int]:
    """Percentile interval of the finite values of ``samples``, and the count of NaNs."""
    samples = np.asarray(samples, dtype=np.float64)
    finite = samples[~np.isnan(samples)]
    n_undefined = int(samples.size - finite.size)
    if finite.size < 2:
        return math.nan, math.nan, n_undefined
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(finite, [alpha, 1.0 - alpha])
    return float(low), float(high), n_undefined


def _check_n_bootstraps(n_bootstraps: Any) -> int:
    if isinstance(n_bootstraps, bool) or not isinstance(n_bootstraps, (int, np.integer)):
        raise ValueError(f"n_bootstraps must be an int >= 0, got {n_bootstraps!r}.")
    if n_bootstraps < 0:
        raise ValueError(
            f"n_bootstraps must be >= 0 (0 turns the bootstrap off), got {n_bootstraps}."
        )
    return int(n_bootstraps)


@Substitution(random_state=random_state_doc("the bootstrap", "the intervals"))
def bootstrap_interval(
    statistic: Callable[..., float],
    *arrays: Any,
    n_bootstraps: int = N_BOOTSTRAPS,
    confidence: float = CONFIDENCE,
    stratify: Any = None,
    random_state: Any = None,
) -> Estimate:
    """Percentile bootstrap confidence interval of ``statistic(*arrays)``.

    Parameters
    ----------
    statistic : callable
        Takes the arrays (resampled together, row by row) and returns a float;
        NaN marks a resample where the figure is undefined: such resamples are
        counted in ``n_undefined`` and left out of the interval.
    *arrays : array-like
        Arrays with the same first dimension.
    n_bootstraps : int, default=1000
        Number of resamples.
    confidence : float, default=0.95
        Confidence level of the interval.
    stratify : array-like, default=None
        Resample within each group of these labels (usually ``y_true``).
    {random_state}

    Returns
    -------
    Estimate
        The statistic on the full data with ``low``, ``high`` and ``n_undefined``.

    Examples
    --------
    >>> import numpy as np
    >>> from skinlesion.metrics import bootstrap_interval
    >>> x = np.arange(100.0)
    >>> e = bootstrap_interval(np.mean, x, n_bootstraps=200, random_state=0)
    >>> e.value, e.low < 49.5 < e.high
    (49.5, True)
    """
    confidence = check_unit_interval(confidence, "confidence")
    n_bootstraps = _check_n_bootstraps(n_bootstraps)
    arrays = tuple(np.asarray(a) for a in arrays)
    if not arrays:
        raise ValueError("bootstrap_interval needs at least one array to resample.")
    n = arrays[0].shape[0]
    if any(a.shape[0] != n for a in arrays):
        raise ValueError(
            f"all arrays must have the same length, got {[a.shape[0] for a in arrays]}."
        )
    strata = None if stratify is None else np.asarray(stratify)
    if strata is not None and strata.shape[0] != n:
        raise ValueError(f"stratify has {strata.shape[0]} labels for {n} rows.")
    value = float(statistic(*arrays))
    samples = np.array(
        [
            float(statistic(*(a[idx] for a in arrays)))
            for idx in bootstrap_indices(n, n_bootstraps, strata=strata, random_state=random_state)
        ]
    )
    low, high, n_undefined = percentile_interval(samples, confidence)
    return Estimate(value, low, high, "bootstrap", n_undefined)
