"""
Clinical report
===============

A dermatologist does not ask for "accuracy". They ask how many melanomas the
model misses (sensitivity), how many benign lesions would be cut out for each
melanoma found (number needed to biopsy), how sure we are of each figure on a
test set of a few hundred images (confidence intervals), and whether a
predicted 80 % means 80 % (calibration).

This example trains a small :class:`~skinlesion.LesionClassifier` to tell
synthetic melanomas from nevi, then evaluates it with
:func:`skinlesion.metrics.clinical_report`. The images are synthetic and the
network tiny, so the figures say nothing about real melanoma detection; they
show what the report holds. With more classes, ``positive`` may name a set of
malignant classes, for example ``{"melanoma", "basal cell carcinoma"}``.
"""

# %%
# Data and a small classifier
# ---------------------------
# Synthetic 32 px melanomas and nevi; a test set kept apart from training, and a
# validation set to choose the operating point on.
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
from sklearn.model_selection import train_test_split

from skinlesion import LesionClassifier
from skinlesion.datasets import make_lesions
from skinlesion.metrics import (
    ConfusionMatrixDisplay,
    ReliabilityDisplay,
    RocCurveDisplay,
    SampleImagesDisplay,
    TrainingHistoryDisplay,
    WorstMistakesDisplay,
    clinical_report,
    select_operating_point,
)

X, y = make_lesions(n_samples=480, n_classes=2, image_size=32, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.4, stratify=y, random_state=0)
X_train, X_val, y_train, y_val = train_test_split(
    X_train, y_train, test_size=0.25, stratify=y_train, random_state=0
)
SampleImagesDisplay.from_images(X_train, y_train, n_per_class=6, random_state=0)

clf = LesionClassifier(
    image_size=32,
    filters=(16, 32),
    dense_units=(32,),
    epochs=15,
    early_stopping=False,
    augment=False,
    random_state=0,
)
clf.fit(X_train, y_train)
TrainingHistoryDisplay.from_estimator(clf)

# %%
# Choose the operating point on a validation set
# ----------------------------------------------
# A screening tool should miss few melanomas: pick the threshold on the
# melanoma probability that reaches 90 % sensitivity on the validation images
# (never on the test set, whose figures it would flatter).
threshold = select_operating_point(
    y_val,
    clf.predict_proba(X_val),
    positive="melanoma",
    target_sensitivity=0.9,
    classes=clf.classes_,
)
print(f"threshold for 90 % sensitivity on the validation set: {threshold:.3f}")

# %%
# The report
# ----------
# Every figure comes with a 95 % confidence interval: Wilson for proportions,
# a stratified bootstrap for the rest.
report = clinical_report.from_estimator(
    clf,
    X_test,
    y_test,
    positive="melanoma",
    threshold=threshold,
    n_bootstraps=300,
    random_state=0,
)
print(report)

# %%
# The same figures for code, and as a file to share
# -------------------------------------------------
mel = report.positive
print(
    f"sensitivity {mel['sensitivity']}, number needed to biopsy "
    f"{mel['number_needed_to_biopsy']:.2f}"
)
out = Path(tempfile.mkdtemp()) / "clinical_report.html"
report.to_html(out)
print(f"wrote {out} ({out.stat().st_size // 1024} KiB, plots embedded)")

# %%
# Plots
# -----
# One-vs-rest ROC curves with the operating point and a bootstrap band, the
# confusion matrix, the reliability diagram and the most confident mistakes.
RocCurveDisplay.from_estimator(
    clf, X_test, y_test, positive="melanoma", threshold=threshold, random_state=0
)
ConfusionMatrixDisplay.from_estimator(clf, X_test, y_test)
ReliabilityDisplay.from_estimator(clf, X_test, y_test, n_bins=10)
WorstMistakesDisplay.from_estimator(clf, X_test, y_test, n_images=6)
plt.show()
