"""Loading speed: ``load_image_folder`` against ``keras.utils.image_dataset_from_directory``.

Both decode and resize every image of one class-per-folder tree (default
``isic9/Train``, 2241 JPEGs of 180 x 180) to ``--size`` pixels and hand back all
of them as arrays. Measured side by side in one run, alternating the contenders
and keeping each one's best of ``--repeats`` (the machine is shared):

1. Keras: ``image_dataset_from_directory`` (tf.data, parallel decoding), iterated
   to the end (the baseline).
2. ``load_image_folder(root, image_size)``: JPEG draft-mode decoding in threads.
3. The same with one thread (``n_jobs=1``), to show what the threads bring.
4. ``load_image_folder(..., cache=dir)``: first load (decodes and fills the
   on-disk cache), then a second load (reads the cache).

Figures are images per second and ratios against Keras measured in the same run.

Run::

    python benchmarks/bench_loading.py
    python benchmarks/bench_loading.py --folder ../shared/data/isic2017/train --size 128
    python benchmarks/bench_loading.py --smoke
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

try:
    from benchmarks import _common as common
except ImportError:  # run as a script
    import _common as common  # type: ignore[no-redef]


def keras_load(folder: Path, size: int) -> np.ndarray:
    import keras

    ds = keras.utils.image_dataset_from_directory(
        folder, image_size=(size, size), batch_size=256, shuffle=False, verbose=False
    )
    return np.concatenate([np.asarray(x) for x, _ in ds])


def main() -> None:
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument(
        "--folder",
        type=Path,
        default=None,
        help="class-per-folder tree to load (default <data-root>/isic9/Train)",
    )
    p.add_argument("--size", type=int, default=64, help="image side after resizing")
    p.add_argument("--repeats", type=int, default=2, help="best of this many runs")
    args = p.parse_args()
    import keras  # noqa: F401 - imported before the header so that it reports versions

    root = common.setup(args)
    folder = args.folder or root / "isic9" / "Train"
    repeats = 1 if args.smoke else args.repeats
    from skinlesion.datasets import load_image_folder

    n = len(load_image_folder(folder, as_paths=True).paths)
    common.figure("images", n)
    common.figure("image size", f"{args.size}x{args.size}")
    keras_load(folder, args.size)  # warm up TensorFlow's start-up cost outside the timing

    best: dict[str, float] = {}
    cache_dir = Path(tempfile.mkdtemp(prefix="skinlesion-bench-cache-"))
    try:
        for _ in range(repeats):
            runs = {
                "keras image_dataset_from_directory": lambda: keras_load(folder, args.size),
                "load_image_folder": lambda: load_image_folder(folder, args.size).images,
                "load_image_folder n_jobs=1": lambda: (
                    load_image_folder(folder, args.size, n_jobs=1).images
                ),
            }
            for name, run in runs.items():
                start = time.perf_counter()
                out = run()
                elapsed = time.perf_counter() - start
                assert len(out) == n
                best[name] = min(best.get(name, np.inf), elapsed)
            shutil.rmtree(cache_dir, ignore_errors=True)
            for name in (
                "load_image_folder cache, first load",
                "load_image_folder cache, second load",
            ):
                start = time.perf_counter()
                out = load_image_folder(folder, args.size, cache=cache_dir).images
                elapsed = time.perf_counter() - start
                assert len(out) == n
                best[name] = min(best.get(name, np.inf), elapsed)
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)

    base = best["keras image_dataset_from_directory"]
    for name, seconds in best.items():
        common.figure(f"{name} images/s", n / seconds)
    for name, seconds in best.items():
        if name.startswith("load_image_folder"):
            common.figure(f"speed ratio vs keras, {name}", base / seconds, "x")
    common.figure(
        "second load time / first load time (cache)",
        best["load_image_folder cache, second load"] / best["load_image_folder cache, first load"],
    )


if __name__ == "__main__":
    main()
