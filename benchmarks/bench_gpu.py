"""GPU training throughput: networks, image sizes, float32 against mixed precision.

One command on a machine with a GPU::

    python benchmarks/bench_gpu.py

For each network (the default plain CNN and ``block="residual"``), image size
(64, 128, 224 px) and precision (float32 and ``--mixed``, default
``mixed_float16``) it trains on random uint8 images held in memory (pixels do
not change the speed, so no data set is needed) and prints:

* images/s of ``LesionClassifier.fit`` and of a plain ``keras.Model.fit`` of the
  same network (``build_cnn``) on the same array, both at steady state (the
  fastest epoch after the first, which carries the tracing), and their ratio
  (target >= 0.9);
* mixed precision against float32 (target >= 1.5 at 224 px);
* forward FLOPs per image, the training rate (3x forward) and its share of the
  GPU's measured matmul peak in that precision;
* the input pipeline's share of the epoch: one epoch of the classifier's
  ``tf.data`` pipeline alone, without the network, over one training epoch (an
  upper bound: prefetching overlaps the two);
* GPU busy time during the classifier's epochs (``nvidia-smi`` utilisation,
  sampled every 100 ms), when ``nvidia-smi`` is there.

The last line is a row for ``benchmarks/RESULTS.md``. Without a visible GPU it
stops with a message; ``--cpu`` runs the same measurements on the CPU (at 64 px
unless ``--sizes`` says otherwise) and ``--cpu-smoke`` (or ``--smoke``) a tiny
run that the test suite uses.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time

import numpy as np

try:
    from benchmarks import _common as common
    from benchmarks.bench_throughput import epoch_timer
except ImportError:  # run as a script
    import _common as common  # type: ignore[no-redef]
    from bench_throughput import epoch_timer  # type: ignore[no-redef]

N_CLASSES = 7


class GpuBusy:
    """Samples ``nvidia-smi`` GPU utilisation (percent of time a kernel ran)."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._proc: subprocess.Popen | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> GpuBusy:
        if shutil.which("nvidia-smi"):
            self._proc = subprocess.Popen(
                ["nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits",
                 "-lms", "100"],
                stdout=subprocess.PIPE, text=True,
            )  # fmt: skip
            self._thread = threading.Thread(target=self._read, daemon=True)
            self._thread.start()
        return self

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            first = line.split(",")[0].strip()
            if first.replace(".", "").isdigit():
                self.samples.append(float(first))

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(timeout=10)

    @property
    def mean(self) -> float | None:
        return float(np.mean(self.samples)) if self.samples else None


def matmul_tflops(precision: str, n: int) -> float:
    """Measured n x n matmul rate in the precision's compute dtype, TFLOP/s."""
    import tensorflow as tf

    dtype = {"float32": tf.float32, "mixed_float16": tf.float16, "mixed_bfloat16": tf.bfloat16}
    a = tf.cast(tf.random.normal((n, n)), dtype[precision])
    tf.matmul(a, a).numpy()
    best = np.inf
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(10):
            out = tf.matmul(a, a)
        out.numpy()
        best = min(best, time.perf_counter() - start)
    return 10 * 2 * n**3 / best / 1e12


def steady(seconds: list[float], n: int) -> float:
    """Images/s of the fastest epoch after the first."""
    return n / min(seconds[1:])


def plain_fit(X, y, network: dict, precision: str, epochs: int, batch: int) -> list[float]:
    import keras

    from skinlesion import build_cnn
    from skinlesion.model._hardware import dtype_policy

    with dtype_policy(precision):
        model = build_cnn(X.shape[1:], N_CLASSES, seed=0, **network)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
        metrics=["accuracy"], jit_compile=False,
    )  # fmt: skip
    timer = epoch_timer()
    model.fit(X, y, batch_size=batch, epochs=epochs, shuffle=True, verbose=0, callbacks=[timer])
    return timer.seconds


def ours_fit(X, y, network: dict, precision: str, epochs: int, batch: int):
    from skinlesion import LesionClassifier

    clf = LesionClassifier(
        image_size=X.shape[1], epochs=epochs, batch_size=batch, validation_fraction=0.0,
        early_stopping=False, lr_schedule=None, precision=precision, random_state=None,
        **network,
    )  # fmt: skip
    timer = epoch_timer()
    with GpuBusy() as busy:
        clf.fit(X, y, callbacks=[timer])
    return timer.seconds, clf, busy.mean


def pipeline_epoch(X, y, batch: int) -> float:
    """Seconds to run one epoch of the classifier's training pipeline alone."""
    from skinlesion.model._tfdata import make_dataset

    ds = make_dataset(X, y, size=X.shape[1:3], batch_size=batch, shuffle=True, seed=0)
    for _ in ds:  # a first pass builds the pipeline
        pass
    start = time.perf_counter()
    for _ in ds:
        pass
    return time.perf_counter() - start


def main() -> None:
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=None, help="default 64 128 224")
    p.add_argument("--blocks", nargs="+", default=["plain", "residual"])
    p.add_argument("--mixed", default="mixed_float16", help="or mixed_bfloat16, or none")
    p.add_argument("--n-images", type=int, default=2048)
    p.add_argument("--epochs", type=int, default=3, help="at least 2; the first traces")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--cpu", action="store_true", help="measure on the CPU instead")
    p.add_argument("--cpu-smoke", action="store_true", help="tiny CPU run (the test suite's)")
    args = p.parse_args()
    smoke = args.cpu_smoke or args.smoke
    common.print_header()
    from skinlesion._tf import import_tf

    tf = import_tf()
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus and not (args.cpu or smoke):
        sys.exit(
            "bench_gpu: TensorFlow sees no GPU (tf.config.list_physical_devices('GPU') is "
            "empty). Install the CUDA build, pip install 'tensorflow[and-cuda]', on a machine "
            "with an NVIDIA driver and check that nvidia-smi lists the GPU; or run with --cpu "
            "(CPU figures) or --cpu-smoke (a quick check that the script runs)."
        )
    if gpus and not (args.cpu or smoke):
        details = tf.config.experimental.get_device_details(gpus[0])
        device = f"{len(gpus)} GPU(s), {details.get('device_name', 'unknown')}"
        sizes = args.sizes or [64, 128, 224]
        context = tf.device("/gpu:0")
    else:
        device = f"CPU ({common.machine()})"
        sizes = args.sizes or [64]
        context = tf.device("/cpu:0")
    network = {"augment": False}
    n, epochs, batch = args.n_images, args.epochs, args.batch_size
    precisions = ["float32"] if args.mixed == "none" else ["float32", args.mixed]
    if smoke:
        sizes, n, epochs, batch = [16], 32, 2, 16
        network["filters"] = (4, 8)
        precisions = ["float32", "mixed_bfloat16"]
    if epochs < 2:
        p.error("--epochs must be at least 2: the steady-state rate leaves out the first epoch")
    common.figure("device", device)
    print(f"work: {n} random images, {epochs} epochs, batch {batch}, augmentation off")
    rng = np.random.default_rng(args.seed)
    from skinlesion.network import flops_per_image

    rates: dict[tuple[str, int, str], float] = {}
    with context:
        side = 256 if smoke else 8192 if gpus and not args.cpu else 1024
        peaks = {prec: matmul_tflops(prec, side) for prec in precisions}
        for prec in precisions:
            common.figure(f"{prec} matmul peak, measured", peaks[prec], "TFLOP/s")
        for size in sizes:
            X = rng.integers(0, 256, size=(n, size, size, 3), dtype=np.uint8)
            y = (np.arange(n) % N_CLASSES).astype(np.int32)
            pipeline_s = pipeline_epoch(X, y, batch)
            for block in args.blocks:
                net = {**network, "block": block}
                for prec in precisions:
                    name = f"{block} {size} px {prec}"
                    ours_s, clf, busy = ours_fit(X, y, net, prec, epochs, batch)
                    plain_s = plain_fit(X, y, net, prec, epochs, batch)
                    ours, plain = steady(ours_s, n), steady(plain_s, n)
                    rates[block, size, prec] = ours
                    flops = flops_per_image(clf.model_)
                    tflops = 3 * flops * ours / 1e12
                    common.figure(f"{name} LesionClassifier.fit", ours, "images/s")
                    common.figure(f"{name} keras Model.fit", plain, "images/s")
                    common.figure(f"{name} ratio to keras (target >= 0.9)", ours / plain)
                    common.figure(f"{name} forward FLOPs per image", f"{flops / 1e6:.1f} MFLOP")
                    common.figure(f"{name} training rate", tflops, "TFLOP/s")
                    common.figure(f"{name} share of matmul peak", tflops / peaks[prec])
                    common.figure(
                        f"{name} input pipeline share of epoch", pipeline_s / min(ours_s[1:])
                    )
                    common.figure(f"{name} GPU busy", "n/a" if busy is None else f"{busy:.0f} %")
                if prec != "float32":
                    common.figure(
                        f"{block} {size} px {prec} / float32 (target >= 1.5 at 224 px)",
                        rates[block, size, prec] / rates[block, size, "float32"],
                    )
    row = " | ".join(
        f"{b} {s}px {p.replace('mixed_', '')} {r:.0f}/s" for (b, s, p), r in rates.items()
    )
    print(f"RESULTS.md row: | {time.strftime('%Y-%m-%d')} | {device} | {row} |")


if __name__ == "__main__":
    main()
