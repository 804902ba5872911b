"""
Class balancing and augmentation without leakage
================================================

Skin-lesion data sets are imbalanced: in the 9-class ISIC set, seborrheic
keratosis has 77 training images and pigmented benign keratosis 462. Many
notebooks "balance" them by writing Augmentor copies into the image folders
*before* splitting into training and validation, so copies of validation
images end up in training and the validation score is inflated.

In skinlesion, balancing (:class:`~skinlesion.Rebalancer`) and augmentation
(:class:`~skinlesion.Augmenter`) are steps of a pipeline built with
:func:`skinlesion.make_pipeline`. They act at fit time only, so inside
cross-validation they only ever see the training part of each split.
"""

# %%
# Imbalanced data
# ---------------
# Synthetic 32 px lesions, with one class ten times rarer than another.
from collections import Counter

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import StratifiedKFold, cross_validate

from skinlesion import Augmenter, LesionClassifier, Rebalancer, make_pipeline
from skinlesion.datasets import make_lesions

X, y = make_lesions(
    n_samples=220, n_classes=3, image_size=32, weights=[0.6, 0.34, 0.06], random_state=0
)


def counts(labels):
    return dict(sorted(Counter(map(str, labels)).items()))


print(counts(y))

# %%
# Rebalancer: repeat or drop images
# ---------------------------------
# ``"auto"`` repeats images of the small classes until every class is as large as
# the largest. An int asks for a count per class; with ``method="both"`` larger
# classes are also cut down to it. Only indices are resampled: a list of file
# paths would stay a list of paths.
X_bal, y_bal = Rebalancer(random_state=0).fit_resample(X, y)
print("auto:       ", counts(y_bal))
_, y_both = Rebalancer(60, method="both", random_state=0).fit_resample(X, y)
print("60, both:   ", counts(y_both))

# %%
# Augmenter: new images with Augmentor's operations
# -------------------------------------------------
# The notebook recipe "bring every class to 500 images with Augmentor
# rotate/flip/zoom" is one line; here every class grows to 150. The originals are
# kept and each new image is an augmented version of one of them (never an exact
# copy). Randomness comes from ``random_state`` only.
augmenter = Augmenter(rotate=10, flip=True, zoom=0.2, sampling_strategy=150, random_state=0)
X_aug, y_aug = augmenter.fit_resample(X, y)
print("augmented:  ", counts(y_aug))

rare = np.flatnonzero(y_aug == "seborrheic keratosis")
new = rare[rare >= len(X)][:6]  # new images, after the originals
fig, axes = plt.subplots(2, 6, figsize=(9, 3.4))
for ax_top, ax_bottom, i in zip(axes[0], axes[1], new, strict=True):
    ax_top.imshow(X[augmenter.sample_indices_[i]])
    ax_bottom.imshow(X_aug[i])
for ax in axes.ravel():
    ax.set_axis_off()
axes[0, 0].set_title("original", loc="left")
axes[1, 0].set_title("augmented", loc="left")
fig.tight_layout()

# %%
# In a pipeline, at fit time only
# -------------------------------
# ``skinlesion.make_pipeline`` is imbalanced-learn's pipeline: the samplers run when
# the pipeline is fitted and are skipped when it predicts or scores. A scikit-learn
# ``Pipeline`` would refuse the samplers with an error that says so.
pipe = make_pipeline(
    Rebalancer(random_state=0),
    Augmenter(rotate=10, flip=True, zoom=0.2, random_state=0),
    LesionClassifier(image_size=32, filters=(8, 16), dense_units=(32,), epochs=4, random_state=0),
)
scores = cross_validate(
    pipe,
    X,
    y,
    cv=StratifiedKFold(3, shuffle=True, random_state=0),
    scoring="balanced_accuracy",
)
print("balanced accuracy per fold:", np.round(scores["test_score"], 2))

# %%
# Tuning sampler and network parameters together
# ----------------------------------------------
# Sampler parameters are grid-search parameters like any other (step names are the
# class names in lower case)::
#
#     from sklearn.model_selection import GridSearchCV
#
#     search = GridSearchCV(pipe, {
#         "lesionclassifier__learning_rate": [1e-3, 3e-4],
#         "rebalancer__sampling_strategy": ["auto", {"seborrheic keratosis": 100}],
#         "augmenter__rotate": [10, 20],
#     }, scoring="balanced_accuracy", cv=StratifiedKFold(3), n_jobs=2).fit(X, y)
#
# With ``n_jobs=2`` each worker process caps TensorFlow's threads at
# cores // 2 (joblib sets ``OMP_NUM_THREADS`` in its workers). On a Dask cluster
# (``pip install ".[dask]"`` in a checkout), start one worker process per machine, each
# running one TensorFlow job, and give it the machine's cores, since Dask sets
# ``OMP_NUM_THREADS=1`` in its workers::
#
#     SKINLESION_NUM_THREADS=16 dask worker tcp://scheduler:8786 --nworkers 1 --nthreads 1
#
# then run the same search under ``joblib.parallel_config(backend="dask")`` with a
# ``distributed.Client("tcp://scheduler:8786")`` open.
