"""
Grid search over CNN hyperparameters
====================================

Every hyperparameter of :class:`~skinlesion.LesionClassifier` is a constructor
parameter, so scikit-learn's :class:`~sklearn.model_selection.GridSearchCV` tunes the
network by plain names. Inside :func:`skinlesion.make_pipeline`, the balancing step
is tuned too, and it only ever sees the training folds.

The grid and the network are tiny so that the example runs in seconds; the code is the
same for a real search.
"""

# %%
# Imbalanced synthetic data
# -------------------------
# Melanomas are rare here (15 %), as in real collections.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from skinlesion import LesionClassifier, Rebalancer, make_pipeline
from skinlesion.datasets import make_lesions

X, y = make_lesions(n_samples=240, image_size=32, weights=[0.15, 0.55, 0.3], random_state=0)
names, counts = np.unique(y, return_counts=True)
print(dict(zip(names.tolist(), counts.tolist(), strict=True)))

# %%
# The pipeline and the grid
# -------------------------
# Step names are the lower-cased class names, so parameters read
# ``lesionclassifier__learning_rate`` and ``rebalancer__sampling_strategy``.
pipe = make_pipeline(
    Rebalancer(random_state=0),
    LesionClassifier(
        image_size=32,
        dense_units=(32,),
        epochs=3,
        augment=False,
        early_stopping=False,
        validation_fraction=0.0,
        random_state=0,
    ),
)
grid = {
    "lesionclassifier__filters": [(8, 16), (16, 32)],
    "lesionclassifier__learning_rate": [1e-3, 3e-3],
    "rebalancer__sampling_strategy": ["auto"],
}

# %%
# ``balanced_accuracy`` (the ISIC challenges' ranking metric) does not reward a model
# for ignoring the rare class. With more cores, ``n_jobs=2`` runs two fits at a time
# (see :doc:`/user_guide/tuning`, which also shows a Dask cluster).
search = GridSearchCV(
    pipe,
    grid,
    scoring="balanced_accuracy",
    cv=StratifiedKFold(n_splits=2, shuffle=True, random_state=0),
    n_jobs=1,
)
search.fit(X, y)
print("best:", search.best_params_, f"balanced accuracy {search.best_score_:.3f}")

# %%
# The results
# -----------
# ``cv_results_`` holds every candidate's score on every fold.
results = search.cv_results_
filters = [str(f) for f in grid["lesionclassifier__filters"]]
rates = grid["lesionclassifier__learning_rate"]
scores = np.empty((len(filters), len(rates)))
for params, score in zip(results["params"], results["mean_test_score"], strict=True):
    i = filters.index(str(params["lesionclassifier__filters"]))
    j = rates.index(params["lesionclassifier__learning_rate"])
    scores[i, j] = score

fig, ax = plt.subplots(figsize=(5, 3.5), layout="constrained")
image = ax.imshow(scores, cmap="viridis")
ax.set_xticks(range(len(rates)), [f"{r:g}" for r in rates])
ax.set_yticks(range(len(filters)), filters)
ax.set_xlabel("learning rate")
ax.set_ylabel("filters per block")
for (i, j), value in np.ndenumerate(scores):
    ax.text(j, i, f"{value:.2f}", ha="center", va="center", color="white")
fig.colorbar(image, label="mean balanced accuracy (2 folds)")
ax.set_title("Grid search")

# %%
# The refitted best pipeline predicts directly; its Rebalancer acted during ``fit``
# only, so prediction sees the images untouched.
print(search.best_estimator_.predict(X[:5]).tolist(), y[:5].tolist())
