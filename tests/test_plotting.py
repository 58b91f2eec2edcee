"""Tests of course_lib.plotting: each helper returns a Figure with the expected axes."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from course_lib import plotting


@pytest.fixture
def images():
    return np.random.default_rng(0).random((12, 28, 28, 1)).astype(np.float32)


def test_image_grid_has_one_axis_per_image_and_titles(images):
    fig = plotting.image_grid(images, labels=list(range(12)), num_columns=5, title="t")
    assert isinstance(fig, Figure) and len(fig.axes) == 12
    assert fig.axes[3].get_title() == "3"
    with pytest.raises(ValueError, match="one title or label per image"):
        plotting.image_grid(images, labels=[1, 2])
    with pytest.raises(ValueError, match=r"Received: shape=\(3, 28, 28, 3\)"):
        plotting.image_grid(np.zeros((3, 28, 28, 3)))


def test_image_grid_uses_the_symmetric_range_for_negative_pixels(images):
    fig = plotting.image_grid(images * 2 - 1)
    assert fig.axes[0].images[0].get_clim() == (-1.0, 1.0)


def test_reconstruction_rows_stacks_rows(images):
    fig = plotting.reconstruction_rows(images, images, num_images=6, extra_rows={"noisy": images})
    assert len(fig.axes) == 3 * 6
    assert fig.axes[6].get_ylabel() == "noisy"


def test_training_curves_from_a_history_dict():
    history = {"loss": [3, 2, 1], "val_loss": [3.5, 2.5, 2], "kl_loss": [1, 1, 1]}
    fig = plotting.training_curves(history)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "kl_loss"]
    assert len(fig.axes[0].lines) == 2  # train and validation
    with pytest.raises(ValueError, match="Expected keys among"):
        plotting.training_curves(history, keys=["d_loss"])


def test_latent_scatter_colours_each_class():
    codes = np.random.default_rng(1).normal(size=(100, 2))
    fig = plotting.latent_scatter(codes, np.arange(100) % 4)
    assert len(fig.axes[0].collections) == 4
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        plotting.latent_scatter(np.zeros((5, 3)))


def test_latent_manifold_tiles_decoded_images():
    def decode(codes):
        # Brightness follows z1, so the tiling order can be checked.
        return np.ones((len(codes), 28, 28)) * (codes[:, :1, None] + 3) / 6

    fig = plotting.latent_manifold(decode, grid_size=4)
    canvas = fig.axes[0].images[0].get_array()
    assert canvas.shape == (4 * 28, 4 * 28)
    assert canvas[0, 0] < canvas[0, -1]  # left (low z1) darker than right
    with pytest.raises(ValueError, match="one image per code"):
        plotting.latent_manifold(lambda c: np.zeros((3, 28, 28)), grid_size=4)
