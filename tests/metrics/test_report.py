"""clinical_report: contents, exports, operating points, bad input."""

from __future__ import annotations

import json
import pickle
import warnings

import numpy as np
import pytest

from skinlesion.metrics import (
    ClinicalReport,
    clinical_report,
    expected_calibration_error,
    select_operating_point,
    sensitivity_constrained_scorer,
)

CLASSES = np.array(["melanoma", "nevus", "seborrheic keratosis"])


def same(a: ClinicalReport, b: ClinicalReport) -> bool:
    """Equal figures (NaN equals NaN)."""
    return json.dumps(a.to_dict(), sort_keys=True) == json.dumps(b.to_dict(), sort_keys=True)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 3, size=120)
    logits = rng.normal(size=(120, 3)) + 1.8 * np.eye(3)[codes]
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return CLASSES[codes], proba


@pytest.fixture(scope="module")
def report(data):
    y, proba = data
    return clinical_report(
        y, proba, classes=CLASSES, positive="melanoma", n_bootstraps=100, random_state=0
    )


def test_report_holds_every_figure_with_an_interval(report):
    assert isinstance(report, ClinicalReport)
    for c in CLASSES:
        assert set(report.per_class[c]) == {
            "support",
            "sensitivity",
            "specificity",
            "ppv",
            "npv",
            "f1",
            "roc_auc",
            "average_precision",
        }
    assert set(report.overall) == {
        "accuracy",
        "balanced_accuracy",
        "macro_f1",
        "weighted_f1",
        "macro_roc_auc",
        "cohen_kappa",
        "log_loss",
        "brier_score",
        "expected_calibration_error",
    }
    for key in (
        "prevalence",
        "roc_auc",
        "auc_sens_80",
        "sensitivity_at_specificity_0.8",
        "sensitivity_at_specificity_0.9",
        "sensitivity_at_specificity_0.95",
        "specificity_at_sensitivity_0.8",
        "specificity_at_sensitivity_0.866",
        "specificity_at_sensitivity_0.9",
        "specificity_at_sensitivity_0.95",
        "threshold",
        "sensitivity",
        "specificity",
        "ppv",
        "npv",
        "number_needed_to_biopsy",
        "lr_positive",
        "lr_negative",
    ):
        assert key in report.positive, key
    rows = report.rows()
    for row in rows:
        if row["figure"] in ("support", "threshold"):
            continue
        assert row["method"] in ("wilson", "bootstrap"), row
        assert np.isfinite(row["low"]) and row["low"] <= row["high"], row
        if row["method"] == "wilson":  # a Wilson interval always holds its proportion
            assert row["low"] <= row["value"] <= row["high"], row
    methods = {r["figure"]: r["method"] for r in rows if r["section"] == "per_class"}
    assert methods["sensitivity"] == "wilson" and methods["roc_auc"] == "bootstrap"


def test_number_needed_to_biopsy_is_inverse_ppv(report):
    ppv, nnb = report.positive["ppv"], report.positive["number_needed_to_biopsy"]
    assert nnb.value == pytest.approx(1 / ppv.value)
    assert nnb.low == pytest.approx(1 / ppv.high) and nnb.high == pytest.approx(1 / ppv.low)


def test_report_is_repeatable_with_random_state(data, report):
    y, proba = data
    again = clinical_report(
        y, proba, classes=CLASSES, positive="melanoma", n_bootstraps=100, random_state=0
    )
    assert same(again, report)
    assert same(again, report)
    other = clinical_report(
        y, proba, classes=CLASSES, positive="melanoma", n_bootstraps=100, random_state=1
    )
    assert other.overall["cohen_kappa"].low != report.overall["cohen_kappa"].low


def test_text_report_is_readable(report):
    text = str(report)
    for needle in (
        "sensitivity",
        "specificity",
        "PPV",
        "NPV",
        "number needed to biopsy",
        "prevalence",
        "expected calibration error",
        "15 uniform bins",
        "specificity at sensitivity 0.866",
        "auc_sens_80",
        "balanced accuracy",
        "melanoma",
        "wilson",
        "bootstrap",
    ):
        assert needle in text, needle
    assert "ClinicalReport" in repr(report)


def test_to_dict_is_json_serialisable(report):
    d = json.loads(json.dumps(report.to_dict()))
    assert d["positive_label"] == "melanoma"
    assert d["per_class"]["nevus"]["sensitivity"]["method"] == "wilson"
    assert d["settings"]["n_bootstraps"] == 100


def test_from_dict_rebuilds_every_figure_from_json(data):
    y, proba = data
    sex = np.where(np.arange(len(y)) % 3 == 0, "female", "male")
    report = clinical_report(y, proba, classes=CLASSES, positive="melanoma",
                             subgroups={"sex": sex}, n_bootstraps=30, random_state=0)  # fmt: skip
    again = ClinicalReport.from_dict(json.loads(json.dumps(report.to_dict())))
    assert same(again, report) and again.to_markdown() == report.to_markdown()
    assert again.subgroups["sex"]["gaps"] and again.referral and again.y_score is None
    with pytest.raises(ValueError, match="not a clinical report's figures"):
        ClinicalReport.from_dict({"classes": ["a", "b"]})


def test_to_frame(report):
    pd = pytest.importorskip("pandas")
    df = report.to_frame()
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns) == [
        "section",
        "class",
        "figure",
        "value",
        "low",
        "high",
        "method",
        "n_undefined",
    ]
    row = df[
        (df.section == "per_class") & (df["class"] == "melanoma") & (df.figure == "sensitivity")
    ]
    assert row["value"].item() == report.per_class["melanoma"]["sensitivity"].value


def test_to_markdown(report):
    md = report.to_markdown()
    assert "### Overall" in md and "| figure | value [interval] | interval |" in md
    assert md.count("### ") >= 6


def test_report_pickles(report):
    again = pickle.loads(pickle.dumps(report))
    assert same(again, report)


def test_threshold_targets(data):
    y, proba = data
    r = clinical_report(
        y,
        proba,
        classes=CLASSES,
        positive="melanoma",
        target_sensitivity=0.9,
        n_bootstraps=50,
        random_state=0,
    )
    assert r.positive["sensitivity"].value >= 0.9
    t = select_operating_point(y, proba, "melanoma", target_sensitivity=0.9, classes=CLASSES)
    assert r.positive["threshold"].value == t
    assert r.positive["threshold"].method == "bootstrap"  # chosen on the data: it varies
    assert "optimistic" in str(r)
    r = clinical_report(
        y, proba, classes=CLASSES, positive="melanoma", target_specificity=0.95, n_bootstraps=0
    )
    assert r.positive["specificity"].value >= 0.95
    r = clinical_report(
        y, proba, classes=CLASSES, positive="melanoma", threshold=0.3, n_bootstraps=0
    )
    assert r.positive["threshold"].value == 0.3 and r.positive["threshold"].method is None


def test_select_operating_point_is_the_best_threshold_meeting_the_target(data):
    y, proba = data
    is_mel, s = y == "melanoma", proba[:, 0]
    for target in (0.8, 0.9, 0.95, 1.0):
        t = select_operating_point(y, proba, "melanoma", target_sensitivity=target, classes=CLASSES)
        assert np.mean(s[is_mel] >= t) >= target
        higher = s[s > t]
        if higher.size:  # the next higher threshold misses the target
            assert np.mean(s[is_mel] >= higher.min()) < target
    t = select_operating_point(y, proba, "melanoma", target_specificity=0.9, classes=CLASSES)
    assert np.mean(s[~is_mel] < t) >= 0.9
    lower = s[s < t]
    assert np.mean(s[~is_mel] < lower.max()) < 0.9


def test_operating_point_with_fixed_threshold_classifier():
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import FixedThresholdClassifier

    rng = np.random.default_rng(0)
    y = np.where(rng.random(300) < 0.3, "malignant", "benign")
    X = (y == "malignant")[:, None] * 1.0 + rng.normal(size=(300, 2))
    clf = LogisticRegression().fit(X, y)
    t = select_operating_point(
        y, clf.predict_proba(X), "malignant", target_sensitivity=0.95, classes=clf.classes_
    )
    screen = FixedThresholdClassifier(
        clf, threshold=t, pos_label="malignant", response_method="predict_proba"
    ).fit(X, y)
    called = screen.predict(X) == "malignant"
    assert np.mean(called[y == "malignant"]) >= 0.95
    assert np.mean(clf.predict(X)[y == "malignant"] == "malignant") < 0.95


def test_sensitivity_constrained_scorer_tunes_for_the_target():
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import TunedThresholdClassifierCV

    rng = np.random.default_rng(1)
    y = np.where(rng.random(400) < 0.3, "malignant", "benign")
    X = (y == "malignant")[:, None] * 1.2 + rng.normal(size=(400, 1))
    tuned = TunedThresholdClassifierCV(
        LogisticRegression(),
        scoring=sensitivity_constrained_scorer(0.9, "malignant"),
        random_state=0,
    ).fit(X, y)
    sens = np.mean(tuned.predict(X)[y == "malignant"] == "malignant")
    assert sens >= 0.85  # tuned by cross-validation, so close to (not exactly) the target


def test_ece_hand_computed():
    # bin (0.8, 0.867]: 2 images at 0.85, 1 right -> |0.5 - 0.85| * 2/4
    # bin (0.6, 0.667]: 2 images at 0.65, both right -> |1 - 0.65| * 2/4
    y = ["a", "b", "a", "a"]
    p = [[0.85, 0.15], [0.85, 0.15], [0.65, 0.35], [0.65, 0.35]]
    assert expected_calibration_error(y, p) == pytest.approx(0.5 * 0.35 + 0.5 * 0.35)
    perfect = expected_calibration_error(["a", "b"], [[1.0, 0.0], [0.0, 1.0]])
    assert perfect == 0.0


# ---- bad input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "y, proba, classes, match",
    [
        (["a", "b", "a"], [[0.5, 0.5], [0.1, 0.9]], None, "different lengths"),
        (["a", "b"], [[0.5, 0.3, 0.2], [0.1, 0.8, 0.1]], ["a", "b"], "3 columns"),
        (["a", "b"], [[0.5, 0.6], [0.1, 0.9]], None, "sum to 1"),
        (["a", "b"], [[2.0, -1.0], [0.1, 0.9]], None, r"\[0, 1\]"),
        (["a", "b"], [[np.nan, 0.5], [0.1, 0.9]], None, "NaN"),
        (["a", "c"], [[0.5, 0.5], [0.1, 0.9]], ["a", "b"], "not in classes"),
        (["a", "b", "c"], [[0.5, 0.5], [0.1, 0.9], [0.1, 0.9]], None, "classes=clf.classes_"),
        ([["a", "b"]], [[0.5, 0.5]], None, "1-D"),
        ([], np.zeros((0, 2)), None, "empty"),
        (["a", "b"], [[0.5, 0.5], [0.1, 0.9]], ["a", "a"], "repeat"),
        (["a", "b"], np.array([0, 1]), None, "predict_proba"),
        (["a", "b"], np.array([[1, 0], [0, 1]]), None, "predicted labels"),
        (["a", "b"], "0.5", None, "probabilities"),
    ],
)
def test_bad_input_is_a_clear_error(y, proba, classes, match):
    with pytest.raises(ValueError, match=match):
        clinical_report(y, proba, classes=classes, n_bootstraps=0)


def test_bad_parameters(data):
    y, proba = data
    with pytest.raises(ValueError, match="not in classes"):
        clinical_report(y, proba, classes=CLASSES, positive="melanomaa")
    with pytest.raises(ValueError, match="every class"):
        clinical_report(y, proba, classes=CLASSES, positive=list(CLASSES))
    with pytest.raises(ValueError, match="at most one"):
        clinical_report(
            y, proba, classes=CLASSES, positive="melanoma", threshold=0.4, target_sensitivity=0.9
        )
    with pytest.raises(ValueError, match="threshold"):
        clinical_report(y, proba, classes=CLASSES, positive="melanoma", threshold=4)
    with pytest.raises(ValueError, match="confidence"):
        clinical_report(y, proba, classes=CLASSES, confidence=95)
    with pytest.raises(ValueError, match="positive is required"):
        select_operating_point(y, proba, classes=CLASSES)
    with pytest.raises(ValueError, match="not both"):
        select_operating_point(
            y, proba, "melanoma", classes=CLASSES, target_sensitivity=0.9, target_specificity=0.9
        )


def test_1d_scores_are_the_positive_class_probability():
    # "melanoma" sorts before "nevus": a 1-D melanoma score must not be read as P(nevus)
    y = np.array(["nevus", "melanoma", "nevus", "melanoma", "nevus", "melanoma"])
    s_mel = np.array([0.2, 0.9, 0.6, 0.7, 0.1, 0.4])
    r = clinical_report(y, s_mel, positive="melanoma", n_bootstraps=0)
    both = clinical_report(
        y, np.column_stack([s_mel, 1 - s_mel]), positive="melanoma", n_bootstraps=0
    )
    assert same(r, both)
    sigmoid_column = clinical_report(y, s_mel[:, None], positive="melanoma", n_bootstraps=0)
    assert same(sigmoid_column, both)
    assert r.positive["sensitivity"].value == pytest.approx(2 / 3)
    assert r.positive["roc_auc"].value == pytest.approx(8 / 9)
    t = select_operating_point(y, s_mel, "melanoma", target_sensitivity=1.0)
    assert t == 0.4
    # without positive, scikit-learn's convention: the score of classes[1] ("nevus")
    r = clinical_report(y, 1 - s_mel, n_bootstraps=0)
    assert r.positive_label == "nevus" and same_values(r.per_class, both.per_class)


def same_values(a: dict, b: dict) -> bool:
    return json.dumps(
        {str(k): {f: e.to_dict() for f, e in v.items()} for k, v in a.items()}, sort_keys=True
    ) == json.dumps(
        {str(k): {f: e.to_dict() for f, e in v.items()} for k, v in b.items()}, sort_keys=True
    )


def test_dataframe_columns_name_the_classes(data):
    pd = pytest.importorskip("pandas")
    y, proba = data
    frame = pd.DataFrame(proba, columns=CLASSES)
    r = clinical_report(y, frame, positive="melanoma", n_bootstraps=0)
    assert r.classes == CLASSES.tolist()
    shuffled = frame[CLASSES[::-1]]
    with pytest.raises(ValueError, match="columns"):
        clinical_report(y, shuffled, classes=CLASSES, n_bootstraps=0)
    r2 = clinical_report(y, shuffled, positive="melanoma", n_bootstraps=0)
    assert r2.positive["roc_auc"].value == r.positive["roc_auc"].value


def test_positive_class_absent_gives_nan_with_a_warning(data):
    y, proba = data
    keep = y != "melanoma"
    with pytest.warns(UserWarning, match="melanoma"):
        r = clinical_report(
            y[keep],
            proba[keep],
            classes=CLASSES,
            positive="melanoma",
            n_bootstraps=20,
            random_state=0,
        )
    assert np.isnan(r.positive["sensitivity"].value)
    assert np.isnan(r.positive["roc_auc"].value)
    assert np.isnan(r.per_class["melanoma"]["sensitivity"].value)
    assert "undefined" in str(r)
    # macro figures use the classes present, and say so
    assert not np.isnan(r.overall["balanced_accuracy"].value)
    assert "do not occur in y_true" in str(r)


def test_no_warning_on_clean_input(data):
    y, proba = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clinical_report(
            y, proba, classes=CLASSES, positive="melanoma", n_bootstraps=20, random_state=0
        )


def test_inputs_are_not_modified(data):
    y, proba = data
    y_copy, proba_copy = y.copy(), proba.copy()
    clinical_report(y, proba, classes=CLASSES, positive="melanoma", n_bootstraps=10)
    np.testing.assert_array_equal(y, y_copy)
    np.testing.assert_array_equal(proba, proba_copy)


def test_from_estimator():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    y = rng.choice(CLASSES, size=90)
    X = (y[:, None] == CLASSES) * 1.5 + rng.normal(size=(90, 3))
    clf = LogisticRegression().fit(X, y)
    r = clinical_report.from_estimator(
        clf, X, y, positive="melanoma", n_bootstraps=20, random_state=0
    )
    direct = clinical_report(
        y,
        clf.predict_proba(X),
        classes=clf.classes_,
        positive="melanoma",
        n_bootstraps=20,
        random_state=0,
    )
    assert same(r, direct)
    assert r.images is None  # tabular X is not an image array
    with pytest.raises(TypeError, match="predict_proba"):
        clinical_report.from_estimator(object(), X, y)


# ---- one table, class methods ----------------------------------------------------------


def test_classmethods_are_the_report(data):
    from sklearn.linear_model import LogisticRegression

    y, proba = data
    kwargs = dict(classes=CLASSES, positive="melanoma", n_bootstraps=20, random_state=0)
    assert same(
        ClinicalReport.from_predictions(y, proba, **kwargs), clinical_report(y, proba, **kwargs)
    )
    assert clinical_report.from_estimator == ClinicalReport.from_estimator
    X = (y[:, None] == CLASSES) * 1.0 + np.random.default_rng(0).normal(size=(len(y), 3))
    clf = LogisticRegression().fit(X, y)
    kwargs.pop("classes")
    assert same(
        ClinicalReport.from_estimator(clf, X, y, **kwargs),
        clinical_report(y, clf.predict_proba(X), classes=clf.classes_, **kwargs),
    )


def test_the_table_decides_every_interval(report):
    from skinlesion.metrics import _table

    plan = type("Plan", (), {"fixed_spec": [0.8, 0.9, 0.95], "fixed_sens": [0.8, 0.866, 0.9, 0.95]})
    methods = {"bootstrap": "bootstrap", _table.TUNED: None}  # the threshold here is fixed
    sections = {
        "per_class": report.per_class["nevus"],
        "overall": report.overall,
        "positive": report.positive,
        "isic": report.isic["per_category"]["nevus"],
        "isic_macro": report.isic["macro_average"],
        "isic_aggregate": report.isic["aggregate"],
    }
    for section, figures in sections.items():
        expanded = dict(_table.expand(section, plan))
        assert list(figures) == list(expanded), section  # the table's figures, in its order
        for name, row in expanded.items():
            kind = row.interval
            expected = (
                "wilson"
                if isinstance(kind, (_table.Wilson, _table.Reciprocal))
                else methods.get(kind)
            )
            assert figures[name].method == expected, (section, name)


def test_warnings_name_the_callers_line(data):
    y, proba = data
    keep = y != "melanoma"
    for make in (clinical_report, ClinicalReport.from_predictions):
        with pytest.warns(UserWarning, match="do not occur") as record:
            make(y[keep], proba[keep], classes=CLASSES, n_bootstraps=0)
        assert {w.filename for w in record} == {__file__}
