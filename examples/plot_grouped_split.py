"""
A HAM10000-style grouped split
==============================

HAM10000 holds several dermoscopic images of the same lesion, taken at different
magnifications or angles. A random split puts images of one lesion on both sides:
the model is then tested on lesions it has already seen, and the score is flattered.
Split by lesion instead, with scikit-learn's group-aware splitters and the lesion ids
that :func:`skinlesion.datasets.load_ham10000` returns as ``groups``.

This example builds a HAM10000-style synthetic set (several images per lesion),
measures how much a lesion-blind split flatters the score, and then trains
:class:`~skinlesion.LesionClassifier` the right way. Set ``SKINLESION_HAM10000_DIR``
to a HAM10000 folder to also load the real metadata.
"""

# %%
# Several images of each lesion
# -----------------------------
# :class:`~skinlesion.Augmenter` with a ``sampling_strategy`` grows each class with
# new images made from the existing ones; its ``sample_indices_`` tells which lesion
# each image comes from, which is exactly HAM10000's ``lesion_id``.
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import (
    StratifiedGroupKFold,
    StratifiedKFold,
    cross_val_score,
)
from sklearn.neighbors import KNeighborsClassifier

from skinlesion import Augmenter, LesionClassifier
from skinlesion.datasets import make_lesions

lesions, lesion_class = make_lesions(n_samples=90, image_size=32, random_state=0)
views = Augmenter(
    rotate=20, flip=True, zoom=0.15, brightness=0.1, sampling_strategy=120, random_state=0
)
X, y = views.fit_resample(lesions, lesion_class)
groups = views.sample_indices_  # the lesion each image shows
print(
    f"{len(X)} images of {len(np.unique(groups))} lesions, "
    f"{np.bincount(groups).min()} to {np.bincount(groups).max()} images per lesion"
)

# %%
# Lesion-blind versus lesion-aware cross-validation
# -------------------------------------------------
# A nearest-neighbour classifier on the pixels shows the effect at its clearest: it
# scores well exactly when a view of the same lesion sits in the training folds.
# A deep network that trains long enough memorises lesions in the same way.
flat = X.reshape(len(X), -1).astype(np.float32) / 255
nearest = KNeighborsClassifier(n_neighbors=1)
blind = cross_val_score(nearest, flat, y, cv=StratifiedKFold(5, shuffle=True, random_state=0))
aware = cross_val_score(
    nearest, flat, y, groups=groups, cv=StratifiedGroupKFold(5, shuffle=True, random_state=0)
)
print(f"lesion-blind split: {blind.mean():.3f}   split by lesion: {aware.mean():.3f}")

fig, ax = plt.subplots(figsize=(5, 3), layout="constrained")
ax.bar(
    ["random split\n(leaks lesions)", "split by lesion"],
    [blind.mean(), aware.mean()],
    yerr=[blind.std(), aware.std()],
    color=["tab:red", "tab:green"],
    capsize=4,
)
ax.axhline(1 / 3, color="grey", ls=":", label="chance")
ax.set_ylabel("cross-validated accuracy")
ax.set_ylim(0, 1)
ax.legend()
ax.set_title("The same model, two ways to split")

# %%
# Training the classifier on a lesion-aware split
# -----------------------------------------------
# Take one fold of :class:`~sklearn.model_selection.StratifiedGroupKFold` as the test
# set: no lesion has images on both sides, and the class proportions are kept.
cv = StratifiedGroupKFold(n_splits=4, shuffle=True, random_state=0)
train, test = next(cv.split(X, y, groups))
assert not set(groups[train]) & set(groups[test])
clf = LesionClassifier(
    image_size=32,
    filters=(16, 32, 64),
    dense_units=(32,),
    epochs=5,
    augment=False,
    early_stopping=False,
    validation_fraction=0.0,
    random_state=0,
)
clf.fit(X[train], y[train])
print(
    f"accuracy on {len(np.unique(groups[test]))} unseen lesions: {clf.score(X[test], y[test]):.3f}"
)

# %%
# With the real HAM10000
# ----------------------
# :func:`~skinlesion.datasets.load_ham10000` returns the lesion of each image as
# ``groups``; the split above then works unchanged. (Runs when
# ``SKINLESION_HAM10000_DIR`` names a folder with ``HAM10000_metadata.csv``.)
root = os.environ.get("SKINLESION_HAM10000_DIR")
if root:
    from skinlesion.datasets import load_ham10000

    data = load_ham10000(root, as_paths=True, labels="name")
    train, test = next(cv.split(data.paths, data.target, data.groups))
    print(
        f"{len(data.paths)} images of {len(np.unique(data.groups))} lesions; "
        f"{len(train)} for training, {len(test)} for testing, no lesion in both"
    )
else:
    print("set SKINLESION_HAM10000_DIR to split the real HAM10000 by lesion")
