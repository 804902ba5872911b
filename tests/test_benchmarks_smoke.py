"""Smoke runs of the benchmark scripts: each runs end to end with ``--smoke``.

The scripts build a tiny synthetic copy of the shared data layouts, so these
tests need no real images. Each starts a Python process that imports TensorFlow
and trains a tiny network, hence ``slow``.
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from ._subprocess import run_python

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = {
    "replica_notebook.py": ["replica test balanced_accuracy:"],
    "bench_isic9.py": [
        "replica train time",
        "replica test recall per class: ",
        "config0 test recall per class: ",
        "config0 balanced accuracy minus replica's:",
    ],
    "bench_ham10000.py": [
        "config0 test macro_roc_auc:",
        "config0 targets met:",
        "config0 test, decision divided by prior^1.0 balanced_accuracy:",
    ],
    "bench_isic2017.py": [
        "config0 melanoma-vs-rest ROC AUC:",
        "config0 seborrheic_keratosis-vs-rest ROC AUC:",
    ],
    "bench_throughput.py": ["fit ratio, array", "predict ratio", "forward FLOPs per image"],
    "bench_memory.py": ["peak RSS during fit:"],
    "bench_gpu.py": [
        "plain 16 px float32 ratio to keras",
        "residual 16 px mixed_bfloat16 / float32",
        "input pipeline share of epoch:",
        "RESULTS.md row:",
    ],
    "bench_metrics.py": ["speed-up of clinical_report over scikit-learn calls:"],
    "bench_clinical.py": [
        "same held-out figures as the pretraining printed: True",
        "20 % referred: sensitivity:",
        "novelty AUROC vs held-out HAM10000, all non-dermoscopic kinds:",
        "Grad-CAM peak in the image's lesion mask:",
    ],
    "bench_colour.py": [
        "chance balanced accuracy:",
        "illuminant chromaticity (3) test balanced_accuracy:",
        "channel means and sds after color_constancy (6) test macro_roc_auc:",
    ],
    "bench_augmenter.py": [
        "Augmenter, array / Augmentor Pipeline.sample:",
        "Augmenter, paths / Augmentor Pipeline.sample:",
    ],
    "bench_audit.py": [
        "isic9 vs ham10000 hash alone finds:",
        "isic9 vs isic2017 hash other matches:",
        "ham10000 vs isic2017 audit time:",
        "isic9 vs ham10000 without_leaks drops:",
    ],
    "bench_search_parallel.py": [
        "speed-up n_jobs=2 over n_jobs=1:",
        "max score difference n_jobs=2 vs n_jobs=1:",
    ],
}


def run_script(name: str, *args: str) -> str:
    proc = run_python(
        ROOT / "benchmarks" / name,
        "--smoke",
        *args,
        env={"TF_CPP_MIN_LOG_LEVEL": "3", "SKINLESION_NUM_THREADS": "1"},
        cwd=ROOT,
        timeout=600,
    )
    assert proc.returncode == 0, f"{name} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_script_smoke_run_prints_its_figures(name: str) -> None:
    out = run_script(name)
    for line in ("machine:", "versions:", "command:", *SCRIPTS[name]):
        assert line in out, f"{name} did not print {line!r}:\n{out}"


@pytest.mark.slow
def test_ensemble_config_scores_the_vote_and_each_member() -> None:
    """``"ensemble": 2`` soft-votes two seeds and prints each member's own scores;
    ``"random_state"`` moves the models' seeds but not the split's."""
    out = run_script(
        "bench_ham10000.py",
        "--config",
        '{"ensemble": 2}',
        "--config",
        '{"ensemble": 2, "random_state": 5}',
    )
    for line in (
        "soft vote of 2 seeds",
        "config0 member 0 (seed 0) test accuracy:",
        "config0 member 1 (seed 1) test accuracy:",
        "config0 test accuracy:",
        "config0 targets met:",
        "random_state=5, soft vote of 2 seeds",
        "config1 member 0 (seed 5) test accuracy:",
        "config1 member 1 (seed 6) test accuracy:",
    ):
        assert line in out, f"the ensemble run did not print {line!r}:\n{out}"


@pytest.mark.slow
def test_ham10000_cross_validation_tests_every_fold_and_summarises(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = run_script("bench_ham10000.py", "--cv", "2")
    for line in (
        "fold 0 of 2",
        "fold 1 of 2",
        "config0 fold1 test accuracy:",
        "config0 2-fold accuracy: mean",
        "config0 2-fold macro_roc_auc: mean",
        "config0 targets met (fold means):",
    ):
        assert line in out, f"the --cv run did not print {line!r}:\n{out}"
    # a subset of the same folds, for a paired comparison in fewer CPU-minutes
    out = run_script("bench_ham10000.py", "--cv", "3", "--folds", "2,0")
    assert "fold 0 of 3" in out and "fold 2 of 3" in out and "fold 1 of 3" not in out
    assert "config0 folds [0, 2] of 3 accuracy: mean" in out
    # compare_folds.py pairs two such logs fold by fold, over the folds both ran
    compare_folds = import_script("compare_folds")
    base, new = tmp_path / "base.log", tmp_path / "new.log"
    base.write_text(out)
    first = compare_folds.read_folds(out, "config0")
    assert set(first["accuracy"]) == {0, 2} and set(first["fit_s"]) == {0, 2}
    higher = re.sub(
        r"^(config0 fold\d+ test accuracy: )(\S+)$",
        lambda m: f"{m[1]}{float(m[2]) + 0.1:.4g}",
        out,
        flags=re.MULTILINE,
    )
    new.write_text(higher)
    assert compare_folds.main([str(base), str(new)]) == 0
    printed = capsys.readouterr().out
    accuracy = next(s for s in printed.splitlines() if s.startswith("accuracy:"))
    assert "paired difference mean +0.1000" in accuracy and "higher on 2 of 2 folds" in accuracy
    auc = next(s for s in printed.splitlines() if s.startswith("macro_roc_auc:"))
    assert "mean +0.0000" in auc and "higher on 0 of 2 folds" in auc
    assert "time ratio new / base 1.00x" in printed
    with pytest.raises(SystemExit):  # no fold in common: a clear error, not an empty table
        compare_folds.main([str(base), str(new), "--new-config", "config9"])
    assert "no fold in common" in capsys.readouterr().err


def import_script(name: str):
    """Import a module of ``benchmarks/`` the way its scripts import each other."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))


def test_common_smoke_data_and_grouped_split(tmp_path: Path) -> None:
    """The smoke layout loads, and the grouped split never puts one group on both sides."""
    common = import_script("_common")
    common.make_smoke_data(tmp_path, per_class=6, size=8)
    paths, labels, groups = common.load_ham10000(tmp_path)
    assert len(paths) == 18 and set(labels) == {"bkl", "mel", "nv"}
    train, test = common.grouped_split(labels, groups, test_size=0.25, seed=0)
    assert len(train) + len(test) == len(paths)
    assert not set(groups[train]) & set(groups[test])
    folds = common.grouped_folds(labels, groups, n_splits=3, seed=0)
    tested = np.concatenate([test for _, test in folds])
    assert sorted(tested) == list(range(len(paths)))  # every image tested exactly once
    train0, test0 = common.grouped_split(labels, groups, test_size=1 / 3, seed=0)
    assert list(folds[0][1]) == list(test0) and list(folds[0][0]) == list(train0)
    paths9, labels9, hashes = common.load_isic9(tmp_path)
    assert len(paths9) == 18 and len(set(labels9)) == 3 and len(hashes) == 18


@pytest.mark.slow
def test_transfer_chooses_on_validation_then_scores_fine_tuned_against_scratch() -> None:
    """``finetune`` pretrains (smoke), chooses among the recipes on a validation
    split, then scores the chosen recipe and the from-scratch one seed by seed."""
    out = run_script("bench_transfer.py", "finetune", "--target", "melanoma", "--seeds", "2")
    for recipe in import_script("bench_transfer").RECIPES:
        assert f"choose [{recipe}] validation melanoma AUC:" in out
    chosen = re.search(r"chosen on validation: '([^']+)'", out)
    assert chosen is not None, out
    for seed in (0, 1):
        assert f"fine-tuned seed {seed} test: LesionClassifier(" in out
        assert f"scratch seed {seed} test specificity at 86.6% melanoma sensitivity:" in out
    assert "init='ham10000-default64-" in out
    assert "melanoma default64 fine-tuned minus scratch melanoma AUC: mean" in out
    assert "pretraining time (paid once, apart):" in out


def test_transfer_pretraining_leaves_out_target_test_images_and_their_lesions(
    tmp_path: Path,
) -> None:
    """A HAM10000 image that is an isic9 test image leaves pretraining with every
    other image of its lesion; ISIC 2017 ids leave too."""
    common = import_script("_common")
    bench = import_script("bench_transfer")
    common.make_smoke_data(tmp_path, per_class=6, size=8)
    paths9, labels9, hashes = common.load_isic9(tmp_path)
    _, test = common.grouped_split(labels9, hashes, test_size=0.2, seed=0)
    shared = Path(paths9[test[0]]).stem
    ham = tmp_path / "ham10000"
    table = (ham / "HAM10000_metadata.csv").read_text().splitlines()
    # the first HAM10000 image becomes that isic9 test image; its lesion has two images
    old = table[1].split(",")[1]
    (ham / "images" / f"{old}.jpg").rename(ham / "images" / f"{shared}.jpg")
    table[1] = table[1].replace(old, shared)
    (ham / "HAM10000_metadata.csv").write_text("\n".join(table) + "\n")
    paths, labels, groups, dropped = bench.pretraining_set(tmp_path, seed=0)
    stems = {Path(p).stem for p in paths}
    assert shared not in stems
    assert dropped["isic9 test split images"] == 1
    assert dropped["isic9 test split same-lesion images"] == 1
    assert len(paths) == 18 - 2 and len(labels) == len(groups) == len(paths)
    assert not stems & bench.target_test_ids(tmp_path, seed=0)["isic2017"]


def test_without_conflicts_drops_only_copies_filed_under_two_classes() -> None:
    common = import_script("_common")
    labels = np.array(["mel", "sk", "mel", "nv", "nv", "ak", "nv"], dtype=object)
    groups = np.array(["a", "a", "b", "c", "c", "d", "d"], dtype=object)
    # group a: one file under mel and sk (a conflict); c: two copies under nv (kept);
    # d: a conflict, but only when row 6 is in the part being filtered
    assert list(common.without_conflicts(np.arange(7), labels, groups)) == [2, 3, 4]
    assert list(common.without_conflicts(np.arange(6), labels, groups)) == [2, 3, 4, 5]
    assert common.without_conflicts(np.array([0, 1]), labels, groups).dtype == np.intp


def test_flops_per_image_counts_each_convolution_and_dense_layer() -> None:
    """A one-block network small enough to count by hand."""
    from skinlesion.network import build_cnn

    flops = import_script("bench_throughput").flops_per_image
    model = build_cnn((8, 8, 3), 2, filters=(4,), dense_units=(5,), augment=False)
    conv = 2 * 8 * 8 * 3 * 3 * 3 * 4  # output pixels x kernel x channels in x out
    dense = 2 * 4 * 5 + 2 * 5 * 2  # pooled features -> 5 units -> 2 classes
    assert flops(model) == conv + dense


def test_flops_per_image_counts_depthwise_separable_and_nested_layers() -> None:
    """Layers of the Keras applications, counted by hand, and a trunk nested in the network."""
    import keras

    flops = import_script("bench_throughput").flops_per_image
    inputs = keras.Input((8, 8, 4))
    x = keras.layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2)(inputs)  # 8 out
    x = keras.layers.SeparableConv2D(5, 3, padding="same")(x)
    x = keras.layers.Conv2D(6, 1, groups=2)(keras.layers.Conv2D(4, 1)(x))
    x = keras.layers.Dense(3)(x)  # on a feature map: once per position
    model = keras.Model(inputs, x)
    depthwise = 2 * 64 * 9 * 8
    separable = 2 * 64 * (9 * 8 + 8 * 5)
    pointwise = 2 * 64 * 5 * 4 + 2 * 64 * 2 * 6  # the grouped conv sees 2 channels a filter
    dense = 2 * 64 * 6 * 3
    assert flops(model) == depthwise + separable + pointwise + dense

    from skinlesion.network import build_cnn, trunk_layers

    net = build_cnn((32, 32, 3), 2, backbone="MobileNetV3Small", dense_units=(), dropout=0.0)
    (trunk,) = trunk_layers(net)
    assert flops(net) == flops(trunk) + 2 * 576 * 2 > 2 * 576 * 2


@pytest.mark.parametrize(
    ("size", "filters", "convs_per_block", "mflop"),
    [
        (64, (32, 64, 128, 256), 1, 120.4),
        (64, (32, 64, 128, 256), (1, 1, 2, 2), 271.4),
        (64, (32, 64, 128, 256), 2, 422.4),
        (96, (16, 32, 64, 128, 256), (1, 1, 1, 2, 2), 177.9),
    ],
)
def test_flops_quoted_in_the_docs_follow_the_network(
    size: int, filters: tuple[int, ...], convs_per_block, mflop: float
) -> None:
    """RESULTS.md, the training guide and the CHANGELOG quote these forward FLOPs."""
    from skinlesion.network import build_cnn

    flops = import_script("bench_throughput").flops_per_image
    model = build_cnn((size, size, 3), 9, filters=filters, convs_per_block=convs_per_block)
    assert flops(model) / 1e6 == pytest.approx(mflop, abs=0.05)
