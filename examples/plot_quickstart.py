"""
Quick start
===========

Train :class:`~skinlesion.LesionClassifier`, a convolutional network built from
scratch, on synthetic dermoscopy-like lesions, then look at its training history,
its predictions and its mistakes.

The images come from :func:`skinlesion.datasets.make_lesions`, so this example runs
in seconds without any download. The network is kept tiny (32-pixel images, a few
epochs) for the same reason; on real images use 64 to 128 pixels and more epochs.
"""

# %%
# Synthetic lesions
# -----------------
# Three classes whose lesions differ by the ABCD rule of dermoscopy: asymmetry,
# border, colour and diameter. ``X`` is a ``uint8`` array of shape
# ``(n, 32, 32, 3)`` and ``y`` holds class names.
import numpy as np
from sklearn.model_selection import train_test_split

from skinlesion import LesionClassifier
from skinlesion.datasets import make_lesions
from skinlesion.metrics import (
    ConfusionMatrixDisplay,
    SampleImagesDisplay,
    TrainingHistoryDisplay,
)

X, y = make_lesions(n_samples=450, image_size=32, random_state=0)
print(X.shape, X.dtype, np.unique(y).tolist())
SampleImagesDisplay.from_images(X, y, n_per_class=6, image_size=32, random_state=0)

# %%
# Train
# -----
# A stratified split keeps the class proportions in both parts. Every
# hyperparameter of the network and of its training is a constructor parameter;
# ``random_state`` makes the fit repeatable.
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
clf = LesionClassifier(
    image_size=32,
    filters=(16, 32, 64),
    dense_units=(32,),
    epochs=6,
    augment=False,
    early_stopping=False,
    validation_fraction=0.15,
    random_state=0,
)
clf.fit(X_train, y_train)
print(f"{clf.n_epochs_} epochs, classes: {clf.classes_.tolist()}")

# %%
# ``history_`` holds the loss and the accuracy of every epoch, on the training
# images and on the validation images held out by ``validation_fraction``.
TrainingHistoryDisplay.from_estimator(clf)

# %%
# Predict
# -------
# ``predict_proba`` returns one row per image, columns in ``classes_`` order, in the
# order of the input.
proba = clf.predict_proba(X_test[:5])
for row, truth in zip(proba, y_test[:5], strict=True):
    best = clf.classes_[row.argmax()]
    print(f"true {truth:<22} predicted {best:<22} p={row.max():.2f}")

print(f"test accuracy: {clf.score(X_test, y_test):.3f} (chance: {1 / 3:.3f})")

# %%
# The confusion matrix shows which classes are mixed up: counts on the left, and on
# the right each row divided by its total, so the diagonal is each class's recall.
ConfusionMatrixDisplay.from_estimator(clf, X_test, y_test)

# %%
# Next steps: :ref:`sphx_glr_auto_examples_plot_clinical_report.py` evaluates the
# model as a clinician would, and
# :ref:`sphx_glr_auto_examples_plot_predict_from_files.py` works with image files.
