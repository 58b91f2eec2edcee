"""Corruptions for restoration: Gaussian noise, salt-and-pepper noise, occluding squares.

Taught in notebook 02, section 2 ("Restoration"): denoising and inpainting.

Each function takes a batch of images in `[low, high]` (default `[0, 1]`),
either a NumPy array (the result is a NumPy array) or a `tf.Tensor` (the
result is a tensor, so the function can run inside `tf.data.Dataset.map`).
A single image `(H, W, C)` works too.

Randomness: with `seed=None` the functions draw fresh noise on every call,
which is what training wants: a new corruption of each image every epoch
(they draw from TensorFlow's global `tf.random.Generator`, whose state
survives from one pass over a `tf.data` pipeline to the next). With an
integer `seed` they are stateless: the same input shape always gets the same
corruption, which is what a fixed test set wants.

Example:
    >>> import numpy as np
    >>> clean = np.full((4, 28, 28, 1), 0.5, "float32")
    >>> noisy = add_gaussian_noise(clean, stddev=0.1, seed=0)
    >>> noisy.shape
    (4, 28, 28, 1)
    >>> # in a pipeline: (noisy, clean) pairs for a denoising autoencoder
    >>> # dataset.map(with_clean_targets(add_gaussian_noise, stddev=0.5))
"""

from __future__ import annotations

import numbers

import numpy as np

from course_lib._checks import check_positive_int, check_value_range

__all__ = [
    "add_gaussian_noise",
    "add_salt_and_pepper",
    "occlude_squares",
    "square_masks",
    "with_clean_targets",
]


def _check_number(value, name: str, low: float, high: float | None = None) -> float:
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    ok = ok and np.isfinite(value) and value >= low and (high is None or value <= high)
    if not ok:
        bounds = f"in [{low:g}, {high:g}]" if high is not None else f">= {low:g}"
        raise ValueError(f"Expected `{name}` to be a number {bounds}. Received: {name}={value!r}")
    return float(value)


def _check_seed(seed):
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise ValueError(f"Expected `seed` to be None or an integer. Received: seed={seed!r}")
    return int(seed)


def _as_batch(images, value_range):
    """A float32 4-D tensor, whether the input was NumPy or a tensor, a batch or one image."""
    import tensorflow as tf

    was_numpy = not tf.is_tensor(images)
    if was_numpy:
        images = np.asarray(images, dtype=np.float32)
        check_value_range(images, *value_range)
    x = tf.convert_to_tensor(images, dtype=tf.float32)
    rank = x.shape.rank
    if rank not in (3, 4):
        raise ValueError(
            "Expected images of shape (batch, height, width, channels) or (height, width, "
            f"channels). Received: shape={tuple(x.shape)}"
        )
    single = rank == 3
    if single:
        x = x[tf.newaxis]
    return x, was_numpy, single


def _restore(x, was_numpy: bool, single: bool):
    if single:
        x = x[0]
    return x.numpy() if was_numpy else x


def _uniform(shape, seed):
    import tensorflow as tf

    if seed is None:
        # The global Generator keeps its state across tf.data iterators, so each
        # epoch gets new draws; a stateful tf.random op would restart every epoch.
        return tf.random.get_global_generator().uniform(shape)
    return tf.random.stateless_uniform(shape, seed=[seed, 0])


def _normal(shape, seed):
    import tensorflow as tf

    if seed is None:
        return tf.random.get_global_generator().normal(shape)
    return tf.random.stateless_normal(shape, seed=[seed, 1])


def add_gaussian_noise(
    images, stddev: float, *, clip: bool = True, value_range=(0.0, 1.0), seed: int | None = None
):
    """Add independent Gaussian noise `N(0, stddev^2)` to every pixel.

    Args:
        images: a batch `(N, H, W, C)` or one image `(H, W, C)` in `value_range`.
        stddev: the noise's standard deviation sigma, in pixel units (>= 0).
        clip: clip the result back to `value_range` (a real sensor saturates;
            the notebook's PSNR figures use clipped noise).
        value_range: the documented pixel range `(low, high)`.
        seed: None for fresh noise on each call, an int for a fixed draw.

    Returns:
        The noisy images, NumPy in NumPy out, tensor in tensor out.

    Raises:
        ValueError: a negative or non-numeric `stddev`, a bad seed, or NumPy
            pixel values outside `value_range`.
    """
    import tensorflow as tf

    stddev = _check_number(stddev, "stddev", 0.0)
    seed = _check_seed(seed)
    x, was_numpy, single = _as_batch(images, value_range)
    noisy = x + stddev * _normal(tf.shape(x), seed)
    if clip:
        noisy = tf.clip_by_value(noisy, value_range[0], value_range[1])
    return _restore(noisy, was_numpy, single)


def add_salt_and_pepper(
    images, fraction: float, *, value_range=(0.0, 1.0), seed: int | None = None
):
    """Set a random `fraction` of the pixels to the darkest or brightest value, half each.

    Args:
        images: a batch `(N, H, W, C)` or one image `(H, W, C)` in `value_range`.
        fraction: the expected fraction of pixels hit, in [0, 1].
        value_range: `(low, high)`: "pepper" becomes `low`, "salt" `high`.
        seed: None for fresh noise on each call, an int for a fixed draw.

    Returns:
        The corrupted images, NumPy in NumPy out, tensor in tensor out.

    Raises:
        ValueError: `fraction` outside [0, 1], a bad seed, or NumPy pixel
            values outside `value_range`.
    """
    import tensorflow as tf

    fraction = _check_number(fraction, "fraction", 0.0, 1.0)
    seed = _check_seed(seed)
    x, was_numpy, single = _as_batch(images, value_range)
    u = _uniform(tf.shape(x), seed)
    low, high = (tf.cast(v, tf.float32) for v in value_range)
    out = tf.where(u < fraction / 2, low, tf.where(u < fraction, high, x))
    return _restore(out, was_numpy, single)


def square_masks(images, size: int, *, seed: int | None = None):
    """Masks with one random `size` x `size` square of zeros per image, ones elsewhere.

    The square lies wholly inside the image, its corner uniform over the
    allowed positions.

    Args:
        images: a batch `(N, H, W, C)` or one image (only its shape is used).
        size: the side of the square in pixels, at most `min(H, W)`.
        seed: None for fresh squares on each call, an int for a fixed draw.

    Returns:
        float32 masks of the images' shape: 1 = pixel kept, 0 = pixel hidden.

    Raises:
        ValueError: a non-positive `size` or one larger than the image.
    """
    import tensorflow as tf

    size = check_positive_int(size, "size")
    seed = _check_seed(seed)
    was_numpy = not tf.is_tensor(images)
    x = tf.convert_to_tensor(np.asarray(images, np.float32) if was_numpy else images, tf.float32)
    single = x.shape.rank == 3
    if single:
        x = x[tf.newaxis]
    height, width = x.shape[1], x.shape[2]
    if size > min(height, width):
        raise ValueError(
            f"Expected `size` <= {min(height, width)}, the smaller side of the images. "
            f"Received: size={size}"
        )
    batch = tf.shape(x)[0]
    # Top-left corners, uniform over the positions where the square fits.
    corners = _uniform(tf.stack([batch, 2]), seed)
    limits = tf.constant([height - size + 1, width - size + 1], tf.float32)
    corners = tf.cast(tf.floor(corners * limits), tf.int32)
    rows = tf.range(height)[tf.newaxis, :]
    cols = tf.range(width)[tf.newaxis, :]
    in_rows = (rows >= corners[:, :1]) & (rows < corners[:, :1] + size)
    in_cols = (cols >= corners[:, 1:]) & (cols < corners[:, 1:] + size)
    hidden = in_rows[:, :, tf.newaxis] & in_cols[:, tf.newaxis, :]
    masks = 1.0 - tf.cast(hidden, tf.float32)[..., tf.newaxis]
    masks = masks * tf.ones_like(x)  # broadcast over channels
    return _restore(masks, was_numpy, single)


def occlude_squares(
    images,
    size: int,
    *,
    fill_value: float = 0.0,
    value_range=(0.0, 1.0),
    seed: int | None = None,
    return_mask: bool = False,
):
    """Hide one random `size` x `size` square of each image behind `fill_value` (inpainting).

    Args:
        images: a batch `(N, H, W, C)` or one image `(H, W, C)` in `value_range`.
        size: the side of the square in pixels.
        fill_value: what the hidden pixels become.
        value_range: the documented pixel range.
        seed: None for fresh squares on each call, an int for a fixed draw.
        return_mask: also return the mask (1 = kept, 0 = hidden).

    Returns:
        The occluded images, or `(occluded, masks)` with `return_mask=True`.

    Raises:
        ValueError: as `square_masks`, or a `fill_value` outside `value_range`.
    """
    fill_value = _check_number(fill_value, "fill_value", value_range[0], value_range[1])
    x, was_numpy, single = _as_batch(images, value_range)
    masks = square_masks(x, size, seed=seed)
    occluded = x * masks + fill_value * (1.0 - masks)
    occluded = _restore(occluded, was_numpy, single)
    if return_mask:
        return occluded, _restore(masks, was_numpy, single)
    return occluded


def with_clean_targets(corrupt, **kwargs):
    """A function for `tf.data.Dataset.map` that turns `images` into `(corrupted, images)`.

    Args:
        corrupt: one of this module's functions, e.g. `add_gaussian_noise`.
        **kwargs: its arguments, e.g. `stddev=0.5`.

    Returns:
        A function `images -> (corrupt(images, **kwargs), images)`.

    Example:
        >>> # dataset = dataset.map(with_clean_targets(occlude_squares, size=12))
    """
    if not callable(corrupt):
        raise ValueError(f"Expected `corrupt` to be a function. Received: {corrupt!r}")

    def pair(images):
        return corrupt(images, **kwargs), images

    return pair
