"""The HTML report is one self-contained file with the plots embedded."""

from __future__ import annotations

import base64
from html.parser import HTMLParser

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from skinlesion.metrics import clinical_report

CLASSES = np.array(["melanoma", "nevus"])


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.refs: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href"):
                self.refs.append((tag, name, value or ""))


@pytest.fixture(scope="module")
def report():
    rng = np.random.default_rng(0)
    y = CLASSES[rng.integers(0, 2, size=60)]
    s = np.clip(0.4 * (y == "melanoma") + 0.6 * rng.random(60), 0, 1)
    proba = np.column_stack([s, 1 - s])
    return clinical_report(
        y, proba, classes=CLASSES, positive="melanoma", n_bootstraps=30, random_state=0
    )


def _parse(text: str) -> _Collector:
    parser = _Collector()
    parser.feed(text)
    return parser


def test_html_file_is_self_contained(tmp_path, report):
    path = tmp_path / "report.html"
    returned = report.to_html(path)
    text = path.read_text(encoding="utf-8")
    assert text == returned and text.startswith("<!DOCTYPE html>")
    parsed = _parse(text)
    assert "script" not in parsed.tags and "link" not in parsed.tags
    images = [value for tag, _, value in parsed.refs if tag == "img"]
    assert len(images) == 4  # confusion matrix, ROC, reliability, referral
    assert all(tag == "img" for tag, _, _ in parsed.refs)  # nothing else is loaded
    for uri in images:
        assert uri.startswith("data:image/png;base64,")
        assert base64.b64decode(uri.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    for needle in (
        "Per class",
        "Overall",
        "Positive class: melanoma",
        "ISIC",
        "number needed to biopsy",
    ):
        assert needle in text
    assert parsed.tags.count("table") == 7  # with the referral table


def test_html_never_overwrites_without_permission(tmp_path, report):
    path = tmp_path / "report.html"
    path.write_text("my notes")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        report.to_html(path, plots=False)
    assert path.read_text() == "my notes"
    report.to_html(path, plots=False, overwrite=True)
    assert path.read_text().startswith("<!DOCTYPE html>")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        report.to_html(tmp_path / "missing" / "r.html", plots=False)


def test_html_escapes_class_names():
    y = np.array(["<b>mel</b>", "nevus & co"] * 10)
    p = np.where(y == "<b>mel</b>", 0.8, 0.3)
    r = clinical_report(
        y,
        np.column_stack([p, 1 - p]),
        classes=["<b>mel</b>", "nevus & co"],
        positive="<b>mel</b>",
        n_bootstraps=0,
    )
    text = r.to_html(plots=False)
    assert "<b>mel</b>" not in text and "&lt;b&gt;mel&lt;/b&gt;" in text


def test_html_from_estimator_embeds_history_and_mistakes():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(1)
    y = CLASSES[rng.integers(0, 2, size=40)]
    X = rng.integers(0, 256, size=(40, 8, 8, 3), dtype=np.uint8)
    X[y == "melanoma", :4] //= 3  # darker top half: learnable but noisy

    class ImageLogistic(LogisticRegression):
        def fit(self, X, y):
            super().fit(X.reshape(len(X), -1) / 255.0, y)
            self.history_ = {"loss": [0.9, 0.6], "accuracy": [0.6, 0.8]}
            return self

        def predict_proba(self, X):
            return super().predict_proba(X.reshape(len(X), -1) / 255.0)

    clf = ImageLogistic(C=0.1).fit(X, y)
    r = clinical_report.from_estimator(
        clf, X, y, positive="melanoma", n_bootstraps=20, random_state=0
    )
    assert r.history == clf.history_ and r.images is X
    assert len(r.saliency["maps"]) == 0  # no network to explain: a note, not a crash
    text = r.to_html()
    images = [v for tag, _, v in _parse(text).refs if tag == "img"]
    assert len(images) == 6
    assert "Training history" in text and "Most confident mistakes" in text
    assert "no Grad-CAM maps: ImageLogistic is not a fitted skinlesion network" in text


def test_notebook_representation_is_an_html_fragment(report):
    fragment = report._repr_html_()
    assert fragment.startswith("<div>") and "<html" not in fragment
    assert fragment.count("<table>") == 7 and "Positive class: melanoma" in fragment
