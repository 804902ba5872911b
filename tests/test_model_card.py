"""ModelCard: built from the fit, the audit and the report; Markdown, HTML, files."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from skinlesion import LesionClassifier, ModelCard
from skinlesion.datasets import audit, make_lesions
from skinlesion.metrics import clinical_report


@pytest.fixture(scope="module")
def parts():
    X, y = make_lesions(n_samples=36, image_size=16, random_state=0)
    flat = X.reshape(len(X), -1) / 255.0
    clf = LogisticRegression(C=0.01, max_iter=300).fit(flat[:24], y[:24])
    groups = {"fitzpatrick": np.tile(["I-II", "III-IV"], 6)}
    report = clinical_report.from_estimator(
        clf, flat[24:], y[24:], positive="melanoma", subgroups=groups, n_bootstraps=20,
        random_state=0,
    )  # fmt: skip
    return clf, report, audit((X[:24], y[:24]))


def test_card_says_what_the_fit_audit_and_report_know(parts):
    clf, report, data_audit = parts
    text = ModelCard.from_estimator(clf, report, data_audit, intended_use="Teaching.").to_markdown()
    counts = {c: int((data_audit.labels == c).sum()) for c in ("melanoma", "nevus")}
    assert f"| melanoma | {counts['melanoma']} |" in text and "| total | 24 |" in text
    assert "Test set of the evaluation: 12 images." in text
    assert f"| C | {clf.C!r} |" in text and "Teaching." in text
    assert "not a medical device" in text and "scikit-learn " in text
    assert "Subgroups by fitzpatrick" in text  # the report's tables, intervals and all
    assert format(report.positive["sensitivity"]) in text
    assert "Skin type: see the subgroup tables" in text


def test_card_says_what_is_missing_and_writes_files(parts, tmp_path):
    _, report, _ = parts
    report_without = clinical_report(report.y_true, report.y_score, classes=report.classes,
                                     n_bootstraps=0)  # fmt: skip
    card = ModelCard.from_estimator(LesionClassifier(epochs=3), report_without)
    text = card.to_markdown()
    assert "No data audit was given" in text and "Skin type (Fitzpatrick)" in text
    assert "counts per class, duplicates" in text and "fit time: not recorded" in text
    assert "| epochs | 3 |" in text and "Intended use" in text and "Not stated." in text
    page = tmp_path / "card.html"
    card.save(page)
    assert page.read_text().startswith("<!DOCTYPE html>") and "<script" not in page.read_text()
    with pytest.raises(FileExistsError, match="overwrite=True"):
        card.save(page)
    card.save(tmp_path / "card.md")
    assert (tmp_path / "card.md").read_text() == text


def test_card_gives_the_counts_and_time_the_fit_recorded(parts):
    _, report, _ = parts
    fitted = LesionClassifier(epochs=3)  # what a fit records, without fitting
    fitted.classes_ = np.array(["melanoma", "nevus"])
    fitted.class_counts_, fitted.fit_time_ = {"melanoma": 7, "nevus": 11}, 125.4
    text = ModelCard.from_estimator(fitted, report).to_markdown()
    assert "trained on (early-stopping split excluded)" in text
    assert "| melanoma | 7 |" in text and "| total | 18 |" in text
    assert "fit time: 2 min 5 s" in text and "counts per class, duplicates" not in text
