"""Progress a learner can see while a model trains, and short stored outputs.

Taught in notebook 00, section 4 (the tiny classifier), and used by the training
cells of every notebook: `model.fit(..., verbose=0, callbacks=[progress_bar()])`.

- In a live notebook (JupyterLab, Jupyter Notebook, VS Code, Colab) it draws
  tqdm's progress bars, updated in place: epochs done of the total, the latest
  losses, elapsed and remaining time, and a bar for the batches of the current
  epoch (removed when training ends). tqdm draws them as ipywidgets (7.7 on
  Colab or 8.x), and as text where ipywidgets is missing.
- Where nobody watches (papermill, nbconvert, nbval, CI, output sent to a file)
  it prints one line when training ends, so stored notebooks and logs stay short::

      epochs 1-30 of 30 in 41.2 s: loss 0.0712 -> 0.0301, val_loss 0.0698 -> 0.0310

How it tells the two apart, first match wins:

1. the `mode` argument, then the environment variable `COURSE_PROGRESS`
   (`bar` or `line`);
2. a set `CI` variable means `line`;
3. on Colab, `bar`;
4. in a Jupyter kernel: `bar` when the frontend that sent the running cell
   accepts input requests (`input()`): people's frontends do; papermill,
   nbconvert and nbval execute with nobody to answer, and say so;
5. otherwise (a plain Python process): `bar` on a terminal, `line` when
   standard error goes elsewhere.

Example:
    >>> import keras, numpy as np
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> _ = model.fit(np.zeros((8, 2)), np.zeros(8), epochs=2, verbose=0,
    ...               callbacks=[progress_bar(mode="line")])
    epochs 1-2 of 2 in ... s: loss 0 -> 0
"""

from __future__ import annotations

import numbers
import os
import sys
import time

import keras

__all__ = ["progress_bar"]

MODES = ("bar", "line")


def progress_bar(
    epochs: int | None = None,
    *,
    desc: str | None = None,
    mode: str | None = None,
    **tqdm_kwargs,
) -> keras.callbacks.Callback:
    """A Keras callback that shows training progress: live bars, or one line where nobody watches.

    Pass it to `fit` with `verbose=0`, so that Keras's own progress bar stays off.
    One callback may follow a run that is split over several `fit` calls (each
    continuing with `initial_epoch`): give the run's total `epochs`, and one bar
    (one line) covers them all.

    Args:
        epochs: the total number of epochs of the run; `None` (the default) takes
            them from each `fit` call.
        desc: a label in front of the bar or line, e.g. `"beta=4"` in a loop of runs.
        mode: `"bar"` (tqdm's bars, drawn in place), `"line"` (one line at the
            end) or `None` to decide as the module docstring says.
        **tqdm_kwargs: passed to both tqdm bars (e.g. `file`, `mininterval`).

    Returns:
        A `keras.callbacks.Callback`.

    Raises:
        ValueError: `epochs` not a positive integer, or an unknown `mode`
            (or `COURSE_PROGRESS`).

    Example:
        >>> callback = progress_bar(mode="line", desc="beta=4")
        >>> callback.mode
        'line'
    """
    if epochs is not None and (
        isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral) or epochs < 1
    ):
        raise ValueError(
            f"Expected `epochs` to be a positive integer or None. Received: epochs={epochs!r}"
        )
    if mode is None:
        mode = _automatic_mode()
    elif mode not in MODES:
        raise ValueError(f"Expected `mode` to be one of {MODES} or None. Received: mode={mode!r}")
    kind = _ProgressBars if mode == "bar" else _Progress
    return kind(epochs, desc, mode, tqdm_kwargs)


def _automatic_mode() -> str:
    chosen = os.environ.get("COURSE_PROGRESS", "").strip().lower()
    if chosen:
        if chosen not in MODES:
            raise ValueError(
                f"Expected the environment variable COURSE_PROGRESS to be one of {MODES}. "
                f"Received: COURSE_PROGRESS={chosen!r}"
            )
        return chosen
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        return "line"
    if "google.colab" in sys.modules:
        return "bar"
    kernel = _jupyter_kernel()
    if kernel is not None:
        # ipykernel records, per cell, whether its sender can answer input():
        # JupyterLab, Notebook, VS Code do; papermill, nbconvert and nbval send False.
        return "bar" if getattr(kernel, "_allow_stdin", True) else "line"
    stream = getattr(sys, "stderr", None)
    return "bar" if stream is not None and stream.isatty() else "line"


def _jupyter_kernel():
    """The running ipykernel, or None outside a Jupyter kernel (IPython is not imported here)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return None
    shell = ipython.get_ipython()
    return getattr(shell, "kernel", None)


def _numbers(logs) -> dict[str, float]:
    return {
        key: float(value)
        for key, value in (logs or {}).items()
        if isinstance(value, numbers.Real) or getattr(value, "shape", None) == ()
    }


class _Progress(keras.callbacks.Callback):
    """The callback behind `progress_bar`: tqdm bars (`mode="bar"`) or a summary line."""

    def __init__(self, epochs: int | None, desc: str | None, mode: str, tqdm_kwargs: dict):
        super().__init__()
        self.epochs = epochs
        self.desc = desc
        self.mode = mode
        self._tqdm_kwargs = tqdm_kwargs
        self._epoch_bar = None
        self._batch_bar = None
        self._first_epoch = None  # the first epoch this callback saw, counted from 0
        self._last_epoch = None
        self._first_logs = {}
        self._last_logs = {}
        self._seconds = 0.0  # time inside fit, summed over the calls of a split run
        self._started = None
        self._finished = False

    def _total(self) -> int | None:
        return self.epochs or self.params.get("epochs")

    def on_train_begin(self, logs=None):
        if self._finished:  # the same callback passed to a new run: count it afresh
            self._first_epoch = self._last_epoch = None
            self._first_logs, self._last_logs, self._seconds = {}, {}, 0.0
            self._finished = False
        self._started = time.perf_counter()
        if self.mode != "bar":
            return
        from tqdm.auto import tqdm

        if self._epoch_bar is None:
            self._epoch_bar = tqdm(
                total=self._total(), unit="epoch", desc=self.desc, **self._tqdm_kwargs
            )
        else:
            self._epoch_bar.unpause()  # the time between two fit calls is not training time
        if self._batch_bar is None:
            # Transient: it only says how far the current epoch is.
            self._batch_bar = tqdm(
                total=self.params.get("steps"), unit="batch", leave=False, **self._tqdm_kwargs
            )

    def on_epoch_begin(self, epoch, logs=None):
        if self._first_epoch is None:
            self._first_epoch = epoch
        if self.mode != "bar":
            return
        if self._epoch_bar.n < epoch:  # a resumed run starts at initial_epoch, not 0
            self._epoch_bar.n = epoch
            self._epoch_bar.refresh()
        self._batch_bar.reset(total=self.params.get("steps"))

    def on_epoch_end(self, epoch, logs=None):
        values = _numbers(logs)
        if not self._first_logs:
            self._first_logs = values
        self._last_logs = values
        self._last_epoch = epoch
        if self.mode == "bar":
            self._epoch_bar.set_postfix(values, refresh=False)
            self._epoch_bar.update(epoch + 1 - self._epoch_bar.n)

    def on_train_end(self, logs=None):
        if self._started is not None:
            self._seconds += time.perf_counter() - self._started
            self._started = None
        total = self._total()
        done = (
            self.epochs is None
            or getattr(self.model, "stop_training", False)
            or (self._last_epoch is not None and self._last_epoch + 1 >= total)
        )
        if not done:
            return  # a split run: the next fit call continues this bar
        self._finished = True
        if self.mode == "bar":
            self._batch_bar.close()
            self._epoch_bar.close()
            self._batch_bar = self._epoch_bar = None
        else:
            print(self.summary(), flush=True)

    def summary(self) -> str:
        """One line: the epochs run, the time they took, each metric's first and last value."""
        label = f"{self.desc}: " if self.desc else ""
        if self._last_epoch is None:
            return f"{label}no epoch finished"
        first, last = self._first_epoch + 1, self._last_epoch + 1
        span = f"epoch {last}" if first == last else f"epochs {first}-{last}"
        line = f"{label}{span} of {self._total()} in {self._seconds:.1f} s"
        if first == last:
            changes = [f"{key} {value:.4g}" for key, value in self._last_logs.items()]
        else:
            changes = [
                f"{key} {self._first_logs[key]:.4g} -> {value:.4g}"
                for key, value in self._last_logs.items()
                if key in self._first_logs
            ]
        return line + (": " + ", ".join(changes) if changes else "")


class _ProgressBars(_Progress):
    """`_Progress` with the bar of the current epoch's batches.

    A separate class because a callback with a batch hook makes Keras wait for
    every step's logs; the one-line summary needs none, so it does not have one.
    """

    def on_train_batch_end(self, batch, logs=None):
        self._batch_bar.set_postfix(_numbers(logs), refresh=False)
        self._batch_bar.update(1)
