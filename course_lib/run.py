"""What every notebook run needs: seeds, a device report, and its output folder.

Taught in notebook 00, sections 1 ("Your machine") and 3 ("Profiles, seeds and outputs").

Each run writes to `outputs/<notebook-stem>/` (the root moves with the
environment variable `COURSE_OUTPUT_DIR`): a flat `metrics.json` with the
profile, the wall time, the dataset actually used and the notebook's headline
figures, and for generative notebooks a `samples.npz` of 2,000 uint8 images.
The course's main job (`tools/run_notebooks.py`) reads them.

Example:
    >>> run = start_run("01_autoencoders", profile="smoke")  # doctest: +ELLIPSIS
    Run of 01_autoencoders in the 'smoke' profile; outputs go to .../01_autoencoders
    >>> path = run.save_metrics(dataset="mnist: ...", test_mse=0.01)
    >>> path.name
    'metrics.json'
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

from course_lib._checks import check_choice

__all__ = [
    "PROFILES",
    "Run",
    "device_report",
    "in_colab",
    "output_root",
    "set_seed",
    "start_run",
]

PROFILES = ("full", "smoke")


def set_seed(seed: int = 0, deterministic: bool = False) -> None:
    """Seed Python, NumPy and TensorFlow at once (`keras.utils.set_random_seed`).

    Args:
        seed: the seed.
        deterministic: also ask TensorFlow for deterministic kernels
            (`tf.config.experimental.enable_op_determinism`): reruns on the same
            hardware and software are then bit-identical, on a GPU too, at some
            cost in speed (an op with no deterministic kernel raises an error).
            Without it, CPU runs usually repeat anyway; GPU runs differ slightly.
    """
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(int(seed))
    # Random ops inside tf.data maps (e.g. training noise) draw from TF's global
    # generator, which set_random_seed does not reseed.
    tf.random.set_global_generator(tf.random.Generator.from_seed(int(seed)))
    if deterministic:
        tf.config.experimental.enable_op_determinism()


def in_colab() -> bool:
    """Whether this code runs on Google Colab."""
    return "google.colab" in sys.modules


def _in_kaggle() -> bool:
    return "KAGGLE_KERNEL_RUN_TYPE" in os.environ


def device_report(print_report: bool = True) -> dict:
    """Describe the software and the accelerator, with a hint when there is no GPU.

    Returns:
        A dict with `python`, `tensorflow`, `keras`, `numpy`, `gpus` (a list of
        names), `platform` (`"colab"`, `"kaggle"` or `"local"`) and `hint`.
    """
    import keras
    import tensorflow as tf

    gpus = [d.name for d in tf.config.list_physical_devices("GPU")]
    platform = "colab" if in_colab() else "kaggle" if _in_kaggle() else "local"
    if gpus:
        hint = f"{len(gpus)} GPU(s) found: training runs there."
    elif platform == "colab":
        hint = "No GPU: in Colab choose Runtime > Change runtime type > T4 GPU, then rerun."
    elif platform == "kaggle":
        hint = "No GPU: in Kaggle open Settings > Accelerator > GPU, then rerun."
    else:
        hint = (
            "No GPU: fine. Every notebook's full profile is sized to finish in minutes "
            "on a laptop CPU."
        )
    report = {
        "python": sys.version.split()[0],
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "gpus": gpus,
        "platform": platform,
        "hint": hint,
    }
    if print_report:
        width = max(len(k) for k in report)
        for key, value in report.items():
            print(f"{key:>{width}}: {value}")
    return report


def output_root() -> Path:
    """The root of all run outputs: `COURSE_OUTPUT_DIR`, else the checkout's `outputs/`."""
    env = os.environ.get("COURSE_OUTPUT_DIR")
    if env:
        return Path(env)
    from course_lib.data import repo_root

    root = repo_root()
    return (root if root is not None else Path.cwd()) / "outputs"


def _plain(value, key: str):
    """Turn a metric into plain JSON: NumPy scalars to Python, non-finite floats refused."""
    if isinstance(value, (np.generic,)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"Expected metric `{key}` to be a finite number. Received: {value}")
    if not isinstance(value, (str, int, float, bool)) and value is not None:
        raise ValueError(
            f"Expected metric `{key}` to be a string, number or bool (metrics.json is flat). "
            f"Received: {type(value).__name__}"
        )
    return value


def to_uint8_images(images, value_range: tuple[float, float] = (0.0, 1.0)) -> np.ndarray:
    """Convert float images in `value_range` to uint8 `(N, 28, 28)` for `samples.npz`."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3:
        raise ValueError(
            f"Expected images of shape (N, H, W) or (N, H, W, 1). Received: shape={images.shape}"
        )
    low, high = value_range
    unit = (images - low) / (high - low)
    return np.clip(np.rint(unit * 255.0), 0, 255).astype(np.uint8)


class Run:
    """One execution of one notebook: its profile, its clock and its output folder.

    Args:
        notebook: the notebook's stem, e.g. `"03_variational_autoencoders"`.
        profile: `"full"` or `"smoke"`.
    """

    def __init__(self, notebook: str, profile: str = "full"):
        check_choice(profile, "profile", PROFILES)
        if not notebook or "/" in notebook or notebook.endswith(".ipynb"):
            raise ValueError(
                "Expected `notebook` to be a notebook's stem like '01_autoencoders'. "
                f"Received: notebook={notebook!r}"
            )
        self.notebook = notebook
        self.profile = profile
        self.started = time.perf_counter()
        self.dataset = None
        self.directory = output_root() / notebook
        self.directory.mkdir(parents=True, exist_ok=True)

    @property
    def wall_seconds(self) -> float:
        return time.perf_counter() - self.started

    def path(self, name: str) -> Path:
        """A path inside this run's output folder."""
        return self.directory / name

    def record_dataset(self, data) -> str:
        """Remember the dataset actually used (an `ImageData` or a string) and return it."""
        self.dataset = data if isinstance(data, str) else data.description
        return self.dataset

    def save_metrics(self, **metrics) -> Path:
        """Write `metrics.json`: profile, wall time, dataset, then the given figures.

        Raises:
            ValueError: a metric that is not a finite number, string or bool, or
                no dataset recorded.
        """
        dataset = metrics.pop("dataset", self.dataset)
        if dataset is None:
            raise ValueError(
                "Expected the dataset actually used: call run.record_dataset(data) or pass "
                "dataset=... Received: none"
            )
        record = {
            "notebook": self.notebook,
            "profile": self.profile,
            "wall_seconds": round(self.wall_seconds, 2),
            "dataset": str(dataset),
        }
        for key, value in metrics.items():
            record[key] = _plain(value, key)
        path = self.path("metrics.json")
        path.write_text(json.dumps(record, indent=2) + "\n")
        return path

    def save_samples(
        self, images, labels=None, value_range=(0.0, 1.0), filename: str = "samples.npz"
    ) -> Path:
        """Write `samples.npz` with uint8 `images` (N x 28 x 28) and optional `labels`.

        Args:
            images: the samples, `(N, 28, 28[, 1])` in `value_range` (a model's
                `sample` gives [0, 1], the default).
            labels: the class of each sample, for a conditional model.
            value_range: the pixel range of `images`.
            filename: the file's name in the run's folder, e.g.
                `"samples_conditional.npz"` beside the unconditional samples.

        Returns:
            The path written.

        Raises:
            ValueError: a label count that differs from the image count, or a
                filename that is not a plain `.npz` name.
        """
        if Path(filename).name != filename or not filename.endswith(".npz"):
            raise ValueError(
                "Expected `filename` to be a plain file name ending in .npz. "
                f"Received: filename={filename!r}"
            )
        arrays = {"images": to_uint8_images(images, value_range)}
        if labels is not None:
            labels = np.asarray(labels).astype(np.int64)
            if len(labels) != len(arrays["images"]):
                raise ValueError(
                    "Expected one label per sample. "
                    f"Received: {len(arrays['images'])} images and {len(labels)} labels"
                )
            arrays["labels"] = labels
        path = self.path(filename)
        np.savez_compressed(path, **arrays)
        return path


def start_run(notebook: str, profile: str = "full") -> Run:
    """Start the clock of a notebook run and print where its outputs go."""
    run = Run(notebook, profile)
    print(f"Run of {notebook} in the {profile!r} profile; outputs go to {run.directory}")
    return run
