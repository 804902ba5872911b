"""Data sets: synthetic lesions, loaders for the folder layouts users have, audits, downloads.

Examples
--------
>>> from skinlesion.datasets import make_lesions
>>> X, y = make_lesions(n_samples=12, image_size=16, random_state=0)
>>> X.shape
(12, 16, 16, 3)
"""

from __future__ import annotations

from skinlesion.datasets.synthetic import LESION_CLASSES, make_lesions

__all__ = ["LESION_CLASSES", "make_lesions"]
