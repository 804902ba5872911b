"""``skinlesion demo``: train on synthetic lesions and print the report."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from skinlesion.cli._common import (
    EXIT_OK,
    EXIT_USAGE,
    CommandError,
    _about,
    _check_matplotlib,
    _check_output,
    _class_counts,
    _is_stdout,
    _note,
    _plot_history,
    _report,
    _save_figure,
    _start_tensorflow,
    _to_json,
)
from skinlesion.cli._parser import (
    _EPILOG_EXIT,
    _fraction,
    _non_negative_int,
    _output_options,
    _positive_int,
)
from skinlesion.cli._training import _fit, _make_classifier, _training_options


def add_parser(commands: Any) -> None:
    """Add the ``demo`` command to the ``commands`` of :func:`skinlesion.cli.build_parser`."""
    demo = commands.add_parser(
        "demo",
        help="train on built-in synthetic lesions and print a report (1-2 minutes on 2 CPU cores)",
        description="Draw synthetic dermoscopy-like lesions, split them into training and "
        "test images (stratified), train a LesionClassifier and print its clinical "
        "report (per class, and for melanoma as the positive class) on the test images. "
        "Needs no data and no GPU.",
        epilog=_EPILOG_EXIT,
    )
    data = demo.add_argument_group("synthetic data")
    data.add_argument(
        "--n-samples",
        type=_positive_int,
        default=750,
        metavar="N",
        help="number of synthetic images (default: 750)",
    )
    data.add_argument(
        "--n-classes",
        type=_positive_int,
        default=3,
        metavar="K",
        help="number of lesion classes, 2 to 7 (default: 3)",
    )
    data.add_argument(
        "--test-size",
        type=_fraction,
        default=0.25,
        metavar="F",
        help="share of the images kept for the report (default: 0.25)",
    )
    demo.add_argument(
        "--n-bootstraps",
        type=_non_negative_int,
        default=300,
        metavar="N",
        help="bootstrap resamples for the report's confidence intervals (default: 300)",
    )
    # On the synthetic lesions a fixed 12 epochs on all training images beats early
    # stopping on a small, noisy validation split (0.71 vs 0.60 test accuracy).
    _training_options(demo, image_size=64, epochs=12, validation_fraction=0.0)
    demo.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="also save the model, the report (HTML and JSON) and figures in DIR",
    )
    _output_options(demo)
    demo.set_defaults(handler=_cmd_demo)


def _cmd_demo(args: argparse.Namespace) -> int:
    import time

    import numpy as np
    from sklearn.model_selection import train_test_split

    from skinlesion.datasets import make_lesions

    if not 2 <= args.n_classes <= 7:
        raise CommandError(
            f"--n-classes must be between 2 and 7, got {args.n_classes}", status=EXIT_USAGE
        )
    if args.test_size <= 0:
        raise CommandError("--test-size must be above 0", status=EXIT_USAGE)
    n_test = round(args.n_samples * args.test_size)
    if n_test < args.n_classes or args.n_samples - n_test < 2 * args.n_classes:
        raise CommandError(
            f"--n-samples {args.n_samples} is too small for {args.n_classes} classes; use at "
            f"least {max(10 * args.n_classes, 40)}",
            status=EXIT_USAGE,
        )
    if _is_stdout(args.out):
        raise CommandError(
            "--out - : the model, figures and HTML report are several files and cannot go "
            "to standard output; give a folder such as demo_out",
            status=EXIT_USAGE,
        )
    if args.out is not None:
        if args.out.exists() and not args.out.is_dir():
            raise CommandError(f"--out {str(args.out)!r} exists and is not a folder")
        blocker = next((p for p in args.out.parents if p.exists() and not p.is_dir()), None)
        if blocker is not None:
            raise CommandError(
                f"--out {str(args.out)!r} cannot be created: {str(blocker)!r} is a file, not a "
                "folder; choose another path"
            )
        _check_matplotlib("--out")
        args.out.mkdir(parents=True, exist_ok=True)
        _check_output(args.out / "model.skl", "--out")

    start = time.perf_counter()
    X, y = make_lesions(
        n_samples=args.n_samples,
        n_classes=args.n_classes,
        image_size=args.image_size,
        random_state=args.random_state,
    )
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=args.test_size, stratify=y, random_state=args.random_state
    )
    _note(
        args,
        f"synthetic lesions: {len(X)} images of {args.image_size}x{args.image_size} px, "
        f"{args.n_classes} classes ({_class_counts(y)})\n"
        f"training on {len(X_train)} images, testing on {len(X_test)} (stratified split)",
    )
    _start_tensorflow(args)
    clf = _fit(args, _make_classifier(args), X_train, y_train)
    report = _report(clf, X_test, y_test, positive="melanoma", args=args)
    proba = clf.predict_proba(X_test)
    accuracy = float(np.mean(np.asarray(clf.classes_)[np.argmax(proba, axis=1)] == y_test))
    print(f"\nReport on {len(X_test)} held-out synthetic test images:\n")
    print(report)
    print(
        f"\naccuracy {accuracy:.3f} (chance {1 / args.n_classes:.3f}); "
        f"finished in {time.perf_counter() - start:.0f}s"
    )
    if args.out is not None:
        model_path = args.out / "model.skl"
        clf.save(model_path)
        data = (
            f"{len(X_test)} held-out synthetic lesions (skinlesion demo --n-samples "
            f"{args.n_samples} --n-classes {args.n_classes} --random-state {args.random_state})"
        )
        written = [model_path, *_save_figures(args.out, clf, y_test, proba, report, data)]
        print("wrote " + ", ".join(str(p) for p in written))
    return EXIT_OK


def _save_figures(
    out: Path, clf: Any, y_true: Any, proba: Any, report: Any, data: str
) -> list[Path]:
    """Save the training history, the confusion matrix and the report (HTML, JSON) in ``out``."""
    from skinlesion.metrics import ConfusionMatrixDisplay, RocCurveDisplay

    written = [_plot_history(clf, out / "history.png")]
    display = ConfusionMatrixDisplay.from_probabilities(y_true, proba, classes=clf.classes_)
    written.append(_save_figure(display, out / "confusion_matrix.png"))
    display = RocCurveDisplay.from_predictions(y_true, proba, classes=clf.classes_)
    written.append(_save_figure(display, out / "roc.png"))
    written.append(out / "report.html")
    report.to_html(written[-1], overwrite=True, about=_about(out / "model.skl", data))
    written.append(out / "report.json")
    written[-1].write_text(_to_json(report.to_dict()), encoding="utf-8")
    return written
