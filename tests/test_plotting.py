"""Tests of course_lib.plotting: each helper returns a Figure with the expected axes."""

import subprocess
import sys
from types import SimpleNamespace

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


# --------------------------------------------------------------------------- GAN training


def test_sample_progression_has_a_row_per_kept_epoch_up_to_max_rows():
    # A stand-in for a trained `SampleGridMonitor`: the figure reads only these attributes.
    samples = np.random.default_rng(2).uniform(-1, 1, size=(6, 5, 28, 28, 1))
    monitor = SimpleNamespace(epochs=[1, 2, 3, 4, 5, 6], images=list(samples), num_images=5)
    fig = plotting.sample_progression(monitor, num_images=4, max_rows=3)
    assert isinstance(fig, Figure) and len(fig.axes) == 3 * 4
    assert [ax.get_ylabel() for ax in fig.axes[::4]] == ["epoch 1", "epoch 3", "epoch 6"]
    assert fig.axes[0].images[0].get_clim() == (-1.0, 1.0)
    # At most the monitor's own number of images.
    assert len(plotting.sample_progression(monitor, num_images=9, max_rows=1).axes) == 5
    with pytest.raises(ValueError, match="kept samples"):
        plotting.sample_progression(SimpleNamespace(epochs=[], images=[], num_images=4))


def test_gan_curves_draws_losses_and_discriminator_outputs():
    history = {
        "d_loss": [1.2, 1.1],
        "g_loss": [0.8, 0.9],
        "d_real": [0.6, 0.6],
        "d_fake": [0.4, 0.4],
    }
    fig = plotting.gan_curves(history, title="t")
    assert [ax.get_title() for ax in fig.axes] == ["losses", "discriminator outputs"]
    assert len(fig.axes[1].lines) == 3  # D(x), D(G(z)) and the 0.5 line
    assert len(plotting.gan_curves(history, output_keys=()).axes) == 1
    with pytest.raises(ValueError, match=r"Received: \['oops'\]"):
        plotting.gan_curves({"d_loss": [1.0], "g_loss": [1.0]}, output_keys=("oops",))


# --------------------------------------------------------------------------- latent space

LATENT_DIM = 3
_WEIGHTS = np.random.default_rng(0).normal(size=(LATENT_DIM, 28 * 28)).astype(np.float32)


def _decode(z):
    """A stand-in decoder: a fixed random linear map and a sigmoid, (M, 3) -> (M, 28, 28, 1)."""
    z = np.asarray(z, np.float32)
    return (1.0 / (1.0 + np.exp(-z @ _WEIGHTS))).reshape(len(z), 28, 28, 1)


def _encode(images):
    """A stand-in encoder: three pixel means per image."""
    flat = np.asarray(images, np.float32).reshape(len(images), -1)
    return np.stack([flat[:, :200].mean(1), flat[:, 200:400].mean(1), flat[:, 400:].mean(1)], 1)


def test_latent_traversal_moves_one_dimension_per_row():
    fig = plotting.latent_traversal_figure(_decode, LATENT_DIM, num_steps=5)
    assert isinstance(fig, Figure) and len(fig.axes) == LATENT_DIM * 5
    assert [ax.get_ylabel() for ax in fig.axes[::5]] == ["z[0]", "z[1]", "z[2]"]
    assert [ax.get_xlabel() for ax in fig.axes[-5:]] == ["-3.0", "-1.5", "+0.0", "+1.5", "+3.0"]
    middle = fig.axes[2].images[0].get_array()  # the code `base` itself
    np.testing.assert_allclose(middle, _decode(np.zeros((1, LATENT_DIM)))[0, ..., 0])
    assert len(plotting.latent_traversal_figure(_decode, LATENT_DIM, num_dims=1).axes) == 9


def test_interpolation_figure_has_both_ends_and_the_steps(images):
    fig = plotting.interpolation_figure(_encode, _decode, images[0], images[1], num_steps=4)
    assert isinstance(fig, Figure) and len(fig.axes) == 4 + 2
    assert [ax.get_title() for ax in fig.axes] == ["A", "t=0.00", "t=0.33", "t=0.67", "t=1.00", "B"]
    np.testing.assert_array_equal(fig.axes[0].images[0].get_array(), images[0, ..., 0])


def test_latent_figures_say_what_was_expected_and_received(images):
    with pytest.raises(ValueError, match=r"extent.*Received: extent=-1"):
        plotting.latent_traversal_figure(_decode, LATENT_DIM, extent=-1)
    with pytest.raises(ValueError, match=r"num_dims` <= latent_dim=3\. Received: num_dims=4"):
        plotting.latent_traversal_figure(_decode, LATENT_DIM, num_dims=4)
    with pytest.raises(ValueError, match=r"`base` of shape \(3,\)\. Received: base.shape=\(2,\)"):
        plotting.latent_traversal_figure(_decode, LATENT_DIM, base=[0.0, 0.0])
    with pytest.raises(ValueError, match=r"`decode` to be a function"):
        plotting.latent_traversal_figure("decoder", LATENT_DIM)
    with pytest.raises(ValueError, match=r"num_steps` >= 2\. Received: num_steps=1"):
        plotting.interpolation_figure(_encode, _decode, images[0], images[1], num_steps=1)
    with pytest.raises(ValueError, match=r"`encode` to be a function"):
        plotting.interpolation_figure(None, _decode, images[0], images[1])


def test_plotting_needs_only_numpy_and_matplotlib():
    code = (
        "import sys, course_lib.plotting; "
        "loaded = {'keras', 'tensorflow', 'ipywidgets', 'scipy'} & set(sys.modules); "
        "assert not loaded, loaded"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_nearest_neighbour_pairs_puts_each_neighbour_below_its_sample():
    from course_lib.plotting import nearest_neighbour_pairs

    samples = np.random.default_rng(0).random((12, 28, 28))
    neighbours = 1 - samples
    fig = nearest_neighbour_pairs(samples, neighbours, np.arange(12.0), num_columns=5)
    # Two full rows of 5 pairs: 20 images, captions "sample" then the distances.
    titles = [ax.get_title() for ax in fig.axes]
    assert len(fig.axes) == 20
    assert titles[:5] == ["sample"] * 5 and titles[5:10] == [f"d = {d:.2f}" for d in range(5)]
    with pytest.raises(ValueError, match="one neighbour and one distance per sample"):
        nearest_neighbour_pairs(samples, neighbours[:3], np.arange(12.0))
