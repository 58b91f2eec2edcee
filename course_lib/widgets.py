"""Interactive explorers of a latent space, each with a static-figure fallback.

Taught in notebook 03, sections 5 ("Explore the latent space") and 6, and used
again in notebook 04, section 3 ("Steer the style"). A thin shell over
`course_lib.plotting`: the explorers take plain callables (`decode`: codes to
images, `encode`: images to codes), so they work for any model of the course.

- `latent_explorer`: one slider per latent dimension (the first few of them),
  the decoded image redrawn as the sliders move.
- `interpolation_explorer`: pick two images by index and slide `t` from one
  code to the other, `z = (1 - t) z_a + t z_b`.

The static pictures of the same things are `course_lib.plotting`'s
`latent_traversal_figure` and `interpolation_figure`, which validate the same
arguments; notebooks show them too, so an executed notebook (or CI) carries a
picture.

ipywidgets is imported inside the functions, never at module level, and only
its core controls are used (`FloatSlider`, `IntSlider`, `Image`, `HBox`,
`VBox`, `HTML`), which exist with the same arguments in ipywidgets 7.7 (Colab)
and 8.x. Without ipywidgets, an explorer returns its fallback figure instead.

Example:
    >>> def decode(codes):  # stands in for a trained model's `vae.decode`
    ...     return np.full((len(codes), 28, 28, 1), 0.5, "float32")
    >>> explorer = latent_explorer(decode, latent_dim=2)
    >>> # `explorer` on a cell's last line shows the sliders in Jupyter (a Figure
    >>> # where ipywidgets is missing)
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable

import numpy as np

from course_lib import plotting

__all__ = [
    "interpolation_explorer",
    "latent_explorer",
]

_PIXELS_PER_CELL = 6  # screen pixels per image pixel: 28 x 28 is drawn 168 x 168, sharp blocks


def _import_ipywidgets():
    """ipywidgets, or None where it is not installed (the caller falls back)."""
    try:
        import ipywidgets
    except ImportError:
        return None
    return ipywidgets


def _one_image(images) -> np.ndarray:
    """The first image of a decoded batch as `(H, W)` floats in [0, 1]."""
    image = np.asarray(images, dtype=np.float32)[0]
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.ndim != 2:
        raise ValueError(
            "Expected `decode` to return greyscale images (batch, H, W[, 1]). "
            f"Received: shape={np.shape(images)}"
        )
    return np.clip(image, 0.0, 1.0)


def _png(image: np.ndarray) -> bytes:
    """PNG bytes of a greyscale image, enlarged by repeating pixels (no blur)."""
    from PIL import Image

    big = np.kron(image, np.ones((_PIXELS_PER_CELL, _PIXELS_PER_CELL), dtype=np.float32))
    buffer = io.BytesIO()
    Image.fromarray(np.rint(big * 255).astype(np.uint8)).save(buffer, format="png")
    return buffer.getvalue()


def _show(view, image: np.ndarray, shrink: int = 1) -> None:
    """Draw a greyscale `(H, W)` image in the `ipywidgets.Image` `view`, sized from its shape."""
    height, width = image.shape
    view.width = width * _PIXELS_PER_CELL // shrink
    view.height = height * _PIXELS_PER_CELL // shrink
    view.value = _png(image)


def _fallback_note(what: str) -> None:
    warnings.warn(
        f"ipywidgets is not installed: showing a static {what} instead of the explorer. "
        "`pip install ipywidgets` to get the sliders.",
        stacklevel=3,
    )


# --------------------------------------------------------------------------- latent explorer


def latent_explorer(
    decode: Callable[[np.ndarray], np.ndarray],
    latent_dim: int,
    *,
    num_sliders: int | None = None,
    extent: float = 3.0,
    step: float = 0.05,
    base=None,
):
    """Sliders over the latent dimensions and the decoded image, redrawn live.

    Move a slider and the code `z` changes in that coordinate; the decoder's
    image follows. With a 2-D latent the two sliders are the whole space (the
    manifold figure of notebook 03 is the same thing, sampled on a grid).

    Args:
        decode: maps codes `(M, latent_dim)` to images `(M, H, W[, 1])` in [0, 1].
        latent_dim: the size of the codes.
        num_sliders: how many dimensions get a slider (the first ones); all, up
            to 10, by default. The others stay at `base`.
        extent: each slider runs over `[-extent, extent]` (3 = three prior
            standard deviations).
        step: the slider's step.
        base: the starting code `(latent_dim,)`; zeros (the prior's mean) when None.

    Returns:
        An `ipywidgets.VBox` (sliders beside the image) with attributes
        `sliders` and `image`; where ipywidgets is not installed, the
        fallback `course_lib.plotting.latent_traversal_figure` (a `Figure`)
        and a warning.

    Raises:
        ValueError: as `course_lib.plotting.latent_traversal_figure`, or a
            non-positive `step`.
    """
    # The same checks as the static figure's (whose rows are these sliders).
    latent_dim, num_sliders, extent, base = plotting._check_traversal(
        decode, latent_dim, num_sliders, extent, base, num_dims_name="num_sliders"
    )
    if not (isinstance(step, (int, float)) and 0 < step <= extent):
        raise ValueError(f"Expected `step` in (0, extent={extent:g}]. Received: step={step!r}")

    widgets = _import_ipywidgets()
    if widgets is None:
        _fallback_note("latent traversal")
        return plotting.latent_traversal_figure(
            decode, latent_dim, num_dims=num_sliders, extent=extent, base=base
        )

    sliders = [
        widgets.FloatSlider(
            value=float(np.clip(base[i], -extent, extent)),
            min=-extent,
            max=extent,
            step=step,
            description=f"z[{i}]",
            continuous_update=True,
            readout_format=".2f",
        )
        for i in range(num_sliders)
    ]
    image = widgets.Image(format="png")

    def redraw(_change=None):
        code = base.copy()
        code[:num_sliders] = [s.value for s in sliders]
        _show(image, _one_image(decode(code[np.newaxis])))

    for slider in sliders:
        slider.observe(redraw, names="value")
    redraw()
    caption = widgets.HTML(
        f"<b>Latent explorer</b>: {num_sliders} of {latent_dim} dimension(s) on sliders"
    )
    box = widgets.VBox([caption, widgets.HBox([widgets.VBox(sliders), image])])
    box.sliders = sliders
    box.image = image
    return box


# --------------------------------------------------------------------------- interpolation


def _check_index(index, count: int, name: str) -> int:
    if (
        isinstance(index, bool)
        or not isinstance(index, (int, np.integer))
        or not (0 <= index < count)
    ):
        raise ValueError(f"Expected `{name}` in [0, {count - 1}]. Received: {name}={index!r}")
    return int(index)


def interpolation_explorer(
    encode: Callable[[np.ndarray], np.ndarray],
    decode: Callable[[np.ndarray], np.ndarray],
    images,
    *,
    index_a: int = 0,
    index_b: int = 1,
):
    """Choose two images by index and slide from one code to the other.

    Shows image A, the decoding of `(1 - t) z_a + t z_b` and image B; three
    sliders: `A` and `B` pick the images from `images`, `t` moves along the line.

    Args:
        encode: maps images `(M, H, W, 1)` to codes `(M, latent_dim)`.
        decode: maps codes to images in [0, 1].
        images: the images to choose from, `(N, H, W[, 1])`, N >= 2.
        index_a, index_b: the starting choices.

    Returns:
        An `ipywidgets.VBox` with attributes `index_a`, `index_b`, `t` (the
        sliders) and `image`; where ipywidgets is not installed, the fallback
        `course_lib.plotting.interpolation_figure` (a `Figure`) and a warning.

    Raises:
        ValueError: fewer than two images, an index out of range, or
            `encode`/`decode` that are not functions.
    """
    plotting._check_callable(encode, "encode")
    plotting._check_callable(decode, "decode")
    images = plotting._as_interpolation_images(images)
    index_a = _check_index(index_a, len(images), "index_a")
    index_b = _check_index(index_b, len(images), "index_b")

    widgets = _import_ipywidgets()
    if widgets is None:
        _fallback_note("interpolation")
        return plotting.interpolation_figure(encode, decode, images[index_a], images[index_b])

    last = len(images) - 1
    slider_a = widgets.IntSlider(value=index_a, min=0, max=last, description="A (index)")
    slider_b = widgets.IntSlider(value=index_b, min=0, max=last, description="B (index)")
    slider_t = widgets.FloatSlider(
        value=0.5, min=0.0, max=1.0, step=0.02, description="t", readout_format=".2f"
    )
    view_a = widgets.Image(format="png")
    view_b = widgets.Image(format="png")
    image = widgets.Image(format="png")
    codes = {}

    def choose(_change=None):
        # Encode only when A or B changes; moving t just decodes.
        pair = images[[slider_a.value, slider_b.value]]
        encoded = np.asarray(encode(pair), dtype=np.float32)
        codes["a"], codes["b"] = encoded[0], encoded[1]
        # The two ends at half size, beside the decoded image.
        _show(view_a, np.clip(pair[0, ..., 0], 0, 1), shrink=2)
        _show(view_b, np.clip(pair[1, ..., 0], 0, 1), shrink=2)
        move()

    def move(_change=None):
        t = slider_t.value
        z = (1.0 - t) * codes["a"] + t * codes["b"]
        _show(image, _one_image(decode(z[np.newaxis].astype(np.float32))))

    slider_a.observe(choose, names="value")
    slider_b.observe(choose, names="value")
    slider_t.observe(move, names="value")
    choose()
    caption = widgets.HTML("<b>Interpolation</b>: decode (1 - t) z_A + t z_B")
    box = widgets.VBox(
        [
            caption,
            widgets.HBox([widgets.VBox([slider_a, slider_b, slider_t]), view_a, image, view_b]),
        ]
    )
    box.index_a, box.index_b, box.t, box.image = slider_a, slider_b, slider_t, image
    return box
