"""Clinical insight on real images (issue 24): subgroups, referral, novelty, Grad-CAM.

Nothing is trained: the script loads the HAM10000-pretrained model that
``bench_transfer.py pretrain`` cached and rebuilds, with the same functions and
seed, the grouped tenth of HAM10000 that the pretraining held out (it prints the
held-out figures again, to compare with the pretraining's own). On those images:

- the clinical report with HAM10000's metadata as subgroups (sex, age,
  localization), melanoma as the positive class: each subgroup's figures and the
  largest gap between subgroups with its (Bonferroni-adjusted) interval;
- the referral figures with none, 10 % and 20 % of the least-confident cases referred;
- the novelty detector (fitted on the pretraining images' features) against
  pictures that are not dermoscopy, made here: noise, blank frames, smooth colour
  fields, stripes, drawn shapes, crops of the photographs that ship with
  scikit-learn and matplotlib; and against synthetic lesions and ISIC 2017 (real
  dermoscopy from another source), which it should not flag as often;
- where Grad-CAM points: the peak of each map (predicted class) against a lesion
  mask that the script guesses (the dark Otsu region nearest the centre; no
  segmentation ships with HAM10000), with two baselines: a random point, and the
  other images' masks (what a map that only prefers the centre would score).

``--smoke`` pretrains a tiny model on the synthetic smoke layout instead.

    python benchmarks/bench_clinical.py [--trunk default64] [--html report.html]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np

try:
    from benchmarks import _common as common
    from benchmarks import bench_transfer
except ImportError:  # run as a script
    import _common as common  # type: ignore[no-redef]
    import bench_transfer  # type: ignore[no-redef]

#: The positive class of the report (HAM10000's melanoma).
POSITIVE = "mel"
#: The metadata columns reported as subgroups.
COLUMNS = ("sex", "age", "localization")


def estimate(e) -> str:
    """An Estimate as ``value [low, high]``."""
    return f"{e.value:.3f} [{e.low:.3f}, {e.high:.3f}]"


def metadata(root: Path, paths: np.ndarray) -> dict[str, list[str]]:
    """HAM10000's ``COLUMNS`` for each image of ``paths`` (from the metadata file)."""
    with open(root / "ham10000" / "HAM10000_metadata.csv", newline="") as handle:
        rows = {row["image_id"]: row for row in csv.DictReader(handle)}
    return {c: [rows[Path(p).stem][c] for p in paths] for c in COLUMNS}


def model_and_split(args: argparse.Namespace, root: Path):
    """The cached pretrained model, and the pretraining's images, labels and split."""
    paths, labels, groups, _ = bench_transfer.pretraining_set(root, args.seed)
    config = {**bench_transfer.TRUNKS[args.trunk], **bench_transfer.PRETRAIN}
    if args.smoke:  # a tiny pretraining on the synthetic layout, as bench_transfer's smoke
        ns = argparse.Namespace(trunk=args.trunk, epochs=None, seed=args.seed, smoke=True)
        model = bench_transfer.pretrain(ns, root)
    else:
        model = bench_transfer.cache_path(args.trunk, config, paths)
        if not model.is_file():
            sys.exit(
                f"no cached model at {model}: run 'python benchmarks/bench_transfer.py "
                f"pretrain --trunk {args.trunk}' first (about 1.4 h on 2 cores)"
            )
    print(f"model: {model}")
    # exactly bench_transfer.pretrain's split
    train, held = common.grouped_split(
        labels, groups, test_size=1 / 3 if args.smoke else 0.1, seed=args.seed
    )
    return model, paths, labels, train, held


def subgroup_lines(report) -> None:
    for column, section in report.subgroups.items():
        for group, figs in section["groups"].items():
            small = " (too small)" if group in section["small"] else ""
            cells = ", ".join(
                f"{name} {estimate(figs[name])}"
                for name in ("sensitivity", "specificity", "balanced_accuracy", "roc_auc")
                if name in figs
            )
            print(f"  {column} = {group}: n {figs['n'].value:.0f}{small}; {cells}")
        for name, gap in section["gaps"].items():
            common.figure(
                f"largest {column} gap in {name}",
                f"{estimate(gap.estimate)} ({gap.highest} - {gap.lowest}; "
                f"{100 * gap.confidence:.2f} % interval excludes 0: {gap.excludes_zero})",
            )


# ------------------------------------------------------------ not dermoscopy
def not_dermoscopy(n: int, size: int, seed: int) -> dict[str, np.ndarray]:
    """Pictures of kinds a dermatoscope does not take, ``n`` of each, uint8 RGB."""
    import matplotlib
    import sklearn
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    out: dict[str, np.ndarray] = {}
    out["noise"] = rng.integers(0, 256, size=(n, size, size, 3), dtype=np.uint8)
    colours = rng.integers(0, 256, size=(n, 1, 1, 3))
    out["blank frames"] = np.broadcast_to(colours, (n, size, size, 3)).astype(np.uint8)
    coarse = rng.integers(0, 256, size=(n, 4, 4, 3), dtype=np.uint8)
    out["smooth colour fields"] = np.stack(
        [
            np.asarray(Image.fromarray(c).resize((size, size), Image.Resampling.BICUBIC))
            for c in coarse
        ]
    )
    grid = np.arange(size)
    stripes = []
    for _ in range(n):
        period, angle = rng.integers(3, 16), rng.uniform(0, np.pi)
        wave = np.cos(2 * np.pi * (np.cos(angle) * grid[:, None] + np.sin(angle) * grid) / period)
        pair = rng.integers(0, 256, size=(2, 3))
        stripes.append(np.where(wave[..., None] > 0, pair[0], pair[1]))
    out["stripes"] = np.stack(stripes).astype(np.uint8)
    shapes = []
    for _ in range(n):
        image = Image.new("RGB", (size, size), tuple(int(v) for v in rng.integers(0, 256, 3)))
        draw = ImageDraw.Draw(image)
        for _ in range(rng.integers(2, 7)):
            box = sorted(rng.integers(0, size, 2)), sorted(rng.integers(0, size, 2))
            xy = [box[0][0], box[1][0], box[0][1] + 1, box[1][1] + 1]
            fill = tuple(int(v) for v in rng.integers(0, 256, 3))
            (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(xy, fill=fill)
        shapes.append(np.asarray(image))
    out["drawn shapes"] = np.stack(shapes)
    photos = [
        Path(sklearn.__file__).parent / "datasets" / "images" / "china.jpg",
        Path(sklearn.__file__).parent / "datasets" / "images" / "flower.jpg",
        Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg",
    ]
    crops = []
    for i in range(n):
        photo = Image.open(photos[i % len(photos)]).convert("RGB")
        side = int(min(photo.size) * rng.uniform(0.25, 1.0))
        x, y = rng.integers(0, photo.width - side + 1), rng.integers(0, photo.height - side + 1)
        crop = photo.crop((x, y, x + side, y + side)).resize(
            (size, size), Image.Resampling.BILINEAR
        )
        crops.append(np.asarray(crop))
    out["photograph crops"] = np.stack(crops)
    return out


def novelty(args, root, clf, X_train, y_train, X_held, proba_held) -> None:
    from sklearn.metrics import roc_auc_score

    from skinlesion.datasets import make_lesions
    from skinlesion.images import read_images
    from skinlesion.inspection import NoveltyDetector

    size = clf.input_shape_[0]
    with common.timed("novelty detector fit"):
        detector = NoveltyDetector(clf).fit(X_train, y_train)
    d_held = detector.distance(X_held)
    common.figure(
        "held-out HAM10000 flagged at quantile 0.99", float(np.mean(d_held > detector.threshold_))
    )
    n = 10 if args.smoke else 200
    others = not_dermoscopy(n, size, args.seed)
    near = {
        "synthetic lesions (make_lesions)": make_lesions(
            n, image_size=size, random_state=args.seed
        )[0]
    }
    paths17, _ = common.load_isic2017(root, "val")
    near["ISIC 2017 val (real dermoscopy, other source)"] = read_images(paths17, size=size)
    pooled_d, pooled_p = [], []

    def line(kind: str, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d = detector.distance(images)
        top = clf.predict_proba(images).max(axis=1)
        truth = np.r_[np.zeros(len(d_held)), np.ones(len(d))]
        auc = roc_auc_score(truth, np.r_[d_held, d])
        baseline = roc_auc_score(truth, -np.r_[proba_held.max(axis=1), top])
        common.figure(
            f"novelty AUROC vs held-out HAM10000, {kind}",
            f"{auc:.3f} (1 - top probability: {baseline:.3f}); "
            f"flagged {np.mean(d > detector.threshold_):.3f} of {len(d)}",
        )
        return d, top

    for kind, images in others.items():
        d, top = line(kind, images)
        pooled_d.append(d)
        pooled_p.append(top)
    truth = np.r_[np.zeros(len(d_held)), np.ones(sum(map(len, pooled_d)))]
    common.figure(
        "novelty AUROC vs held-out HAM10000, all non-dermoscopic kinds",
        f"{roc_auc_score(truth, np.concatenate([d_held, *pooled_d])):.3f} (1 - top probability: "
        f"{roc_auc_score(truth, -np.concatenate([proba_held.max(axis=1), *pooled_p])):.3f})",
    )
    for kind, images in near.items():
        line(kind, images)


# ------------------------------------------------------------------ Grad-CAM
def otsu_mask(image: np.ndarray) -> np.ndarray | None:
    """The dark (Otsu) connected region with most pixels in the central half, or None."""
    from scipy import ndimage

    grey = image.astype(np.float64) @ [0.299, 0.587, 0.114]
    hist, edges = np.histogram(grey, bins=256, range=(0, 256))
    w = np.cumsum(hist)
    m = np.cumsum(hist * edges[:-1])
    between = (m[-1] * w - m * w[-1]) ** 2 / np.maximum(w * (w[-1] - w), 1)
    dark = grey <= edges[int(np.argmax(between))]
    parts, count = ndimage.label(dark)
    h, w_ = dark.shape
    centre = parts[h // 4 : h - h // 4, w_ // 4 : w_ - w_ // 4]
    hits = np.bincount(centre.ravel(), minlength=count + 1)[1:]
    if count == 0 or hits.max() == 0:
        return None
    return parts == 1 + int(np.argmax(hits))


def pointing(clf, X_held) -> None:
    from skinlesion.inspection import grad_cam

    with common.timed("grad_cam of the held-out images"):
        maps = grad_cam(clf, X_held)
    masks = [otsu_mask(image) for image in X_held]
    keep = [i for i, mask in enumerate(masks) if mask is not None and 0 < mask.mean() < 0.9]
    truth = np.stack([masks[i].ravel() for i in keep])
    peaks = maps[keep].reshape(len(keep), -1).argmax(axis=1)
    rows = np.arange(len(keep))
    hits = truth[rows, peaks].mean()
    others = np.mean([truth[np.roll(rows, k), peaks].mean() for k in range(1, min(len(rows), 50))])
    mass = (maps[keep].reshape(len(keep), -1) * truth).sum(axis=1) / np.maximum(
        maps[keep].reshape(len(keep), -1).sum(axis=1), 1e-12
    )
    common.figure("Grad-CAM images with a lesion mask", f"{len(keep)} of {len(X_held)}")
    common.figure(
        "Grad-CAM peak in the image's lesion mask",
        f"{hits:.3f} (random point {truth.mean():.3f}, other images' masks {others:.3f})",
    )
    common.figure(
        "Grad-CAM mass in the lesion mask (median)",
        f"{np.median(mass):.3f} (the mask's median share of the image: "
        f"{np.median(truth.mean(axis=1)):.3f})",
    )


def main() -> None:
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--trunk", choices=sorted(bench_transfer.TRUNKS), default="default64")
    p.add_argument("--n-bootstraps", type=int, default=1000)
    p.add_argument("--html", type=Path, help="also write the HTML report here")
    args = p.parse_args()
    import keras  # noqa: F401  (so the header reports the versions)

    from skinlesion import load_model
    from skinlesion.images import read_images
    from skinlesion.metrics import clinical_report

    root = common.setup(args)
    model, paths, labels, train, held = model_and_split(args, root)
    clf = load_model(model)
    size = clf.input_shape_[0]
    with common.timed("reading the images"):
        X = read_images(paths, size=size)  # as bench_transfer.pretrain read them
    X_held, y_held = X[held], labels[held]
    common.figure("held-out images", f"{len(held)} ({common.class_counts(y_held)})")
    proba = clf.predict_proba(X_held)
    values = common.scores(y_held, proba, clf.classes_)
    common.print_scores("held-out HAM10000", values)
    log = model.with_suffix(".json")
    if log.is_file():
        before = json.loads(log.read_text())["held_out"]
        same = all(abs(values[k] - v) < 1e-6 for k, v in before.items())
        common.figure("same held-out figures as the pretraining printed", same)

    with common.timed("clinical report"):
        report = clinical_report.from_estimator(
            clf,
            X_held,
            y_held,
            positive=POSITIVE,
            subgroups=metadata(root, paths[held]),
            referral=(0.0, 0.1, 0.2),
            n_bootstraps=10 if args.smoke else args.n_bootstraps,
            random_state=0,
            saliency=8,
        )
    common.figure(
        "melanoma sensitivity at the operating point", estimate(report.positive["sensitivity"])
    )
    common.figure(
        "melanoma specificity at the operating point", estimate(report.positive["specificity"])
    )
    subgroup_lines(report)
    for share, figs in report.referral.items():
        for name, value in figs.items():
            common.figure(f"{100 * share:g} % referred: {name}", estimate(value))
    if args.html:
        report.to_html(
            args.html, overwrite=True, about={"Model": model.name, "Data": "held-out HAM10000"}
        )
        print(f"wrote {args.html}")

    novelty(args, root, clf, X[train], labels[train], X_held, proba)
    pointing(clf, X_held)


if __name__ == "__main__":
    main()
