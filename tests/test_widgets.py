"""Tests of course_lib.widgets: explorers with ipywidgets (no frontend needed) and without.

The static figures they fall back to are tested in tests/test_plotting.py.
"""

import sys

import numpy as np
import pytest
from matplotlib.figure import Figure

from course_lib import widgets as course_widgets

LATENT_DIM = 3
_WEIGHTS = np.random.default_rng(0).normal(size=(LATENT_DIM, 28 * 28)).astype(np.float32)


def decode(z):
    """A stand-in decoder: a fixed random linear map and a sigmoid, (M, 3) -> (M, 28, 28, 1)."""
    z = np.asarray(z, np.float32)
    return (1.0 / (1.0 + np.exp(-z @ _WEIGHTS))).reshape(len(z), 28, 28, 1)


def encode(images):
    """A stand-in encoder: three pixel means per image."""
    flat = np.asarray(images, np.float32).reshape(len(images), -1)
    return np.stack([flat[:, :200].mean(1), flat[:, 200:400].mean(1), flat[:, 400:].mean(1)], 1)


@pytest.fixture
def images():
    return np.random.default_rng(1).random((5, 28, 28, 1)).astype(np.float32)


@pytest.fixture
def no_ipywidgets(monkeypatch):
    """Make `import ipywidgets` fail, as on an install without it."""
    monkeypatch.setitem(sys.modules, "ipywidgets", None)


# --------------------------------------------------------------------------- with ipywidgets


def test_latent_explorer_builds_and_redraws_without_a_frontend():
    pytest.importorskip("ipywidgets")
    box = course_widgets.latent_explorer(decode, LATENT_DIM, num_sliders=2)
    assert type(box).__name__ == "VBox"
    assert [s.description for s in box.sliders] == ["z[0]", "z[1]"]
    before = box.image.value
    assert before[:4] == b"\x89PNG"
    box.sliders[0].value = 2.5
    assert box.image.value != before, "moving a slider must redraw the image"


def test_interpolation_explorer_builds_and_moves(images):
    pytest.importorskip("ipywidgets")
    box = course_widgets.interpolation_explorer(encode, decode, images, index_a=0, index_b=3)
    first = box.image.value
    box.t.value = 0.0
    at_a = box.image.value
    assert at_a != first
    box.index_a.value = 4
    assert box.image.value != at_a, "choosing another image A must change the view"
    assert box.index_b.max == len(images) - 1


# --------------------------------------------------------------------------- without ipywidgets


def test_latent_explorer_falls_back_to_a_figure(no_ipywidgets):
    with pytest.warns(UserWarning, match="ipywidgets is not installed"):
        fig = course_widgets.latent_explorer(decode, LATENT_DIM, num_sliders=2)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2 * 9  # two rows of nine steps


def test_interpolation_explorer_falls_back_to_a_figure(no_ipywidgets, images):
    with pytest.warns(UserWarning, match="ipywidgets is not installed"):
        fig = course_widgets.interpolation_explorer(encode, decode, images)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 10 + 2


# --------------------------------------------------------------------------- image size


def test_views_are_sized_from_the_images_not_a_fixed_28_pixels():
    pytest.importorskip("ipywidgets")
    wide = np.random.default_rng(2).random((3, 14, 20, 1)).astype(np.float32)

    def decode_wide(z):
        return np.repeat(wide[:1], len(z), axis=0)

    box = course_widgets.latent_explorer(decode_wide, LATENT_DIM)
    pixels = course_widgets._PIXELS_PER_CELL
    assert (int(box.image.width), int(box.image.height)) == (20 * pixels, 14 * pixels)
    box = course_widgets.interpolation_explorer(lambda x: x.mean((1, 2)), decode_wide, wide)
    assert (int(box.image.width), int(box.image.height)) == (20 * pixels, 14 * pixels)
    view_a = box.children[1].children[1]
    assert (int(view_a.width), int(view_a.height)) == (20 * pixels // 2, 14 * pixels // 2)


def test_the_static_figures_live_in_plotting_only():
    assert not hasattr(course_widgets, "latent_traversal_figure")
    assert not hasattr(course_widgets, "interpolation_figure")


# --------------------------------------------------------------------------- bad arguments


def test_bad_arguments_say_what_was_expected_and_received(images):
    with pytest.raises(ValueError, match=r"positive integer\. Received: latent_dim=0"):
        course_widgets.latent_explorer(decode, 0)
    with pytest.raises(ValueError, match=r"num_sliders` <= latent_dim=3\. Received: num_sliders=4"):
        course_widgets.latent_explorer(decode, LATENT_DIM, num_sliders=4)
    with pytest.raises(ValueError, match=r"extent.*Received: extent=-1"):
        course_widgets.latent_explorer(decode, LATENT_DIM, extent=-1)
    with pytest.raises(ValueError, match=r"`step` in \(0, extent=3\]\. Received: step=5"):
        course_widgets.latent_explorer(decode, LATENT_DIM, step=5)
    with pytest.raises(ValueError, match=r"`decode` to be a function"):
        course_widgets.latent_explorer("decoder", LATENT_DIM)
    with pytest.raises(ValueError, match=r"`base` of shape \(3,\)\. Received: base.shape=\(2,\)"):
        course_widgets.latent_explorer(decode, LATENT_DIM, base=[0.0, 0.0])
    with pytest.raises(ValueError, match=r"index_b` in \[0, 4\]\. Received: index_b=9"):
        course_widgets.interpolation_explorer(encode, decode, images, index_b=9)
    with pytest.raises(ValueError, match=r"at least two images"):
        course_widgets.interpolation_explorer(encode, decode, images[:1])
    with pytest.raises(ValueError, match=r"`encode` to be a function"):
        course_widgets.interpolation_explorer("encoder", decode, images)
