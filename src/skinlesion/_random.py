"""The one meaning of ``random_state`` across the package.

Every public ``random_state`` parameter accepts the same values and means the
same thing (see the user guide's "Randomness" section):

* an int: a fixed seed; the same call gives the same result every time;
* a :class:`numpy.random.RandomState` or :class:`numpy.random.Generator`: the
  draws come from it (and advance it), as in scikit-learn;
* ``None`` (the default): fresh, unrepeatable draws.

No function reads or changes NumPy's, Python's or TensorFlow's global random
state; ``None`` takes fresh entropy from the operating system instead of
drawing from ``np.random``'s global state as ``sklearn.utils.check_random_state``
does.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np

__all__ = ["check_generator", "check_random_state"]


def check_random_state(random_state: Any) -> np.random.RandomState:
    """A :class:`numpy.random.RandomState` for ``random_state``, as the package means it.

    Parameters
    ----------
    random_state : int, RandomState instance, Generator or None
        An int seeds a new RandomState; a RandomState is returned as is; a
        Generator seeds a new RandomState from its next draw (advancing it);
        None seeds a new RandomState from fresh operating-system entropy.

    Returns
    -------
    numpy.random.RandomState

    Raises
    ------
    ValueError
        For anything else (a float, a bool, a string), naming the value.

    Examples
    --------
    >>> from skinlesion._random import check_random_state
    >>> check_random_state(0).randint(100) == check_random_state(0).randint(100)
    True
    """
    if isinstance(random_state, np.random.RandomState):
        return random_state
    if isinstance(random_state, np.random.Generator):
        return np.random.RandomState(random_state.integers(0, 2**32, size=4, dtype=np.int64))
    if random_state is None:
        return np.random.RandomState(np.random.SeedSequence().generate_state(4))
    if isinstance(random_state, Integral) and not isinstance(random_state, bool):
        return np.random.RandomState(int(random_state))
    raise ValueError(
        f"random_state must be an int, a numpy RandomState or Generator, or None, got "
        f"{random_state!r}. Pass an int (e.g. random_state=0) for repeatable results."
    )


def check_generator(random_state: Any) -> np.random.Generator:
    """A :class:`numpy.random.Generator` for ``random_state``, as the package means it.

    A Generator is returned as is; None gives a fresh one; an int or a
    RandomState seeds a new Generator with four draws of
    :func:`check_random_state` (advancing a RandomState).

    Examples
    --------
    >>> from skinlesion._random import check_generator
    >>> int(check_generator(0).integers(100)) == int(check_generator(0).integers(100))
    True
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None:
        return np.random.default_rng()
    # An int or a RandomState seeds it through a RandomState's draws: the images
    # make_lesions(random_state=0) has always made stay the same.
    return np.random.default_rng(check_random_state(random_state).randint(0, 2**31 - 1, size=4))
