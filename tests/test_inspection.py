"""Grad-CAM maps: shape, targets, paths, the display, and where a trained model looks."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from skinlesion import LesionClassifier, build_cnn
from skinlesion.datasets import make_lesions
from skinlesion.inspection import NoveltyDetector, SaliencyDisplay, grad_cam

TINY = dict(image_size=16, filters=(4, 8), dense_units=(), epochs=1, batch_size=8, random_state=0)


@pytest.fixture(scope="module")
def fitted():
    X, y = make_lesions(24, n_classes=2, image_size=16, random_state=0)
    return LesionClassifier(**TINY).fit(X, y), X, y


def test_maps_are_per_image_in_unit_range_for_any_target_and_from_paths(fitted, tmp_path):
    clf, X, _ = fitted
    maps = grad_cam(clf, X[:10])
    assert maps.shape == (10, 16, 16) and maps.min() >= 0
    peaks = maps.max(axis=(1, 2))
    assert np.all((peaks == 1) | (peaks == 0)) and peaks.sum() >= 5
    predicted = clf.predict(X[:10])
    np.testing.assert_allclose(grad_cam(clf, X[:10], target=predicted), maps, atol=1e-6)
    other = np.where(predicted == "melanoma", "nevus", "melanoma")
    assert not np.allclose(grad_cam(clf, X[:10], target=other), maps)  # another class's evidence
    paths = []
    for i in range(3):  # lossless files of the same size: the same pixels reach the network
        paths.append(str(tmp_path / f"{i}.png"))
        Image.fromarray(X[i]).save(paths[-1])
    np.testing.assert_allclose(grad_cam(clf, paths, target="nevus"),
                               grad_cam(clf, X[:3], target="nevus"), atol=1e-6)  # fmt: skip


def test_bad_targets_name_the_classes(fitted):
    clf, X, _ = fitted
    with pytest.raises(ValueError, match=r"\['mole'\]; choose from \['melanoma', 'nevus'\]"):
        grad_cam(clf, X[:2], target="mole")
    with pytest.raises(ValueError, match="3 class names for 2 images"):
        grad_cam(clf, X[:2], target=["nevus"] * 3)
    with pytest.raises(Exception, match="not fitted"):
        grad_cam(LesionClassifier(), X[:2])


def test_saliency_display_draws_each_map_over_its_image(fitted):
    import matplotlib.pyplot as plt

    clf, X, _ = fitted
    fig, ax = plt.subplots(1, 3)
    disp = SaliencyDisplay.from_estimator(clf, X[:3], "melanoma", ax=ax)
    assert disp.figure_ is fig and len(disp.im_) == len(disp.overlay_) == 3
    assert ax[0].get_title().startswith("melanoma 0.")
    np.testing.assert_allclose(disp.overlay_[1].get_array(), disp.maps[1])
    plt.close(fig)


def test_report_shows_the_maps_of_its_most_confident_mistakes(fitted, monkeypatch):
    from skinlesion.metrics import ClinicalReport, clinical_report

    clf, _, _ = fitted
    X, y = make_lesions(32, n_classes=2, image_size=16, random_state=3)
    r = clinical_report.from_estimator(clf, X, y, saliency=3, n_bootstraps=0)
    proba = clf.predict_proba(X)
    pred = clf.classes_[proba.argmax(axis=1)]
    wrong = np.flatnonzero(pred != y)
    assert len(wrong) > 3  # the three most confident of them are explained
    top = wrong[np.argsort(-proba.max(axis=1)[wrong], kind="stable")][:3]
    s = r.saliency
    assert s["indices"].tolist() == top.tolist() and s["note"] is None
    assert s["predicted"] == pred[top].tolist() and s["true"] == y[top].tolist()
    np.testing.assert_allclose(s["maps"], grad_cam(clf, X[top], target=pred[top]), atol=1e-6)
    np.testing.assert_array_equal(s["images"], X[top])
    drawn = []
    plot = SaliencyDisplay.plot
    monkeypatch.setattr(SaliencyDisplay, "plot", lambda self, **kw: drawn.append(plot(self, **kw))
                        or drawn[-1])  # fmt: skip
    text = r.to_html()
    assert len(drawn) == 1 and len(drawn[0].overlay_) == 3 and "3 most confident" in text
    np.testing.assert_array_equal(drawn[0].maps, s["maps"])
    assert drawn[0].ax_[0].get_title().startswith(f"true: {y[top[0]]}\npred: {pred[top[0]]}")
    assert ClinicalReport.from_dict(r.to_dict()).saliency is None  # maps are not serialised
    assert clinical_report.from_estimator(clf, X, y, saliency=0, n_bootstraps=0).saliency is None
    with pytest.raises(ValueError, match="saliency must be the number of mistakes"):
        clinical_report.from_estimator(clf, X, y, saliency=-1)


def test_novelty_detector_flags_pictures_that_are_not_lesions(fitted):
    from sklearn.base import clone
    from sklearn.frozen import FrozenEstimator
    from sklearn.metrics import roc_auc_score

    clf, X, y = fitted
    detector = NoveltyDetector(clf, quantile=0.95).fit(X, y)
    assert detector.means_.shape[0] == 2 and detector.offset_ == -detector.threshold_
    lesions, _ = make_lesions(30, n_classes=2, image_size=16, random_state=5)
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, size=(20, 16, 16, 3), dtype=np.uint8)
    blank = np.broadcast_to(rng.integers(0, 256, size=(20, 1, 1, 3)), (20, 16, 16, 3))
    others = np.concatenate([noise, blank.astype(np.uint8)])
    d_in, d_out = detector.distance(lesions), detector.distance(others)
    auc = roc_auc_score(np.r_[np.zeros(30), np.ones(40)], np.r_[d_in, d_out])
    assert auc > 0.95, auc  # max-softmax confidence ranks noise above lesions on such models
    assert (detector.predict(others) == -1).mean() > 0.9
    assert (detector.predict(lesions) == 1).mean() > 0.6
    np.testing.assert_allclose(detector.decision_function(lesions), detector.threshold_ - d_in)
    copy = clone(NoveltyDetector(FrozenEstimator(clf))).fit(X)  # one mean without y
    assert copy.means_.shape[0] == 1
    with pytest.raises(ValueError, match="quantile must lie in"):
        NoveltyDetector(clf, quantile=1.5).fit(X)


@pytest.mark.slow
def test_maps_of_a_keras_application_trunk():
    # a 64 px MobileNetV3Small trunk ends in 2 x 2 feature maps: coarse but not constant
    X, _ = make_lesions(6, n_classes=2, image_size=64, random_state=0)
    clf = LesionClassifier(backbone="MobileNetV3Small", image_size=64)
    # the network of a fit, without the minute its first fit takes to compile
    clf.model_ = build_cnn((64, 64, 3), 2, backbone="MobileNetV3Small", dense_units=(), seed=0)
    clf.classes_, clf.input_shape_ = np.array(["melanoma", "nevus"]), (64, 64, 3)
    maps = grad_cam(clf, X)
    assert maps.shape == (6, 64, 64) and maps.min() >= 0 and maps.max() == 1
    assert np.ptp(maps, axis=(1, 2)).min() > 0.2


@pytest.mark.slow
def test_melanoma_evidence_lies_in_the_lesion():
    """Pointing game where the truth is known: the peak of each melanoma's map, in its lesion.

    Test lesions are drawn on larger images and cropped at random, so they sit off
    centre; two baselines: a point drawn at random (the lesion's share of the image),
    and the same peaks scored against the other images' lesions (a map that only
    prefers the centre does as well there).
    """
    X, y = make_lesions(300, n_classes=2, image_size=32, vignetting=False, random_state=0)
    clf = LesionClassifier(image_size=32, filters=(8, 16, 32), dense_units=(), epochs=8,
                           random_state=0).fit(X, y)  # fmt: skip
    big, labels, masks = make_lesions(120, n_classes=2, image_size=40, vignetting=False,
                                      return_masks=True, random_state=1)  # fmt: skip
    corner = np.random.default_rng(2).integers(0, 9, size=(120, 2))
    keep = labels == "melanoma"
    crops = np.stack([im[a : a + 32, b : b + 32] for im, (a, b) in zip(big, corner, strict=True)])
    truth = np.stack([m[a : a + 32, b : b + 32] for m, (a, b) in zip(masks, corner, strict=True)])
    crops, truth = crops[keep], truth[keep].reshape(keep.sum(), -1)
    peaks = grad_cam(clf, crops, target="melanoma").reshape(len(crops), -1).argmax(axis=1)
    rows = np.arange(len(crops))
    hits = truth[rows, peaks].mean()
    random_point = truth.mean()
    other_lesions = np.mean([truth[np.roll(rows, k), peaks].mean() for k in range(1, len(rows))])
    print(f"pointing game {hits:.2f}, random point {random_point:.2f}, "
          f"other images' lesions {other_lesions:.2f}, {len(rows)} melanomas")  # fmt: skip
    assert hits >= 0.75, (hits, random_point, other_lesions)
    assert hits >= 1.8 * random_point and hits >= other_lesions + 0.15
