"""
Auditing a model
================

A classifier that is right on average can still fail one group of patients,
be confidently wrong, or look at the wrong thing. This example asks three
questions of a small :class:`~skinlesion.LesionClassifier`:

* **Who does it fail?** ``clinical_report(..., subgroups=...)`` gives each
  subgroup's figures with intervals and the largest gap between subgroups.
* **When should it refer?** :func:`~skinlesion.metrics.referral_curve` shows how
  the figures improve as the least-confident cases go to a dermatologist.
* **Where does it look?** :func:`~skinlesion.inspection.grad_cam` maps the image
  regions behind each prediction.

Where a copy of HAM10000 is at hand (``$SKINLESION_DATA/ham10000``, where
:func:`~skinlesion.datasets.fetch_ham10000` puts it, or the project's
``../shared/data/ham10000``), the example audits a melanoma-vs-nevus model of
600 of its images with their real metadata (``load_ham10000(...).metadata``:
age, sex, localization). Elsewhere the images are synthetic and so is the
metadata: sex and age are drawn at random (the model cannot depend on them),
and the test images of one body site come from a camera the training images
never saw. ``skinlesion evaluate MODEL HAM_DIR --by sex --by age`` does the
same from the command line.
"""

# %%
# Data with metadata, and a small classifier
# ------------------------------------------
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import GroupShuffleSplit, train_test_split

from skinlesion import LesionClassifier
from skinlesion.datasets import load_ham10000, make_lesions
from skinlesion.images import read_images
from skinlesion.inspection import SaliencyDisplay, grad_cam
from skinlesion.metrics import ReferralCurveDisplay, SubgroupDisplay, clinical_report


def ham10000_folder():
    """A HAM10000 folder on this machine, or None."""
    folders = [p / "shared" / "data" / "ham10000" for p in (Path.cwd(), *Path.cwd().parents)]
    if os.environ.get("SKINLESION_DATA"):
        folders.insert(0, Path(os.environ["SKINLESION_DATA"]) / "ham10000")
    return next((f for f in folders if (f / "HAM10000_metadata.csv").is_file()), None)


rng = np.random.default_rng(0)
folder = ham10000_folder()
if folder is not None:
    # 300 melanomas and 300 nevi at 32 px, split by lesion (a lesion's several
    # images all on one side), with each image's sex, age and body site
    data = load_ham10000(folder, as_paths=True, labels="name")
    labels = np.asarray(data.target)
    keep = np.concatenate([
        rng.choice(np.flatnonzero(labels == name), 300, replace=False)
        for name in ("melanoma", "melanocytic nevus")
    ])  # fmt: skip
    X = read_images(np.asarray(data.paths)[keep].tolist(), size=32)
    y = labels[keep]
    metadata = {c: np.asarray(data.metadata[c])[keep] for c in ("sex", "age", "localization")}
    splitter = GroupShuffleSplit(n_splits=1, test_size=0.5, random_state=0)
    train, test = next(splitter.split(X, y, groups=np.asarray(data.groups)[keep]))
    masks = None  # HAM10000 ships no lesion outlines
    print(f"HAM10000: {len(train)} training and {len(test)} test images, split by lesion")
else:
    X, y, masks = make_lesions(
        n_samples=640, n_classes=2, image_size=32, vignetting=False, return_masks=True,
        random_state=0,
    )  # fmt: skip
    metadata = {
        "sex": rng.choice(["female", "male"], size=len(y)),
        "age": rng.integers(15, 90, size=len(y)).astype(float),
        "localization": rng.choice(
            ["back", "lower extremity", "trunk", "scalp"], size=len(y),
            p=[0.3, 0.3, 0.25, 0.15],
        ),
    }  # fmt: skip
    index = np.arange(len(y))
    train, test = train_test_split(index, test_size=0.5, stratify=y, random_state=0)
    # the test scalp images come from a clinic whose camera casts a warm, bright
    # tint, and the training set has no image from it
    scalp = test[metadata["localization"][test] == "scalp"]
    X[scalp] = np.clip(X[scalp] * np.array([1.3, 0.9, 0.6]) + 30, 0, 255).astype(np.uint8)
clf = LesionClassifier(image_size=32, filters=(16, 32, 64), dense_units=(), epochs=10,
                       random_state=0)  # fmt: skip
clf.fit(X[train], y[train])

# %%
# Who does it fail?
# -----------------
# Each subgroup's n, melanoma sensitivity and specificity, balanced accuracy and
# ROC AUC, with intervals. Age is binned in bands. The largest gap between
# subgroups has a bootstrap interval, widened for having picked the widest of
# all pairs: only a gap whose interval excludes 0 is supported by the data.
report = clinical_report.from_estimator(
    clf, X[test], y[test], positive="melanoma",
    subgroups={name: values[test] for name, values in metadata.items()},
    n_bootstraps=300, random_state=0,
)  # fmt: skip
for column, section in report.subgroups.items():
    gap = section["gaps"]["balanced_accuracy"]
    verdict = "excludes 0" if gap.excludes_zero else "includes 0"
    print(f"{column}: balanced accuracy gap {gap.estimate} between {gap.highest} and "
          f"{gap.lowest} ({verdict})")  # fmt: skip
SubgroupDisplay.from_report(report, "localization")
SubgroupDisplay.from_report(report, "age")

# %%
# When should it refer?
# ---------------------
# The report gives the figures on the cases kept with 10 % and 20 % of the
# least-confident cases referred; the curve shows every share.
for share, figures in report.referral.items():
    print(f"{100 * share:g} % referred: accuracy {figures['accuracy']}, refer below "
          f"confidence {figures['threshold'].value:.2f}")  # fmt: skip
ReferralCurveDisplay.from_estimator(clf, X[test], y[test], positive="melanoma")

# %%
# Where does it look?
# -------------------
# Grad-CAM maps of the melanoma score on test melanomas. ``make_lesions`` knows
# where it drew each lesion, so on synthetic images we count how often the
# map's peak falls inside the lesion (the pointing game) against a point drawn
# at random. The lesions sit near the centre, so a map that only preferred the
# centre would also score well: ``tests/test_inspection.py`` moves them off
# centre. HAM10000 has no outlines: look at the maps (and
# ``benchmarks/bench_clinical.py`` scores them against a guessed outline).
# ``clinical_report.from_estimator`` keeps such maps of the most confident
# mistakes, and its ``to_html()`` page shows them.
mel = test[y[test] == "melanoma"]
SaliencyDisplay.from_estimator(clf, X[mel[:8]], "melanoma")
if masks is not None:
    maps = grad_cam(clf, X[mel], target="melanoma")
    peaks = maps.reshape(len(mel), -1).argmax(axis=1)
    inside = masks[mel].reshape(len(mel), -1)[np.arange(len(mel)), peaks].mean()
    print(f"peak of the melanoma map inside the lesion: {inside:.2f} of the images "
          f"(a random point: {masks[mel].mean():.2f})")  # fmt: skip
plt.show()
