"""Progress lines: one writer and one bar for every long job of the package.

:class:`LiveLine` writes one line of progress: on a terminal it is redrawn in
place as the work goes on; in a log file or a pipe only the finished line is
written, so the output stays readable. :func:`bar` draws the bar. The training
display (:class:`EpochProgress`, one line per epoch with an estimate of the time
left, used by the ``skinlesion`` command line) and the downloads of
:mod:`skinlesion.datasets` both draw through them.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

__all__ = ["EpochProgress", "LiveLine", "bar", "format_duration", "make_progress_callback"]

# Keras metric names -> shorter column names.
_SHORT = {"accuracy": "acc", "val_accuracy": "val_acc"}


def format_duration(seconds: float) -> str:
    """Format a duration for people: ``'42s'``, ``'3m05s'``, ``'1h02m'``.

    Examples
    --------
    >>> from skinlesion._progress import format_duration
    >>> format_duration(4.2), format_duration(185), format_duration(3720)
    ('4s', '3m05s', '1h02m')
    """
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def bar(fraction: float, width: int = 20) -> str:
    """A progress bar of ``width`` characters, ``fraction`` of it filled.

    Examples
    --------
    >>> from skinlesion._progress import bar
    >>> bar(0.25, width=8)
    '##------'
    """
    filled = round(width * min(max(float(fraction), 0.0), 1.0))
    return "#" * filled + "-" * (width - filled)


class LiveLine:
    """One line of progress on a stream, redrawn in place on a terminal.

    Parameters
    ----------
    stream : file-like, default=sys.stderr
        Where to write.
    live : bool or None, default=None
        Redraw the line as the work goes on; ``None`` does so when ``stream`` is
        a terminal. When not live, only :meth:`finish` writes.
    interval : float, default=0.1
        The least time between two redraws, in seconds.
    clock : callable, default=time.perf_counter
        Returns the time in seconds (replaceable in tests).

    Examples
    --------
    >>> import io
    >>> from skinlesion._progress import LiveLine
    >>> out = io.StringIO()
    >>> line = LiveLine(stream=out)
    >>> line.draw("half way")  # not a terminal: nothing is drawn
    >>> line.finish("done")
    >>> out.getvalue()
    'done\\n'
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        live: bool | None = None,
        interval: float = 0.1,
        clock: Any = time.perf_counter,
    ) -> None:
        self.stream = sys.stderr if stream is None else stream
        if live is None:
            isatty = getattr(self.stream, "isatty", None)
            live = bool(isatty and isatty())
        self.live = live
        self.interval = interval
        self.clock = clock
        self.last_draw: float | None = None  # when the line was last drawn

    def due(self) -> bool:
        """Whether a redraw now would be shown (live, and ``interval`` since the last)."""
        if not self.live:
            return False
        now = self.clock()
        if self.last_draw is not None and now - self.last_draw < self.interval:
            return False
        self.last_draw = now
        return True

    def draw(self, text: str) -> None:
        """Redraw the line as ``text`` (when live and due)."""
        if self.due():
            self.stream.write("\r" + text + "\x1b[K")
            self.stream.flush()

    def finish(self, text: str) -> None:
        """Write the finished line, replacing the drawn one on a terminal."""
        self.stream.write(("\r" + text + "\x1b[K" if self.live else text) + "\n")
        self.stream.flush()


class EpochProgress:
    """Formats and writes the progress of a training run, one line per epoch.

    This class holds no Keras state, so it is easy to test; the callback made
    by :func:`make_progress_callback` forwards Keras' events to it.

    Parameters
    ----------
    epochs : int
        The largest number of epochs the run may take (early stopping can end
        it sooner, so the time left is an upper estimate).
    stream : file-like, default=sys.stderr
        Where to write.
    width : int, default=20
        Width of the bar, in characters.
    live : bool or None, default=None
        Redraw the current line as batches finish; ``None`` does so when
        ``stream`` is a terminal.
    clock : callable, default=time.perf_counter
        Returns the time in seconds (replaceable in tests).

    Examples
    --------
    >>> import io
    >>> from skinlesion._progress import EpochProgress
    >>> ticks = iter([0.0, 0.0, 2.0, 2.0, 4.0])
    >>> out = io.StringIO()
    >>> progress = EpochProgress(epochs=2, stream=out, clock=lambda: next(ticks))
    >>> progress.train_begin()
    >>> progress.epoch_begin(0)
    >>> progress.epoch_end(0, {"loss": 0.9, "accuracy": 0.5})
    >>> print(out.getvalue().strip())
    epoch 1/2 [##########----------]  loss 0.900  acc 0.500  2s/epoch  ~2s left
    """

    def __init__(
        self,
        epochs: int,
        *,
        stream: TextIO | None = None,
        width: int = 20,
        live: bool | None = None,
        clock: Any = time.perf_counter,
    ) -> None:
        self.epochs = max(1, int(epochs))
        self.line = LiveLine(stream, live=live, clock=clock)
        self.stream, self.live, self.clock = self.line.stream, self.line.live, clock
        self.width = width
        self.steps: int | None = None
        self._train_start = 0.0
        self._epoch_start = 0.0
        self._epoch_times: list[float] = []

    # -- events ---------------------------------------------------------------
    def train_begin(self, steps: int | None = None) -> None:
        """Start timing the run; ``steps`` is the number of batches per epoch."""
        self.steps = steps
        self._train_start = self.clock()

    def epoch_begin(self, epoch: int) -> None:
        """Start timing epoch ``epoch`` (0-based)."""
        self._epoch_start = self.clock()

    def batch_end(self, epoch: int, batch: int, logs: dict[str, float] | None = None) -> None:
        """Redraw the current epoch's line (only when live, at most 10 times a second)."""
        if not self.steps or not self.line.due():
            return
        done = (batch + 1) / self.steps
        elapsed = self.line.last_draw - self._epoch_start  # due() just read the clock
        per_epoch = elapsed / done if done > 0 else 0.0
        left = per_epoch * (1 - done) + self._mean_epoch(per_epoch) * (self.epochs - epoch - 1)
        line = self._line(epoch, done, logs or {}, f"~{format_duration(left)} left")
        self.stream.write("\r" + line + "\x1b[K")
        self.stream.flush()

    def epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        """Write the finished epoch's line with its duration and the time left."""
        duration = self.clock() - self._epoch_start
        self._epoch_times.append(duration)
        left = self._mean_epoch(duration) * (self.epochs - epoch - 1)
        tail = f"{format_duration(duration)}/epoch"
        if epoch + 1 < self.epochs:
            tail += f"  ~{format_duration(left)} left"
        self.line.finish(self._line(epoch, 1.0, logs or {}, tail))

    def train_end(self) -> None:
        """Write the total training time, and say so when early stopping ended the run."""
        total = self.clock() - self._train_start
        done = len(self._epoch_times)
        note = ""
        if done < self.epochs:
            note = f" (early stopping after {done} of {self.epochs} epochs)"
        self.stream.write(f"trained in {format_duration(total)}{note}\n")
        self.stream.flush()

    # -- formatting -------------------------------------------------------------
    def _mean_epoch(self, fallback: float) -> float:
        # The first epoch also builds the graph (often twice as slow): leave it out of
        # the estimate once a later epoch has been timed.
        times = (self._epoch_times[1:] or self._epoch_times)[-5:]
        return sum(times) / len(times) if times else fallback

    def _line(self, epoch: int, done: float, logs: dict[str, float], tail: str) -> str:
        digits = len(str(self.epochs))
        overall = (epoch + min(max(done, 0.0), 1.0)) / self.epochs  # the bar shows the whole run
        metrics = "  ".join(
            f"{_SHORT.get(name, name)} {float(logs[name]):.3f}"
            for name in ("loss", "accuracy", "val_loss", "val_accuracy")
            if name in logs
        )
        parts = [
            f"epoch {epoch + 1:>{digits}}/{self.epochs} [{bar(overall, self.width)}]",
            metrics,
            tail,
        ]
        return "  ".join(p for p in parts if p)


def make_progress_callback(epochs: int, **kwargs: Any) -> Any:
    """A Keras callback that reports training progress through :class:`EpochProgress`.

    Keras is imported when this is called, not when the module is imported.

    Parameters
    ----------
    epochs : int
        The largest number of epochs of the run.
    **kwargs
        Passed to :class:`EpochProgress` (``stream``, ``width``, ``live``).

    Returns
    -------
    callback : keras.callbacks.Callback

    Examples
    --------
    >>> from skinlesion._progress import make_progress_callback
    >>> callback = make_progress_callback(epochs=3)
    >>> callback.progress.epochs
    3
    """
    from skinlesion._tf import import_tf

    import_tf()
    import keras

    class _KerasProgress(keras.callbacks.Callback):
        def __init__(self, progress: EpochProgress) -> None:
            super().__init__()
            self.progress = progress
            self._epoch = 0

        def on_train_begin(self, logs: Any = None) -> None:
            steps = (self.params or {}).get("steps")
            self.progress.train_begin(int(steps) if steps else None)

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self._epoch = epoch
            self.progress.epoch_begin(epoch)

        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            self.progress.batch_end(self._epoch, batch, _floats(logs))

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            self.progress.epoch_end(epoch, _floats(logs))

        def on_train_end(self, logs: Any = None) -> None:
            self.progress.train_end()

    return _KerasProgress(EpochProgress(epochs, **kwargs))


def _floats(logs: Any) -> dict[str, float]:
    out = {}
    for name, value in dict(logs or {}).items():
        try:
            out[name] = float(value)
        except (TypeError, ValueError):
            continue
    return out
