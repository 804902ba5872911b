"""Tests of the ``skinlesion`` command line.

Every command runs as a subprocess (``python -m skinlesion ...``), as a user or a
script would run it, on tiny image folders the tests write with Pillow. Error cases
that fail before TensorFlow starts are fast; the ones that train are marked slow.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from skinlesion._progress import EpochProgress, format_duration
from skinlesion.cli import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, build_parser, main

from .._subprocess import run_cli

COMMANDS = ["demo", "train", "evaluate", "predict", "explain", "audit", "card"]
# Class -> base colour: distinct enough that one epoch learns something.
COLOURS = {"melanoma": (60, 30, 20), "nevus": (170, 110, 80), "keratosis": (120, 160, 60)}


def assert_one_line_error(result: subprocess.CompletedProcess, status: int, *words: str) -> None:
    """The command failed with ``status`` and one ``skinlesion: error:`` line naming ``words``."""
    assert result.returncode == status, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("skinlesion: error: "), lines[0]
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0], lines[0]


def write_image(path: Path, colour: tuple[int, int, int], rng: np.random.Generator) -> None:
    noise = rng.integers(-25, 26, size=(16, 16, 3))
    pixels = np.clip(np.array(colour) + noise, 0, 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)


def make_folder(root: Path, n_per_class: int = 6, classes: dict | None = None) -> Path:
    """A class-per-folder tree of small PNG images: ``root/<class>/<i>.png``."""
    rng = np.random.default_rng(0)
    for name, colour in (classes or COLOURS).items():
        for i in range(n_per_class):
            write_image(root / name / f"{name[:3]}_{i}.png", colour, rng)
    return root


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return make_folder(tmp_path / "train")


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One small model trained through ``skinlesion train``, shared by the slow tests."""
    root = tmp_path_factory.mktemp("cli")
    data = make_folder(root / "train")
    model = root / "model.skl"
    result = run_cli(
        "train", data, "--out", model, "--image-size", "16", "--epochs", "2",
        "--filters", "8", "--validation-fraction", "0.2", "--random-state", "0",
    )  # fmt: skip
    assert result.returncode == EXIT_OK, result.stderr
    return {"root": root, "data": data, "model": model, "stdout": result.stdout,
            "stderr": result.stderr}  # fmt: skip


# --------------------------------------------------------------------------------------
# help, version, usage errors (no TensorFlow: fast)
# --------------------------------------------------------------------------------------
def test_help_lists_every_command():
    result = run_cli("--help")
    assert result.returncode == EXIT_OK
    for command in COMMANDS:
        assert command in result.stdout
    assert "Exit status" in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command, capsys):
    assert main([command, "--help"]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.startswith(f"usage: skinlesion {command}")
    assert "--verbose" in out


def test_version(capsys):
    from skinlesion import __version__

    assert main(["--version"]) == EXIT_OK
    assert capsys.readouterr().out.strip() == f"skinlesion {__version__}"


def test_no_command_is_a_usage_error():
    assert_one_line_error(run_cli(), EXIT_USAGE, "no command", "demo")


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["demo", "--bogus"], ["--bogus", "skinlesion demo --help"]),
        (["demo", "--epochs", "0"], ["--epochs", "at least 1"]),
        (["demo", "--epochs", "many"], ["--epochs", "'many'"]),
        (["demo", "--n-classes", "9"], ["--n-classes", "between 2 and 7"]),
        (["demo", "--n-samples", "5"], ["--n-samples", "too small"]),
        (["train", "somewhere"], ["--out"]),
        (["train", "d", "--out", "m.skl", "--filters", "32,x"], ["--filters", "32,64,128"]),
        (["train", "d", "--out", "m.skl", "--validation-fraction", "1.5"], ["fraction"]),
        (["train", "d", "--out", "m.skl", "--balance", "maybe"], ["--balance", "weights"]),
        (["train", "d", "--out", "m.skl", "--fine-tune", "trunk"], ["--fine-tune", "head"]),
        (["train", "d", "--out", "m.skl", "--warmup-epochs", "-1"], ["--warmup-epochs"]),
        (["train", "d", "--out", "m.skl", "--backbone", "ResNet9"], ["--backbone", "ResNet50V2"]),
        (["train", "d", "--out", "-"], ["--out -", "model.skl"]),
        (["demo", "--out", "-"], ["--out -", "folder"]),
        (["evaluate", "m.skl", "d", "--json", "-", "--report", "-"], ["standard output"]),
        (["predict", "model.skl"], ["IMAGE"]),
        (["predict", "m.skl", "a.png", "--format", "xml"], ["--format", "csv"]),
        (["frobnicate"], ["frobnicate", "demo"]),
    ],
)
def test_usage_errors_are_one_line_with_status_2(argv, words, capsys):
    assert main(argv) == EXIT_USAGE
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("skinlesion: error: "), captured.err
    for word in words:
        assert word in lines[0]
    assert captured.out == ""


def test_parser_defaults_match_the_documented_ones():
    args = build_parser().parse_args(["train", "data", "--out", "m.skl"])
    assert (args.image_size, args.epochs, args.balance, args.augment) == (64, 30, "none", True)
    assert args.validation_fraction == 0.1
    assert (args.init, args.fine_tune, args.warmup_epochs) == (None, "all", 0)
    assert (args.backbone, args.backbone_weights) == (None, None)
    args = build_parser().parse_args(["demo", "--filters", "8,16"])
    assert args.filters == (8, 16) and args.image_size == 64 and args.out is None
    assert (args.n_samples, args.epochs, args.validation_fraction) == (750, 12, 0.0)


def _classifier_options(command: str) -> dict[str, argparse.Action]:
    """``{parameter: action}`` of the options of ``command`` that set a classifier parameter."""
    import inspect

    from skinlesion import LesionClassifier

    names = set(inspect.signature(LesionClassifier).parameters)
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return {a.dest: a for a in sub.choices[command]._actions if a.dest in names}


def test_training_options_take_their_defaults_and_help_from_the_classifier():
    """Issue #23: the options' defaults and help were hand copies that drifted."""
    import inspect

    from skinlesion import LesionClassifier
    from skinlesion.cli._training import _CLI_DEFAULTS

    signature = inspect.signature(LesionClassifier).parameters
    train = _classifier_options("train")
    assert set(train) >= {"image_size", "epochs", "learning_rate", "batch_size", "patience",
                          "validation_fraction", "augment", "random_state", "filters", "block",
                          "precision", "jit_compile", "distribute", "init", "fine_tune",
                          "warmup_epochs", "backbone", "backbone_weights"}  # fmt: skip
    assert _CLI_DEFAULTS == {"random_state": 0}  # the one deliberate difference: runs repeat
    for name, action in train.items():
        expected = _CLI_DEFAULTS.get(name, signature[name].default)
        assert action.default == expected, f"--{name}: {action.default!r} != {expected!r}"
        assert action.help, name
    assert "Adam" not in train["learning_rate"].help  # the optimizer is a parameter
    assert train["learning_rate"].help.startswith("the optimizer's learning rate")
    # the demo's own choices (see build_parser), the rest from the signature
    demo = {name: action.default for name, action in _classifier_options("demo").items()}
    own = {"epochs": 12, "validation_fraction": 0.0, "random_state": 0}
    assert {k: v for k, v in demo.items() if v != signature[k].default} == own
    # --tta keeps the model's own setting unless given; its help is the parameter's
    for command in ("predict", "evaluate"):
        tta = _classifier_options(command)["tta"]
        assert tta.default is None and tta.help.startswith("test-time augmentation: predict_proba")


def test_train_hardware_options_reach_the_classifier():
    from skinlesion.cli._training import _make_classifier
    from skinlesion.cli.train import _hardware_overrides

    args = build_parser().parse_args(["train", "d", "--out", "m.skl"])
    clf = _make_classifier(args, **_hardware_overrides(args))
    assert (clf.block, clf.precision, clf.jit_compile, clf.distribute) == (
        "plain", "float32", False, None)  # fmt: skip
    args = build_parser().parse_args([
        "train", "d", "--out", "m.skl", "--block", "residual", "--precision", "mixed_bfloat16",
        "--jit-compile", "auto", "--distribute", "/cpu:0,/cpu:1",
    ])  # fmt: skip
    clf = _make_classifier(args, **_hardware_overrides(args))
    assert (clf.block, clf.precision, clf.jit_compile, clf.distribute) == (
        "residual", "mixed_bfloat16", "auto", ["/cpu:0", "/cpu:1"])  # fmt: skip
    for how in ("mirrored", "multi_worker"):
        args = build_parser().parse_args(["train", "d", "--out", "m.skl", "--distribute", how])
        assert args.distribute == how


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--distribute", "gpus"], ["--distribute", "'mirrored', 'multi_worker'", "/gpu:0"]),
        (["--jit-compile", "yes"], ["--jit-compile", "false, true, auto"]),
        (["--precision", "float16"], ["--precision", "mixed_bfloat16"]),
        (["--block", "dense"], ["--block", "residual"]),
    ],
)
def test_train_hardware_option_errors(argv, words, capsys):
    assert main(["train", "d", "--out", "m.skl", *argv]) == EXIT_USAGE
    line = capsys.readouterr().err.strip()
    assert line.startswith("skinlesion: error: ") and "\n" not in line
    for word in words:
        assert word in line


# --------------------------------------------------------------------------------------
# data and model errors: status 1, one line, before any training
# --------------------------------------------------------------------------------------
def test_train_missing_folder(tmp_path):
    result = run_cli("train", tmp_path / "nope", "--out", tmp_path / "m.skl")
    assert_one_line_error(result, EXIT_FAILURE, "nope", "does not exist")
    assert not (tmp_path / "m.skl").exists()


def test_train_data_dir_is_a_file(tmp_path):
    (tmp_path / "file.txt").write_text("x")
    result = run_cli("train", tmp_path / "file.txt", "--out", tmp_path / "m.skl")
    assert_one_line_error(result, EXIT_FAILURE, "not a folder")


def test_train_refuses_to_overwrite_a_model(folder, tmp_path):
    model = tmp_path / "m.skl"
    model.write_bytes(b"precious")
    result = run_cli("train", folder, "--out", model)
    assert_one_line_error(result, EXIT_FAILURE, "--overwrite")
    assert model.read_bytes() == b"precious"


def test_train_one_class_only(tmp_path):
    data = make_folder(tmp_path / "one", classes={"nevus": (170, 110, 80)})
    result = run_cli("train", data, "--out", tmp_path / "m.skl")
    assert_one_line_error(result, EXIT_FAILURE, "nevus")


def test_train_empty_class_folder(folder, tmp_path):
    (folder / "dermatofibroma").mkdir()
    result = run_cli("train", folder, "--out", tmp_path / "m.skl")
    assert_one_line_error(result, EXIT_FAILURE, "dermatofibroma")


def test_train_corrupt_image_is_named(folder, tmp_path):
    (folder / "nevus" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    result = run_cli("train", folder, "--out", tmp_path / "m.skl", "--epochs", "1")
    assert_one_line_error(result, EXIT_FAILURE, "broken.jpg", "`skinlesion audit FOLDER`")
    assert "skinlesion.datasets" not in result.stderr  # a command, not a Python function
    assert not (tmp_path / "m.skl").exists()


def test_messages_name_command_line_fixes_not_python_functions(tmp_path):
    splits = tmp_path / "isic"
    make_folder(splits / "train", n_per_class=1)
    make_folder(splits / "test", n_per_class=1)
    result = run_cli("train", splits, "--out", tmp_path / "m.skl")
    assert_one_line_error(result, EXIT_FAILURE, "give one of them", str(splits / "test"))
    assert "load_image_folder" not in result.stderr


def test_model_file_that_is_not_ours(tmp_path, folder):
    fake = tmp_path / "fake.skl"
    fake.write_bytes(b"PK\x03\x04 this is not a skinlesion model")
    image = next((folder / "nevus").iterdir())
    for argv in (["predict", fake, image], ["evaluate", fake, folder]):
        assert_one_line_error(run_cli(*argv), EXIT_FAILURE, "fake.skl", "not a skinlesion model")


def test_missing_model_file(tmp_path, folder):
    result = run_cli("evaluate", tmp_path / "none.skl", folder)
    assert_one_line_error(result, EXIT_FAILURE, "none.skl", "does not exist")


def test_train_init_and_backbone_weights_files_are_checked_first(folder, tmp_path):
    result = run_cli("train", folder, "--out", tmp_path / "m.skl", "--init", tmp_path / "b.skl")
    assert_one_line_error(result, EXIT_FAILURE, "--init", "b.skl", "does not exist")
    result = run_cli("train", folder, "--out", tmp_path / "m.skl", "--init", tmp_path)
    assert_one_line_error(result, EXIT_FAILURE, "--init", "is a folder")
    result = run_cli("train", folder, "--out", tmp_path / "m.skl", "--backbone-weights", "imagenet")
    assert_one_line_error(result, EXIT_FAILURE, "--backbone-weights needs --backbone")
    result = run_cli(
        "train", folder, "--out", tmp_path / "m.skl", "--backbone", "MobileNetV3Small",
        "--backbone-weights", tmp_path / "w.h5",
    )  # fmt: skip
    assert_one_line_error(result, EXIT_FAILURE, "w.h5", "does not exist")
    assert not (tmp_path / "m.skl").exists()


def test_audit_missing_folder(tmp_path):
    assert_one_line_error(run_cli("audit", tmp_path / "gone"), EXIT_FAILURE, "gone")


# --------------------------------------------------------------------------------------
# audit (no TensorFlow: fast)
# --------------------------------------------------------------------------------------
def test_audit_finds_conflicts_and_leaks(folder, tmp_path):
    copied = folder / "nevus" / "nev_0.png"
    (folder / "melanoma" / "copy_of_nev_0.png").write_bytes(copied.read_bytes())
    test = make_folder(tmp_path / "test", n_per_class=1)
    (test / "nevus" / "leaked.png").write_bytes((folder / "nevus" / "nev_3.png").read_bytes())
    figures = tmp_path / "audit.json"
    result = run_cli("audit", folder, "--test", test, "--json", figures)
    assert result.returncode == EXIT_OK, result.stderr
    assert "copy_of_nev_0.png" in result.stdout and "leaked.png" in result.stdout
    found = json.loads(figures.read_text())
    assert found["n_images"] == 19 + 4
    assert re.search(r"\n  drop \d+ image\(s\) for a leak-free set", result.stdout)
    assert "deduplicated()" not in result.stdout  # a Python method is no fix on the command line
    # --json - puts the JSON alone on stdout (for a pipe); the text goes to stderr
    result = run_cli("audit", folder, "--test", test, "--json", "-", cwd=tmp_path)
    assert result.returncode == EXIT_OK, result.stderr
    assert json.loads(result.stdout) == found
    assert "leaked.png" in result.stderr and not (tmp_path / "-").exists()
    # --strict turns the findings into an exit status that scripts can test
    assert run_cli("audit", folder, "--strict", "--quiet").returncode == 3


def test_audit_clean_folder_passes_strict(folder):
    result = run_cli("audit", folder, "--strict")
    assert result.returncode == EXIT_OK, result.stdout + result.stderr
    assert "18" in result.stdout


# --------------------------------------------------------------------------------------
# the commands end to end (they start TensorFlow and train: slow)
# --------------------------------------------------------------------------------------
@pytest.mark.slow
def test_demo_end_to_end(tmp_path):
    out = tmp_path / "demo"
    result = run_cli(
        "demo", "--n-samples", "60", "--image-size", "16", "--epochs", "2", "--filters", "8",
        "--n-bootstraps", "20", "--out", out,
    )  # fmt: skip
    assert result.returncode == EXIT_OK, result.stderr
    assert "melanoma" in result.stdout and "accuracy" in result.stdout
    # one progress line per epoch, with the time left, on stderr (not mixed with the report)
    epoch_lines = [line for line in result.stderr.splitlines() if line.startswith("epoch")]
    assert 1 <= len(epoch_lines) <= 2
    assert "epoch 1/2" in epoch_lines[0] and "left" in epoch_lines[0]
    # TensorFlow's start-up noise stays hidden without --verbose
    for noise in ("oneDNN", "cuda", "absl", "WARNING", "I0000", "W0000"):
        assert noise not in result.stderr
    model = out / "model.skl"
    for name in ("model.skl", "history.png", "confusion_matrix.png", "report.json"):
        assert (out / name).stat().st_size > 0
    page = (out / "report.html").read_text()
    assert f"<b>Model</b>: {model} (saved " in page and "held-out synthetic lesions" in page
    from skinlesion import load_model

    assert list(load_model(model).classes_) == ["melanoma", "nevus", "seborrheic keratosis"]


@pytest.mark.slow
def test_demo_quiet_prints_only_the_report():
    result = run_cli(
        "demo", "--n-samples", "40", "--n-classes", "2", "--image-size", "16", "--epochs", "1",
        "--filters", "4", "--n-bootstraps", "10", "--quiet",
    )  # fmt: skip
    assert result.returncode == EXIT_OK, result.stderr
    assert result.stderr == ""
    assert "melanoma" in result.stdout


@pytest.mark.slow
def test_train_writes_model_and_history_plot(trained):
    model = trained["model"]
    assert model.stat().st_size > 0
    assert model.with_name("model.skl.history.png").stat().st_size > 0
    assert str(model) in trained["stdout"]
    assert "keratosis 6, melanoma 6, nevus 6" in trained["stderr"]
    assert "epoch 1/2" in trained["stderr"]


@pytest.mark.slow
@pytest.mark.parametrize("balance", ["weights", "auto", "under"])
def test_train_balance_options(tmp_path, balance):
    classes = {"melanoma": COLOURS["melanoma"], "nevus": COLOURS["nevus"]}
    data = make_folder(tmp_path / "d", n_per_class=4, classes=classes)
    rng = np.random.default_rng(1)
    for i in range(8):  # nevus: 12 images, melanoma: 4
        write_image(data / "nevus" / f"extra_{i}.png", COLOURS["nevus"], rng)
    model = tmp_path / "m.skl"
    result = run_cli(
        "train", data, "--out", model, "--image-size", "16", "--epochs", "1", "--filters", "4",
        "--validation-fraction", "0", "--balance", balance,
    )  # fmt: skip
    assert result.returncode == EXIT_OK, result.stderr
    assert "epoch 1/1" in result.stderr  # the progress line reaches the pipeline's classifier
    from skinlesion import load_model

    clf = load_model(model)
    assert list(clf.classes_) == ["melanoma", "nevus"]
    assert clf.class_weight == ("balanced" if balance == "weights" else None)


@pytest.mark.slow
def test_train_with_the_hardware_options(folder, tmp_path):
    model = tmp_path / "m.skl"
    result = run_cli(
        "train", folder, "--out", model, "--image-size", "16", "--epochs", "1", "--filters", "4",
        "--validation-fraction", "0", "--block", "residual", "--precision", "mixed_bfloat16",
        "--distribute", "/cpu:0", "--quiet",
    )  # fmt: skip
    assert result.returncode == EXIT_OK, result.stderr
    from skinlesion import load_model

    clf = load_model(model)  # on one CPU, without the strategy
    assert (clf.block, clf.precision, clf.distribute) == ("residual", "mixed_bfloat16", ["/cpu:0"])
    assert clf.model_.get_layer("block1_conv").compute_dtype == "bfloat16"


def make_ham10000(root: Path, n_lesions: int = 4, per_lesion: int = 3) -> Path:
    """A HAM10000 root: ``HAM10000_metadata.csv`` and ``images/``, several images a lesion."""
    rng = np.random.default_rng(0)
    rows = ["lesion_id,image_id,dx,dx_type,age,sex,localization\n"]
    for dx, colour in zip(["mel", "nv", "bkl"], COLOURS.values(), strict=True):
        for lesion in range(n_lesions):
            for _ in range(per_lesion):
                image_id = f"ISIC_{len(rows):07d}"
                rows.append(f"HAM_{dx}{lesion},{image_id},{dx},histo,50.0,male,back\n")
                write_image(root / "images" / f"{image_id}.jpg", colour, rng)
    (root / "HAM10000_metadata.csv").write_text("".join(rows))
    return root


class FitRecorder:
    """Stands in for a classifier or a pipeline: records what ``fit`` receives."""

    def __init__(self, steps: list | None = None) -> None:
        if steps is not None:
            self.steps = steps

    def fit(self, X, y, **params):
        self.params = params
        return self


def test_train_hands_the_lesion_ids_to_the_classifier_or_its_pipeline_step():
    from skinlesion.cli._training import _fit

    args = build_parser().parse_args(["train", "data", "--out", "m.skl", "--quiet"])
    groups = np.array(["HAM_1", "HAM_1", "HAM_2"])
    clf = _fit(args, FitRecorder(), ["a.jpg", "b.jpg", "c.jpg"], ["mel", "mel", "nv"], groups)
    assert clf.params == {"groups": groups}
    pipe = FitRecorder(steps=[("rebalancer", None), ("lesionclassifier", None)])
    _fit(args, pipe, ["a.jpg", "b.jpg", "c.jpg"], ["mel", "mel", "nv"], groups)
    assert pipe.params == {"lesionclassifier__groups": groups}
    assert _fit(args, FitRecorder(), ["a.jpg"], ["mel"]).params == {}


@pytest.mark.slow
def test_train_on_ham10000_keeps_each_lesion_on_one_side_of_the_validation_split(tmp_path):
    from skinlesion import load_model
    from skinlesion.datasets import load_ham10000

    data = make_ham10000(tmp_path / "ham")
    model = tmp_path / "m.skl"
    result = run_cli(
        "train", data, "--out", model, "--image-size", "16", "--epochs", "1", "--filters", "4",
        "--validation-fraction", "0.3",
    )  # fmt: skip
    assert result.returncode == EXIT_OK, result.stderr
    assert "split by lesion: 12 lesions" in result.stderr
    validation = load_model(model).validation_indices_
    lesions = load_ham10000(data, as_paths=True).groups  # the order train reads them in
    held_out = np.zeros(len(lesions), dtype=bool)
    held_out[validation] = True
    assert held_out.any()
    assert not set(lesions[held_out]) & set(lesions[~held_out])


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_predict_formats_keep_the_order_of_the_images(trained, fmt):
    data = trained["data"]
    images = [data / "nevus" / "nev_0.png", data / "melanoma" / "mel_1.png", data / "keratosis"]
    result = run_cli("predict", trained["model"], *images, "--format", fmt)
    assert result.returncode == EXIT_OK, result.stderr
    expected = [str(images[0]), str(images[1])] + [
        str(p) for p in sorted((data / "keratosis").iterdir())
    ]
    classes = ["keratosis", "melanoma", "nevus"]
    if fmt == "json":
        rows = json.loads(result.stdout)
        assert [r["image"] for r in rows] == expected
        for row in rows:
            assert set(row["probabilities"]) == set(classes)
            assert sum(row["probabilities"].values()) == pytest.approx(1, abs=1e-4)
            assert row["class"] == max(row["probabilities"], key=row["probabilities"].get)
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(result.stdout)))
        assert [r["image"] for r in rows] == expected
        assert list(rows[0]) == ["image", "class", *classes]
        for row in rows:
            assert sum(float(row[c]) for c in classes) == pytest.approx(1, abs=1e-4)
    else:
        lines = result.stdout.strip().splitlines()
        assert lines[0].split() == ["image", "class", *classes]
        assert [line.split()[0] for line in lines[1:]] == expected


@pytest.mark.slow
def test_predict_agrees_with_the_library(trained):
    from skinlesion import load_model

    files = sorted(str(p) for p in (trained["data"] / "melanoma").iterdir())
    result = run_cli("predict", trained["model"], *files, "--format", "json")
    assert result.returncode == EXIT_OK, result.stderr
    got = np.array([list(r["probabilities"].values()) for r in json.loads(result.stdout)])
    expected = load_model(trained["model"]).predict_proba(files)
    np.testing.assert_allclose(got, expected, atol=1e-5)


@pytest.mark.slow
def test_predict_tta_agrees_with_the_library(trained):
    from skinlesion import load_model

    files = sorted(str(p) for p in (trained["data"] / "nevus").iterdir())
    result = run_cli("predict", trained["model"], *files, "--format", "json", "--tta", "8")
    assert result.returncode == EXIT_OK, result.stderr
    got = np.array([list(r["probabilities"].values()) for r in json.loads(result.stdout)])
    clf = load_model(trained["model"])
    np.testing.assert_allclose(got, clf.set_params(tta=8).predict_proba(files), atol=1e-5)
    assert not np.allclose(got, clf.set_params(tta=1).predict_proba(files), atol=1e-5)
    bad = run_cli("predict", trained["model"], *files, "--tta", "3")
    assert bad.returncode == EXIT_USAGE and "--tta" in bad.stderr


@pytest.mark.slow
def test_predict_corrupt_image_is_named(trained, tmp_path):
    bad = tmp_path / "truncated.png"
    good = trained["data"] / "nevus" / "nev_0.png"
    bad.write_bytes(good.read_bytes()[:40])
    result = run_cli("predict", trained["model"], good, bad)
    assert_one_line_error(result, EXIT_FAILURE, "truncated.png")
    assert result.stdout == ""


@pytest.mark.slow
def test_evaluate_prints_report_and_writes_files(trained, tmp_path):
    html = tmp_path / "report.html"
    result = run_cli(
        "evaluate", trained["model"], trained["data"], "--positive", "melanoma",
        "--report", html, "--json", "-", "--n-bootstraps", "20", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == EXIT_OK, result.stderr
    # --json -: the figures alone on stdout, the text report on stderr, no file named '-'
    figures = json.loads(result.stdout)
    assert set(figures["per_class"]) == {"keratosis", "melanoma", "nevus"}
    for name in ("melanoma", "nevus", "keratosis"):
        assert name in result.stderr
    assert not (tmp_path / "-").exists()
    page = html.read_text()
    assert page.lstrip().lower().startswith("<!doctype html")
    # the page names what it evaluated: the model file, the data folder and the date
    assert f"<b>Model</b>: {trained['model']} (saved " in page
    assert f"<b>Data</b>: {trained['data']} (class-per-folder layout)" in page
    assert re.search(r"<b>Date</b>: \d{4}-\d\d-\d\d \d\d:\d\d<", page)
    assert "most confident mistakes: Grad-CAM of the wrong class" in page


@pytest.mark.slow
def test_explain_writes_the_maps_over_the_images(trained, tmp_path):
    out = tmp_path / "map.png"
    image = trained["data"] / "melanoma" / "mel_0.png"
    result = run_cli("explain", trained["model"], image, "--target", "melanoma", "--out", out)
    assert result.returncode == EXIT_OK, result.stderr
    assert Image.open(out).format == "PNG"
    result = run_cli("explain", trained["model"], image, "--target", "mole", "--out", out)
    assert_one_line_error(result, EXIT_USAGE, "mole", "melanoma")


@pytest.mark.slow
def test_evaluate_unknown_class_and_positive(trained, tmp_path):
    other = make_folder(tmp_path / "other", n_per_class=2,
                        classes={"melanoma": (60, 30, 20), "lentigo": (90, 60, 40)})  # fmt: skip
    result = run_cli("evaluate", trained["model"], other)
    assert_one_line_error(result, EXIT_FAILURE, "lentigo")
    result = run_cli("evaluate", trained["model"], trained["data"], "--positive", "mole")
    assert_one_line_error(result, EXIT_USAGE, "mole", "melanoma")


def test_card_writes_the_model_card_from_evaluate_and_audit_json(tmp_path, capsys):
    # in-process and a 1-epoch fit, so the one test of the whole chain stays fast
    from skinlesion import LesionClassifier
    from skinlesion.datasets import load_labelled

    data = load_labelled(make_folder(tmp_path / "data", n_per_class=4))
    tiny = LesionClassifier(image_size=16, filters=(4,), dense_units=(), epochs=1, random_state=0)
    clf = tiny.fit(data["images"], data["target"])
    model = clf.save(tmp_path / "model.skl")
    report, findings = tmp_path / "report.json", tmp_path / "audit.json"
    page = tmp_path / "report.html"
    assert main(["evaluate", str(model), str(tmp_path / "data"), "--positive", "melanoma",
                 "--n-bootstraps", "10", "--json", str(report), "--report", str(page),
                 "--saliency", "0", "-q"]) == EXIT_OK  # fmt: skip
    # --saliency 0: a page with its plots but no Grad-CAM maps (8 by default, see above)
    assert "Most confident mistakes" in page.read_text() and "Grad-CAM" not in page.read_text()
    assert main(["audit", str(tmp_path / "data"), "--json", str(findings), "-q"]) == EXIT_OK
    capsys.readouterr()
    argv = ["card", str(model), "--report", str(report), "--intended-use", "Teaching."]
    assert main([*argv, "--audit", str(findings), "--out", "-"]) == EXIT_OK
    text = capsys.readouterr().out
    assert text.startswith("# Model card: LesionClassifier (keratosis, melanoma, nevus)")
    figures = json.loads(report.read_text())
    assert format(figures["positive"]["sensitivity"]["value"], ".3f") in text
    assert "Audit of 12 images" in text and "Teaching." in text
    assert f"| melanoma | {clf.class_counts_['melanoma']} |" in text and "fit time: " in text
    assert main([*argv, "--out", str(tmp_path / "card.html"), "-q"]) == EXIT_OK
    page = (tmp_path / "card.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "No data audit was given" in page
    # a JSON of the wrong kind is named, with the fix
    assert main(["card", str(model), "--report", str(findings), "--out", "-"]) == EXIT_FAILURE
    assert "'evaluate --json'" in capsys.readouterr().err


@pytest.mark.slow
def test_train_from_a_trained_model(trained, tmp_path):
    from skinlesion import load_model
    from skinlesion.network import trunk_layers

    classes = {"melanoma": COLOURS["melanoma"], "nevus": COLOURS["nevus"]}
    data = make_folder(tmp_path / "small", n_per_class=4, classes=classes)
    tuned = tmp_path / "tuned.skl"
    result = run_cli(
        "train", data, "--out", tuned, "--init", trained["model"], "--fine-tune", "head",
        "--image-size", "24", "--epochs", "1", "--validation-fraction", "0",
    )  # fmt: skip
    assert result.returncode == EXIT_OK, result.stderr
    assert "starting from the trunk of" in result.stderr and "(fine-tune: head)" in result.stderr
    base, clf = load_model(trained["model"]), load_model(tuned)
    assert list(clf.classes_) == ["melanoma", "nevus"] and clf.input_shape_ == (24, 24, 3)
    for a, b in zip(trunk_layers(base.model_), trunk_layers(clf.model_), strict=True):
        for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
            np.testing.assert_array_equal(wa, wb)  # frozen: the trunk came through unchanged

    # a warmup is one run for the progress display: every epoch, one closing line
    warm = tmp_path / "warm.skl"
    result = run_cli(
        "train", data, "--out", warm, "--init", trained["model"], "--warmup-epochs", "1",
        "--image-size", "16", "--epochs", "2", "--validation-fraction", "0",
    )  # fmt: skip
    assert result.returncode == EXIT_OK, result.stderr
    assert "epoch 1/2" in result.stderr and "epoch 2/2" in result.stderr
    assert result.stderr.count("trained in") == 1 and "early stopping" not in result.stderr
    rates = load_model(warm).history_["learning_rate"]
    assert rates == pytest.approx([1e-3, 1e-4])


@pytest.mark.slow
def test_verbose_shows_tracebacks_for_library_errors(trained, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"nope")
    result = run_cli("predict", trained["model"], bad, "--verbose")
    assert result.returncode != EXIT_OK
    assert "Traceback" in result.stderr and "bad.png" in result.stderr


# --------------------------------------------------------------------------------------
# the progress line
# --------------------------------------------------------------------------------------
def fake_clock(times):
    ticks = iter(times)
    return lambda: next(ticks)


def test_progress_lines_estimate_the_time_left():
    out = io.StringIO()
    # train_begin, then (epoch_begin, epoch_end) x 3: epochs of 2 s, 4 s and 3 s
    progress = EpochProgress(
        epochs=4, stream=out, live=False, clock=fake_clock([0, 0, 2, 2, 6, 6, 9, 9, 9])
    )
    progress.train_begin(steps=5)
    for epoch in range(3):
        progress.epoch_begin(epoch)
        progress.batch_end(epoch, 0, {"loss": 1.0})  # not live: draws nothing
        progress.epoch_end(epoch, {"loss": 1.0 - epoch / 10, "accuracy": 0.5, "val_loss": 0.9})
    progress.train_end()
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("epoch 1/4 [#####---------------]  loss 1.000  acc 0.500")
    assert lines[0].endswith("2s/epoch  ~6s left")  # 3 epochs to go at 2 s each
    # later estimates leave out the first epoch, which also builds the graph
    assert lines[1].endswith("4s/epoch  ~8s left")  # 2 to go at 4 s
    assert lines[2].endswith("3s/epoch  ~4s left")  # 1 to go at the mean of 4 s and 3 s
    assert "val_loss 0.900" in lines[2]
    assert lines[3] == "trained in 9s (early stopping after 3 of 4 epochs)"


def test_progress_live_redraws_the_line_in_place():
    out = io.StringIO()
    progress = EpochProgress(epochs=2, stream=out, live=True, clock=fake_clock([0, 0, 1, 2, 2]))
    progress.train_begin(steps=4)
    progress.epoch_begin(0)
    progress.batch_end(0, 1, {"loss": 0.5})  # half of the epoch after 1 s
    text = out.getvalue()
    assert text.startswith("\r") and "\n" not in text
    assert "[#####---------------]" in text and "~3s left" in text  # 1 s + one 2 s epoch
    progress.epoch_end(0, {"loss": 0.4})
    assert out.getvalue().endswith("\n")


def test_format_duration():
    assert [format_duration(s) for s in (0, 59.4, 60, 3599, 3600, 7322)] == [
        "0s", "59s", "1m00s", "59m59s", "1h00m", "2h02m",
    ]  # fmt: skip


def test_evaluate_by_reads_metadata_columns_and_names_the_choices():
    from skinlesion.cli._data import CommandError, _subgroups

    ham = {"metadata": {"image_id": ["a", "b"], "age": [30.0, 70.0], "sex": ["male", "female"]},
           "layout": "HAM10000"}  # fmt: skip
    assert _subgroups(["sex", "age", "sex"], ham, Path("ham")) == {
        "sex": ["male", "female"],
        "age": [30.0, 70.0],
    }
    assert _subgroups([], ham, Path("ham")) is None
    with pytest.raises(CommandError, match="'site' is not a metadata column; choose from age, sex"):
        _subgroups(["site"], ham, Path("ham"))
    with pytest.raises(CommandError, match="is a class-per-folder folder; give a HAM10000"):
        _subgroups(["sex"], {"metadata": None, "layout": "class-per-folder"}, Path("x"))


@pytest.mark.slow
def test_evaluate_by_sex_and_age_on_a_ham10000_folder(tmp_path):
    from skinlesion import LesionClassifier
    from skinlesion.datasets import load_ham10000

    data = make_ham10000(tmp_path / "ham", n_lesions=4, per_lesion=3)
    csv_path = data / "HAM10000_metadata.csv"
    lines = csv_path.read_text().splitlines()
    lines[1:] = [  # every other image female, ages 20 to 85
        line.replace(",50.0,male,", f",{20 + 5 * (i % 14)}.0,{('male', 'female')[i % 2]},")
        for i, line in enumerate(lines[1:])
    ]
    csv_path.write_text("\n".join(lines) + "\n")
    bunch = load_ham10000(data, as_paths=True, labels="name")
    model = tmp_path / "m.skl"
    LesionClassifier(image_size=16, filters=(4,), dense_units=(4,), epochs=1,
                     random_state=0).fit(bunch.paths, bunch.target).save(model)  # fmt: skip
    out = tmp_path / "r.json"
    result = run_cli(
        "evaluate", model, data, "--by", "sex", "--by", "age", "--n-bootstraps", "20",
        "--json", out,
    )  # fmt: skip
    assert result.returncode == EXIT_OK, result.stderr
    assert "Subgroups by sex" in result.stdout and "Subgroups by age" in result.stdout
    subgroups = json.loads(out.read_text())["subgroups"]
    assert {g: s["n"]["value"] for g, s in subgroups["sex"]["groups"].items()} == {
        "female": 18,
        "male": 18,
    }
    assert sorted(subgroups["age"]["groups"]) == ["30-44", "45-59", "60-74", "75+", "<30"]


def test_long_predictions_show_progress_and_give_the_same_probabilities(monkeypatch, capsys):
    import argparse

    from skinlesion.cli import _common

    class Counting:
        classes_ = np.array(["a", "b"])
        calls: list[int] = []

        def predict_proba(self, X):
            self.calls.append(len(X))
            x = np.asarray(X, dtype=float)
            return np.column_stack([x / 10, 1 - x / 10])

    monkeypatch.setattr(_common, "PREDICT_CHUNK", 4)
    X = list(range(10))
    clf = Counting()
    shown = _common._predict_proba(clf, X, argparse.Namespace(quiet=False))
    assert clf.calls == [4, 4, 2]
    np.testing.assert_array_equal(shown, clf.predict_proba(X))
    assert "predicted 10 images in" in capsys.readouterr().err
    clf.calls.clear()
    _common._ShowsProgress(clf, argparse.Namespace(quiet=True)).predict_proba(X)
    assert clf.calls == [10]  # --quiet: one call, nothing on stderr
    assert capsys.readouterr().err == ""
