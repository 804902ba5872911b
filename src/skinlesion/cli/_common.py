"""Plumbing shared by the commands: errors, exit codes, output, model loading, notes."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

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


#: Images per predict_proba call when the command line shows its progress.
PREDICT_CHUNK = 256


def _predict_proba(clf: Any, X: Any, args: argparse.Namespace) -> Any:
    """``clf.predict_proba(X)``, with a progress line on stderr for more than a chunk.

    The images go to the classifier ``PREDICT_CHUNK`` at a time (the network sees
    each image alone, so the probabilities are those of one call); a terminal shows
    a bar that fills as they are done, a log the line of the finished work.
    """
    import time

    import numpy as np

    from skinlesion._progress import LiveLine, bar, format_duration

    n = len(X)
    if n <= PREDICT_CHUNK or getattr(args, "quiet", False):
        return np.asarray(clf.predict_proba(X))
    line, start, parts = LiveLine(), time.perf_counter(), []
    for begin in range(0, n, PREDICT_CHUNK):
        parts.append(np.asarray(clf.predict_proba(X[begin : begin + PREDICT_CHUNK])))
        done = min(begin + PREDICT_CHUNK, n)
        elapsed = time.perf_counter() - start
        left = elapsed / done * (n - done)
        line.draw(f"predicting [{bar(done / n)}] {done}/{n} images  ~{format_duration(left)} left")
    line.finish(f"predicted {n} images in {format_duration(time.perf_counter() - start)}")
    return np.concatenate(parts)


class _ShowsProgress:
    """A fitted classifier whose ``predict_proba`` shows its progress (see above)."""

    def __init__(self, clf: Any, args: argparse.Namespace) -> None:
        self._clf, self._args = clf, args

    def __getattr__(self, name: str) -> Any:
        return getattr(self._clf, name)

    def predict_proba(self, X: Any) -> Any:
        return _predict_proba(self._clf, X, self._args)


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


def _class_counts(y: Sequence[Any]) -> str:
    import numpy as np

    names, counts = np.unique(np.asarray(y), return_counts=True)
    return ", ".join(f"{n} {c}" for n, c in zip(names, counts, strict=True))


def _load_model(path: Path, tta: int | None = None) -> Any:
    from skinlesion.classifier import load_model

    if not path.exists():
        raise CommandError(f"model file {str(path)!r} does not exist")
    if path.is_dir():
        raise CommandError(f"model {str(path)!r} is a folder; give the model file from 'train'")
    try:
        clf = load_model(path)
    except (ValueError, OSError, EOFError) as err:  # load_model names the file and the fix
        raise CommandError(_one_line(err)) from None
    if tta is not None:
        from skinlesion.model._tta import check_tta

        try:
            check_tta(tta, clf.input_shape_[:2])
        except ValueError as err:
            raise CommandError(_one_line(err)) from None
        clf.set_params(tta=tta)
    return clf


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


def _report(
    clf: Any,
    X: Any,
    y: Any,
    *,
    positive: str | None,
    args: Any,
    subgroups: Any = None,
    saliency: int | None = None,
) -> Any:
    """The clinical report of ``clf`` on images ``X`` with labels ``y``.

    ``saliency`` is the number of Grad-CAM maps of mistakes (None: the report's default).
    """
    from skinlesion.metrics import clinical_report

    kwargs: dict[str, Any] = {"random_state": args.random_state, "subgroups": subgroups}
    if saliency is not None:
        kwargs["saliency"] = saliency
    if positive is not None:
        kwargs["positive"] = positive
    if getattr(args, "n_bootstraps", None) is not None:
        kwargs["n_bootstraps"] = args.n_bootstraps
    return clinical_report.from_estimator(_ShowsProgress(clf, args), X, y, **kwargs)


# --------------------------------------------------------------------------------------
# outputs: standard output, files, figures
# --------------------------------------------------------------------------------------
def _is_stdout(path: Path | None) -> bool:
    """Whether an output option names standard output (``-``, as the convention has it)."""
    return path is not None and str(path) == "-"


def _print_result(args: argparse.Namespace, result: Any, *outputs: Path | None) -> None:
    """Print ``result`` as text: on stdout, or on stderr when an output option took stdout."""
    if not any(_is_stdout(p) for p in outputs):
        print(result)
    elif not args.quiet:
        print(result, file=sys.stderr)


def _write_output(args: argparse.Namespace, path: Path, text: str) -> None:
    """Write ``text`` to the file of an output option, or to stdout for ``-``."""
    if _is_stdout(path):
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        sys.stdout.flush()
        return
    path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    _note(args, f"wrote {path}")


def _to_json(data: Any) -> str:
    return json.dumps(data, indent=2, default=_jsonable) + "\n"


def _jsonable(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def _check_matplotlib(option: str) -> None:
    """Refuse an option that draws plots when matplotlib is missing, before the long work."""
    from skinlesion.metrics.displays._common import NO_MATPLOTLIB, pyplot

    try:
        pyplot()
    except ImportError:
        raise CommandError(f"{option} draws plots: {NO_MATPLOTLIB}") from None


def _save_figure(display: Any, path: Path) -> Path:
    from skinlesion.metrics.displays._common import pyplot

    display.figure_.savefig(path, dpi=110)
    pyplot().close(display.figure_)
    return path


def _plot_history(clf: Any, path: Path) -> Path:
    """Loss and accuracy per epoch, training and validation, in one PNG."""
    from skinlesion.metrics import TrainingHistoryDisplay

    return _save_figure(TrainingHistoryDisplay.from_estimator(clf), path)


def _about(model: Path, data: str) -> dict[str, str]:
    """What an HTML report evaluated: the model file (and when it was saved), data, date."""
    import time

    def when(seconds: float) -> str:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(seconds))

    saved = f" (saved {when(model.stat().st_mtime)})" if model.is_file() else ""
    return {
        "Model": os.path.abspath(model) + saved,
        "Data": data,
        "Date": when(time.time()),
    }
