"""matplotlib is optional: fit, predict and the text report work without it, and
every plot asked for says to install the ``plot`` extra."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from skinlesion.cli import EXIT_FAILURE, main
from skinlesion.metrics import ConfusionMatrixDisplay, clinical_report

from ._subprocess import run_python

#: Blocks matplotlib in a fresh interpreter, fits, reports as text, then runs the CLI.
WITHOUT_MATPLOTLIB = """
import sys
sys.modules["matplotlib"] = None  # any import of matplotlib now raises ImportError
from PIL import Image
from skinlesion import LesionClassifier
from skinlesion.cli import main
from skinlesion.datasets import make_lesions
from skinlesion.metrics import clinical_report

X, y = make_lesions(n_samples=24, n_classes=2, image_size=16, random_state=0)
clf = LesionClassifier(image_size=16, filters=(4,), dense_units=(4,), epochs=1,
                       batch_size=16, random_state=0).fit(X, y)
print(clinical_report.from_estimator(clf, X, clf.predict(X), n_bootstraps=0))
folder = sys.argv[1]
for i, (image, label) in enumerate(zip(X, y)):
    path = f"{folder}/{label}/{i}.png"
    __import__("os").makedirs(f"{folder}/{label}", exist_ok=True)
    Image.fromarray(image).save(path)
sys.exit(main(["train", folder, "--out", f"{folder}.skl", "--image-size", "16",
               "--epochs", "1", "--filters", "4", "--validation-fraction", "0"]))
"""


@pytest.fixture
def no_matplotlib(monkeypatch):
    """matplotlib cannot be imported for the length of the test."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)


def test_plots_ask_for_the_plot_extra(no_matplotlib, tmp_path, capsys):
    y = np.array(["a", "b", "a", "b"])
    proba = np.array([[0.8, 0.2], [0.1, 0.9], [0.6, 0.4], [0.4, 0.6]])
    report = clinical_report(y, proba, classes=["a", "b"], n_bootstraps=0)
    assert "accuracy" in str(report)
    assert report.to_html(plots=False).startswith("<!DOCTYPE html>")
    with pytest.raises(ImportError, match=r'pip install "skinlesion\[plot\]".*plots=False'):
        report.to_html()
    with pytest.raises(ImportError, match=r'pip install "skinlesion\[plot\]"'):
        ConfusionMatrixDisplay.from_probabilities(y, proba, classes=["a", "b"])
    # the command line refuses an option that draws, before loading anything
    argv = ["evaluate", tmp_path / "m.skl", tmp_path, "--report", tmp_path / "r.html"]
    assert main([str(a) for a in argv]) == EXIT_FAILURE
    err = capsys.readouterr().err
    assert "--report draws plots" in err and 'pip install "skinlesion[plot]"' in err


@pytest.mark.slow
def test_fit_predict_report_and_train_without_matplotlib(tmp_path):
    env = {"SKINLESION_NUM_THREADS": "2", "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = run_python("-c", WITHOUT_MATPLOTLIB, tmp_path / "data", env=env)
    assert result.returncode == 0, result.stderr
    assert "accuracy" in result.stdout
    # skinlesion train saves the model and says why there is no history plot
    assert (tmp_path / "data.skl").stat().st_size > 0
    assert not (tmp_path / "data.skl.history.png").exists()
    assert "no history plot: plots need matplotlib" in result.stderr
