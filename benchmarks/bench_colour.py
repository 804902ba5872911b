"""9-class ISIC: how much class information lies in an image's overall colour?

``LesionClassifier(color_constancy=6)`` divides out each image's illuminant
(shades of grey). This script measures what that removes: a class-weighted
logistic regression on a few colour statistics per image, trained and scored on
the same split as ``bench_isic9.py`` (stratified 80/20, grouped by file content),
at the classifier's default 64 px:

- the illuminant's chromaticity, the three numbers colour constancy divides out;
- each channel's mean and standard deviation (six numbers);
- the same six after colour constancy (the library's own layer), what is left.

Run::

    python benchmarks/bench_colour.py
    python benchmarks/bench_colour.py --smoke
"""

from __future__ import annotations

import numpy as np

try:
    from benchmarks import _common as common
except ImportError:  # run as a script
    import _common as common  # type: ignore[no-redef]


def colour_features(images: np.ndarray, power: float) -> dict[str, np.ndarray]:
    """Per-image colour statistics of uint8 ``images``, before and after constancy."""
    from skinlesion.model._layers import ShadesOfGray

    x = images.astype(np.float32) / 255.0
    layer = ShadesOfGray(power)
    illuminant = np.asarray(layer.illuminant(x)).reshape(len(x), 3)
    corrected = np.asarray(layer(x))
    return {
        "illuminant chromaticity (3)": illuminant / np.linalg.norm(illuminant, axis=1)[:, None],
        "channel means and sds (6)": np.hstack([x.mean(axis=(1, 2)), x.std(axis=(1, 2))]),
        "channel means and sds after color_constancy (6)": np.hstack(
            [corrected.mean(axis=(1, 2)), corrected.std(axis=(1, 2))]
        ),
    }


def main() -> None:
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--power", type=float, default=6.0, help="shades-of-grey power")
    args = p.parse_args()
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skinlesion.images import read_images

    root = common.setup(args)
    paths, labels, groups = common.load_isic9(root)
    train, test = common.grouped_split(labels, groups, test_size=0.2, seed=args.seed)
    print(f"split: {len(train)} training / {len(test)} test images; seed {args.seed}")
    n_classes = len(np.unique(labels))
    common.figure("chance balanced accuracy", 1.0 / n_classes)
    images = read_images(paths, size=16 if args.smoke else 64)
    for name, features in colour_features(images, args.power).items():
        model = make_pipeline(
            StandardScaler(), LogisticRegression(max_iter=2000, class_weight="balanced")
        )
        model.fit(features[train], labels[train])
        proba = model.predict_proba(features[test])
        common.print_scores(f"{name} test", common.scores(labels[test], proba, model.classes_))


if __name__ == "__main__":
    main()
