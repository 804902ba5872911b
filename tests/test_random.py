"""One meaning of ``random_state`` across the package (docs: user_guide/randomness)."""

# ruff: noqa: NPY002  (NumPy's global state is what these tests watch)

import numpy as np
import pytest

from skinlesion import Augmenter, Rebalancer
from skinlesion._random import check_generator, check_random_state
from skinlesion.datasets import make_lesions
from skinlesion.metrics.intervals import bootstrap_indices


@pytest.fixture
def imbalanced():
    return make_lesions(n_samples=30, image_size=8, weights=[0.2, 0.8], n_classes=2, random_state=0)


def test_an_int_repeats_and_none_does_not_touch_global_state():
    before = np.random.get_state()[1].copy()
    assert check_random_state(3).randint(1 << 30) == check_random_state(3).randint(1 << 30)
    draws = {int(check_random_state(None).randint(1 << 30)) for _ in range(5)}
    assert len(draws) > 1  # fresh entropy, not a fixed seed
    check_generator(None).integers(10)
    np.testing.assert_array_equal(np.random.get_state()[1], before)


def test_a_generator_or_random_state_is_drawn_from_and_advances():
    rng = np.random.default_rng(0)
    first, second = (
        check_random_state(rng).randint(1 << 30),
        check_random_state(rng).randint(1 << 30),
    )
    assert first != second
    state = np.random.RandomState(0)
    assert check_random_state(state) is state
    assert check_generator(rng) is rng


@pytest.mark.parametrize("bad", [1.5, True, "0"])
def test_other_values_are_refused_with_the_fix(bad):
    with pytest.raises(ValueError, match=r"random_state must be .*random_state=0"):
        check_random_state(bad)


@pytest.mark.parametrize(
    "make",
    [
        lambda rs: Rebalancer(random_state=rs),
        lambda rs: Augmenter(rotate=10, sampling_strategy="auto", random_state=rs),
    ],
)
def test_samplers_take_every_kind_of_random_state(imbalanced, make):
    X, y = imbalanced
    by_int = [make(7).fit_resample(X, y)[0] for _ in range(2)]
    np.testing.assert_array_equal(*by_int)
    for rs in (np.random.default_rng(7), np.random.RandomState(7), None):
        Xr, yr = make(rs).fit_resample(X, y)
        assert len(Xr) == len(yr) == 48  # both classes brought up to the majority's 24


def test_bootstrap_and_synthetic_images_take_a_generator():
    a = bootstrap_indices(20, 3, random_state=np.random.default_rng(1))
    b = bootstrap_indices(20, 3, random_state=np.random.default_rng(1))
    np.testing.assert_array_equal(np.asarray(list(a)), np.asarray(list(b)))
    X1, _ = make_lesions(n_samples=4, image_size=8, random_state=np.random.default_rng(2))
    X2, _ = make_lesions(n_samples=4, image_size=8, random_state=np.random.default_rng(2))
    np.testing.assert_array_equal(X1, X2)
