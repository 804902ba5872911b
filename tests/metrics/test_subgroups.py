"""Subgroup performance: the engine per subgroup, binning, gaps, the report's section, display."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn import metrics as skm

from skinlesion.metrics import SubgroupDisplay, _engine, clinical_report
from skinlesion.metrics.intervals import bootstrap_indices
from skinlesion.metrics.subgroups import bin_column

CLASSES = np.array(["melanoma", "nevus", "seborrheic keratosis"])


def _case(n: int, seed: int = 0, strength=1.5):
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 3, size=n)
    logits = rng.normal(size=(n, 3)) + np.asarray(strength)[..., None] * np.eye(3)[codes]
    return codes, np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)


def _nan_if_single(f, y, *args, **kw):
    return f(y, *args, **kw) if np.unique(y).size > 1 else np.nan


@pytest.mark.parametrize("positive", [True, False])
def test_engine_scores_each_subgroup_alone_on_each_resample(positive):
    codes, proba = _case(70, seed=3)
    groups = np.random.default_rng(1).integers(0, 3, size=70)
    indices = [np.arange(70), *bootstrap_indices(70, 20, random_state=2)]
    W = np.stack([np.bincount(i, minlength=70) for i in indices]).astype(float)
    mask = np.array([True, False, False]) if positive else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        batch = _engine.subgroup_figures(codes, proba, [groups], W, mask, 0.4)
    for r, idx in enumerate(indices):
        for j in range(3):
            rows = idx[groups[idx] == j]
            y, p = codes[rows], proba[rows]
            got = {name: batch[("subgroup", 0, j, name)][r] for name in ("n", "roc_auc")}
            assert got["n"] == rows.size
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ref_bacc = skm.balanced_accuracy_score(y, p.argmax(axis=1))
                if positive:
                    is_mel, called = y == 0, p[:, 0] >= 0.4
                    ref_auc = _nan_if_single(skm.roc_auc_score, is_mel, p[:, 0])
                    assert batch[("subgroup", 0, j, "sensitivity")][r] == pytest.approx(
                        skm.recall_score(is_mel, called, zero_division=np.nan), nan_ok=True
                    )
                    assert batch[("subgroup", 0, j, "specificity")][r] == pytest.approx(
                        skm.recall_score(~is_mel, ~called, zero_division=np.nan), nan_ok=True
                    )
                else:  # the macro one-vs-rest AUC of the classes present
                    present = [i for i in range(3) if 0 < (y == i).sum() < y.size]
                    ref_auc = np.mean([skm.roc_auc_score(y == i, p[:, i]) for i in present])
            assert batch[("subgroup", 0, j, "balanced_accuracy")][r] == pytest.approx(ref_bacc)
            assert got["roc_auc"] == pytest.approx(ref_auc, nan_ok=True), (j, r)


def test_age_is_binned_in_bands_and_other_numbers_in_quartiles():
    ages = [5.0, 30, 44, 45, 59, 60, 74, 75, 85, np.nan, 10]
    assert bin_column("Age", ages).tolist() == [
        "<30", "30-44", "30-44", "45-59", "45-59", "60-74", "60-74", "75+", "75+", "unknown", "<30"
    ]  # fmt: skip
    size = bin_column("diameter_mm", np.arange(1.0, 21.0))
    assert len(set(size)) == 4 and (size == size[0]).sum() == 5
    assert bin_column("site", ["back", "", None, "face"]).tolist() == [
        "back", "unknown", "unknown", "face"
    ]  # fmt: skip


def test_report_finds_a_planted_gap_and_marks_small_subgroups():
    rng = np.random.default_rng(0)
    n = 500
    sex = rng.choice(["female", "male"], size=n).astype(object)
    sex[:12] = "unknown"
    site = np.where(np.arange(n) % 50 == 0, "palms", rng.choice(["back", "face"], size=n))
    codes, proba = _case(n, seed=1, strength=np.where(sex == "female", 2.5, 0.6))
    report = clinical_report(
        CLASSES[codes], proba, classes=CLASSES, positive="melanoma",
        subgroups={"sex": sex, "site": site, "age": rng.integers(20, 90, size=n)},
        n_bootstraps=200, random_state=0,
    )  # fmt: skip
    by_sex = report.subgroups["sex"]
    assert list(by_sex["groups"]) == ["female", "male", "unknown"]
    assert by_sex["groups"]["female"]["n"].value == (sex == "female").sum()
    assert list(by_sex["groups"]["male"]) == [
        "n", "sensitivity", "specificity", "balanced_accuracy", "roc_auc"
    ]  # fmt: skip
    assert by_sex["groups"]["male"]["sensitivity"].method == "wilson"
    gap = by_sex["gaps"]["balanced_accuracy"]
    assert (gap.highest, gap.lowest) == ("female", "male") and gap.excludes_zero
    assert gap.estimate.low > 0 and gap.confidence == 0.95  # one pair: no adjustment
    assert by_sex["small"] == ["unknown"]
    by_site = report.subgroups["site"]
    assert by_site["small"] == ["palms"] and by_site["groups"]["palms"]["n"].value == 10
    assert "palms" not in (by_site["gaps"]["roc_auc"].highest, by_site["gaps"]["roc_auc"].lowest)
    assert by_site["gaps"]["roc_auc"].confidence == 0.95  # back and face
    assert list(report.subgroups["age"]["groups"]) == ["<30", "30-44", "45-59", "60-74", "75+"]
    assert report.subgroups["age"]["gaps"]["sensitivity"].confidence == pytest.approx(0.995)
    text = str(report)
    assert "Subgroups by sex" in text and "Largest gap between subgroups by site" in text
    assert "missing value, too small" in text and "| palms |" in report.to_markdown()
    d = report.to_dict()["subgroups"]["sex"]
    assert d["gaps"]["balanced_accuracy"]["excludes_zero"] is True and d["small"] == ["unknown"]
    assert "Subgroups by age" in report.to_html(plots=False)


def test_a_subgroup_without_melanoma_says_so_instead_of_undefined_figures():
    codes, proba = _case(90, seed=2)
    site = np.where(np.arange(90) < 60, "back", "palms")
    codes[site == "palms"] = np.where(codes[site == "palms"] == 0, 1, codes[site == "palms"])
    report = clinical_report(
        CLASSES[codes], proba, classes=CLASSES, positive="melanoma",
        subgroups={"site": site}, n_bootstraps=20, random_state=0,
    )  # fmt: skip
    palms = report.subgroups["site"]["groups"]["palms"]
    assert np.isnan(palms["sensitivity"].value) and np.isnan(palms["roc_auc"].value)
    row = next(line for line in str(report).splitlines() if line.startswith("palms"))
    assert row.count("n/a (no melanoma)") == 2 and "too small" in row  # sensitivity, AUC
    markdown = report.to_markdown()
    assert "| palms | 30 | n/a (no melanoma) | 0." in markdown
    page = report.to_html(plots=False)
    assert "<td>palms</td><td>30</td><td>n/a (no melanoma)</td>" in page
    for rendered in (str(report), markdown, page):
        assert "nan" not in rendered and "undefined" not in rendered


def test_subgroups_take_a_frame_or_one_array_and_refuse_bad_lengths():
    pd = pytest.importorskip("pandas")
    codes, proba = _case(90)
    y = CLASSES[codes]
    frame = pd.DataFrame({"sex": np.tile(["f", "m", "m"], 30)})
    r = clinical_report(y, proba, classes=CLASSES, subgroups=frame, n_bootstraps=0)
    assert r.subgroups["sex"]["groups"]["m"]["n"].value == 60
    assert "sensitivity" not in r.subgroups["sex"]["groups"]["m"]  # no positive class
    r = clinical_report(y, proba, classes=CLASSES, subgroups=frame["sex"].to_numpy(),
                        n_bootstraps=0)  # fmt: skip
    assert list(r.subgroups) == ["subgroup"]
    with pytest.raises(ValueError, match="'sex' has 3 values for 90 images"):
        clinical_report(y, proba, classes=CLASSES, subgroups={"sex": ["f", "m", "m"]})


def test_subgroup_display_draws_a_panel_per_figure():
    import matplotlib.pyplot as plt

    codes, proba = _case(120)
    groups = np.repeat(["a", "b", "c"], [50, 50, 20])
    fig, ax = plt.subplots(1, 2)
    disp = SubgroupDisplay.from_predictions(
        CLASSES[codes], proba, {"g": groups}, classes=CLASSES, positive="melanoma",
        figures=["sensitivity", "roc_auc"], n_bootstraps=50, random_state=0, ax=ax,
    )  # fmt: skip
    assert disp.figure_ is fig and list(disp.errorbars_) == ["sensitivity", "roc_auc"]
    assert [t.get_text() for t in ax[0].get_yticklabels()] == ["a (n=50)", "b (n=50)", "c (n=20)"]
    report = clinical_report(
        CLASSES[codes], proba, classes=CLASSES, subgroups={"g": groups}, n_bootstraps=0
    )
    with pytest.raises(ValueError, match="2 Axes"):  # no positive: balanced accuracy and AUC
        SubgroupDisplay.from_report(report, ax=[ax[0]])
    plt.close(fig)


def test_subgroup_display_draws_an_interval_that_misses_its_estimate():
    import matplotlib.pyplot as plt

    from skinlesion.metrics import Estimate

    section = {"groups": {"a": {"n": Estimate(40.0, 40.0, 40.0, "count"),
                                "sensitivity": Estimate(0.5, 0.55, 0.7, "bootstrap")}},
               "small": [], "gaps": {}}  # fmt: skip
    disp = SubgroupDisplay("g", section).plot()  # matplotlib refuses negative error bars
    assert list(disp.errorbars_) == ["sensitivity"]
    plt.close(disp.figure_)
