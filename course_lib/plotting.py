"""Figures the notebooks share. Needs only NumPy and matplotlib.

Taught in notebook 00, section 4 ("Plotting helpers, and a first
encoder–decoder"); each later figure names the notebook that teaches it: the
latent traversal and interpolation of the VAEs (notebooks 03 and 04, also the
static fallbacks of `course_lib.widgets`), the sample progression and curves of
the GANs (notebooks 05 to 07). Every function returns a matplotlib `Figure`;
none calls `plt.show()` or saves a file, so a notebook shows the figure by
leaving it as a cell's last expression, and a test can inspect it.

Example:
    >>> import numpy as np
    >>> fig = image_grid(np.random.rand(16, 28, 28, 1), num_columns=8)
    >>> len(fig.axes)
    16
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from course_lib._checks import check_positive_int

__all__ = [
    "gan_curves",
    "image_grid",
    "interpolation_figure",
    "latent_manifold",
    "latent_scatter",
    "latent_traversal_figure",
    "nearest_neighbour_pairs",
    "reconstruction_rows",
    "sample_progression",
    "training_curves",
]


def _finish(fig: Figure) -> Figure:
    """Detach `fig` from pyplot so Jupyter shows it once: as the cell's value, not also at
    the end of the cell (which would draw it twice)."""
    fig.tight_layout()
    plt.close(fig)
    return fig


def _finish_latent_axes(fig: Figure, ax, title: str | None) -> Figure:
    """Label the axes of a 2-D latent plane, add the title, and finish the figure."""
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    if title:
        ax.set_title(title)
    return _finish(fig)


def _as_images(images) -> np.ndarray:
    """(N, H, W) float array from (N, H, W) or (N, H, W, 1)."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim == 2:
        images = images[np.newaxis]
    if images.ndim != 3:
        raise ValueError(
            "Expected images of shape (N, H, W) or (N, H, W, 1). "
            f"Received: shape={np.shape(images)}"
        )
    return images


def _value_limits(images: np.ndarray, value_range) -> tuple[float, float]:
    if value_range is not None:
        return float(value_range[0]), float(value_range[1])
    # Guess the documented range the images are in, so grey means the same everywhere.
    return (-1.0, 1.0) if images.min() < -1e-3 else (0.0, 1.0)


def image_grid(
    images,
    *,
    labels: Sequence | None = None,
    titles: Sequence[str] | None = None,
    num_columns: int = 10,
    title: str | None = None,
    value_range: tuple[float, float] | None = None,
    cell_size: float = 1.0,
) -> Figure:
    """A grid of greyscale images, optionally titled one by one.

    Args:
        images: `(N, H, W)` or `(N, H, W, 1)` in `[0, 1]` or `[-1, 1]`.
        labels: one label per image, shown above it (class indices or names).
        titles: one string per image; overrides `labels`.
        num_columns: images per row.
        title: a title for the whole figure.
        value_range: the pixel range; guessed from the data when None.
        cell_size: inches per image.

    Returns:
        The `Figure`, one axis per image.
    """
    images = _as_images(images)
    count = len(images)
    if count == 0:
        raise ValueError("Expected at least one image. Received: 0 images")
    num_columns = max(1, min(num_columns, count))
    num_rows = math.ceil(count / num_columns)
    low, high = _value_limits(images, value_range)
    captions = titles if titles is not None else labels
    if captions is not None and len(captions) != count:
        raise ValueError(
            f"Expected one title or label per image. Received: {count} images and "
            f"{len(captions)} captions"
        )
    fig, axes = plt.subplots(
        num_rows,
        num_columns,
        figsize=(cell_size * num_columns, cell_size * num_rows + (0.4 if title else 0)),
        squeeze=False,
    )
    for index, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if index >= count:
            fig.delaxes(ax)
            continue
        ax.imshow(images[index], cmap="gray", vmin=low, vmax=high)
        if captions is not None:
            ax.set_title(str(captions[index]), fontsize=8)
    if title:
        fig.suptitle(title)
    return _finish(fig)


def nearest_neighbour_pairs(
    samples,
    neighbours,
    distances,
    *,
    num_columns: int = 10,
    title: str | None = None,
    cell_size: float = 0.7,
) -> Figure:
    """Each sample above its nearest training image, captioned with their distance.

    The picture of the memorisation check (`course_lib.metrics.memorisation`): a
    copy looks like its neighbour and has a small distance; a new image does not.

    Args:
        samples: `(N, H, W[, 1])` generated images.
        neighbours: `(N, H, W[, 1])` the nearest training image of each sample.
        distances: `(N,)` the distance of each pair.
        num_columns: pairs per row of pairs.
        title: a title for the whole figure.
        cell_size: inches per image.

    Returns:
        The `Figure`: rows of samples, each followed by a row of their neighbours
        (only full rows are drawn).

    Raises:
        ValueError: arrays of different lengths.
    """
    samples, neighbours = _as_images(samples), _as_images(neighbours)
    distances = np.asarray(distances, dtype=float).reshape(-1)
    if not len(samples) == len(neighbours) == len(distances):
        raise ValueError(
            "Expected one neighbour and one distance per sample. Received: "
            f"{len(samples)} samples, {len(neighbours)} neighbours, {len(distances)} distances"
        )
    # Full rows only, so each neighbour sits right below its sample.
    columns = min(num_columns, len(samples))
    count = len(samples) // columns * columns
    images, titles = [], []
    for start in range(0, count, columns):
        stop = start + columns
        images += list(samples[start:stop]) + list(neighbours[start:stop])
        titles += ["sample"] * columns + [f"d = {d:.2f}" for d in distances[start:stop]]
    return image_grid(
        np.stack(images), titles=titles, num_columns=columns, title=title, cell_size=cell_size
    )


def reconstruction_rows(
    originals,
    reconstructions,
    *,
    num_images: int = 10,
    row_titles: Sequence[str] = ("original", "reconstruction"),
    extra_rows: Mapping[str, np.ndarray] | None = None,
    value_range: tuple[float, float] | None = None,
) -> Figure:
    """Originals on top, their reconstructions (and any extra rows) below.

    Args:
        originals: images `(N, H, W[, 1])`.
        reconstructions: images of the same shape.
        num_images: columns to show.
        row_titles: labels of the first two rows.
        extra_rows: more rows to insert between them, e.g. `{"noisy": noisy}`.
        value_range: the pixel range; guessed when None.

    Returns:
        The `Figure`.
    """
    rows = [(row_titles[0], _as_images(originals))]
    for name, images in (extra_rows or {}).items():
        rows.append((name, _as_images(images)))
    rows.append((row_titles[1], _as_images(reconstructions)))
    shapes = {images.shape[1:] for _, images in rows}
    if len(shapes) != 1:
        raise ValueError(f"Expected every row to hold images of one shape. Received: {shapes}")
    num_images = min(num_images, *(len(images) for _, images in rows))
    low, high = _value_limits(rows[0][1], value_range)
    fig, axes = plt.subplots(
        len(rows), num_images, figsize=(num_images, len(rows) * 1.05), squeeze=False
    )
    for r, (name, images) in enumerate(rows):
        for c in range(num_images):
            ax = axes[r, c]
            ax.imshow(images[c], cmap="gray", vmin=low, vmax=high)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
    return _finish(fig)


def training_curves(
    history,
    *,
    keys: Sequence[str] | None = None,
    title: str | None = None,
    log_scale: bool = False,
) -> Figure:
    """Loss curves from a Keras `History` (or its `.history` dict), one panel per metric.

    Validation curves (`val_<key>`) are drawn in the panel of `<key>`.

    Args:
        history: a `keras.callbacks.History` or a dict of lists.
        keys: the metrics to plot; all non-validation keys when None.
        title: a title for the figure.
        log_scale: use a logarithmic y axis.

    Returns:
        The `Figure`, one axis per key.
    """
    logs = getattr(history, "history", history)
    if not isinstance(logs, Mapping) or not logs:
        raise ValueError(
            "Expected a Keras History or a non-empty dict of metric lists. "
            f"Received: {type(history).__name__}"
        )
    if keys is None:
        keys = [k for k in logs if not k.startswith("val_")]
    missing = [k for k in keys if k not in logs]
    if missing:
        raise ValueError(f"Expected keys among {sorted(logs)}. Received: {missing}")
    fig, axes = plt.subplots(1, len(keys), figsize=(3.6 * len(keys), 3.0), squeeze=False)
    for ax, key in zip(axes.flat, keys, strict=True):
        values = np.asarray(logs[key], dtype=float)
        epochs = np.arange(1, len(values) + 1)
        ax.plot(epochs, values, marker="o", markersize=3, label="train")
        if f"val_{key}" in logs:
            ax.plot(epochs, logs[f"val_{key}"], marker="o", markersize=3, label="validation")
            ax.legend(fontsize=8)
        ax.set_title(key)
        ax.set_xlabel("epoch")
        if log_scale:
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    return _finish(fig)


def latent_scatter(
    codes,
    labels=None,
    *,
    class_names: Sequence[str] | None = None,
    title: str | None = None,
    max_points: int = 5000,
) -> Figure:
    """2-D codes as points coloured by class.

    Args:
        codes: an array `(N, 2)`; for wider codes, project them first (e.g. PCA).
        labels: class indices `(N,)` for the colours.
        class_names: names for the legend.
        title: the axis title.
        max_points: plot at most this many (the first ones) to stay readable.

    Returns:
        The `Figure`.
    """
    codes = np.asarray(codes, dtype=np.float32)
    if codes.ndim != 2 or codes.shape[1] != 2:
        raise ValueError(f"Expected codes of shape (N, 2). Received: shape={codes.shape}")
    codes = codes[:max_points]
    fig, ax = plt.subplots(figsize=(5.5, 4.8))
    if labels is None:
        ax.scatter(codes[:, 0], codes[:, 1], s=4, alpha=0.6)
    else:
        labels = np.asarray(labels)[:max_points]
        classes = np.unique(labels)
        cmap = plt.get_cmap("tab10")
        for k in classes:
            mask = labels == k
            name = class_names[int(k)] if class_names is not None else str(k)
            ax.scatter(
                codes[mask, 0], codes[mask, 1], s=4, alpha=0.6, color=cmap(int(k) % 10), label=name
            )
        ax.legend(markerscale=3, fontsize=8, loc="best", ncol=2)
    return _finish_latent_axes(fig, ax, title)


def latent_manifold(
    decode: Callable[[np.ndarray], np.ndarray],
    *,
    grid_size: int = 15,
    extent: tuple[float, float] = (-3.0, 3.0),
    use_gaussian_quantiles: bool = False,
    title: str | None = None,
    value_range: tuple[float, float] | None = None,
) -> Figure:
    """Decode a regular grid of 2-D codes and tile the images into one picture.

    Args:
        decode: maps codes `(M, 2)` to images `(M, H, W[, 1])`.
        grid_size: points per axis.
        extent: the range of each coordinate.
        use_gaussian_quantiles: place points at evenly spaced quantiles of
            N(0, 1) instead (as for a VAE's prior), ignoring `extent`.
        title: the axis title.
        value_range: the pixel range; guessed when None.

    Returns:
        The `Figure`, with the code coordinates on the axes.
    """
    if grid_size < 2:
        raise ValueError(f"Expected grid_size >= 2. Received: grid_size={grid_size}")
    if use_gaussian_quantiles:
        from scipy.stats import norm

        axis = norm.ppf(np.linspace(0.05, 0.95, grid_size))
    else:
        axis = np.linspace(extent[0], extent[1], grid_size)
    # Rows run from high z_2 at the top to low at the bottom, like a plot's y axis.
    z1, z2 = np.meshgrid(axis, axis[::-1])
    codes = np.stack([z1.ravel(), z2.ravel()], axis=1).astype(np.float32)
    images = _as_images(decode(codes))
    if len(images) != len(codes):
        raise ValueError(
            f"Expected `decode` to return one image per code. Received: {len(images)} images "
            f"for {len(codes)} codes"
        )
    h, w = images.shape[1:]
    canvas = images.reshape(grid_size, grid_size, h, w).transpose(0, 2, 1, 3)
    canvas = canvas.reshape(grid_size * h, grid_size * w)
    low, high = _value_limits(images, value_range)
    fig, ax = plt.subplots(figsize=(6, 6))
    half = (axis[1] - axis[0]) / 2
    ax.imshow(
        canvas,
        cmap="gray",
        vmin=low,
        vmax=high,
        extent=(axis[0] - half, axis[-1] + half, axis[0] - half, axis[-1] + half),
    )
    return _finish_latent_axes(fig, ax, title)


# --------------------------------------------------------------------------- GAN training


def sample_progression(
    monitor,
    *,
    num_images: int = 8,
    max_rows: int = 8,
    title: str | None = "Samples from fixed noise, epoch by epoch",
    value_range: tuple[float, float] = (-1.0, 1.0),
) -> Figure:
    """One figure of a monitor's samples: a row per kept epoch, a column per noise vector.

    Taught in notebook 05, section 4, and used again in notebook 06, section 3,
    and notebook 07, section 2.

    Args:
        monitor: a `course_lib.training.SampleGridMonitor` after training (or
            anything with its `epochs`, `images` and `num_images` attributes).
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
    that wins outright gives the generator no useful gradient). Taught in
    notebook 05, section 4, and used again in notebook 06, section 3, and
    notebook 07, section 2.

    Args:
        history: a `keras.callbacks.History` or a dict of lists (e.g. from
            `course_lib.training.fit_resumable`).
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


# --------------------------------------------------------------------------- latent traversal


def _check_callable(function, name: str) -> None:
    if not callable(function):
        raise ValueError(
            f"Expected `{name}` to be a function (e.g. `lambda z: vae.decode(z)`). "
            f"Received: {name}={function!r}"
        )


def _check_traversal(
    decode, latent_dim, num_dims, extent, base, *, num_dims_name: str = "num_dims"
) -> tuple[int, int, float, np.ndarray]:
    """Validated `latent_dim`, `num_dims`, `extent` and `base` of a traversal.

    Shared with `course_lib.widgets.latent_explorer`, whose sliders are the
    traversal's rows (there `num_dims` is called `num_sliders`).
    """
    _check_callable(decode, "decode")
    latent_dim = check_positive_int(latent_dim, "latent_dim")
    if num_dims is None:
        num_dims = min(latent_dim, 10)
    num_dims = check_positive_int(num_dims, num_dims_name)
    if num_dims > latent_dim:
        raise ValueError(
            f"Expected `{num_dims_name}` <= latent_dim={latent_dim}. "
            f"Received: {num_dims_name}={num_dims}"
        )
    if not (isinstance(extent, (int, float)) and extent > 0):
        raise ValueError(f"Expected `extent` to be a number > 0. Received: extent={extent!r}")
    base = np.zeros(latent_dim, np.float32) if base is None else np.asarray(base, np.float32)
    if base.shape != (latent_dim,):
        raise ValueError(
            f"Expected `base` of shape ({latent_dim},). Received: base.shape={base.shape}"
        )
    return latent_dim, num_dims, float(extent), base


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
    static fallback of `course_lib.widgets.latent_explorer`. Taught in notebook
    03, section 5 ("Explore the latent space"), and used again in notebook 04,
    sections 3 ("Steer the style") and 5, for the traversals of a CVAE and of β-VAEs.

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
    latent_dim, num_dims, extent, base = _check_traversal(
        decode, latent_dim, num_dims, extent, base
    )
    num_steps = check_positive_int(num_steps, "num_steps")
    values = np.linspace(-extent, extent, num_steps, dtype=np.float32)
    codes = np.repeat(base[np.newaxis], num_dims * num_steps, axis=0)
    for dim in range(num_dims):
        codes[dim * num_steps : (dim + 1) * num_steps, dim] = values
    images = _as_images(decode(codes))
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


# --------------------------------------------------------------------------- interpolation


def _as_interpolation_images(images) -> np.ndarray:
    """At least two images to interpolate between, as float32 `(N, H, W, 1)`.

    Shared with `course_lib.widgets.interpolation_explorer`.
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 3:
        images = images[..., np.newaxis]
    if images.ndim != 4 or len(images) < 2:
        raise ValueError(
            "Expected at least two images of shape (N, H, W[, 1]). "
            f"Received: shape={np.shape(images)}"
        )
    return images


def _interpolate(encode, decode, image_a, image_b, ts) -> np.ndarray:
    """Decode the codes `(1 - t) z_a + t z_b` for each `t` in `ts`."""
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

    The static fallback of `course_lib.widgets.interpolation_explorer`. Taught
    in notebook 03, section 6.

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
    pair = _as_interpolation_images(np.stack([np.asarray(image_a), np.asarray(image_b)]))
    ts = np.linspace(0.0, 1.0, num_steps)
    decoded = _as_images(_interpolate(encode, decode, pair[0], pair[1], ts))
    panels = [pair[0, ..., 0], *decoded, pair[1, ..., 0]]
    captions = ["A"] + [f"t={t:.2f}" for t in ts] + ["B"]
    fig, axes = plt.subplots(1, len(panels), figsize=(0.95 * len(panels), 1.4), squeeze=False)
    for ax, panel, caption in zip(axes[0], panels, captions, strict=True):
        ax.imshow(panel, cmap="gray", vmin=0, vmax=1)
        ax.set_title(caption, fontsize=7)
        ax.set_axis_off()
    fig.suptitle(title or "Interpolation between the codes of A and B", fontsize=10)
    return _finish(fig)
