"""Figures the notebooks share. Needs only NumPy and matplotlib.

Taught in notebook 00 (section "Plotting helpers"). Every function returns a
matplotlib `Figure`; none calls `plt.show()` or saves a file, so a notebook
shows the figure by leaving it as a cell's last expression, and a test can
inspect it.

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

__all__ = [
    "image_grid",
    "latent_manifold",
    "latent_scatter",
    "reconstruction_rows",
    "training_curves",
]


def _finish(fig: Figure) -> Figure:
    """Detach `fig` from pyplot so Jupyter shows it once: as the cell's value, not also at
    the end of the cell (which would draw it twice)."""
    fig.tight_layout()
    plt.close(fig)
    return fig


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
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    if title:
        ax.set_title(title)
    return _finish(fig)


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
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    if title:
        ax.set_title(title)
    return _finish(fig)
