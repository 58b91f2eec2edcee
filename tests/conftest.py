"""Shared test set-up: a headless matplotlib, quiet TensorFlow, no network, small data."""

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# Unit tests never download; the notebook tests restore the caller's setting for the kernels.
ORIGINAL_OFFLINE = os.environ.get("COURSE_OFFLINE")
os.environ["COURSE_OFFLINE"] = "1"

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED_MNIST = REPO.parent / "shared" / "data" / "mnist"


def rejects(check, *args, leak=None):
    """The exercise check raises AssertionError; its message does not contain `leak` (the answer).

    Used by the tests of every exercise check (`from tests.conftest import rejects`).
    """
    with pytest.raises(AssertionError) as error:
        check(*args)
    if leak is not None:
        assert leak not in str(error.value)
    return str(error.value)


@pytest.fixture(autouse=True)
def _close_figures():
    """Close every figure a test opens, so memory stays flat across the suite."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture
def shared_mnist_dir():
    """The folder with the real MNIST test split, or skip where it is absent."""
    if not (SHARED_MNIST / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip(f"the offline MNIST copy is not at {SHARED_MNIST}")
    return SHARED_MNIST


@pytest.fixture
def tiny_digits():
    """64 stand-in digits in [0, 1] with labels: small, offline, always available."""
    from course_lib.data import load_dataset

    data = load_dataset("digits", "train", num_examples=64)
    return data.images, data.labels


# Debian's Chromium, as the browser tests start it: headless, and with the background
# services off (on a closed network they would fail to connect, many at a time).
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
