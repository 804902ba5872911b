"""The training options and the classifier they make, shared by ``demo`` and ``train``."""

from __future__ import annotations

import argparse
import functools
from typing import Any

from skinlesion.cli._parser import (
    _fraction,
    _int_tuple,
    _non_negative_int,
    _positive_float,
    _positive_int,
)

# The training options come from LesionClassifier itself: each option's default is
# the constructor's (inspect.signature) and its help the first sentence of the
# parameter's entry in the class docstring, so that the two cannot drift apart
# (issue #23). The command line departs from the constructor on purpose only here
# and in the keyword arguments of a command's _training_options call:
_CLI_DEFAULTS: dict[str, Any] = {"random_state": 0}  # a run repeats unless told otherwise


@functools.cache  # the class does not change: read its signature and docstring once
def _classifier_parameters() -> dict[str, tuple[Any, str]]:
    """``{name: (default, help)}`` for every parameter of :class:`LesionClassifier`."""
    import inspect

    from skinlesion.classifier import LesionClassifier

    docs = _numpydoc_parameters(inspect.getdoc(LesionClassifier) or "")
    return {
        name: (parameter.default, docs.get(name, ""))
        for name, parameter in inspect.signature(LesionClassifier).parameters.items()
    }


def _numpydoc_parameters(doc: str) -> dict[str, str]:
    """The first sentence of each entry of a numpydoc "Parameters" section, as plain text.

    Examples
    --------
    >>> from skinlesion.cli._training import _numpydoc_parameters
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
    from skinlesion.classifier import LesionClassifier
    from skinlesion.model._hardware import PRECISIONS

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


def _make_classifier(args: argparse.Namespace, **overrides: Any) -> Any:
    from skinlesion.classifier import LesionClassifier

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
    """``--tta`` of ``predict`` and ``evaluate``: help from LesionClassifier's ``tta``."""
    _classifier_option(
        parser,
        "--tta",
        "tta",
        {"tta": None},  # None keeps the model's own setting
        extra="default: the model's own setting, 1 unless it was trained with more",
        show_default=False,
        type=int,
        choices=(1, 2, 4, 8),
        metavar="VIEWS",
    )
