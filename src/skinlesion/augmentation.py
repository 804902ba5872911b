"""Image augmentation with Augmentor's operations, as a sampler: :class:`Augmenter`.

The implementation lives in :mod:`skinlesion.sampling` (issue 23); this module keeps
the import path ``skinlesion.augmentation`` (and pickles that name it) working.
"""

from skinlesion.sampling import _augmenter
from skinlesion.sampling._augmenter import Augmenter

__all__ = ["OPERATIONS", "Augmenter"]

#: Names of the operations, in the order they are applied (keys for ``probability``).
OPERATIONS: tuple[str, ...] = _augmenter.OPERATIONS
