"""The interval machinery: Wilson and bootstrap intervals cover a known proportion."""

from __future__ import annotations

import numpy as np
import pytest

from skinlesion.metrics import (
    Estimate,
    bootstrap_indices,
    bootstrap_interval,
    clinical_report,
    wilson_interval,
)


@pytest.mark.parametrize("k,n,conf", [(0, 5, 0.95), (3, 10, 0.95), (45, 50, 0.9), (99, 99, 0.99)])
def test_wilson_matches_scipy(k, n, conf):
    from scipy.stats import binomtest

    ci = binomtest(k, n).proportion_ci(confidence_level=conf, method="wilson")
    assert wilson_interval(k, n, conf) == pytest.approx((ci.low, ci.high), abs=1e-12)


def test_wilson_matches_the_closed_form():
    k, n, z = 17, 40, 1.959963984540054
    p = k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    low, high = wilson_interval(k, n)
    assert low == pytest.approx(centre - half)
    assert high == pytest.approx(centre + half)


def test_wilson_edges():
    low, high = wilson_interval(0, 20)
    assert low == 0.0 and 0.1 < high < 0.2  # not the degenerate [0, 0] of the Wald interval
    low, high = wilson_interval(20, 20)
    assert high == pytest.approx(1.0) and 0.8 < low < 0.9
    assert all(np.isnan(wilson_interval(0, 0)))
    narrow, wide = wilson_interval(30, 60, 0.8), wilson_interval(30, 60, 0.99)
    assert wide[0] < narrow[0] < narrow[1] < wide[1]
    with pytest.raises(ValueError, match="successes <= n"):
        wilson_interval(5, 3)
    with pytest.raises(ValueError, match="confidence"):
        wilson_interval(1, 3, confidence=95)


def test_wilson_coverage_of_a_known_proportion():
    # 2000 simulated test sets of 80 images with a true sensitivity of 0.85
    rng = np.random.default_rng(0)
    p, n = 0.85, 80
    hits = rng.binomial(n, p, size=2000)
    intervals = {k: wilson_interval(int(k), n) for k in np.unique(hits)}
    covered = np.mean([intervals[k][0] <= p <= intervals[k][1] for k in hits])
    assert 0.93 <= covered <= 0.97


def test_bootstrap_coverage_of_a_known_proportion():
    # 150 simulated test sets of 100 cases, proportion 0.3: percentile bootstrap of the mean
    rng = np.random.default_rng(1)
    p = 0.3
    covered = []
    for i in range(150):
        x = (rng.random(100) < p).astype(float)
        e = bootstrap_interval(np.mean, x, n_bootstraps=200, random_state=i)
        covered.append(e.low <= p <= e.high)
    assert 0.88 <= np.mean(covered) <= 0.99


def test_report_sensitivity_interval_covers_the_true_sensitivity():
    # a scorer with known sensitivity 0.8 at threshold 0.5; 200 test sets of 60 positives
    rng = np.random.default_rng(2)
    covered = []
    for _ in range(200):
        y = np.array(["benign"] * 60 + ["melanoma"] * 60)
        detected = rng.random(60) < 0.8
        score = np.r_[rng.random(60) * 0.49, np.where(detected, 0.9, 0.1)]
        r = clinical_report(y, score, positive="melanoma", n_bootstraps=0)
        sens = r.positive["sensitivity"]
        covered.append(sens.low <= 0.8 <= sens.high)
    assert 0.92 <= np.mean(covered) <= 0.98


def test_bootstrap_interval_is_repeatable_and_counts_undefined():
    x = np.arange(50.0)
    a = bootstrap_interval(np.mean, x, n_bootstraps=100, random_state=3)
    b = bootstrap_interval(np.mean, x, n_bootstraps=100, random_state=3)
    assert a == b and a.method == "bootstrap" and a.n_undefined == 0

    def undefined_half_the_time(v):
        return np.nan if v[0] % 2 else float(np.mean(v))

    e = bootstrap_interval(undefined_half_the_time, x, n_bootstraps=200, random_state=0)
    assert 50 < e.n_undefined < 150
    assert e.low < e.high


def test_stratified_indices_keep_class_counts():
    strata = np.array([0] * 7 + [1] * 3 + [2] * 1)
    for idx in bootstrap_indices(strata.size, 20, strata=strata, random_state=0):
        assert np.bincount(strata[idx]).tolist() == [7, 3, 1]
    unstratified = [
        np.bincount(strata[idx], minlength=3)[2]
        for idx in bootstrap_indices(strata.size, 50, random_state=0)
    ]
    assert 0 in unstratified  # without strata the rare class drops out of some resamples


def test_report_counts_resamples_where_a_figure_is_undefined():
    rng = np.random.default_rng(4)
    y = np.array(["melanoma"] * 3 + ["nevus"] * 57)
    proba_mel = np.clip(0.5 * (y == "melanoma") + 0.5 * rng.random(60), 0, 1)
    proba = np.column_stack([proba_mel, 1 - proba_mel])
    r = clinical_report(
        y, proba, positive="melanoma", stratify=False, n_bootstraps=200, random_state=0
    )
    auc = r.positive["roc_auc"]
    assert auc.n_undefined > 0  # resamples without a melanoma
    assert auc.low <= auc.value <= auc.high
    stratified = clinical_report(y, proba, positive="melanoma", n_bootstraps=200, random_state=0)
    assert stratified.positive["roc_auc"].n_undefined == 0


def test_estimate_formatting():
    e = Estimate(0.5, 0.25, 0.75, "wilson")
    assert f"{e:.2f}" == "0.50 [0.25, 0.75]"
    assert str(Estimate(3.0)) == "3.000"
    assert e.to_dict() == {
        "value": 0.5,
        "low": 0.25,
        "high": 0.75,
        "method": "wilson",
        "n_undefined": 0,
    }


def test_bad_bootstrap_arguments():
    with pytest.raises(ValueError, match="n_bootstraps"):
        bootstrap_interval(np.mean, np.arange(3.0), n_bootstraps=-1)
    with pytest.raises(ValueError, match="same length"):
        bootstrap_interval(lambda a, b: 0.0, np.arange(3), np.arange(4))
    with pytest.raises(ValueError, match="random_state"):
        next(bootstrap_indices(3, 1, random_state="seed"))
