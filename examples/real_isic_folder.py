"""
Training on your own ISIC folder
================================

The whole workflow on real dermoscopic images in a class-per-folder layout (for
example the 9-class ISIC set, ``Train/<class>/*.jpg``): audit the folder, split it,
train with class balancing and augmentation inside a pipeline, and evaluate the model
as a clinician would.

This example needs real images, so the documentation shows it without running it.
To run it, point ``SKINLESION_ISIC_DIR`` at your folder::

    SKINLESION_ISIC_DIR=~/data/isic9/Train python real_isic_folder.py

It trains for at most 30 epochs (early stopping usually ends it sooner), reading the
files from disk as it goes; a GPU shortens it a lot.
"""

# %%
# Audit before anything else
# --------------------------
# Public sets hold the same image under two classes and byte copies; the audit finds
# them, and ``deduplicated()`` gives a clean version.
import os

from sklearn.model_selection import train_test_split

from skinlesion import Augmenter, LesionClassifier, Rebalancer, make_pipeline
from skinlesion.datasets import audit, load_image_folder
from skinlesion.metrics import clinical_report

root = os.environ["SKINLESION_ISIC_DIR"]
data = load_image_folder(root, as_paths=True)
report = audit(data)
print(report)
data = report.deduplicated()

# %%
# Split, then balance and augment the training part only
# ------------------------------------------------------
X_train, X_test, y_train, y_test = train_test_split(
    data.paths, data.target, test_size=0.2, stratify=data.target, random_state=0
)
model = make_pipeline(
    Rebalancer(sampling_strategy="auto", random_state=0),
    Augmenter(rotate=10, flip=True, zoom=0.2, image_size=96, random_state=0),
    LesionClassifier(image_size=96, epochs=30, random_state=0, verbose=1),
)
model.fit(X_train, y_train)

# %%
# Evaluate
# --------
report = clinical_report(
    y_test,
    model.predict_proba(X_test),
    classes=model.classes_,
    positive="melanoma",
    random_state=0,
)
print(report)
report.to_html("isic_report.html", overwrite=True)
model[-1].save("isic_model.skl")
