"""The ``skinlesion`` command line (also ``python -m skinlesion``).

Commands
--------
``skinlesion demo``
    Train on built-in synthetic lesions and print a per-class report.
``skinlesion train DATA_DIR --out model.skl``
    Train on a class-per-folder directory (or a HAM10000 root) and save the model;
    ``--init base.skl`` starts from the trunk of a model trained before, and
    ``--backbone NAME`` uses a Keras application as the trunk.
``skinlesion evaluate MODEL DATA_DIR``
    Print the clinical report of a saved model on a labelled folder (``--report`` writes HTML).
``skinlesion predict MODEL IMAGE...``
    Print the predicted class and the probability of each class for each image.
``skinlesion audit DATA_DIR``
    Find duplicates, conflicting labels, train/test leakage and imbalance in a data set.

Exit status: 0 on success, 1 when the data or the model cannot be used (a missing
folder, an empty class, a corrupt image, a file that is not a skinlesion model),
2 when the command line itself is wrong, and 3 from ``audit --strict`` when the
audit finds a problem. Every failure is reported as one line,
``skinlesion: error: ...``, on standard error, without a traceback (``--verbose``
shows it).
Results go to standard output; progress and notes go to standard error.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

__all__ = [
    "EXIT_FAILURE",
    "EXIT_OK",
    "EXIT_PROBLEMS",
    "EXIT_USAGE",
    "CommandError",
    "build_parser",
    "main",
]

#: The command succeeded.
EXIT_OK = 0
#: The data, the images or the model file could not be used.
EXIT_FAILURE = 1
#: The command line is wrong (unknown option, missing argument, bad value).
EXIT_USAGE = 2
#: ``skinlesion audit --strict`` found duplicates, conflicting labels or leakage.
EXIT_PROBLEMS = 3

PROG = "skinlesion"


class CommandError(Exception):
    """A mistake in the user's command or data, shown as one line without a traceback.

    Parameters
    ----------
    message : str
        What went wrong and how to fix it.
    status : int, default=EXIT_FAILURE
        The exit status of the command.

    Examples
    --------
    >>> from skinlesion.cli import CommandError, EXIT_USAGE
    >>> err = CommandError("no such folder 'x'", status=EXIT_USAGE)
    >>> str(err), err.status
    ("no such folder 'x'", 2)
    """

    def __init__(self, message: str, status: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.status = status


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors become one-line :class:`CommandError`."""

    def error(self, message: str) -> NoReturn:
        command = self.prog
        raise CommandError(f"{message} (see '{command} --help')", status=EXIT_USAGE)


# --------------------------------------------------------------------------------------
# argument types
# --------------------------------------------------------------------------------------
def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {text!r}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number of at least 0, got {text!r}")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1), got {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _int_tuple(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(part) for part in text.replace(" ", "").split(",") if part)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated whole numbers such as 32,64,128, got {text!r}"
        ) from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive numbers such as 32,64,128, got {text!r}"
        )
    return values


# --------------------------------------------------------------------------------------
# the parser
# --------------------------------------------------------------------------------------
_EPILOG_EXIT = "Exit status: 0 success, 1 the data or model cannot be used, 2 bad command line"


def _common(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("output")
    group.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="show TensorFlow's messages and Python tracebacks (repeat for more)",
    )
    group.add_argument("-q", "--quiet", action="store_true", help="print results only, no progress")


# The training options come from LesionClassifier itself: each option's default is
# the constructor's (inspect.signature) and its help the first sentence of the
# parameter's entry in the class docstring, so that the two cannot drift apart
# (issue #23). The command line departs from the constructor on purpose only here
# and in the keyword arguments of a command's _training_options call:
_CLI_DEFAULTS: dict[str, Any] = {"random_state": 0}  # a run repeats unless told otherwise


def _classifier_parameters() -> dict[str, tuple[Any, str]]:
    """``{name: (default, help)}`` for every parameter of :class:`LesionClassifier`."""
    import inspect

    from skinlesion import LesionClassifier

    docs = _numpydoc_parameters(inspect.getdoc(LesionClassifier) or "")
    return {
        name: (parameter.default, docs.get(name, ""))
        for name, parameter in inspect.signature(LesionClassifier).parameters.items()
    }


def _numpydoc_parameters(doc: str) -> dict[str, str]:
    """The first sentence of each entry of a numpydoc "Parameters" section, as plain text.

    Examples
    --------
    >>> from skinlesion.cli import _numpydoc_parameters
    >>> _numpydoc_parameters('''Summary.
    ...
    ... Parameters
    ... ----------
    ... size : int, default=3
    ...     Side of the kernel, e.g. 3 or 5. Odd sizes centre it.
    ... name : str
    ...     The ``name`` of a :class:`~pkg.Thing`
    ...     in :func:`pkg.make`.
    ...
    ... Returns
    ... -------
    ... x : int
    ...     Not a parameter.
    ... ''')
    {'size': 'Side of the kernel, e.g. 3 or 5.', 'name': 'The name of a Thing in pkg.make.'}
    """
    import re

    lines = doc.splitlines()
    try:
        start = next(i for i, line in enumerate(lines[:-1]) if line.strip() == "Parameters") + 2
    except StopIteration:
        return {}
    entries: dict[str, list[str]] = {}
    for i in range(start, len(lines)):
        line = lines[i]
        if i + 1 < len(lines) and set(lines[i + 1].strip()) == {"-"}:
            break  # the next section
        if line and not line[0].isspace():
            entries[line.split(" : ")[0].strip()] = []
        elif entries and line.strip():
            entries[list(entries)[-1]].append(line.strip())

    def plain(text: str) -> str:
        text = re.sub(
            r":[\w:]+:`(~?)([^`]+)`",
            lambda m: m.group(2).rsplit(".", 1)[-1] if m.group(1) else m.group(2),
            text,
        )
        return re.sub(r"``(.+?)``|`(.+?)`", lambda m: m.group(1) or m.group(2), text)

    out = {}
    for name, words in entries.items():
        text = plain(" ".join(words))
        sentence = re.match(r"(.*?[.!?])(?=\s+[A-Z\"]|\s*$)", text, re.S)
        out[name] = sentence.group(1) if sentence else text
    return out


def _shown(value: Any) -> str:
    """A default as the command line writes it."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (tuple, list)):
        return ",".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _classifier_option(
    group: Any,
    flag: str,
    name: str,
    defaults: dict[str, Any],
    *,
    extra: str = "",
    show_default: bool = True,
    **kwargs: Any,
) -> None:
    """Add ``flag`` for LesionClassifier's parameter ``name``: its default and its help.

    ``defaults`` overrides the constructor's default (a command's own choice);
    ``extra`` adds what the command line alone needs to say.
    """
    default, sentence = _classifier_parameters()[name]
    default = defaults.get(name, default)
    text = sentence.rstrip(".")
    text = text[:1].lower() + text[1:] if text[1:2].islower() else text
    if kwargs.get("action") == "store_false":
        text = f"turn off {name.replace('_', ' ')}: {text}"
    text = f"{text}; {extra}" if extra else text
    if show_default:
        text = f"{text} (default: {_shown(default)})"
    group.add_argument(flag, dest=name, default=default, help=text.replace("%", "%%"), **kwargs)


def _training_options(parser: argparse.ArgumentParser, **defaults: Any) -> None:
    """The network and training options; ``defaults`` are the command's own defaults."""
    defaults = {**_CLI_DEFAULTS, **defaults}
    group = parser.add_argument_group("network and training")

    def option(*args: Any, **kwargs: Any) -> None:
        _classifier_option(group, *args, defaults=defaults, **kwargs)

    option("--image-size", "image_size", type=_positive_int, metavar="PX")
    option("--epochs", "epochs", type=_positive_int)
    option("--filters", "filters", type=_int_tuple, metavar="N,N,...", extra="e.g. 32,64,128")
    option("--batch-size", "batch_size", type=_positive_int)
    option("--learning-rate", "learning_rate", type=_positive_float, metavar="LR")
    option("--patience", "patience", type=_positive_int)
    option(
        "--validation-fraction",
        "validation_fraction",
        type=_fraction,
        metavar="F",
        extra="0 trains on all of them for --epochs epochs",
    )
    option("--no-augment", "augment", action="store_false", show_default=False)
    option("--random-state", "random_state", type=_non_negative_int, metavar="SEED")


def _hardware_options(parser: argparse.ArgumentParser) -> None:
    """The options of the number format, the compiler and the devices of the fit."""
    from skinlesion import LesionClassifier
    from skinlesion._hardware import PRECISIONS

    group = parser.add_argument_group(
        "hardware",
        "Where and how fast the fit runs; the model file is the same, and loads on a "
        "machine without GPUs. See the guide 'Training on several GPUs or machines'.",
    )

    def option(*args: Any, **kwargs: Any) -> None:
        _classifier_option(group, *args, defaults=_CLI_DEFAULTS, **kwargs)

    blocks = LesionClassifier._parameter_constraints["block"][0].options
    option("--block", "block", choices=sorted(blocks))
    option("--precision", "precision", choices=PRECISIONS)
    option(
        "--jit-compile",
        "jit_compile",
        type=_jit_compile,
        metavar="{false,true,auto}",
    )
    option(
        "--distribute",
        "distribute",
        type=_distribute,
        metavar="HOW",
        extra="'mirrored' (every local GPU), 'multi_worker' (the machines in TF_CONFIG) "
        "or devices, e.g. /gpu:0,/gpu:1",
    )


def _jit_compile(text: str) -> bool | str:
    values: dict[str, bool | str] = {"false": False, "true": True, "auto": "auto"}
    try:
        return values[text.lower()]
    except KeyError:
        raise argparse.ArgumentTypeError(f"{text!r} is not one of false, true, auto") from None


def _distribute(text: str) -> str | list[str]:
    if text in ("mirrored", "multi_worker"):
        return text
    devices = [part.strip() for part in text.split(",") if part.strip()]
    if not devices or not all(":" in device for device in devices):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not 'mirrored', 'multi_worker' or devices such as /gpu:0,/gpu:1"
        )
    return devices


def _transfer_options(parser: argparse.ArgumentParser) -> None:
    from skinlesion.backbones import BACKBONES

    group = parser.add_argument_group(
        "starting point",
        "Start from what a larger data set taught instead of from random weights. The "
        "trunk (the layers up to the global pooling) comes from --init or --backbone; the "
        "head is built anew for DATA_DIR's classes.",
    )
    group.add_argument(
        "--init",
        type=Path,
        default=_classifier_parameters()["init"][0],
        metavar="BASE",
        help="copy the trunk of this model file (from 'train' or LesionClassifier.save, or a "
        ".keras file); its architecture comes with it, and --image-size may differ",
    )
    group.add_argument(
        "--fine-tune",
        choices=("all", "head"),
        default=_classifier_parameters()["fine_tune"][0],
        help="with a pretrained trunk: 'all' trains every layer, 'head' keeps the trunk "
        "frozen and trains the head alone (default: all)",
    )
    group.add_argument(
        "--warmup-epochs",
        type=_non_negative_int,
        default=_classifier_parameters()["warmup_epochs"][0],
        metavar="N",
        help="with a pretrained trunk and --fine-tune all: train the head alone for the first "
        "N of --epochs, then everything at a tenth of the learning rate (default: 0)",
    )
    group.add_argument(
        "--backbone",
        choices=tuple(BACKBONES),
        default=_classifier_parameters()["backbone"][0],
        metavar="NAME",
        help="a Keras application as the trunk, e.g. EfficientNetV2B0, ResNet50V2, "
        "MobileNetV3Small, ConvNeXtTiny (default: the custom CNN of --filters)",
    )
    group.add_argument(
        "--backbone-weights",
        default=_classifier_parameters()["backbone_weights"][0],
        metavar="WEIGHTS",
        help="weights of the --backbone trunk: 'imagenet' (downloaded by Keras; needs a "
        "network connection) or the path of a weights file without the top, such as Keras' "
        "*_notop.h5 (default: random weights)",
    )


def build_parser() -> argparse.ArgumentParser:
    """Build the ``skinlesion`` argument parser with its five commands.

    Returns
    -------
    parser : argparse.ArgumentParser

    Examples
    --------
    >>> from skinlesion.cli import build_parser
    >>> args = build_parser().parse_args(["demo", "--epochs", "3"])
    >>> args.command, args.epochs
    ('demo', 3)
    """
    from skinlesion import __version__

    parser = _Parser(
        prog=PROG,
        description="Classify dermoscopic skin-lesion images with a CNN: train, evaluate, "
        "predict and audit from the command line.",
        epilog=f"Run '{PROG} COMMAND --help' for a command's options. {_EPILOG_EXIT}.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    # demo -----------------------------------------------------------------------------
    demo = commands.add_parser(
        "demo",
        help="train on built-in synthetic lesions and print a report (about a minute)",
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
        help="also save the model, the report (HTML) and figures in DIR",
    )
    _common(demo)
    demo.set_defaults(handler=_cmd_demo)

    # train ----------------------------------------------------------------------------
    train = commands.add_parser(
        "train",
        help="train a classifier on a folder of images and save it",
        description="Train a LesionClassifier on DATA_DIR and save it to a single model "
        "file, with a plot of its training history beside it. DATA_DIR is either a "
        "class-per-folder directory (DATA_DIR/<class>/*.jpg, as in the ISIC archive) or a "
        "HAM10000 root (HAM10000_metadata.csv and the images). The early-stopping "
        "validation split keeps the images of one HAM10000 lesion (lesion_id), and any "
        "file with its copies, on one side.",
        epilog=_EPILOG_EXIT,
    )
    train.add_argument("data_dir", type=Path, metavar="DATA_DIR", help="folder of images")
    train.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="MODEL",
        help="model file to write, e.g. model.skl (its history plot goes to MODEL.history.png)",
    )
    _training_options(train)
    train.add_argument(
        "--balance",
        choices=("none", "weights", "auto", "over", "under"),
        default="none",
        help="class imbalance: 'weights' weighs the loss by inverse class frequency; 'auto' "
        "and 'over' repeat images of the smaller classes up to the largest class; 'under' "
        "drops images of the larger classes down to the smallest (default: none)",
    )
    train.add_argument(
        "--overwrite", action="store_true", help="replace MODEL if it exists already"
    )
    _transfer_options(train)
    _hardware_options(train)
    _common(train)
    train.set_defaults(handler=_cmd_train)

    # evaluate -------------------------------------------------------------------------
    evaluate = commands.add_parser(
        "evaluate",
        help="clinical report of a saved model on a labelled folder of images",
        description="Predict the images of DATA_DIR (class-per-folder or HAM10000 layout) "
        "with the model and print the clinical report: sensitivity, specificity, PPV, NPV, "
        "AUC and more per class, with confidence intervals.",
        epilog=_EPILOG_EXIT,
    )
    evaluate.add_argument("model", type=Path, metavar="MODEL", help="a model file from 'train'")
    evaluate.add_argument("data_dir", type=Path, metavar="DATA_DIR", help="labelled images")
    evaluate.add_argument(
        "--report", type=Path, default=None, metavar="HTML", help="also write the report here"
    )
    evaluate.add_argument(
        "--json", type=Path, default=None, metavar="FILE", help="also write the figures as JSON"
    )
    evaluate.add_argument(
        "--positive",
        default=None,
        metavar="CLASS",
        help="the class to screen for, e.g. melanoma; adds the operating-point block",
    )
    evaluate.add_argument(
        "--n-bootstraps",
        type=_non_negative_int,
        default=1000,
        metavar="N",
        help="bootstrap resamples for the confidence intervals (default: 1000)",
    )
    evaluate.add_argument(
        "--random-state",
        type=_non_negative_int,
        default=0,
        metavar="SEED",
        help="seed of the bootstrap (default: 0)",
    )
    _tta_option(evaluate)
    _common(evaluate)
    evaluate.set_defaults(handler=_cmd_evaluate)

    # predict --------------------------------------------------------------------------
    predict = commands.add_parser(
        "predict",
        help="predict the class of images with a saved model",
        description="Print, for each image, the predicted class and the probability of "
        "every class. A folder stands for the images directly inside it.",
        epilog=_EPILOG_EXIT,
    )
    predict.add_argument("model", type=Path, metavar="MODEL", help="a model file from 'train'")
    predict.add_argument("images", type=Path, nargs="+", metavar="IMAGE", help="image files")
    predict.add_argument(
        "--format",
        choices=("table", "csv", "json"),
        default="table",
        help="output format (default: table)",
    )
    _tta_option(predict)
    _common(predict)
    predict.set_defaults(handler=_cmd_predict)

    # audit ----------------------------------------------------------------------------
    audit = commands.add_parser(
        "audit",
        help="find duplicates, conflicting labels, leakage and imbalance in a data set",
        description="Audit a class-per-folder directory, a folder of split folders (such as "
        "ISIC 2017's train/ and val/) or a HAM10000 root: byte-identical and near-identical "
        "images within a class and across classes, class counts and imbalance, tiny, grayscale "
        "or oddly sized images; with --test, images shared between the training and test sets "
        "(leakage), also when the two are different data sets in other layouts and sizes "
        "(matched by ISIC id and by a perceptual hash).",
        epilog=_EPILOG_EXIT + " (and 3 with --strict when the audit finds problems)",
    )
    audit.add_argument("data_dir", type=Path, metavar="DATA_DIR", help="folder of images")
    audit.add_argument(
        "--test",
        type=Path,
        default=None,
        metavar="TEST_DIR",
        help="test set to check for leakage, in any of the layouts DATA_DIR may have",
    )
    audit.add_argument(
        "--json", type=Path, default=None, metavar="FILE", help="also write the findings as JSON"
    )
    audit.add_argument(
        "--strict",
        action="store_true",
        help="exit with status 3 when the audit finds duplicates, conflicts, leakage or "
        "unreadable files",
    )
    _common(audit)
    audit.set_defaults(handler=_cmd_audit)
    return parser


# --------------------------------------------------------------------------------------
# entry point
# --------------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``skinlesion`` command line and return its exit status.

    Parameters
    ----------
    argv : sequence of str, default=None
        The arguments after the program name; ``None`` reads ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success, 1 when the data or model cannot be used, 2 for a wrong
        command line.

    Examples
    --------
    >>> from skinlesion.cli import main
    >>> main(["--version"])  # doctest: +ELLIPSIS
    skinlesion ...
    0
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    args: argparse.Namespace | None = None
    try:
        try:
            args, extra = build_parser().parse_known_args(argv)
        except SystemExit as exc:  # --help and --version
            return int(exc.code or 0)
        if extra:
            where = f"{PROG} {args.command}" if args.command else PROG
            raise CommandError(
                f"unrecognized arguments: {' '.join(extra)} (see '{where} --help')",
                status=EXIT_USAGE,
            )
        if args.command is None:
            raise CommandError(
                "no command given; choose one of demo, train, evaluate, predict, audit "
                f"(see '{PROG} --help')",
                status=EXIT_USAGE,
            )
        with _quiet_libraries(args.verbose):
            return int(args.handler(args) or EXIT_OK)
    except CommandError as err:
        return _fail(str(err), err.status)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `skinlesion predict ... | head`
        with contextlib.suppress(Exception):
            sys.stdout = open(os.devnull, "w")
        return EXIT_OK
    except (ValueError, OSError) as err:
        # The library raises these for bad input with a message naming the problem and
        # the fix (ImageReadError is a ValueError). Anything else is a bug: traceback.
        if getattr(args, "verbose", 0):
            raise
        return _fail(_one_line(err), EXIT_FAILURE)


def _fail(message: str, status: int) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return status


def _one_line(err: BaseException) -> str:
    if isinstance(err, OSError) and err.filename is not None and err.strerror:
        text = f"{err.strerror}: {os.fspath(err.filename)!r}"
    else:
        text = str(err) or type(err).__name__
    return " ".join(text.split())


@contextlib.contextmanager
def _quiet_libraries(verbose: int) -> Iterator[None]:
    """Keep TensorFlow's and Keras' messages and warnings away unless ``--verbose``."""
    if verbose:
        yield
        return
    saved = os.environ.get("TF_CPP_MIN_LOG_LEVEL")
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = saved if saved is not None else "3"
    os.environ.setdefault("MPLBACKEND", "Agg")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            warnings.showwarning = _show_own_warning
            yield
    finally:
        if saved is None:
            os.environ.pop("TF_CPP_MIN_LOG_LEVEL", None)


def _show_own_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    """Show skinlesion's own warnings (about the user's data) as one line; drop the rest.

    The library's warnings name a problem in the data (a skipped file, an Augmentor
    output folder left out); TensorFlow's and Keras' are noise for a command-line user.
    """
    if f"{os.sep}skinlesion{os.sep}" in filename or "skinlesion" in Path(filename).parts:
        print(f"{PROG}: warning: {' '.join(str(message).split())}", file=sys.stderr)


# --------------------------------------------------------------------------------------
# helpers shared by the commands
# --------------------------------------------------------------------------------------
def _note(args: argparse.Namespace, message: str) -> None:
    """A progress note on stderr (hidden by --quiet)."""
    if not args.quiet:
        print(message, file=sys.stderr, flush=True)


def _start_tensorflow(args: argparse.Namespace) -> None:
    from skinlesion._tf import import_tf

    import_tf(verbose=args.verbose)


def _check_output(path: Path, option: str, example: str = "model.skl") -> None:
    """Refuse an output file that cannot be written, before any long work starts."""
    from skinlesion._files import check_writable

    try:
        check_writable(path, option, example=example)
    except OSError as err:
        raise CommandError(_one_line(err)) from None


def _save_or_rescue(clf: Any, out: Path) -> None:
    """Save the trained model to ``out``; if that fails now, keep it somewhere safe."""
    import tempfile
    import time

    try:
        clf.save(out)
    except OSError as err:
        rescue = (
            Path(tempfile.gettempdir()) / f"skinlesion-rescued-{time.strftime('%Y%m%d-%H%M%S')}.skl"
        )
        try:
            clf.save(rescue)
        except OSError:
            raise CommandError(
                f"could not write --out {str(out)!r} ({_one_line(err)}), nor a rescue copy in "
                f"{tempfile.gettempdir()!r}; the trained model is lost"
            ) from None
        raise CommandError(
            f"could not write --out {str(out)!r} ({_one_line(err)}); the trained model was "
            f"saved to {str(rescue)!r} instead: move it where you want it"
        ) from None


def _check_folder(path: Path, what: str = "data folder") -> Path:
    if not path.exists():
        raise CommandError(f"{what} {str(path)!r} does not exist")
    if not path.is_dir():
        raise CommandError(f"{what} {str(path)!r} is not a folder")
    return path


def _is_ham10000(root: Path) -> bool:
    return any(root.glob("*metadata*.csv")) or (root / "HAM10000_metadata.csv").exists()


def _load_labelled(root: Path, *, image_size: int | None = None) -> dict[str, Any]:
    """Load a labelled folder as image paths: class-per-folder or HAM10000 layout."""
    from skinlesion import datasets
    from skinlesion.images import ImageReadError, find_unreadable_images

    _check_folder(root)
    with warnings.catch_warnings():  # unreadable files are reported below, all together
        warnings.filterwarnings("ignore", message="skipped .* unreadable image file")
        if _is_ham10000(root):
            bunch = datasets.load_ham10000(root, as_paths=True, labels="name", errors="warn")
            layout = "HAM10000"
        else:
            bunch = datasets.load_image_folder(root, as_paths=True, errors="warn")
            layout = "class-per-folder"
    paths = bunch.get("paths", bunch.get("images"))
    target = bunch["target"]
    # The loader read the headers only; decode every file once (cheaply) so that
    # truncated files are found too, before TensorFlow starts, and all of them listed.
    unreadable = [*bunch.get("skipped", []), *find_unreadable_images(paths)]
    if unreadable:
        raise ImageReadError.from_failures(unreadable)
    if len(paths) == 0:
        raise CommandError(f"no images found in {str(root)!r}")
    return {
        "X": paths,
        "y": target,
        "groups": bunch.get("groups"),
        "layout": layout,
        "target_names": list(bunch.get("target_names", sorted(set(target)))),
    }


def _check_no_empty_class(root: Path) -> None:
    """Refuse class folders without images: a class the model could never learn."""
    from skinlesion.images import list_image_files

    _check_folder(root)
    if _is_ham10000(root):
        return
    empty = sorted(
        sub.name
        for sub in root.iterdir()
        if sub.is_dir()
        and not sub.name.startswith(".")
        and not list_image_files(sub)
        and not any(p.is_dir() for p in sub.iterdir())  # split folders: the loader explains
    )
    if empty:
        raise CommandError(
            f"class folder(s) without images in {str(root)!r}: {', '.join(empty)}; add "
            "images to them or remove them"
        )


def _class_counts(y: Sequence[Any]) -> str:
    import numpy as np

    names, counts = np.unique(np.asarray(y), return_counts=True)
    return ", ".join(f"{n} {c}" for n, c in zip(names, counts, strict=True))


def _check_classes(y: Sequence[Any], root: Path, *, minimum: int = 2) -> None:
    import numpy as np

    names, counts = np.unique(np.asarray(y), return_counts=True)
    if len(names) < 2:
        raise CommandError(
            f"{str(root)!r} holds only one class ({names[0] if len(names) else 'none'}); "
            "training needs images of at least two classes"
        )
    small = [f"{n!r} ({c})" for n, c in zip(names, counts, strict=True) if c < minimum]
    if small:
        raise CommandError(
            f"too few images in class {', '.join(small)} of {str(root)!r}: each class needs "
            f"at least {minimum} images to train"
        )


def _make_classifier(args: argparse.Namespace, **overrides: Any) -> Any:
    from skinlesion import LesionClassifier

    params: dict[str, Any] = {
        "image_size": args.image_size,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "patience": args.patience,
        "validation_fraction": args.validation_fraction,
        "early_stopping": args.validation_fraction > 0,
        "augment": args.augment,
        "random_state": args.random_state,
        "verbose": 0,
    }
    if args.filters is not None:
        params["filters"] = args.filters
    params.update(overrides)
    return LesionClassifier(**params)


def _fit(args: argparse.Namespace, model: Any, X: Any, y: Any, groups: Any = None) -> Any:
    """Fit ``model`` (a classifier or a pipeline) with a per-epoch progress line.

    ``groups`` (HAM10000's lesion ids) keep each lesion on one side of the
    classifier's early-stopping validation split; a pipeline hands them on
    resampled like the images.
    """
    prefix = f"{model.steps[-1][0]}__" if hasattr(model, "steps") else ""
    fit_params: dict[str, Any] = {}
    if groups is not None:
        fit_params[prefix + "groups"] = groups
    if not args.quiet:
        from skinlesion._progress import make_progress_callback

        fit_params[prefix + "callbacks"] = [make_progress_callback(args.epochs)]
    return model.fit(X, y, **fit_params)


def _final_estimator(model: Any) -> Any:
    return model.steps[-1][1] if hasattr(model, "steps") else model


def _tta_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tta",
        type=int,
        choices=(1, 2, 4, 8),
        default=None,
        metavar="VIEWS",
        help="test-time augmentation: average 1, 2, 4 or 8 flipped/transposed views of each "
        "image (default: the model's own setting, 1 unless it was trained with more)",
    )


def _load_model(path: Path, tta: int | None = None) -> Any:
    from skinlesion import load_model

    if not path.exists():
        raise CommandError(f"model file {str(path)!r} does not exist")
    if path.is_dir():
        raise CommandError(f"model {str(path)!r} is a folder; give the model file from 'train'")
    try:
        clf = load_model(path)
    except (ValueError, OSError, EOFError) as err:  # load_model names the file and the fix
        raise CommandError(_one_line(err)) from None
    if tta is not None:
        from skinlesion.classifier import _check_tta

        try:
            _check_tta(tta, clf.input_shape_[:2])
        except ValueError as err:
            raise CommandError(_one_line(err).replace("use tta=4", "use --tta 4")) from None
        clf.set_params(tta=tta)
    return clf


def _report(clf: Any, X: Any, y: Any, *, positive: str | None, args: Any) -> Any:
    """The clinical report of ``clf`` on images ``X`` with labels ``y``."""
    from skinlesion.metrics import clinical_report

    kwargs: dict[str, Any] = {"random_state": args.random_state}
    if positive is not None:
        kwargs["positive"] = positive
    if getattr(args, "n_bootstraps", None) is not None:
        kwargs["n_bootstraps"] = args.n_bootstraps
    return clinical_report.from_estimator(clf, X, y, **kwargs)


def _save_figure(display: Any, path: Path) -> Path:
    import matplotlib.pyplot as plt

    display.figure_.savefig(path, dpi=110)
    plt.close(display.figure_)
    return path


def _plot_history(clf: Any, path: Path) -> Path:
    """Loss and accuracy per epoch, training and validation, in one PNG."""
    from skinlesion.metrics import TrainingHistoryDisplay

    return _save_figure(TrainingHistoryDisplay.from_estimator(clf), path)


def _save_figures(out: Path, clf: Any, y_true: Any, proba: Any, report: Any) -> list[Path]:
    """Save the training history, the confusion matrix and the HTML report in ``out``."""
    from skinlesion.metrics import ConfusionMatrixDisplay, RocCurveDisplay

    written = [_plot_history(clf, out / "history.png")]
    display = ConfusionMatrixDisplay.from_probabilities(y_true, proba, classes=clf.classes_)
    written.append(_save_figure(display, out / "confusion_matrix.png"))
    display = RocCurveDisplay.from_predictions(y_true, proba, classes=clf.classes_)
    written.append(_save_figure(display, out / "roc.png"))
    written.append(out / "report.html")
    report.to_html(written[-1], overwrite=True)
    return written


# --------------------------------------------------------------------------------------
# the commands
# --------------------------------------------------------------------------------------
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
    if args.out is not None:
        if args.out.exists() and not args.out.is_dir():
            raise CommandError(f"--out {str(args.out)!r} exists and is not a folder")
        blocker = next((p for p in args.out.parents if p.exists() and not p.is_dir()), None)
        if blocker is not None:
            raise CommandError(
                f"--out {str(args.out)!r} cannot be created: {str(blocker)!r} is a file, not a "
                "folder; choose another path"
            )
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
        written = [model_path, *_save_figures(args.out, clf, y_test, proba, report)]
        print("wrote " + ", ".join(str(p) for p in written))
    return EXIT_OK


def _cmd_train(args: argparse.Namespace) -> int:
    out: Path = args.out
    if out.is_dir():
        raise CommandError(f"--out {str(out)!r} is a folder; give a file name such as model.skl")
    if out.exists() and not args.overwrite:
        raise CommandError(f"{str(out)!r} exists already; pass --overwrite to replace it")
    _check_output(out, "--out")  # before the first epoch, not after the last
    overrides = {**_transfer_overrides(args), **_hardware_overrides(args)}
    _check_no_empty_class(args.data_dir)
    data = _load_labelled(args.data_dir)
    X, y = data["X"], data["y"]
    minimum = 2 if args.validation_fraction == 0 else 3
    _check_classes(y, args.data_dir, minimum=minimum)
    _note(
        args,
        f"{len(X)} images in {str(args.data_dir)!r} ({data['layout']} layout): {_class_counts(y)}",
    )
    groups = data["groups"]
    if groups is not None and args.validation_fraction > 0:
        _note(
            args,
            f"early-stopping validation split by lesion: {len(set(groups))} lesions, "
            "each on one side",
        )
    if args.init is not None:
        _note(args, f"starting from the trunk of {str(args.init)!r} (fine-tune: {args.fine_tune})")
    if args.balance == "weights":
        overrides["class_weight"] = "balanced"
    clf = _make_classifier(args, **overrides)
    model: Any = clf
    if args.balance in ("auto", "over", "under"):
        from skinlesion import make_pipeline

        model = make_pipeline(_rebalancer(args.balance, args.random_state), clf)
    _start_tensorflow(args)
    _fit(args, model, X, y, groups)
    clf = _final_estimator(model)  # samplers act at fit only: the classifier is the model
    _save_or_rescue(clf, out)
    history_path = _plot_history(clf, out.with_name(out.name + ".history.png"))
    print(f"wrote {out} (classes: {', '.join(map(str, clf.classes_))}) and {history_path}")
    return EXIT_OK


def _transfer_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The classifier parameters of the 'starting point' options, with their files checked."""
    overrides: dict[str, Any] = {
        "fine_tune": args.fine_tune,
        "warmup_epochs": args.warmup_epochs,
        "backbone": args.backbone,
    }
    if args.init is not None:
        if not args.init.exists():
            raise CommandError(f"--init model file {str(args.init)!r} does not exist")
        if args.init.is_dir():
            raise CommandError(
                f"--init {str(args.init)!r} is a folder; give a model file from 'train'"
            )
        overrides["init"] = str(args.init)
    weights = args.backbone_weights
    if weights is not None:
        if args.backbone is None:
            raise CommandError(
                "--backbone-weights needs --backbone (the Keras application they belong to); "
                "to start the custom CNN from a trained model, use --init"
            )
        if weights != "imagenet" and not Path(weights).is_file():
            raise CommandError(
                f"--backbone-weights file {weights!r} does not exist; give 'imagenet' or the "
                "path of a weights file"
            )
        overrides["backbone_weights"] = weights
    return overrides


def _hardware_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The classifier parameters of the 'hardware' options."""
    names = ("block", "precision", "jit_compile", "distribute")
    return {name: getattr(args, name) for name in names}


def _rebalancer(kind: str, random_state: int) -> Any:
    from skinlesion import Rebalancer

    method = "under" if kind == "under" else "over"
    return Rebalancer(sampling_strategy="auto", method=method, random_state=random_state)


def _cmd_evaluate(args: argparse.Namespace) -> int:
    import numpy as np

    for option, path in (("--report", args.report), ("--json", args.json)):
        if path is not None:
            _check_output(
                path, option, example="report.html" if option == "--report" else "report.json"
            )
    clf = _load_model(args.model, args.tta)
    data = _load_labelled(args.data_dir)
    X, y = data["X"], np.asarray(data["y"])
    known = {str(c) for c in clf.classes_}
    unknown = sorted({str(c) for c in y} - known)
    if unknown:
        raise CommandError(
            f"{str(args.data_dir)!r} has classes the model was not trained on: "
            f"{', '.join(unknown)} (the model knows {', '.join(sorted(known))})"
        )
    if args.positive is not None and args.positive not in known:
        raise CommandError(
            f"--positive {args.positive!r} is not one of the model's classes: "
            f"{', '.join(sorted(known))}",
            status=EXIT_USAGE,
        )
    _note(args, f"predicting {len(X)} images in {str(args.data_dir)!r} ({_class_counts(y)})")
    _start_tensorflow(args)
    report = _report(clf, X, y, positive=args.positive, args=args)
    print(report)
    if args.report is not None:
        report.to_html(args.report, overwrite=True)
        _note(args, f"wrote {args.report}")
    if args.json is not None:
        args.json.write_text(json.dumps(report.to_dict(), indent=2, default=_jsonable) + "\n")
        _note(args, f"wrote {args.json}")
    return EXIT_OK


def _jsonable(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def _image_arguments(paths: Sequence[Path]) -> list[str]:
    from skinlesion.images import list_image_files

    files: list[str] = []
    for path in paths:
        if path.is_dir():
            found = list_image_files(path)
            if not found:
                raise CommandError(f"no image files in folder {str(path)!r}")
            files.extend(str(p) for p in found)
        elif path.exists():
            files.append(str(path))
        else:
            raise CommandError(f"image {str(path)!r} does not exist")
    return files


def _cmd_predict(args: argparse.Namespace) -> int:
    import numpy as np

    from skinlesion.images import ImageReadError, find_unreadable_images

    clf = _load_model(args.model, args.tta)
    files = _image_arguments(args.images)
    unreadable = find_unreadable_images(files)  # fail early, naming every bad file
    if unreadable:
        raise ImageReadError.from_failures(unreadable)
    _start_tensorflow(args)
    proba = np.asarray(clf.predict_proba(files))
    classes = [str(c) for c in clf.classes_]
    predicted = [classes[i] for i in np.argmax(proba, axis=1)]
    _write_predictions(files, predicted, proba, classes, args.format)
    return EXIT_OK


def _write_predictions(
    files: Sequence[str], predicted: Sequence[str], proba: Any, classes: Sequence[str], fmt: str
) -> None:
    out = sys.stdout
    if fmt == "json":
        rows = [
            {
                "image": f,
                "class": p,
                "probabilities": {c: round(float(v), 6) for c, v in zip(classes, row, strict=True)},
            }
            for f, p, row in zip(files, predicted, proba, strict=True)
        ]
        json.dump(rows, out, indent=2)
        out.write("\n")
    elif fmt == "csv":
        import csv

        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["image", "class", *classes])
        for f, p, row in zip(files, predicted, proba, strict=True):
            writer.writerow([f, p, *(f"{float(v):.6f}" for v in row)])
    else:
        width = max(len("image"), *(len(f) for f in files))
        class_width = max(len("class"), *(len(c) for c in classes))
        columns = [max(len(c), 5) for c in classes]
        header = f"{'image':<{width}}  {'class':<{class_width}}  " + "  ".join(
            f"{c:>{w}}" for c, w in zip(classes, columns, strict=True)
        )
        out.write(header.rstrip() + "\n")
        for f, p, row in zip(files, predicted, proba, strict=True):
            values = "  ".join(f"{float(v):>{w}.3f}" for v, w in zip(row, columns, strict=True))
            out.write(f"{f:<{width}}  {p:<{class_width}}  {values}\n")


def _audit_source(path: Path, what: str) -> Path:
    """A folder for :func:`skinlesion.datasets.audit`, which reads every layout itself.

    HAM10000 is audited with its own ``dx`` codes: its readable name for ``akiec``
    ("actinic keratosis") would hide that the class holds intraepithelial carcinoma.
    """
    _check_folder(path, what)
    return path


def _cmd_audit(args: argparse.Namespace) -> int:
    from skinlesion import datasets

    if args.json is not None:
        _check_output(args.json, "--json", example="audit.json")
    train = _audit_source(args.data_dir, "data folder")
    test = None if args.test is None else _audit_source(args.test, "test folder")
    result = datasets.audit(train, test=test)
    print(result)
    if args.json is not None:
        args.json.write_text(json.dumps(result.to_dict(), indent=2, default=_jsonable) + "\n")
        _note(args, f"wrote {args.json}")
    if args.strict and not result.ok:
        return EXIT_PROBLEMS
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
