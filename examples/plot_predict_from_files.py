"""
Predicting from image files
===========================

Real images live in files. This example writes synthetic lesions as JPEG files in a
class-per-folder layout (as in the ISIC archive), loads the folder as *paths*, trains
on them (the files are decoded while training, so a data set larger than memory
works), saves the model to one file, loads it back and predicts new files, from
Python and with the ``skinlesion predict`` command.

Set ``SKINLESION_ISIC_DIR`` to a class-per-folder directory of your own images to use
them instead of the synthetic ones.
"""

# %%
# A folder of images
# ------------------
import os
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from skinlesion.datasets import load_image_folder, make_lesions

workdir = Path(tempfile.mkdtemp(prefix="skinlesion-example-"))
root = os.environ.get("SKINLESION_ISIC_DIR")
if root is None:
    root = workdir / "Train"
    images, labels = make_lesions(n_samples=240, image_size=48, random_state=0)
    for i, (image, label) in enumerate(zip(images, labels, strict=True)):
        folder = root / label
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(folder / f"lesion_{i:04d}.jpg", quality=92)

data = load_image_folder(root, as_paths=True)
classes = [str(c) for c in data.target_names]
print(f"{len(data.paths)} files in {len(classes)} classes: {classes}")
print(data.paths[:2])

# %%
# ``as_paths=True`` only checks the files' headers; the pixels are read when needed.
# A few of them, read from disk:
from skinlesion.metrics import SampleImagesDisplay

SampleImagesDisplay.from_images(data.paths, data.target, n_per_class=5, random_state=0)

# %%
# Train on the paths
# ------------------
# The classifier reads and resizes the files batch by batch, in parallel threads.
from sklearn.model_selection import train_test_split

from skinlesion import LesionClassifier

paths_train, paths_new, y_train, y_new = train_test_split(
    data.paths, data.target, test_size=0.1, stratify=data.target, random_state=0
)
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
clf.fit(paths_train, y_train)

# %%
# Save, load, predict
# -------------------
# The model is one file: the network in Keras' format and the classifier's settings,
# with no pickled code.
from skinlesion import load_model

model_file = clf.save(workdir / "model.skl")
print(f"{model_file.name}: {model_file.stat().st_size / 1e6:.1f} MB")
model = load_model(model_file)

proba = model.predict_proba(paths_new[:6])
for path, row, truth in zip(paths_new[:6], proba, y_new[:6], strict=True):
    print(
        f"{Path(path).name}  true: {truth:<22} predicted: {model.classes_[row.argmax()]:<22}"
        f" p={row.max():.2f}"
    )
assert np.allclose(proba, clf.predict_proba(paths_new[:6]), atol=1e-6)

# %%
# The same with the command line
# ------------------------------
# ``skinlesion predict`` takes the model file and image files or folders, and prints a
# table, CSV or JSON. Here it is called through :func:`skinlesion.cli.main`, which is
# what the ``skinlesion`` command runs; in a shell, type
# ``skinlesion predict model.skl lesion_0001.jpg ... --format csv``.
from skinlesion.cli import main

status = main(["predict", str(model_file), *paths_new[:4], "--format", "csv"])
print("exit status:", status)

# %%
# A file that is not an image gives a one-line error and exit status 1, as a script
# expects, instead of a traceback:
import contextlib
import sys

broken = workdir / "broken.jpg"
broken.write_bytes(b"not a jpeg")
with contextlib.redirect_stderr(sys.stdout):  # show the error line on this page
    status = main(["predict", str(model_file), str(broken)])
print("exit status:", status)
