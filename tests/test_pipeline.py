"""Samplers in pipelines: fit-time only, no leakage, grid search locally and on Dask."""

from __future__ import annotations

import os
from collections import Counter

import joblib
import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.model_selection import (
    GridSearchCV,
    RandomizedSearchCV,
    StratifiedKFold,
    cross_validate,
)
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline as sklearn_make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skinlesion import Augmenter, Pipeline, Rebalancer, make_pipeline

# ----------------------------------------------------------------------------- data


def _colour_data(n_major: int = 40, n_minor: int = 16, size: int = 12, seed: int = 0):
    """Images whose mean colour depends on the class (a cheap model can learn it)."""
    rng = np.random.default_rng(seed)
    y = np.array(["nevus"] * n_major + ["melanoma"] * n_minor)
    base = np.where(y[:, None] == "melanoma", [130, 80, 70], [160, 110, 90])
    shift = rng.normal(0, 20, size=(len(y), 1, 1, 3))  # classes overlap
    noise = rng.normal(0, 25, size=(len(y), size, size, 3))
    X = np.clip(base[:, None, None, :] + shift + noise, 0, 255).astype(np.uint8)
    return X, y


def _mean_colour() -> FunctionTransformer:
    # np.mean pickles by reference, so this stand-in model works in worker processes
    return FunctionTransformer(np.mean, kw_args={"axis": (1, 2)})


# --------------------------------------------------------------- origin-tagged images


def _tagged_data(n_major: int = 30, n_minor: int = 12, size: int = 16):
    """Plain-coloured images: colour i tags image i and survives geometric augmentation."""
    n = n_major + n_minor
    colours = np.array([(40 + 4 * i, 200 - 3 * i, 60 + 2 * (i % 7)) for i in range(n)])
    X = np.broadcast_to(colours[:, None, None, :], (n, size, size, 3)).astype(np.uint8)
    y = np.array(["nevus"] * n_major + ["melanoma"] * n_minor)
    return X, y, colours


class OriginProbe(ClassifierMixin, BaseEstimator):
    """Records which original image each image it is fitted on / asked about comes from."""

    def __init__(self, colours=None):
        self.colours = colours

    def _origins(self, X):
        centre = X[:, X.shape[1] // 2, X.shape[2] // 2].astype(int)
        distance = np.abs(centre[:, None, :] - self.colours[None, :, :]).sum(axis=2)
        assert distance.min(axis=1).max() <= 3, "an image whose origin cannot be recovered"
        return distance.argmin(axis=1)

    def fit(self, X, y):
        self.fit_origins_ = self._origins(X)
        self.n_fit_ = len(X)
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        self.predict_origins_ = self._origins(X)
        self.predict_X_ = np.array(X)
        return np.full(len(X), self.classes_[0])


GEOMETRIC = {"rotate": 10, "flip": True, "zoom": 0.2, "crop": 0.2}


def test_no_copy_or_augmentation_of_a_validation_image_reaches_training():
    X, y, colours = _tagged_data()
    pipe = make_pipeline(
        Rebalancer(random_state=0),
        Augmenter(**GEOMETRIC, sampling_strategy=45, random_state=0),
        OriginProbe(colours=colours),
    )
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    result = cross_validate(pipe, X, y, cv=cv, return_estimator=True, return_indices=True)
    folds = zip(
        result["estimator"], result["indices"]["train"], result["indices"]["test"], strict=True
    )
    for fitted, train, test in folds:
        probe = fitted[-1]
        origins = probe.fit_origins_
        # training really was resampled: repeats and augmented versions of images
        assert probe.n_fit_ == 90 > len(train)
        assert max(Counter(origins).values()) > 1
        # ... all derived from training images, none from the validation fold
        assert set(origins) <= set(train)
        assert not set(origins) & set(test)
        # prediction saw exactly the validation images, untouched
        np.testing.assert_array_equal(probe.predict_origins_, test)
        np.testing.assert_array_equal(probe.predict_X_, X[test])


def test_the_leakage_detector_catches_augmenting_before_splitting():
    """Negative control: the notebook way (augment first, then split) is caught."""
    X, y, colours = _tagged_data()
    X_aug, y_aug = Augmenter(**GEOMETRIC, sampling_strategy=45, random_state=0).fit_resample(X, y)
    probe = OriginProbe(colours=colours)
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    result = cross_validate(probe, X_aug, y_aug, cv=cv, return_estimator=True, return_indices=True)
    leaked = [set(est.fit_origins_) & set(est.predict_origins_) for est in result["estimator"]]
    assert all(leaked)  # every fold trains on copies of its validation images


# ------------------------------------------------------------------ pipeline behaviour


@pytest.mark.parametrize("sampler", [Rebalancer(), Augmenter(rotate=10)])
def test_plain_scikit_learn_pipeline_says_to_use_skinlesion_make_pipeline(sampler):
    X, y = _colour_data()
    pipe = sklearn_make_pipeline(sampler, _mean_colour(), GaussianNB())
    with pytest.raises(TypeError, match=r"skinlesion\.make_pipeline"):
        pipe.fit(X, y)


def test_imbalanced_learn_pipeline_accepts_the_samplers():
    from imblearn.pipeline import make_pipeline as imblearn_make_pipeline

    X, y, colours = _tagged_data()
    pipe = imblearn_make_pipeline(
        Rebalancer(random_state=0), Augmenter(rotate=5, random_state=0), OriginProbe(colours)
    ).fit(X, y)
    assert pipe[-1].n_fit_ == 60
    assert isinstance(make_pipeline(Rebalancer(), OriginProbe(colours)), Pipeline)


def test_samplers_only_act_at_fit_time():
    X, y = _colour_data()
    pipe = make_pipeline(
        Rebalancer(random_state=0),
        Augmenter(rotate=10, brightness=0.3, random_state=0),
        _mean_colour(),
        GaussianNB(),
    ).fit(X, y)
    proba = pipe.predict_proba(X)
    assert proba.shape == (len(X), 2)
    # without samplers, the same fitted model on the same images gives the same output
    direct = pipe[-1].predict_proba(pipe[-2].transform(X))
    np.testing.assert_allclose(proba, direct)
    assert pipe.score(X, y) > 0.6


# ----------------------------------------------- the classifier's early-stopping split

# one epoch of a one-block network: the split is decided before training
TINY_CNN = dict(image_size=12, filters=(4,), dense_units=(), epochs=1, random_state=0)


def _straddling(origins, validation):
    """Source rows with copies on both sides of a split of the resampled rows."""
    in_validation = np.zeros(len(origins), dtype=bool)
    in_validation[validation] = True
    return set(origins[in_validation]) & set(origins[~in_validation])


def test_rebalancer_copies_stay_on_their_source_side_of_the_validation_split():
    from skinlesion import LesionClassifier

    X, y = _colour_data()
    pipe = make_pipeline(
        Rebalancer(random_state=0), LesionClassifier(**TINY_CNN, validation_fraction=0.25)
    ).fit(X, y)
    origins, validation = pipe.sample_indices_, pipe[-1].validation_indices_
    np.testing.assert_array_equal(origins, pipe[0].sample_indices_)
    assert len(origins) == 80 and max(Counter(origins).values()) > 1  # repeats were made
    assert 16 <= len(validation) <= 24
    assert not _straddling(origins, validation)
    # the same split drawn by row, as before, holds out copies of training images
    by_row = np.random.RandomState(0).permutation(len(origins))[: len(validation)]
    assert _straddling(origins, by_row)


def test_augmented_copies_through_two_samplers_stay_on_their_source_side():
    """Augmenter copies differ in pixels: only the composed origins keep them together."""
    from imblearn.pipeline import make_pipeline as imblearn_make_pipeline

    from skinlesion import LesionClassifier

    X, y = _colour_data()
    steps = [
        Rebalancer(random_state=0),
        Augmenter(**GEOMETRIC, sampling_strategy=60, random_state=0),
        LesionClassifier(**TINY_CNN, validation_fraction=0.25),
    ]
    pipe = make_pipeline(*steps).fit(X, y)
    rebalanced, augmented = pipe[0].sample_indices_, pipe[1].sample_indices_
    np.testing.assert_array_equal(pipe.sample_indices_, rebalanced[augmented])
    assert len(pipe.sample_indices_) == 120
    assert not _straddling(pipe.sample_indices_, pipe[-1].validation_indices_)
    # negative control: imbalanced-learn's own pipeline hands on no origins, so the
    # classifier cannot tell augmented copies from other images
    plain = imblearn_make_pipeline(*(clone(step) for step in steps)).fit(X, y)
    origins = plain[0].sample_indices_[plain[1].sample_indices_]
    assert _straddling(origins, plain[-1].validation_indices_)


def test_lesion_groups_follow_the_resampled_images_in_a_pipeline():
    from skinlesion import LesionClassifier

    X, y = _colour_data()
    groups = np.array([f"lesion{i // 2}" for i in range(len(y))])  # two images per lesion
    pipe = make_pipeline(
        Rebalancer(random_state=0),
        Augmenter(rotate=10, random_state=0),
        LesionClassifier(**TINY_CNN, validation_fraction=0.25),
    )
    pipe.fit(X, y, lesionclassifier__groups=groups)
    lesions = groups[pipe.sample_indices_]
    validation = pipe[-1].validation_indices_
    assert len(validation)
    assert not _straddling(lesions, validation)
    assert pipe[-1].n_epochs_ == 1 and "val_loss" in pipe[-1].history_


class GroupsProbe(ClassifierMixin, BaseEstimator):
    """Records the groups its ``fit`` receives."""

    def fit(self, X, y, groups=None):
        self.groups_ = groups
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


def test_groups_of_any_final_step_are_resampled_with_the_images():
    X, y = _colour_data()
    groups = np.arange(len(y)) // 2
    pipe = make_pipeline(Rebalancer(random_state=0), GroupsProbe())
    pipe.fit(X, y, groupsprobe__groups=groups)
    np.testing.assert_array_equal(pipe[-1].groups_, groups[pipe[0].sample_indices_])
    # without groups, a step other than LesionClassifier gets none
    assert make_pipeline(Rebalancer(random_state=0), GroupsProbe()).fit(X, y)[-1].groups_ is None
    # without a sampler, the groups reach the step as given
    assert make_pipeline(GroupsProbe()).fit(X, y, groupsprobe__groups=groups)[-1].groups_ is groups


def test_groups_past_a_sampler_that_records_no_origins_get_a_clear_error():
    from imblearn import FunctionSampler

    X, y = _colour_data()
    reverse = FunctionSampler(func=lambda X, y: (X[::-1], y[::-1]), validate=False)
    pipe = make_pipeline(reverse, GroupsProbe())
    with pytest.raises(ValueError, match=r"'functionsampler'.*records no sample_indices_"):
        pipe.fit(X, y, groupsprobe__groups=np.arange(len(y)))
    assert pipe.fit(X, y).sample_indices_ is None


def test_groups_of_the_wrong_length_name_the_pipeline_input():
    from skinlesion import LesionClassifier

    X, y = _colour_data()
    pipe = make_pipeline(Rebalancer(random_state=0), LesionClassifier(**TINY_CNN))
    with pytest.raises(ValueError, match=r"shape \(55,\) for 56 images.*pipeline's input"):
        pipe.fit(X, y, lesionclassifier__groups=np.arange(55))


# Worker processes take seconds to start, and each trains a network: slow.
@pytest.mark.slow
def test_no_copy_straddles_the_validation_split_in_parallel_cross_validation():
    from skinlesion import LesionClassifier

    X, y = _colour_data()
    groups = np.arange(len(y)) // 2
    pipe = make_pipeline(
        Rebalancer(random_state=0),
        Augmenter(**GEOMETRIC, sampling_strategy=45, random_state=0),
        LesionClassifier(**TINY_CNN, validation_fraction=0.25),
    )
    result = cross_validate(
        pipe,
        X,
        y,
        cv=StratifiedKFold(2, shuffle=True, random_state=0),
        params={"lesionclassifier__groups": groups},
        n_jobs=2,
        return_estimator=True,
        return_indices=True,
        error_score="raise",
    )
    folds = zip(result["estimator"], result["indices"]["train"], strict=True)
    for fitted, train in folds:  # fitted in a worker process, pickled back
        validation = fitted[-1].validation_indices_
        origins = fitted.sample_indices_  # rows of the fold's training part
        assert len(validation) and len(origins) == 90
        assert not _straddling(origins, validation)
        assert not _straddling(groups[train][origins], validation)


def test_augmented_copies_stay_in_their_source_lesion_for_the_validation_split():
    from skinlesion import LesionClassifier

    X, y = _colour_data()
    groups = np.arange(len(y)) // 2  # two images per lesion
    per_class = 2 * Counter(y).most_common(1)[0][1]
    augmenter = Augmenter(rotate=10, flip=True, sampling_strategy=per_class, random_state=0)
    _, y_aug = augmenter.fit_resample(X, y)
    groups_aug = groups[augmenter.sample_indices_]
    assert len(groups_aug) == len(y_aug) > len(y)
    clf = LesionClassifier(image_size=12, validation_fraction=0.25)
    clf.classes_ = np.unique(y_aug)
    y_enc = np.searchsorted(clf.classes_, y_aug)
    train, val = clf._split(y_enc, np.random.RandomState(0), groups_aug)
    assert len(val) and not set(groups_aug[train]) & set(groups_aug[val])


def test_make_pipeline_names_steps_for_grid_search():
    pipe = make_pipeline(Rebalancer(), Augmenter(rotate=10), GaussianNB())
    assert [name for name, _ in pipe.steps] == ["rebalancer", "augmenter", "gaussiannb"]
    pipe.set_params(rebalancer__sampling_strategy={"melanoma": 50}, augmenter__rotate=5)
    assert pipe.get_params()["augmenter__rotate"] == 5


# ------------------------------------------------------------------------ grid search


def _standin_pipeline():
    return make_pipeline(
        Rebalancer(random_state=0),
        Augmenter(rotate=10, flip=True, zoom=0.2, random_state=0),
        _mean_colour(),
        GaussianNB(),
    )


STANDIN_GRID = {
    "rebalancer__sampling_strategy": ["auto", 30],
    "rebalancer__method": ["over", "under"],
    "augmenter__zoom": [0.1, 0.3],
    "gaussiannb__var_smoothing": [1e-9, 1.0],
}


def _search_results(search):
    return (
        search.cv_results_["mean_test_score"],
        search.cv_results_["params"],
        search.best_params_,
    )


def test_grid_search_over_sampler_parameters_refits_the_best_pipeline():
    X, y = _colour_data()
    search = GridSearchCV(
        _standin_pipeline(), STANDIN_GRID, scoring="balanced_accuracy", cv=3, n_jobs=1
    ).fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    assert len(scores) == 16
    assert np.isfinite(scores).all()
    assert len(set(np.round(scores, 6))) > 1  # the parameters matter
    best = search.best_estimator_
    assert best.get_params()["rebalancer__method"] == search.best_params_["rebalancer__method"]
    assert best.score(X, y) > 0.6


# Worker processes take seconds to start on a loaded 2-core machine: these are slow.
@pytest.mark.slow
def test_grid_search_over_sampler_parameters_n_jobs_1_and_2_agree():
    X, y = _colour_data()
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    serial = GridSearchCV(
        _standin_pipeline(), STANDIN_GRID, scoring="balanced_accuracy", cv=cv, n_jobs=1
    ).fit(X, y)
    parallel = GridSearchCV(
        _standin_pipeline(), STANDIN_GRID, scoring="balanced_accuracy", cv=cv, n_jobs=2
    ).fit(X, y)
    scores, params, best = _search_results(serial)
    np.testing.assert_allclose(parallel.cv_results_["mean_test_score"], scores)
    assert parallel.best_params_ == best
    assert len(params) == 16
    assert np.isfinite(scores).all()
    # the best pipeline was refitted and predicts the user's classes
    assert set(parallel.predict(X)) <= {"melanoma", "nevus"}
    assert parallel.best_estimator_.score(X, y) > 0.6


@pytest.mark.slow
def test_randomized_search_over_sampler_parameters_n_jobs_1_and_2_agree():
    X, y = _colour_data()
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    distributions = {
        "rebalancer__sampling_strategy": ["auto", 30, {"melanoma": 25}],
        "augmenter__rotate": [0, 5, 10, 20],
        "augmenter__brightness": [0.0, 0.1, 0.2],
        "gaussiannb__var_smoothing": [1e-9, 1e-2, 1.0],
    }
    searches = [
        RandomizedSearchCV(
            _standin_pipeline(), distributions, n_iter=5, cv=cv, random_state=0, n_jobs=n_jobs
        ).fit(X, y)
        for n_jobs in (1, 2)
    ]
    np.testing.assert_allclose(
        searches[0].cv_results_["mean_test_score"], searches[1].cv_results_["mean_test_score"]
    )
    assert searches[0].best_params_ == searches[1].best_params_
    assert len(searches[1].predict(X)) == len(X)


@pytest.mark.slow
def test_loky_workers_get_a_capped_thread_count_for_tensorflow():
    from skinlesion._tf import _thread_limit

    limits = joblib.Parallel(n_jobs=2)(joblib.delayed(_thread_limit)() for _ in range(2))
    if os.environ.get("SKINLESION_NUM_THREADS", "").isdigit():
        expected = int(os.environ["SKINLESION_NUM_THREADS"])
    else:
        expected = int(os.environ.get("OMP_NUM_THREADS", max(joblib.cpu_count() // 2, 1)))
    assert limits == [expected, expected]


# ----------------------------------------------------------- the real CNN in a search


# the classifier both searches start from: one epoch of a one-block network on 16 px
SEARCH_CLASSIFIER = dict(
    image_size=16,
    filters=(4,),
    dense_units=(8,),
    epochs=1,
    batch_size=16,
    early_stopping=False,
    augment=False,
    random_state=0,
)


@pytest.mark.slow
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_grid_search_over_cnn_and_sampler_parameters(n_jobs):
    from skinlesion import LesionClassifier

    X, y = _colour_data(n_major=24, n_minor=10, size=16)
    pipe = make_pipeline(
        Rebalancer(random_state=0),
        Augmenter(rotate=10, flip=True, zoom=0.2, random_state=0),
        LesionClassifier(**SEARCH_CLASSIFIER),
    )
    # two candidates that differ in a CNN and a sampler parameter keep this affordable
    grid = [
        {"lesionclassifier__filters": [(4,)], "rebalancer__sampling_strategy": ["auto"]},
        {
            "lesionclassifier__filters": [(4, 8)],
            "lesionclassifier__learning_rate": [3e-3],
            "rebalancer__sampling_strategy": [{"melanoma": 20}],
        },
    ]
    search = GridSearchCV(
        pipe,
        grid,
        scoring="balanced_accuracy",
        cv=StratifiedKFold(2),
        n_jobs=n_jobs,
        error_score="raise",
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 2
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_params_ in search.cv_results_["params"]
    assert set(search.predict(X)) <= {"melanoma", "nevus"}
    assert search.predict_proba(X).shape == (len(X), 2)


@pytest.mark.slow
def test_randomized_search_over_cnn_parameters():
    from skinlesion import LesionClassifier

    X, y = _colour_data(n_major=24, n_minor=10, size=16)
    pipe = make_pipeline(
        Rebalancer(random_state=0),
        LesionClassifier(**SEARCH_CLASSIFIER),
    )
    search = RandomizedSearchCV(
        pipe,
        {
            "lesionclassifier__learning_rate": [1e-2, 3e-3, 1e-3],
            "rebalancer__method": ["over", "under"],
        },
        n_iter=2,
        cv=StratifiedKFold(2),
        random_state=0,
        n_jobs=2,
        error_score="raise",
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 2
    assert len(search.predict(X)) == len(X)


# ----------------------------------------------------------------------------- Dask


@pytest.mark.slow
def test_search_on_a_local_dask_cluster_equals_the_local_run():
    pytest.importorskip("distributed", reason="Dask is optional: pip install 'skinlesion[dask]'")
    from distributed import Client, LocalCluster

    X, y = _colour_data()
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    grid = {"rebalancer__method": ["over", "under"], "gaussiannb__var_smoothing": [1e-9, 1.0]}
    local = GridSearchCV(_standin_pipeline(), grid, cv=cv, n_jobs=1).fit(X, y)
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        with joblib.parallel_config(backend="dask"):
            remote = GridSearchCV(_standin_pipeline(), grid, cv=cv, n_jobs=-1).fit(X, y)
        # Dask starts its workers with OMP_NUM_THREADS=1, so TensorFlow there gets one
        # thread unless SKINLESION_NUM_THREADS says otherwise (see the docs).
        from skinlesion._tf import _thread_limit

        limits = set(client.run(_thread_limit).values())
    expected = int(os.environ.get("SKINLESION_NUM_THREADS", "1"))
    assert limits == {expected}
    np.testing.assert_allclose(
        remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"]
    )
    assert remote.best_params_ == local.best_params_
    np.testing.assert_array_equal(remote.predict(X), local.predict(X))
