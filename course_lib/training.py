"""Training helpers: monitors that show a GAN learning, and training that survives interruption.

Taught in notebook 06, sections 2 and 3, and used again in notebook 07.

- `SampleGridMonitor`: a callback that generates images from the *same* fixed
  noise at the end of every epoch, so the learner sees one set of samples
  evolve; `course_lib.plotting.sample_progression` shows them as one figure
  (and `course_lib.plotting.gan_curves` the losses and discriminator outputs).
- `fit_resumable`: `fit` with a checkpoint at every epoch's end and a CSV log,
  so a run that is interrupted (a closed laptop, a Colab disconnect) and started
  again continues from its last finished epoch, with the weights, both
  optimizers' state, the noise generator's state, the data order and the full
  history intact: as if it had never stopped.
- `checkpoint_directory`: where checkpoints go: the run's output folder, or a
  Google Drive folder on Colab when the learner asks for it.

All of them work under a `tf.distribute` strategy (`course_lib.distribute`) for a
model built and compiled inside `strategy.scope()`.

Example:
    >>> monitor = SampleGridMonitor(num_images=16, seed=0)
    >>> history = fit_resumable(gan, dataset, epochs=20, checkpoint_dir=run.path("checkpoints"),
    ...                         callbacks=[monitor])  # doctest: +SKIP
    >>> plotting.sample_progression(monitor)  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import weakref
from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from course_lib import distribute
from course_lib._checks import check_positive_int

__all__ = [
    "EpochEvaluation",
    "SampleGridMonitor",
    "SimulatedInterruption",
    "TrainingInterrupted",
    "checkpoint_directory",
    "clear_checkpoints",
    "fit_resumable",
    "read_history",
]

HISTORY_FILE = "history.csv"


class EpochEvaluation(keras.callbacks.Callback):
    """Measure the model every few epochs with a function of yours, and keep the values.

    For a figure that training's own losses cannot give, such as a GAN's FID
    against validation digits over the epochs (notebook 06): it tells whether
    more epochs still help, on data that is not the test split.

    Args:
        evaluate: a function `model -> float`, called after the chosen epochs.
        every_epochs: evaluate every this many epochs (and after the last).

    Attributes:
        epochs: the (1-based) epochs evaluated.
        values: the value at each of them.

    Example:
        >>> monitor = EpochEvaluation(lambda model: 1.0, every_epochs=5)
        >>> monitor.epochs, monitor.values
        ([], [])
    """

    def __init__(self, evaluate, every_epochs: int = 1):
        super().__init__()
        if not callable(evaluate):
            raise ValueError(
                f"Expected `evaluate` to be a function model -> float. Received: {evaluate!r}"
            )
        self.evaluate = evaluate
        self.every_epochs = check_positive_int(every_epochs, "every_epochs")
        self.epochs: list[int] = []
        self.values: list[float] = []

    def on_epoch_end(self, epoch, logs=None):
        number = epoch + 1
        last = self.params.get("epochs") if self.params else None
        if number % self.every_epochs == 0 or number == last:
            self.epochs.append(number)
            self.values.append(float(self.evaluate(self.model)))


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


def _complete_rows(text: str) -> str:
    """`text` without a last row that a killed process left half-written (no line end)."""
    return text if text.endswith("\n") else text[: text.rfind("\n") + 1]


def read_history(checkpoint_dir) -> dict[str, list[float]]:
    """The whole history of a resumable run, read from its CSV log (epochs in order).

    An epoch logged twice (the run was interrupted after logging it but before
    its checkpoint was written, then repeated) keeps its latest row.
    """
    path = Path(checkpoint_dir) / HISTORY_FILE
    if not path.exists():
        return {}
    rows: dict[int, dict[str, str]] = {}
    for row in csv.DictReader(io.StringIO(_complete_rows(path.read_text()))):
        rows[int(row.pop("epoch"))] = row
    history: dict[str, list[float]] = {}
    for epoch in sorted(rows):
        for key, value in rows[epoch].items():
            history.setdefault(key, []).append(float("nan") if value == "NA" else float(value))
    # CSVLogger adds empty `val_*` columns ("NA") when there is no validation data.
    return {k: v for k, v in history.items() if not all(np.isnan(x) for x in v)}


# A checkpoint is a folder `checkpoint-<number of finished epochs>` with these two files.
CHECKPOINT_NAME = re.compile(r"checkpoint-(\d+)")
WEIGHTS_FILE = "model.weights.h5"
STATE_FILE = "state.json"
KEEP_CHECKPOINTS = 2  # the newest, and one to fall back on should it be damaged


def _random_state_variables(model: keras.Model) -> list:
    """The state of every `keras.random.SeedGenerator` of `model`, its layers and sub-models.

    Why: `model.variables` is `model.weights` plus these states (a GAN's noise,
    each `Dropout` layer's masks), but `save_weights` keeps only the weights; a
    resumed run would otherwise draw its noise again from the start.
    """
    weights = {id(w) for w in model.weights}
    return [v for v in model.variables if id(v) not in weights]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _checkpoints(folder: Path) -> list[Path]:
    """The finished checkpoints in `folder`, newest first."""
    found = []
    for path in folder.iterdir():
        match = CHECKPOINT_NAME.fullmatch(path.name)
        if match and path.is_dir():
            found.append((int(match.group(1)), path))
    return [path for _, path in sorted(found, reverse=True)]


class _EpochCheckpoint(keras.callbacks.Callback):
    """Write a checkpoint at the end of every epoch: under a temporary name, then renamed."""

    def __init__(self, folder: Path):
        super().__init__()
        self.folder = folder

    def on_epoch_end(self, epoch, logs=None):
        final = self.folder / f"checkpoint-{epoch + 1:04d}"
        partial = final.with_name(final.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        # The networks and every optimizer's state (moments, iteration counts).
        self.model.save_weights(str(partial / WEIGHTS_FILE))
        state = {
            "epochs_done": epoch + 1,
            "random_state": [
                keras.ops.convert_to_numpy(v).tolist() for v in _random_state_variables(self.model)
            ],
            # Checked before loading, so a damaged or half-copied file is never loaded.
            "weights_sha256": _sha256(partial / WEIGHTS_FILE),
        }
        (partial / STATE_FILE).write_text(json.dumps(state))
        if final.exists():  # this epoch was trained before, from a damaged checkpoint
            shutil.rmtree(final)
        # A rename is atomic: a process killed before it leaves only a ".partial" folder.
        os.replace(partial, final)
        for old in _checkpoints(self.folder)[KEEP_CHECKPOINTS:]:
            shutil.rmtree(old)


def _load_checkpoint(model: keras.Model, path: Path, random_state: list) -> None:
    """Load the weights, the optimizers' state and the random state of checkpoint `path`."""
    if not model.built:
        raise ValueError(
            "Expected a built model to restore a checkpoint into (give it an `Input`, or "
            f"call it on a batch). Received: the unbuilt model {model.name!r}"
        )
    variables = _random_state_variables(model)
    if model.optimizer is not None and not model.optimizer.built:
        # A Keras optimizer makes its variables at its first step: make them now to load into.
        model.optimizer.build(model.trainable_variables)
    try:
        if len(random_state) != len(variables):
            raise ValueError(
                f"{len(random_state)} random-number states, the model has {len(variables)}"
            )
        model.load_weights(str(path / WEIGHTS_FILE))
    except ValueError as error:
        first_line = str(error).splitlines()[0]  # Keras's message goes on with whole arrays
        raise ValueError(
            "Expected a checkpoint written by this model (the same networks and optimizers; "
            "call `clear_checkpoints` to start afresh). "
            f"Received: {path}, which does not fit: {first_line}"
        ) from error
    for variable, value in zip(variables, random_state, strict=True):
        variable.assign(np.asarray(value, dtype=variable.dtype))


def _restore_newest(model: keras.Model, folder: Path) -> int:
    """Restore the newest intact checkpoint in `folder`; return its finished epochs (0: none)."""
    for partial in folder.glob("checkpoint-*.partial"):
        print(f"Ignoring {partial.name}: the process writing it was stopped.")
        shutil.rmtree(partial)
    checkpoints = _checkpoints(folder)
    for path in checkpoints:
        try:
            state = json.loads((path / STATE_FILE).read_text())
            if _sha256(path / WEIGHTS_FILE) != state["weights_sha256"]:
                raise ValueError("its weights file does not match its SHA-256 digest")
            epochs_done, random_state = int(state["epochs_done"]), state["random_state"]
        except (OSError, ValueError, KeyError) as error:
            print(f"Skipping the damaged checkpoint {path}: {error}")
            continue
        _load_checkpoint(model, path, random_state)
        return epochs_done
    if checkpoints:
        print(f"No intact checkpoint in {folder}: training starts from scratch.")
    return 0


class _DataReader(keras.Model):
    """A model whose training step only reads its batch: `fit` with it replays epochs of data."""

    def __init__(self):
        super().__init__()
        self.built = True  # nothing to build

    def train_step(self, data):
        return {"batches": keras.ops.zeros(())}  # fit() needs something to log

    def _maybe_symbolic_build(self, *args, **kwargs):
        # Nothing to build. Under a strategy's scope Keras would otherwise open one more
        # iterator on the data to build from, and the replay would be one order ahead.
        return None


# The tf.data datasets this Python process has already trained on with `fit_resumable`.
_DATASETS_USED = weakref.WeakSet()


def _replay_data_order(dataset, epochs_done: int, steps_per_epoch=None) -> None:
    """Read `dataset` for `epochs_done` epochs, without training, as `fit` would have.

    Why: `dataset.shuffle(..., seed=s)` draws a new order for each iterator made
    from it (at least one per epoch; Keras 3.15 makes two), so a dataset
    built afresh in a new session starts again from its first epoch's order.
    Reading it through `fit` makes the same iterators the interrupted run made,
    so every resumed epoch gets the uninterrupted run's order.
    """
    reader = _DataReader()
    reader.compile(optimizer=None)
    # shuffle=False: a dataset orders itself (Keras would only warn that it ignores True).
    reader.fit(
        dataset, epochs=epochs_done, steps_per_epoch=steps_per_epoch, shuffle=False, verbose=0
    )


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
    """Train with `fit` so that an interrupted run continues exactly where it stopped.

    At the end of every epoch a checkpoint is written: the networks, every
    optimizer's state (moments, iteration counts), the state of every
    `keras.random.SeedGenerator` the model owns (the noise, dropout masks) and
    the number of finished epochs. When `fit_resumable` is called again with
    the same folder, it restores the newest checkpoint and runs only the epochs
    still missing. A dataset that has not been trained on in this Python session
    (a new session builds its own) is first read, without training, for the
    epochs already done, so each later epoch gets the data order of the
    uninterrupted run. With `keras.utils.set_random_seed` and deterministic ops
    (`tf.config.experimental.enable_op_determinism()`), a run resumed in a new
    process ends with exactly the weights of one never interrupted (on CPU).

    A checkpoint is written under a temporary name and then renamed, and its
    weights are checked against their SHA-256 digest before loading: one left
    half-written by a dying process is never loaded (the one before it is).
    A `CSVLogger` in the same folder keeps every epoch's metrics, so the
    returned history covers the whole run.

    The checkpoints are kept after training, so calling again with a larger
    `epochs` trains further. To start afresh, call `clear_checkpoints` first.

    Under a `tf.distribute` strategy, build and compile the model inside
    `strategy.scope()` (it is checked); the checkpoint is restored into the
    mirrored variables, and the data order is replayed as on one device.

    Not restored: the order of arrays shuffled by `fit` (pass a `tf.data.Dataset`,
    e.g. from `make_tf_dataset`, or `shuffle=False`); the position in a dataset
    that `steps_per_epoch` splits across epochs; randomness drawn outside the
    model's SeedGenerators (NumPy, Python's `random`).

    Args:
        model: a compiled, built model (e.g. a `GAN`, whose `compile` builds
            both optimizers so their state is restored exactly).
        dataset: the training data (a `tf.data.Dataset` or arrays).
        epochs: the total number of epochs of the run (not the number still to do).
        checkpoint_dir: the folder for this run's checkpoints and log (see
            `checkpoint_directory`); use one folder per model.
        callbacks: more callbacks, e.g. a `SampleGridMonitor`.
        verbose: `fit`'s verbosity (2: one line per epoch, no progress bars).
        **fit_kwargs: passed to `fit` (not `initial_epoch`, which the checkpoint sets).

    Returns:
        A `History` whose `.history` holds every epoch of the run so far,
        including those before an interruption.

    Raises:
        ValueError: a non-positive `epochs`, `initial_epoch` given, a model
            with weights made outside its strategy's scope, or a checkpoint that
            another model wrote.
    """
    check_positive_int(epochs, "epochs")
    if "initial_epoch" in fit_kwargs:
        raise ValueError(
            "Expected no `initial_epoch`: the checkpoint decides where training resumes. "
            f"Received: initial_epoch={fit_kwargs['initial_epoch']!r}"
        )
    distribute.check_model_strategy(model)
    folder = Path(checkpoint_dir)
    folder.mkdir(parents=True, exist_ok=True)
    # Variables made while restoring (an optimizer's slots) belong in the model's strategy.
    with distribute.model_scope(model):
        epochs_done = _restore_newest(model, folder)
    if isinstance(dataset, tf.data.Dataset):
        # A dataset this session has trained on has advanced already: no replay.
        if 0 < epochs_done < epochs and dataset not in _DATASETS_USED:
            _replay_data_order(dataset, epochs_done, fit_kwargs.get("steps_per_epoch"))
        _DATASETS_USED.add(dataset)
    log = folder / HISTORY_FILE
    if log.exists() and not log.read_text().endswith("\n"):
        # A killed process left a half-written row: new rows must not be appended to it.
        log.write_text(_complete_rows(log.read_text()))
    logger = keras.callbacks.CSVLogger(str(log), append=True)
    # The logger comes before the checkpoint so an epoch is logged before it is marked done.
    history = model.fit(
        dataset,
        epochs=epochs,
        initial_epoch=epochs_done,
        callbacks=[logger, _EpochCheckpoint(folder), *callbacks],
        verbose=verbose,
        **fit_kwargs,
    )
    full = read_history(folder)
    if full:
        history.history = full
        history.epoch = list(range(len(next(iter(full.values())))))
    return history
