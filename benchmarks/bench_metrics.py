"""Time of ``clinical_report``'s bootstrap against the same figures from scikit-learn calls.

The report recomputes every bootstrapped figure on every resample. Its engine
(``skinlesion.metrics._engine``) does so in blocks of resamples, from draw-count
weights, with NumPy matrix products and cumulative sums, the test set itself
being one more row of unit weights (``tests/metrics/test_engine.py`` checks it
against scikit-learn on the test set and on resamples). The baseline computes
the same figures per resample by calling scikit-learn's functions (``f1_score``,
``roc_auc_score``, ``average_precision_score``, ``balanced_accuracy_score``,
``cohen_kappa_score``, ``log_loss``, ``brier_score_loss``, ``roc_curve``), the
straightforward way.
Figures: seconds per 100 resamples and the ratio baseline / report, measured in
the same run on the same synthetic predictions (no images needed).

Run::

    python benchmarks/bench_metrics.py                       # 7 classes, 1000 images
    python benchmarks/bench_metrics.py --n-classes 9 --n-samples 400
    python benchmarks/bench_metrics.py --smoke               # seconds
"""

from __future__ import annotations

import argparse
import time

import numpy as np

try:
    from benchmarks import _common as common
except ImportError:  # run as a script
    import _common as common  # type: ignore[no-redef]


def predictions(n: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    classes = np.array([f"class {i}" for i in range(k)])
    codes = np.r_[np.arange(k), rng.integers(0, k, size=n - k)]
    logits = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[codes]
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return classes[codes], proba, classes


def sklearn_resample_figures(y, proba, classes) -> None:
    """The report's bootstrapped figures for one resample, with scikit-learn calls."""
    from sklearn import metrics as skm

    pred = classes[proba.argmax(axis=1)]
    for i, c in enumerate(classes):
        is_c = y == c
        skm.f1_score(is_c, pred == c)
        skm.roc_auc_score(is_c, proba[:, i])
        skm.average_precision_score(is_c, proba[:, i])
        skm.roc_curve(is_c, proba[:, i], drop_intermediate=False)  # auc_sens_80
    skm.balanced_accuracy_score(y, pred)
    skm.f1_score(y, pred, average="macro")
    skm.f1_score(y, pred, average="weighted")
    skm.cohen_kappa_score(y, pred)
    skm.log_loss(y, proba, labels=classes)
    skm.brier_score_loss(y, proba, labels=classes)
    is_pos = y == classes[0]
    skm.roc_curve(is_pos, proba[:, 0], drop_intermediate=False)
    skm.roc_auc_score(is_pos, proba[:, 0])
    skm.average_precision_score(is_pos, proba[:, 0])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-samples", type=int, default=1000)
    p.add_argument("--n-classes", type=int, default=7)
    p.add_argument("--n-bootstraps", type=int, default=300)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--smoke", action="store_true", help="tiny run for the test suite")
    args = p.parse_args()
    if args.smoke:
        args.n_samples, args.n_classes, args.n_bootstraps = 120, 3, 20
    common.print_header()
    from skinlesion.metrics import clinical_report
    from skinlesion.metrics.intervals import bootstrap_indices

    y, proba, classes = predictions(args.n_samples, args.n_classes, args.seed)
    print(
        f"predictions: {args.n_samples} images, {args.n_classes} classes, "
        f"{args.n_bootstraps} resamples"
    )
    clinical_report(y[:50], proba[:50], classes=classes, n_bootstraps=2)  # warm up

    start = time.perf_counter()
    clinical_report(
        y,
        proba,
        classes=classes,
        positive=classes[0],
        n_bootstraps=args.n_bootstraps,
        random_state=args.seed,
    )
    ours = time.perf_counter() - start

    start = time.perf_counter()
    codes = np.searchsorted(classes, y)
    for idx in bootstrap_indices(y.size, args.n_bootstraps, strata=codes, random_state=args.seed):
        sklearn_resample_figures(y[idx], proba[idx], classes)
    baseline = time.perf_counter() - start

    per100 = 100.0 / args.n_bootstraps
    common.figure("clinical_report, whole report per 100 resamples", ours * per100, "s")
    common.figure("scikit-learn calls, same figures per 100 resamples", baseline * per100, "s")
    common.figure("speed-up of clinical_report over scikit-learn calls", baseline / ours, "x")


if __name__ == "__main__":
    main()
