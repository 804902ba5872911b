"""Data sets: synthetic lesions, loaders for the folder layouts users have, audits, downloads.

Examples
--------
>>> from skinlesion.datasets import make_lesions
>>> X, y = make_lesions(n_samples=12, image_size=16, random_state=0)
>>> X.shape
(12, 16, 16, 3)
"""

from __future__ import annotations

from skinlesion.datasets._base import get_data_home
from skinlesion.datasets.audit import AuditReport, DuplicateGroup, audit
from skinlesion.datasets.fetch import DownloadError, fetch_dermamnist, fetch_ham10000
from skinlesion.datasets.folders import load_image_folder
from skinlesion.datasets.ham10000 import HAM10000_CLASSES, load_ham10000
from skinlesion.datasets.isic import load_isic2017
from skinlesion.datasets.labelled import labelled_layout, load_labelled
from skinlesion.datasets.synthetic import LESION_CLASSES, make_lesions

__all__ = [
    "HAM10000_CLASSES",
    "LESION_CLASSES",
    "AuditReport",
    "DownloadError",
    "DuplicateGroup",
    "audit",
    "fetch_dermamnist",
    "fetch_ham10000",
    "get_data_home",
    "labelled_layout",
    "load_ham10000",
    "load_image_folder",
    "load_isic2017",
    "load_labelled",
    "make_lesions",
]
