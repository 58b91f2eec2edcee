"""pytest set-up for the docstring examples of `course_lib` (`pytest --doctest-modules`).

Not part of the library: pytest loads it only for the items under `course_lib/`,
which are the examples in the docstrings. The unit tests' set-up is `tests/conftest.py`.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _offline_eager_and_tidy(monkeypatch, tmp_path):
    """Run each example offline, writing only under a temporary folder, with eager functions.

    Eager: `fit` would otherwise trace the training step into a graph, which
    takes seconds, for the one or two batches an example trains on. The unit
    tests in `tests/` run the graphs.
    """
    import matplotlib.pyplot as plt
    import tensorflow as tf

    monkeypatch.setenv("COURSE_OFFLINE", "1")
    monkeypatch.setenv("COURSE_OUTPUT_DIR", str(tmp_path / "outputs"))
    tf.config.run_functions_eagerly(True)
    yield
    tf.config.run_functions_eagerly(False)
    plt.close("all")
