"""Augmenter throughput against Augmentor's own ``Pipeline.sample`` on the same images.

The notebook recipe (rotate 10 degrees, flips, zoom up to 20 %, each operation with
probability 0.5) is configured identically in both. Figures are images per second
and ratios against ``Augmentor.Pipeline.sample`` measured in the same run:

- ``Augmentor Pipeline.sample``: the notebooks' way, folder in, JPEG files out
  (multi-threaded, Augmentor's default);
- ``Augmentor in memory``: Augmentor's operations on in-memory images through its
  public ``Pipeline.torch_transform()`` function, one call per image
  (``Pipeline.sample_with_array`` cannot serve: in Augmentor 0.2.12 it fails with an
  IndexError, whatever the Pillow/NumPy version);
- ``Augmenter, array``: ``Augmenter.fit_resample`` on the same images in memory;
- ``Augmenter, paths``: ``Augmenter.fit_resample`` on the file paths (decoding included).

Run::

    python benchmarks/bench_augmenter.py                 # isic9 images from ../shared/data
    python benchmarks/bench_augmenter.py --n-images 500
    python benchmarks/bench_augmenter.py --smoke         # synthetic images, seconds
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import platform
import shlex
import shutil
import sys
import tempfile
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = Path(os.environ.get("SKINLESION_SHARED_DATA", ROOT.parent / "shared" / "data"))


def header() -> None:
    import Augmentor
    import PIL

    import skinlesion

    load = "load avg {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    print("=" * 78)
    print(f"date: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M UTC}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {load}")
    print(
        f"versions: python {platform.python_version()}, numpy {np.__version__}, "
        f"Pillow {PIL.__version__}, Augmentor {Augmentor.__version__}, "
        f"skinlesion {skinlesion.__version__}"
    )
    print(f"command: {' '.join(shlex.quote(a) for a in [sys.executable, *sys.argv])}")
    print("=" * 78, flush=True)


def figure(name: str, value: float, unit: str = "") -> None:
    print(f"{name}: {value:.4g}{(' ' + unit) if unit else ''}", flush=True)


def source_images(args: argparse.Namespace, workdir: Path) -> list[str]:
    """Paths of the images to augment (the shared isic9 set, or synthetic with --smoke)."""
    from PIL import Image

    if args.smoke:
        from skinlesion.datasets import make_lesions

        X, _ = make_lesions(n_samples=args.n_images, image_size=64, random_state=0)
        paths = []
        for i, image in enumerate(X):
            path = workdir / f"lesion{i:04d}.jpg"
            Image.fromarray(image).save(path, quality=90)
            paths.append(str(path))
        print(f"data: {len(paths)} synthetic 64x64 JPEG images")
        return paths
    from skinlesion.images import list_image_files

    root = args.data_root / "isic9" / "Train"
    if not root.is_dir():
        sys.exit(f"{root} not found: pass --data-root or use --smoke")
    files = [p for sub in sorted(root.iterdir()) if sub.is_dir() for p in list_image_files(sub)]
    picks = np.random.default_rng(0).choice(len(files), args.n_images, replace=False)
    chosen = [files[i] for i in sorted(picks)]
    print(f"data: {len(chosen)} images drawn from {root} (180x180 JPEG)")
    return [str(p) for p in chosen]


def augmentor_pipeline(source: Path | None, output: Path | None):
    import Augmentor

    if source is None:
        p = Augmentor.Pipeline()
    else:
        p = Augmentor.Pipeline(str(source), output_directory=str(output))
    p.rotate(0.5, max_left_rotation=10, max_right_rotation=10)
    p.flip_left_right(0.5)
    p.flip_top_bottom(0.5)
    p.zoom(0.5, min_factor=1.0, max_factor=1.2)
    return p


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-root", type=Path, default=DEFAULT_DATA)
    p.add_argument("--n-images", type=int, default=300, help="images to augment")
    p.add_argument("--repeats", type=int, default=3, help="timed repeats (best is kept)")
    p.add_argument("--smoke", action="store_true", help="tiny synthetic run for the test suite")
    args = p.parse_args()
    if args.smoke:
        args.n_images, args.repeats = min(args.n_images, 24), 1
    header()

    from skinlesion import Augmenter
    from skinlesion.images import read_images

    workdir = Path(tempfile.mkdtemp(prefix="skinlesion-bench-augmenter-"))
    try:
        paths = source_images(args, workdir)
        # Augmentor reads a folder: link the chosen files into one (nothing is copied
        # into or written beside the user's data).
        source = workdir / "source"
        source.mkdir()
        for i, path in enumerate(paths):
            os.symlink(path, source / f"{i:04d}{Path(path).suffix.lower()}")
        X = read_images(paths)
        n = len(X)
        y = np.zeros(n, dtype=int)
        print(f"images: {n} of {X.shape[1]}x{X.shape[2]} px")
        rates: dict[str, float] = {}

        def best_rate(label: str, run) -> None:
            times = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                run()
                times.append(time.perf_counter() - start)
            rates[label] = n / min(times)
            figure(f"{label} throughput", rates[label], "images/s")

        def augmentor_sample() -> None:
            output = workdir / "output"
            shutil.rmtree(output, ignore_errors=True)
            # Augmentor prints to stdout and draws a progress bar on stderr
            with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
                augmentor_pipeline(source, output).sample(n)

        best_rate("Augmentor Pipeline.sample", augmentor_sample)

        from PIL import Image

        transform = augmentor_pipeline(None, None).torch_transform()
        best_rate(
            "Augmentor in memory",
            lambda: np.stack([np.asarray(transform(Image.fromarray(image))) for image in X]),
        )
        augmenter = Augmenter(rotate=10, flip=True, zoom=0.2, probability=0.5, random_state=0)
        best_rate("Augmenter, array", lambda: augmenter.fit_resample(X, y))
        best_rate("Augmenter, paths", lambda: augmenter.fit_resample(paths, y))

        baseline = rates["Augmentor Pipeline.sample"]
        for label in ["Augmentor in memory", "Augmenter, array", "Augmenter, paths"]:
            figure(f"{label} / Augmentor Pipeline.sample", rates[label] / baseline, "x")
        figure(
            "Augmenter, array / Augmentor in memory",
            rates["Augmenter, array"] / rates["Augmentor in memory"],
            "x",
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
