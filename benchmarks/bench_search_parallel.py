"""Speed-up of ``GridSearchCV(n_jobs=2)`` over ``n_jobs=1`` on a CNN + samplers pipeline.

The search tunes CNN and sampler parameters of
``make_pipeline(Rebalancer, Augmenter, LesionClassifier)`` on synthetic lesions
(:func:`skinlesion.datasets.make_lesions`). Three runs of the same search:

- ``n_jobs=1``: one process; TensorFlow sizes its thread pools from the machine;
- ``n_jobs=2``: two joblib (loky) workers; loky sets ``OMP_NUM_THREADS`` to
  cores // 2 in each, which ``LesionClassifier`` passes to TensorFlow's pools;
- ``n_jobs=2, uncapped``: the same, with ``inner_max_num_threads`` = all cores, so
  the two TensorFlows compete for every core (what happens without the cap).

Worker start-up (a Python process importing TensorFlow) is included: it is part
of what a user waits for. The figures are wall-clock seconds and ratios against
``n_jobs=1`` measured in the same run; the scores of the runs are compared too.

Run::

    python benchmarks/bench_search_parallel.py
    python benchmarks/bench_search_parallel.py --n-images 600 --epochs 5
    python benchmarks/bench_search_parallel.py --smoke
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shlex
import sys
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def header() -> None:
    import joblib
    import sklearn

    import skinlesion

    load = "load avg {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    print("=" * 78)
    print(f"date: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M UTC}")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores "
        f"(joblib sees {joblib.cpu_count()}), {load}"
    )
    print(
        f"versions: python {platform.python_version()}, numpy {np.__version__}, "
        f"scikit-learn {sklearn.__version__}, joblib {joblib.__version__}, "
        f"skinlesion {skinlesion.__version__}"
    )
    print(f"command: {' '.join(shlex.quote(a) for a in [sys.executable, *sys.argv])}")
    print("=" * 78, flush=True)


def figure(name: str, value: float | str, unit: str = "") -> None:
    text = f"{value:.4g}" if isinstance(value, float) else str(value)
    print(f"{name}: {text}{(' ' + unit) if unit else ''}", flush=True)


def worker_threads() -> tuple[str | None, int]:
    """In a worker: the thread cap joblib set, and TensorFlow's intra-op pool size."""
    from skinlesion._tf import import_tf

    tf = import_tf()
    return os.environ.get("OMP_NUM_THREADS"), tf.config.threading.get_intra_op_parallelism_threads()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-images", type=int, default=300)
    p.add_argument("--image-size", type=int, default=32)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument(
        "--uncapped-first",
        action="store_true",
        help="run the uncapped search before the capped one (checks order effects)",
    )
    p.add_argument("--smoke", action="store_true", help="tiny run for the test suite")
    args = p.parse_args()
    if args.smoke:
        args.n_images, args.image_size, args.epochs = 60, 16, 1
    header()

    import joblib
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    from skinlesion import Augmenter, LesionClassifier, Rebalancer, make_pipeline
    from skinlesion._tf import import_tf
    from skinlesion.datasets import make_lesions

    X, y = make_lesions(
        n_samples=args.n_images,
        n_classes=3,
        image_size=args.image_size,
        weights=[0.5, 0.3, 0.2],
        random_state=0,
    )
    labels, counts = np.unique(y, return_counts=True)
    classes = {str(c): int(k) for c, k in zip(labels, counts, strict=True)}
    print(f"data: {len(X)} synthetic {args.image_size} px images, classes {classes}")
    pipe = make_pipeline(
        Rebalancer(random_state=0),
        Augmenter(rotate=10, flip=True, zoom=0.2, random_state=0),
        LesionClassifier(
            image_size=args.image_size,
            filters=(16, 32),
            dense_units=(32,),
            epochs=args.epochs,
            early_stopping=False,
            augment=False,
            random_state=0,
        ),
    )
    grid = {
        "lesionclassifier__learning_rate": [1e-3, 3e-3],
        "rebalancer__sampling_strategy": ["auto", int(args.n_images * 0.4)],
    }
    if args.smoke:
        del grid["rebalancer__sampling_strategy"]
    cv = StratifiedKFold(2, shuffle=True, random_state=0)
    n_fits = 2 ** len(grid) * cv.get_n_splits()
    print(f"search: {n_fits} fits ({len(grid)} parameter(s) x 2 values, {cv.get_n_splits()} folds)")

    def search(n_jobs: int) -> tuple[float, np.ndarray]:
        start = time.perf_counter()
        result = GridSearchCV(
            pipe,
            grid,
            scoring="balanced_accuracy",
            cv=cv,
            n_jobs=n_jobs,
            refit=False,
            error_score="raise",
        ).fit(X, y)
        return time.perf_counter() - start, result.cv_results_["mean_test_score"]

    import_tf()  # the in-process run does not pay TensorFlow's import inside the timing
    serial_s, serial_scores = search(1)
    figure("n_jobs=1 time", serial_s, "s")

    def capped() -> tuple[float, np.ndarray]:
        caps = joblib.Parallel(n_jobs=2)(joblib.delayed(worker_threads)() for _ in range(2))
        figure("n_jobs=2 workers' OMP_NUM_THREADS, TensorFlow intra-op threads", str(caps[0]))
        seconds, scores = search(2)
        figure("n_jobs=2 time", seconds, "s")
        return seconds, scores

    def uncapped() -> tuple[float, np.ndarray]:
        with joblib.parallel_config(backend="loky", inner_max_num_threads=os.cpu_count()):
            caps = joblib.Parallel(n_jobs=2)(joblib.delayed(worker_threads)() for _ in range(2))
            figure(
                "n_jobs=2 uncapped workers' OMP_NUM_THREADS, TensorFlow intra-op threads",
                str(caps[0]),
            )
            seconds, scores = search(2)
        figure("n_jobs=2 uncapped time", seconds, "s")
        return seconds, scores

    if args.uncapped_first:
        uncapped_s, uncapped_scores = uncapped()
        parallel_s, parallel_scores = capped()
    else:
        parallel_s, parallel_scores = capped()
        uncapped_s, uncapped_scores = uncapped()

    figure("speed-up n_jobs=2 over n_jobs=1", serial_s / parallel_s, "x")
    figure("speed-up n_jobs=2 uncapped over n_jobs=1", serial_s / uncapped_s, "x")
    figure(
        "max score difference n_jobs=2 vs n_jobs=1",
        float(np.max(np.abs(parallel_scores - serial_scores))),
    )
    figure(
        "max score difference uncapped vs n_jobs=1",
        float(np.max(np.abs(uncapped_scores - serial_scores))),
    )


if __name__ == "__main__":
    main()
