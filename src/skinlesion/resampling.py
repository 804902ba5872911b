"""Class balancing of image data sets by resampling indices: :class:`Rebalancer`.

The implementation lives in :mod:`skinlesion.sampling` (issue 23); this module keeps
the import path ``skinlesion.resampling`` (and pickles that name it) working.
"""

from skinlesion.sampling._rebalancer import Rebalancer

__all__ = ["Rebalancer"]
