"""Interactive explorers of a latent space, each with a static-figure fallback.

Taught in notebook 03 (section "Explore the latent space") and used again in
notebook 04. A thin shell over `course_lib.plotting`: the explorers take plain
callables (`decode`: codes to images, `encode`: images to codes), so they work
for any model of the course.

- `latent_explorer`: one slider per latent dimension (the first few of them),
  the decoded image redrawn as the sliders move.
- `interpolation_explorer`: pick two images by index and slide `t` from one
  code to the other, `z = (1 - t) z_a + t z_b`.
- `latent_traversal_figure` / `interpolation_figure`: the static pictures of
  the same things, returned as matplotlib `Figure`s; notebooks show them too,
  so an executed notebook (or CI) carries a picture.

ipywidgets is imported inside the functions, never at module level, and only
its core controls are used (`FloatSlider`, `IntSlider`, `Image`, `HBox`,
`VBox`, `HTML`), which exist with the same arguments in ipywidgets 7.7 (Colab)
and 8.x. Without ipywidgets, an explorer returns its fallback figure instead.

Example:
    >>> explorer = latent_explorer(lambda z: vae.decode(z), latent_dim=2)
    >>> explorer  # a widget in Jupyter; a Figure where ipywidgets is missing
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from course_lib._checks import check_positive_int

__all__ = [
    "interpolation_explorer",
    "interpolation_figure",
    "latent_explorer",
    "latent_traversal_figure",
]

_PIXELS_PER_CELL = 6  # 28 x 28 images are drawn 168 x 168, each pixel a sharp block


def _import_ipywidgets():
    """ipywidgets, or None where it is not installed (the caller falls back)."""
    try:
        import ipywidgets
    except ImportError:
        return None
    return ipywidgets


def _check_callable(function, name: str) -> None:
    if not callable(function):
        raise ValueError(
            f"Expected `{name}` to be a function (e.g. `lambda z: vae.decode(z)`). "
            f"Received: {name}={function!r}"
        )


def _check_extent(extent) -> float:
    if not (isinstance(extent, (int, float)) and extent > 0):
        raise ValueError(f"Expected `extent` to be a number > 0. Received: extent={extent!r}")
    return float(extent)


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


def _finish(fig: Figure) -> Figure:
    """Lay out `fig` and detach it from pyplot, so Jupyter shows it once (as the value)."""
    fig.tight_layout()
    plt.close(fig)
    return fig


def _fallback_note(what: str) -> None:
    warnings.warn(
        f"ipywidgets is not installed: showing a static {what} instead of the explorer. "
        "`pip install ipywidgets` to get the sliders.",
        stacklevel=3,
    )


# --------------------------------------------------------------------------- latent explorer


def latent_traversal_figure(
    decode: Callable[[np.ndarray], np.ndarray],
    latent_dim: int,
    *,
    num_dims: int | None = None,
    num_steps: int = 9,
    extent: float = 3.0,
    base=None,
    title: str | None = None,
) -> Figure:
    """Decode codes that move one latent dimension at a time: the sliders, frozen.

    Row `i` changes `z[i]` from `-extent` to `+extent` while every other
    coordinate stays at `base` (the prior's mean, 0, by default). It is the
    static fallback of `latent_explorer` and the "latent traversal" of notebook 04.

    Args:
        decode: maps codes `(M, latent_dim)` to images `(M, H, W[, 1])` in [0, 1].
        latent_dim: the size of the codes.
        num_dims: how many dimensions (rows) to show; all, up to 10, by default.
        num_steps: images per row.
        extent: the largest |z[i]| shown.
        base: the code the traversal starts from, `(latent_dim,)`; zeros when None.
        title: a title for the figure.

    Returns:
        The `Figure`, one axis per image.

    Raises:
        ValueError: a non-positive `latent_dim` or `num_steps`, `num_dims`
            larger than `latent_dim`, a non-positive `extent`, a `base` of the
            wrong size, or a `decode` that is not a function.
    """
    _check_callable(decode, "decode")
    latent_dim = check_positive_int(latent_dim, "latent_dim")
    num_dims = min(latent_dim, 10) if num_dims is None else check_positive_int(num_dims, "num_dims")
    if num_dims > latent_dim:
        raise ValueError(
            f"Expected `num_dims` <= latent_dim={latent_dim}. Received: num_dims={num_dims}"
        )
    num_steps = check_positive_int(num_steps, "num_steps")
    extent = _check_extent(extent)
    base = np.zeros(latent_dim, np.float32) if base is None else np.asarray(base, np.float32)
    if base.shape != (latent_dim,):
        raise ValueError(
            f"Expected `base` of shape ({latent_dim},). Received: base.shape={base.shape}"
        )
    values = np.linspace(-extent, extent, num_steps, dtype=np.float32)
    codes = np.repeat(base[np.newaxis], num_dims * num_steps, axis=0)
    for dim in range(num_dims):
        codes[dim * num_steps : (dim + 1) * num_steps, dim] = values
    images = np.asarray(decode(codes), dtype=np.float32)
    if images.ndim == 4:
        images = images[..., 0]
    fig, axes = plt.subplots(
        num_dims, num_steps, figsize=(0.9 * num_steps + 0.6, 0.9 * num_dims + 0.5), squeeze=False
    )
    for dim in range(num_dims):
        for step in range(num_steps):
            ax = axes[dim, step]
            ax.imshow(images[dim * num_steps + step], cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if dim == num_dims - 1:
                ax.set_xlabel(f"{values[step]:+.1f}", fontsize=7)
        axes[dim, 0].set_ylabel(f"z[{dim}]", rotation=0, ha="right", va="center", fontsize=8)
    fig.suptitle(title or "Latent traversal: one dimension per row, the others at base")
    return _finish(fig)


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
        fallback `latent_traversal_figure` (a `Figure`) and a warning.

    Raises:
        ValueError: as `latent_traversal_figure`, or a non-positive `step`.
    """
    _check_callable(decode, "decode")
    latent_dim = check_positive_int(latent_dim, "latent_dim")
    if num_sliders is None:
        num_sliders = min(latent_dim, 10)
    num_sliders = check_positive_int(num_sliders, "num_sliders")
    if num_sliders > latent_dim:
        raise ValueError(
            f"Expected `num_sliders` <= latent_dim={latent_dim}. "
            f"Received: num_sliders={num_sliders}"
        )
    extent = _check_extent(extent)
    if not (isinstance(step, (int, float)) and 0 < step <= extent):
        raise ValueError(f"Expected `step` in (0, extent={extent:g}]. Received: step={step!r}")
    base = np.zeros(latent_dim, np.float32) if base is None else np.asarray(base, np.float32)
    if base.shape != (latent_dim,):
        raise ValueError(
            f"Expected `base` of shape ({latent_dim},). Received: base.shape={base.shape}"
        )

    widgets = _import_ipywidgets()
    if widgets is None:
        _fallback_note("latent traversal")
        return latent_traversal_figure(
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
    image = widgets.Image(format="png", width=28 * _PIXELS_PER_CELL, height=28 * _PIXELS_PER_CELL)

    def redraw(_change=None):
        code = base.copy()
        code[:num_sliders] = [s.value for s in sliders]
        image.value = _png(_one_image(decode(code[np.newaxis])))

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


def _check_images(images) -> np.ndarray:
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 3:
        images = images[..., np.newaxis]
    if images.ndim != 4 or len(images) < 2:
        raise ValueError(
            "Expected at least two images of shape (N, H, W[, 1]). "
            f"Received: shape={np.shape(images)}"
        )
    return images


def _check_index(index, count: int, name: str) -> int:
    if (
        isinstance(index, bool)
        or not isinstance(index, (int, np.integer))
        or not (0 <= index < count)
    ):
        raise ValueError(f"Expected `{name}` in [0, {count - 1}]. Received: {name}={index!r}")
    return int(index)


def _interpolate(encode, decode, image_a, image_b, ts):
    codes = np.asarray(encode(np.stack([image_a, image_b])), dtype=np.float32)
    z_a, z_b = codes[0], codes[1]
    ts = np.asarray(ts, dtype=np.float32)[:, np.newaxis]
    return np.asarray(decode((1.0 - ts) * z_a + ts * z_b), dtype=np.float32)


def interpolation_figure(
    encode: Callable[[np.ndarray], np.ndarray],
    decode: Callable[[np.ndarray], np.ndarray],
    image_a,
    image_b,
    *,
    num_steps: int = 10,
    title: str | None = None,
) -> Figure:
    """The two images at the ends and the decoded straight line between their codes.

    Args:
        encode: maps images `(M, H, W, 1)` to codes `(M, latent_dim)` (e.g. the
            means of q(z | x)).
        decode: maps codes to images in [0, 1].
        image_a, image_b: two images `(H, W[, 1])`.
        num_steps: decoded images along the line, ends included (>= 2).
        title: a title for the figure.

    Returns:
        The `Figure`: `image_a`, the `num_steps` decodings, `image_b`.

    Raises:
        ValueError: fewer than two steps, images of different shapes, or
            `encode`/`decode` that are not functions.
    """
    _check_callable(encode, "encode")
    _check_callable(decode, "decode")
    num_steps = check_positive_int(num_steps, "num_steps")
    if num_steps < 2:
        raise ValueError(f"Expected `num_steps` >= 2. Received: num_steps={num_steps}")
    pair = _check_images(np.stack([np.asarray(image_a), np.asarray(image_b)]))
    ts = np.linspace(0.0, 1.0, num_steps)
    decoded = _interpolate(encode, decode, pair[0], pair[1], ts)
    if decoded.ndim == 4:
        decoded = decoded[..., 0]
    panels = [pair[0, ..., 0], *decoded, pair[1, ..., 0]]
    captions = ["A"] + [f"t={t:.2f}" for t in ts] + ["B"]
    fig, axes = plt.subplots(1, len(panels), figsize=(0.95 * len(panels), 1.4), squeeze=False)
    for ax, panel, caption in zip(axes[0], panels, captions, strict=True):
        ax.imshow(panel, cmap="gray", vmin=0, vmax=1)
        ax.set_title(caption, fontsize=7)
        ax.set_axis_off()
    fig.suptitle(title or "Interpolation between the codes of A and B", fontsize=10)
    return _finish(fig)


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
        `interpolation_figure` (a `Figure`) and a warning.

    Raises:
        ValueError: fewer than two images, an index out of range, or
            `encode`/`decode` that are not functions.
    """
    _check_callable(encode, "encode")
    _check_callable(decode, "decode")
    images = _check_images(images)
    index_a = _check_index(index_a, len(images), "index_a")
    index_b = _check_index(index_b, len(images), "index_b")

    widgets = _import_ipywidgets()
    if widgets is None:
        _fallback_note("interpolation")
        return interpolation_figure(encode, decode, images[index_a], images[index_b])

    last = len(images) - 1
    slider_a = widgets.IntSlider(value=index_a, min=0, max=last, description="A (index)")
    slider_b = widgets.IntSlider(value=index_b, min=0, max=last, description="B (index)")
    slider_t = widgets.FloatSlider(
        value=0.5, min=0.0, max=1.0, step=0.02, description="t", readout_format=".2f"
    )
    size = dict(format="png", width=28 * _PIXELS_PER_CELL // 2, height=28 * _PIXELS_PER_CELL // 2)
    view_a = widgets.Image(**size)
    view_b = widgets.Image(**size)
    image = widgets.Image(format="png", width=28 * _PIXELS_PER_CELL, height=28 * _PIXELS_PER_CELL)
    codes = {}

    def choose(_change=None):
        # Encode only when A or B changes; moving t just decodes.
        pair = images[[slider_a.value, slider_b.value]]
        encoded = np.asarray(encode(pair), dtype=np.float32)
        codes["a"], codes["b"] = encoded[0], encoded[1]
        view_a.value = _png(np.clip(pair[0, ..., 0], 0, 1))
        view_b.value = _png(np.clip(pair[1, ..., 0], 0, 1))
        move()

    def move(_change=None):
        t = slider_t.value
        z = (1.0 - t) * codes["a"] + t * codes["b"]
        image.value = _png(_one_image(decode(z[np.newaxis].astype(np.float32))))

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
