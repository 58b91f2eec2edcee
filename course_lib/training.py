"""Training helpers: monitors that show a GAN learning, and training that survives interruption.

Taught in notebook 06 (sections 2 and 3) and used again in notebook 07.

- `SampleGridMonitor`: a callback that generates images from the *same* fixed
  noise at the end of every epoch, so the learner sees one set of samples
  evolve; `sample_progression` shows them as one figure.
- `gan_curves`: the discriminator's and generator's losses, and the mean
  discriminator outputs on real data, `D(x)`, and on samples, `D(G(z))`.
- `fit_resumable`: `fit` with `keras.callbacks.BackupAndRestore` and a CSV log,
  so a run that is interrupted (a closed laptop, a Colab disconnect) and started
  again continues from its last finished epoch, with the weights, both
  optimizers' state and the full history intact.
- `checkpoint_directory`: where checkpoints go: the run's output folder, or a
  Google Drive folder on Colab when the learner asks for it.

Example:
    >>> monitor = SampleGridMonitor(num_images=16, seed=0)
    >>> history = fit_resumable(gan, dataset, epochs=20, checkpoint_dir=run.path("checkpoints"),
    ...                         callbacks=[monitor])  # doctest: +SKIP
    >>> sample_progression(monitor)  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Sequence
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from course_lib._checks import check_positive_int

__all__ = [
    "SampleGridMonitor",
    "SimulatedInterruption",
    "TrainingInterrupted",
    "checkpoint_directory",
    "clear_checkpoints",
    "fit_resumable",
    "gan_curves",
    "read_history",
    "sample_progression",
]

HISTORY_FILE = "history.csv"


def _finish(fig: Figure) -> Figure:
    """Detach `fig` from pyplot so Jupyter shows it once, as the cell's value."""
    fig.tight_layout()
    plt.close(fig)
    return fig


class SampleGridMonitor(keras.callbacks.Callback):
    """Keep the generator's samples from fixed noise at the end of every epoch.

    Why fixed noise: with fresh noise each epoch, changes in the samples mix
    training progress with sampling luck; with the same `z`, every change is
    the generator's.

    Args:
        num_images: samples per epoch.
        seed: the seed of the fixed noise (NumPy), so a resumed run shows the
            same samples.
        labels: optional class labels, one per image, for conditional
            generators that take `[z, labels]`.
        every_epochs: keep samples every this many epochs (and after the last).
        generator: the network to sample; defaults to `self.model.generator`.
        latent_dim: the noise size; defaults to `self.model.latent_dim`.

    Attributes:
        epochs: the (1-based) epochs at which samples were kept.
        images: a list of arrays `(num_images, H, W, C)`, one per kept epoch.

    Raises:
        ValueError: a non-positive `num_images` or `every_epochs`, or as many
            labels as images is not given.
    """

    def __init__(
        self,
        num_images: int = 16,
        seed: int = 0,
        labels=None,
        every_epochs: int = 1,
        generator=None,
        latent_dim: int | None = None,
    ):
        super().__init__()
        self.num_images = check_positive_int(num_images, "num_images")
        self.every_epochs = check_positive_int(every_epochs, "every_epochs")
        if labels is not None and len(labels) != num_images:
            raise ValueError(
                "Expected one label per image. "
                f"Received: num_images={num_images} and {len(labels)} labels"
            )
        if latent_dim is not None:
            check_positive_int(latent_dim, "latent_dim")
        self.seed = seed
        self.labels = None if labels is None else np.asarray(labels)
        self._generator = generator
        self.latent_dim = latent_dim
        self.noise = None
        self.epochs: list[int] = []
        self.images: list[np.ndarray] = []

    @property
    def generator(self):
        return self._generator if self._generator is not None else self.model.generator

    def on_train_begin(self, logs=None):
        if self.noise is None:
            latent_dim = self.latent_dim or self.model.latent_dim
            rng = np.random.default_rng(self.seed)
            self.noise = rng.standard_normal((self.num_images, latent_dim)).astype("float32")

    def sample(self) -> np.ndarray:
        """The generator's current images for the fixed noise (inference mode)."""
        inputs = self.noise if self.labels is None else [self.noise, self.labels]
        return keras.ops.convert_to_numpy(self.generator(inputs, training=False))

    def on_epoch_end(self, epoch, logs=None):
        number = epoch + 1
        last = self.params.get("epochs") if self.params else None
        if number % self.every_epochs == 0 or number == last:
            self.epochs.append(number)
            self.images.append(self.sample())


def sample_progression(
    monitor: SampleGridMonitor,
    *,
    num_images: int = 8,
    max_rows: int = 8,
    title: str | None = "Samples from fixed noise, epoch by epoch",
    value_range: tuple[float, float] = (-1.0, 1.0),
) -> Figure:
    """One figure of a monitor's samples: a row per kept epoch, a column per noise vector.

    Args:
        monitor: a `SampleGridMonitor` after training.
        num_images: columns (the first noise vectors).
        max_rows: at most this many epochs, spread evenly, always with the last.
        title: the figure's title.
        value_range: the pixel range of the samples.

    Returns:
        The `Figure`.

    Raises:
        ValueError: the monitor holds no samples yet.
    """
    if not monitor.images:
        raise ValueError(
            "Expected a monitor that has kept samples (train with it first). Received: none"
        )
    check_positive_int(num_images, "num_images")
    check_positive_int(max_rows, "max_rows")
    count = len(monitor.images)
    rows = np.unique(np.linspace(0, count - 1, min(max_rows, count)).round().astype(int))
    num_images = min(num_images, monitor.num_images)
    fig, axes = plt.subplots(
        len(rows),
        num_images,
        figsize=(0.9 * num_images + 0.6, 0.9 * len(rows) + (0.4 if title else 0)),
        squeeze=False,
    )
    for r, index in enumerate(rows):
        images = np.asarray(monitor.images[index])
        for c in range(num_images):
            ax = axes[r, c]
            ax.imshow(images[c, ..., 0], cmap="gray", vmin=value_range[0], vmax=value_range[1])
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(f"epoch {monitor.epochs[index]}", fontsize=8)
    if title:
        fig.suptitle(title)
    return _finish(fig)


def gan_curves(
    history,
    *,
    loss_keys: Sequence[str] = ("d_loss", "g_loss"),
    output_keys: Sequence[str] = ("d_real", "d_fake"),
    title: str | None = None,
) -> Figure:
    """Curves of a GAN's training: the two losses, and `D(x)` and `D(G(z))`.

    The right-hand panel is the one to read: a healthy run keeps `D(x)` above
    and `D(G(z))` below 0.5 without either pinned at 1 or 0 (a discriminator
    that wins outright gives the generator no useful gradient).

    Args:
        history: a `keras.callbacks.History` or a dict of lists (e.g. from
            `fit_resumable`).
        loss_keys: the loss curves of the left panel.
        output_keys: the curves of the right panel (empty to skip it, e.g. for
            a critic without probabilities).
        title: a title for the figure.

    Returns:
        The `Figure` with one or two axes.

    Raises:
        ValueError: a key that is not in the history.
    """
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict) or not logs:
        raise ValueError(
            "Expected a Keras History or a non-empty dict of metric lists. "
            f"Received: {type(history).__name__}"
        )
    missing = [k for k in (*loss_keys, *output_keys) if k not in logs]
    if missing:
        raise ValueError(f"Expected keys among {sorted(logs)}. Received: {missing}")
    panels = [("losses", loss_keys)] + (
        [("discriminator outputs", output_keys)] * bool(output_keys)
    )
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 3.2), squeeze=False)
    for ax, (name, keys) in zip(axes.flat, panels, strict=True):
        for key in keys:
            values = np.asarray(logs[key], dtype=float)
            ax.plot(np.arange(1, len(values) + 1), values, marker="o", markersize=3, label=key)
        if name == "discriminator outputs":
            ax.axhline(0.5, color="grey", linestyle="--", linewidth=1, label="0.5 (equilibrium)")
            ax.set_ylim(0, 1)
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return _finish(fig)


# --------------------------------------------------------------------------- resumable training


class TrainingInterrupted(RuntimeError):
    """Raised by `SimulatedInterruption` to stop `fit` as a crash or a disconnect would."""


class SimulatedInterruption(keras.callbacks.Callback):
    """Stop training abruptly after `after_epochs` finished epochs (for demonstrations and tests).

    Raises `TrainingInterrupted` at the start of the next epoch, as a
    disconnect between two epochs would; the checkpoint of the last finished
    epoch is already on disk by then.

    Args:
        after_epochs: how many epochs finish before the "crash".
    """

    def __init__(self, after_epochs: int):
        super().__init__()
        self.after_epochs = check_positive_int(after_epochs, "after_epochs")

    def on_epoch_begin(self, epoch, logs=None):
        if epoch >= self.after_epochs:
            raise TrainingInterrupted(f"simulated interruption after epoch {epoch}")


def checkpoint_directory(run_or_path, name: str = "checkpoints", use_drive: bool = False) -> Path:
    """Where to keep checkpoints: the run's output folder, or Google Drive on Colab.

    Why Drive: a Colab runtime's disk disappears with the runtime; a checkpoint
    on Drive survives a disconnect, and `fit_resumable` continues from it.
    Drive is mounted (an interactive step) only on Colab and only when asked.

    Args:
        run_or_path: a `course_lib.run.Run` (its folder is used) or a folder path.
        name: the subfolder for this model's checkpoints.
        use_drive: on Colab, put the folder under
            `MyDrive/image-synthesis-checkpoints/<notebook>/`; elsewhere this
            prints a note and uses the local folder.

    Returns:
        The folder (created).
    """
    from course_lib.run import in_colab

    if hasattr(run_or_path, "directory"):
        local = Path(run_or_path.directory) / name
        notebook = getattr(run_or_path, "notebook", "run")
    else:
        local = Path(run_or_path) / name
        notebook = Path(run_or_path).name
    folder = local
    if use_drive:
        if in_colab():
            from google.colab import drive  # only importable on Colab

            drive.mount("/content/drive")
            folder = Path("/content/drive/MyDrive/image-synthesis-checkpoints") / notebook / name
        else:
            print(f"Not on Colab: checkpoints stay in {local}")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def clear_checkpoints(checkpoint_dir) -> None:
    """Delete a checkpoint folder, so the next `fit_resumable` starts from scratch."""
    path = Path(checkpoint_dir)
    if path.exists():
        shutil.rmtree(path)


def read_history(checkpoint_dir) -> dict[str, list[float]]:
    """The whole history of a resumable run, read from its CSV log (epochs in order).

    An epoch logged twice (the run was interrupted after logging it but before
    its checkpoint was written, then repeated) keeps its latest row.
    """
    path = Path(checkpoint_dir) / HISTORY_FILE
    if not path.exists():
        return {}
    rows: dict[int, dict[str, str]] = {}
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            rows[int(row.pop("epoch"))] = row
    history: dict[str, list[float]] = {}
    for epoch in sorted(rows):
        for key, value in rows[epoch].items():
            history.setdefault(key, []).append(float("nan") if value == "NA" else float(value))
    # CSVLogger adds empty `val_*` columns ("NA") when there is no validation data.
    return {k: v for k, v in history.items() if not all(np.isnan(x) for x in v)}


def fit_resumable(
    model: keras.Model,
    dataset,
    epochs: int,
    checkpoint_dir,
    *,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: int = 2,
    **fit_kwargs,
) -> keras.callbacks.History:
    """Train with `fit` so that an interrupted run continues where it stopped.

    `keras.callbacks.BackupAndRestore` writes the model's variables (the
    networks, both optimizers' moments and iteration counts, the noise
    generator's state) and the epoch number at the end of every epoch; when
    `fit_resumable` is called again with the same folder, it restores them and
    runs only the epochs still missing. A `CSVLogger` in the same folder keeps
    every epoch's metrics, so the returned history covers the whole run.

    The checkpoint is kept after training, so calling again with a larger
    `epochs` trains further. To start afresh, call `clear_checkpoints` first.

    Args:
        model: a compiled, built model (e.g. a `GAN`, whose `compile` builds
            both optimizers so their state is restored exactly).
        dataset: the training data (a `tf.data.Dataset` or arrays).
        epochs: the total number of epochs of the run (not the number still to do).
        checkpoint_dir: the folder for this run's checkpoint and log (see
            `checkpoint_directory`); use one folder per model.
        callbacks: more callbacks, e.g. a `SampleGridMonitor`.
        verbose: `fit`'s verbosity (2: one line per epoch, no progress bars).
        **fit_kwargs: passed to `fit` (not `initial_epoch`, which the checkpoint sets).

    Returns:
        A `History` whose `.history` holds every epoch of the run so far,
        including those before an interruption.

    Raises:
        ValueError: a non-positive `epochs`, or `initial_epoch` given.
    """
    check_positive_int(epochs, "epochs")
    if "initial_epoch" in fit_kwargs:
        raise ValueError(
            "Expected no `initial_epoch`: the checkpoint decides where training resumes. "
            f"Received: initial_epoch={fit_kwargs['initial_epoch']!r}"
        )
    folder = Path(checkpoint_dir)
    folder.mkdir(parents=True, exist_ok=True)
    backup = keras.callbacks.BackupAndRestore(str(folder / "backup"), delete_checkpoint=False)
    logger = keras.callbacks.CSVLogger(str(folder / HISTORY_FILE), append=True)
    # The logger comes before the backup so an epoch is logged before it is marked done.
    history = model.fit(
        dataset,
        epochs=epochs,
        callbacks=[logger, backup, *callbacks],
        verbose=verbose,
        **fit_kwargs,
    )
    full = read_history(folder)
    if full:
        history.history = full
        history.epoch = list(range(len(next(iter(full.values())))))
    return history
