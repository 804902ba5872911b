"""Shared helpers of the benchmark scripts.

Every script prints a header (date, machine, versions, command), reads its images
from the shared data folder (``../shared/data`` beside the checkout, or
``--data-root``), splits them without leaks, and prints its figures as
``name: value`` lines that ``benchmarks/RESULTS.md`` quotes.

``--smoke`` runs any script on a tiny synthetic copy of the data layout (built by
:func:`make_smoke_data`) so that the test suite checks the scripts still run.
"""

from __future__ import annotations

import argparse
import atexit
import datetime as dt
import hashlib
import importlib.metadata
import os
import platform
import resource
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = Path(os.environ.get("SKINLESION_SHARED_DATA", ROOT.parent / "shared" / "data"))


# ----------------------------------------------------------------- command line
def parser(description: str) -> argparse.ArgumentParser:
    """An argument parser with the options every benchmark shares."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument(
        "--data-root",
        type=Path,
        default=DEFAULT_DATA,
        help="folder holding isic9/, ham10000/, isic2017/ (default ../shared/data)",
    )
    p.add_argument(
        "--smoke",
        action="store_true",
        help="tiny run on synthetic images in the same layout (for the test suite)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the split and the models")
    return p


def setup(args: argparse.Namespace) -> Path:
    """Print the header and return the data root (a synthetic one with ``--smoke``)."""
    print_header()
    if args.smoke:
        root = Path(tempfile.mkdtemp(prefix="skinlesion-bench-smoke-"))
        atexit.register(shutil.rmtree, root, ignore_errors=True)
        make_smoke_data(root)
        print(f"data: synthetic smoke data under {root}")
        return root
    if not args.data_root.is_dir():
        sys.exit(f"data folder {args.data_root} not found: pass --data-root or use --smoke")
    print(f"data: {args.data_root}")
    return args.data_root


def print_header() -> None:
    """Date, machine, versions and the exact command, so a figure can be traced.

    The versions are read from the installed distributions' metadata: nothing is
    imported for them, so ``--help`` and smoke runs do not wait for TensorFlow.
    """
    import skinlesion

    versions = [
        f"python {platform.python_version()}",
        *(
            f"{name} {_installed(name)}"
            for name in ("tensorflow", "keras", "numpy", "scikit-learn")
        ),
        f"skinlesion {skinlesion.__version__}",
    ]
    print("=" * 78)
    print(f"date: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M UTC}")
    print(f"machine: {machine()}")
    print(f"versions: {', '.join(versions)}")
    print(f"command: {' '.join(shlex.quote(a) for a in [sys.executable, *sys.argv])}")
    print("=" * 78, flush=True)


def _installed(distribution: str) -> str:
    """The installed version of ``distribution``, from its metadata (no import)."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def machine() -> str:
    """CPU model, core count, memory and current load, in one line."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:  # pragma: no cover
        pass
    mem = ""
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        mem = f", {pages / 2**30:.0f} GiB RAM"
    except (ValueError, OSError):  # pragma: no cover
        pass
    load = ""
    if hasattr(os, "getloadavg"):
        load = ", load avg {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    return f"{model}, {os.cpu_count()} cores{mem}{load}, {platform.system()}"


def figure(name: str, value: float | str, unit: str = "") -> None:
    """Print one measured figure as ``name: value unit``."""
    text = f"{value:.4g}" if isinstance(value, float) else str(value)
    print(f"{name}: {text}{(' ' + unit) if unit else ''}", flush=True)


@contextmanager
def timed(label: str) -> Iterator[dict[str, float]]:
    """Time a block (wall clock); the elapsed seconds land in the yielded dict."""
    out: dict[str, float] = {}
    start = time.perf_counter()
    yield out
    out["seconds"] = time.perf_counter() - start
    figure(f"{label} time", out["seconds"], "s")


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / 2**20


# ------------------------------------------------------------------------ data
# The loaders below are skinlesion.datasets' own, returning arrays in the form
# the scripts take (object arrays of str). A folder the loader cannot read ends
# the script with the loader's message instead of a traceback.
@contextmanager
def _loading(folder: Path) -> Iterator[None]:
    try:
        yield
    except (OSError, ValueError) as err:
        sys.exit(f"cannot load {folder}: {err}")


def _objects(values) -> np.ndarray:
    return np.asarray(values, dtype=object)


def class_folders(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """Paths and labels of a folder with one sub-folder per class."""
    from skinlesion.datasets import load_image_folder

    with _loading(folder):
        data = load_image_folder(folder, as_paths=True)
    return _objects(data.paths), _objects(data.target)


def file_hashes(paths: Sequence[str]) -> np.ndarray:
    """MD5 of each file's bytes: identical files get the same group, so they never
    end up on both sides of a split (the shared isic9 copy holds 141 groups of
    byte-identical files: 137 image ids in two class folders, 2 ``(1)`` copies and 2
    pairs of different ids)."""
    return np.array([hashlib.md5(Path(p).read_bytes()).hexdigest() for p in paths], dtype=object)


def load_isic9(root: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``isic9/Train``: paths, labels, and groups (file content hashes)."""
    paths, labels = class_folders(root / "isic9" / "Train")
    return paths, labels, file_hashes(paths)


def load_ham10000(root: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """HAM10000: paths, diagnosis codes (``dx``) as labels, and lesion ids (the groups).

    In the metadata's order; images listed there without a file (a partial copy)
    are left out, with the loader's warning.
    """
    from skinlesion.datasets import load_ham10000 as load

    folder = root / "ham10000"
    with _loading(folder):
        data = load(folder, as_paths=True)
    return _objects(data.paths), _objects(data.target), _objects(data.groups)


def load_isic2017(root: Path, part: str) -> tuple[np.ndarray, np.ndarray]:
    """ISIC 2017 part 3 ``train`` or ``val``: paths and labels (the class folders' names).

    Read as class folders, not with ``skinlesion.datasets.load_isic2017``, which
    writes "seborrheic_keratosis" as "seborrheic keratosis": the figures that
    ``bench_isic2017.py`` and ``bench_transfer.py`` print keep their names.
    """
    return class_folders(root / "isic2017" / part)


def grouped_split(
    y: np.ndarray, groups: np.ndarray, *, test_size: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A stratified split that keeps every group (lesion, identical file) on one side.

    Fold 0 of :func:`grouped_folds`, so ``test_size`` is rounded to ``1 / n_splits``.
    """
    return grouped_folds(y, groups, n_splits=max(2, round(1 / test_size)), seed=seed)[0]


def grouped_folds(
    y: np.ndarray, groups: np.ndarray, *, n_splits: int = 5, seed: int = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """All folds of a stratified group K-fold: every image is tested exactly once.

    Fold 0 is the split :func:`grouped_split` gives for ``test_size=1 / n_splits``.
    """
    from sklearn.model_selection import StratifiedGroupKFold

    cv = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    folds = list(cv.split(np.zeros(len(y)), y, groups))
    for train, test in folds:
        assert not set(groups[train]) & set(groups[test])
    return folds


def print_cv_summary(
    name: str,
    results: list[dict],
    keys: Sequence[str] = ("accuracy", "balanced_accuracy", "macro_roc_auc", "fit_s"),
    *,
    label: str | None = None,
) -> dict[str, float]:
    """Per-fold values, then mean and standard deviation of each key over the folds.

    ``label`` names the folds in each line (default ``"<n>-fold"``).
    """
    means = {}
    for key in keys:
        values = np.array([r[key] for r in results if key in r], dtype=float)
        if not len(values):
            continue
        means[key] = float(values.mean())
        folds = " ".join(f"{v:.4f}" for v in values)
        figure(
            f"{name} {label or f'{len(values)}-fold'} {key}",
            f"mean {values.mean():.4f}, sd {values.std(ddof=1) if len(values) > 1 else 0:.4f}, "
            f"min {values.min():.4f}, max {values.max():.4f} (folds: {folds})",
        )
    return means


def without_conflicts(rows: np.ndarray, labels: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """``rows`` less those whose group (file content) is filed under two classes in ``rows``.

    The byte-identical part of what ``skinlesion.datasets.audit`` reports as
    conflicts (audit also matches near-identical images by a perceptual hash),
    computed from the content hashes the split already uses, without reading the
    files again; on the isic9 split both find the same 110 groups (220 images).
    Copies filed under one class stay.
    """
    classes: dict = {}
    for r in rows:
        classes.setdefault(groups[r], set()).add(labels[r])
    return np.array([r for r in rows if len(classes[groups[r]]) == 1], dtype=np.intp)


def class_counts(y: np.ndarray) -> str:
    names, counts = np.unique(y, return_counts=True)
    return ", ".join(f"{n} {c}" for n, c in zip(names, counts, strict=True))


# --------------------------------------------------------------------- metrics
def scores(
    y_true: np.ndarray, proba: np.ndarray, classes: np.ndarray, *, auc: bool = True
) -> dict[str, float]:
    """Accuracy, balanced accuracy and (unless ``auc=False``) macro one-vs-rest ROC AUC."""
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, roc_auc_score

    y_pred = classes[np.argmax(proba, axis=1)]
    out = {
        "accuracy": accuracy_score(y_true, y_pred),
        "balanced_accuracy": balanced_accuracy_score(y_true, y_pred),
    }
    present = [i for i, c in enumerate(classes) if 0 < np.sum(y_true == c) < len(y_true)]
    if auc and len(present) >= 2:
        aucs = [roc_auc_score(y_true == classes[i], proba[:, i]) for i in present]
        out["macro_roc_auc"] = float(np.mean(aucs))
    return out


def print_scores(prefix: str, values: dict[str, float]) -> None:
    for key, value in values.items():
        figure(f"{prefix} {key}", float(value))


def print_recalls(prefix: str, y_true: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> None:
    """Print each class's recall (sensitivity) at argmax: where balanced accuracy is lost.

    Predictions are the argmax over all ``classes``; a class with no image in
    ``y_true`` has no recall and is left out of the line.
    """
    from sklearn.metrics import recall_score

    y_pred = classes[np.argmax(proba, axis=1)]
    present = classes[np.isin(classes, y_true)]
    recalls = recall_score(y_true, y_pred, labels=present, average=None)
    text = ", ".join(f"{c} {r:.3f}" for c, r in zip(present, recalls, strict=True))
    print(f"{prefix} recall per class: {text}", flush=True)


# ---------------------------------------------------------------- smoke data
def make_smoke_data(root: Path, per_class: int = 6, size: int = 24) -> Path:
    """Write a tiny synthetic copy of the three data layouts under ``root``."""
    from PIL import Image

    from skinlesion.datasets import make_lesions

    root = Path(root)
    rng = np.random.default_rng(0)

    def write(folder: Path, name: str, image: np.ndarray) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(folder / f"{name}.jpg", quality=90)

    X, _ = make_lesions(n_samples=per_class * 9, image_size=size, random_state=0)
    for c in range(3):
        for i in range(per_class):
            write(root / "isic9" / "Train" / f"class {c}", f"ISIC_{c}{i:04d}", X[c * per_class + i])
    ham = root / "ham10000"
    lines = ["lesion_id,image_id,dx,dx_type,age,sex,localization"]
    for c, dx in enumerate(["bkl", "mel", "nv"]):
        for i in range(per_class):
            image_id = f"ISIC_9{c}{i:04d}"
            write(ham / "images", image_id, X[(c * per_class + i) % len(X)])
            lines.append(f"HAM_{c}{i // 2:03d},{image_id},{dx},histo,50.0,male,back")
    (ham / "HAM10000_metadata.csv").write_text("\n".join(lines) + "\n")
    for part in ("train", "val"):
        for c, name in enumerate(["melanoma", "nevus", "seborrheic_keratosis"]):
            for i in range(per_class):
                image = X[(c * per_class + i) % len(X)]
                noisy = np.clip(image + rng.integers(-5, 6, image.shape), 0, 255).astype(np.uint8)
                write(root / "isic2017" / part / name, f"ISIC_{part}{c}{i:04d}", noisy)
    return root


# ------------------------------------------------------------- classifiers
def parse_configs(texts: Sequence[str] | None, default: dict | None = None) -> list[dict]:
    """``--config`` JSON strings (LesionClassifier parameters) as dicts.

    Tuples given as JSON lists (``"filters": [32, 64]``) become tuples.
    """
    import json

    if not texts:
        return [dict(default or {})]
    configs = []
    for text in texts:
        config = json.loads(text)
        for key in ("filters", "dense_units", "image_size", "convs_per_block"):
            if isinstance(config.get(key), list):
                config[key] = tuple(config[key])
        configs.append(config)
    return configs


def describe(config: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in config.items()) or "defaults"


def fit_and_score(
    name: str,
    config: dict,
    X_train,
    y_train,
    X_test,
    y_test,
    *,
    seed: int,
    smoke: bool = False,
    per_epoch: bool = True,
    groups: np.ndarray | None = None,
) -> dict:
    """Fit ``LesionClassifier(**config)``, print its time and test scores, return them.

    ``config`` may hold ``"pipeline": true`` to put a ``Rebalancer`` (every class
    over-sampled to the largest one's size) before the classifier, whose own
    on-the-fly augmentation then perturbs the repeated images; ``"tta"`` (the
    classifier's own parameter) averages the final predictions over that many
    flipped views, while the per-epoch scores stay single-view;
    ``"lr_plateau": true`` to add ``keras.callbacks.ReduceLROnPlateau`` (halve the
    learning rate after 2 epochs without a better validation loss; the classifier
    now does this itself by default, ``lr_schedule="plateau"``). ``groups`` (one
    per training image) keeps each group on one side of the classifier's
    early-stopping validation split. ``"ensemble": k`` fits ``k`` copies of that
    estimator with seeds ``seed, seed + 1, ...`` in a scikit-learn
    :class:`~sklearn.ensemble.VotingClassifier` (``voting="soft"``: the mean of
    their probabilities) and also prints each member's own test scores, so the
    first member is the single model of the same run, a paired comparison.
    ``"random_state": s`` seeds the model (and the ``Rebalancer``) with ``s``
    instead of ``seed``, which still draws the split: another draw of the same
    model on the same test images.
    """
    import sklearn

    from skinlesion import LesionClassifier

    config = dict(config)
    use_pipeline = bool(config.pop("pipeline", False))
    plateau = bool(config.pop("lr_plateau", False))
    n_members = int(config.pop("ensemble", 1))
    model_seed = int(config.pop("random_state", seed))
    if smoke:
        config.update(epochs=1, image_size=16, filters=(4, 8))

    def make(member_seed: int):
        clf = LesionClassifier(random_state=member_seed, **{"verbose": 0 if smoke else 1, **config})
        if not use_pipeline:
            return clf
        from skinlesion import Rebalancer, make_pipeline

        return make_pipeline(Rebalancer(random_state=member_seed), clf)

    estimator = make(model_seed)
    if n_members > 1:
        from sklearn.ensemble import VotingClassifier

        estimator = VotingClassifier(
            [(f"member{j}", make(model_seed + j)) for j in range(n_members)], voting="soft"
        )
    print(
        f"{name}: LesionClassifier({describe(config)})"
        f"{f', random_state={model_seed}' if model_seed != seed else ''}"
        f"{', ReduceLROnPlateau' if plateau else ''}"
        f"{' after Rebalancer()' if use_pipeline else ''}"
        f"{f', soft vote of {n_members} seeds' if n_members > 1 else ''}",
        flush=True,
    )
    if n_members > 1:
        print(f"{name}: the members get no callbacks (no per-epoch test scores)", flush=True)
        plateau, per_epoch = False, False
    # scikit-learn's metadata routing hands the groups on to every member of a vote
    route_groups = n_members > 1 and groups is not None and not use_pipeline
    callbacks: list = []
    if plateau:  # halve the learning rate when the validation loss stalls for 2 epochs
        import keras

        callbacks.append(keras.callbacks.ReduceLROnPlateau(factor=0.5, patience=2))
    callback = None
    if per_epoch and not isinstance(X_test[0], str):
        callback = test_score_callback(name, X_test, y_test, np.unique(y_train))
        callbacks.append(callback)
    fit_params: dict = {}
    if callbacks:
        key = f"{estimator.steps[-1][0]}__callbacks" if use_pipeline else "callbacks"
        fit_params[key] = callbacks
    if groups is not None and use_pipeline:
        # the Rebalancer resamples the images but not the groups, so they would no
        # longer line up: the validation split is then by image
        print(f"{name}: groups not passed through the pipeline (validation split by image)")
    elif groups is not None:
        fit_params["groups"] = groups
    with sklearn.config_context(enable_metadata_routing=route_groups):
        if route_groups:
            for _, member in estimator.estimators:
                member.set_fit_request(groups=True, callbacks=False)
        start = time.perf_counter()
        estimator.fit(X_train, y_train, **fit_params)
    fit_s = time.perf_counter() - start
    if callback is not None:  # leave out the time spent reporting per-epoch test scores
        fit_s -= callback.own
    members = estimator.estimators_ if n_members > 1 else [estimator]
    model = members[0][-1] if use_pipeline else members[0]
    start = time.perf_counter()
    proba = estimator.predict_proba(X_test)
    predict_s = time.perf_counter() - start
    classes = estimator.classes_
    values = scores(y_test, proba, classes)
    figure(f"{name} fit time", fit_s, "s")
    figure(f"{name} epochs run / best", f"{model.n_epochs_} / {model.best_epoch_}")
    figure(f"{name} predict time", predict_s, "s")
    if n_members > 1:
        for j, member in enumerate(members):
            print_scores(
                f"{name} member {j} (seed {model_seed + j}) test",
                scores(y_test, member.predict_proba(X_test), classes),
            )
    print_scores(f"{name} test", values)
    print_recalls(f"{name} test", y_test, proba, classes)
    # the same probabilities with the training class frequencies divided out
    # (power 1), or part of them: decision rules that trade accuracy for balanced
    # accuracy (the AUC above is from the unadjusted probabilities); only for a
    # model trained on the class frequencies as they are: class weights or a
    # Rebalancer already train it towards equal priors
    if model.class_weight is None and not use_pipeline:
        prior = np.array([np.mean(np.asarray(y_train) == c) for c in classes])
        for power in (0.25, 0.5, 0.75, 1.0):
            adjusted = proba / np.maximum(prior, 1e-12) ** power
            adjusted /= adjusted.sum(axis=1, keepdims=True)
            prior_values = scores(y_test, adjusted, classes, auc=False)
            print_scores(f"{name} test, decision divided by prior^{power}", prior_values)
    return {"fit_s": fit_s, "proba": proba, "classes": classes, **values}


def test_score_callback(name: str, X_test, y_test, classes, *, logits: bool = False):
    """A Keras callback printing the held-out scores after every epoch.

    It only reports (nothing is selected on the test images), so a run stopped
    early still leaves its figures in the log. ``train s`` excludes the time the
    callback itself spends predicting.
    """
    import keras

    class TestScores(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.start = time.perf_counter()
            self.own = 0.0

        def on_epoch_end(self, epoch, logs=None):
            t = time.perf_counter()
            out = self.model.predict(X_test, batch_size=64, verbose=0)
            if logits:
                out = np.exp(out - out.max(axis=1, keepdims=True))
            proba = out / out.sum(axis=1, keepdims=True)
            values = scores(y_test, proba.astype(np.float64), np.asarray(classes))
            self.own += time.perf_counter() - t
            train_s = time.perf_counter() - self.start - self.own
            text = ", ".join(f"{k} {v:.4f}" for k, v in values.items())
            print(f"{name} epoch {epoch + 1}: train {train_s:.0f} s, test {text}", flush=True)

    return TestScores()
