"""Likelihoods of binary images: nats and bits per dimension, and the simplest baseline.

Taught in notebook 08, sections "Nats and bits per dimension", 1 ("The data and
the baseline") and 4 ("An exact likelihood beside a bound"). Pure NumPy: no TensorFlow needed.

A model of binarised 28 x 28 digits assigns each image a probability p(x); its
negative log-likelihood (NLL) in nats, -log p(x), averaged over a test set, is
the headline figure. Bits per dimension divide it by the number of pixels and
by ln 2, so images of different sizes can be compared. The independent per-pixel
Bernoulli model, fitted by counting, is the baseline every real model must beat.

Example:
    >>> import numpy as np
    >>> train = np.zeros((10, 28, 28, 1), dtype="float32")
    >>> probabilities = fit_bernoulli_baseline(train, smoothing=1.0)
    >>> round(float(probabilities.max()), 4)  # (0 + 1) / (10 + 2)
    0.0833
    >>> round(float(nats_to_bits_per_dim(80.0)), 4)
    0.1472
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from course_lib._checks import check_positive_int, check_value_range

__all__ = [
    "bernoulli_baseline_nll",
    "bernoulli_nll",
    "bits_per_dim_to_nats",
    "fit_bernoulli_baseline",
    "nats_to_bits_per_dim",
]

MNIST_NUM_DIMS = 28 * 28


def nats_to_bits_per_dim(nats, num_dims: int = MNIST_NUM_DIMS):
    """Convert an NLL in nats per image to bits per dimension: `nats / (num_dims * ln 2)`.

    Args:
        nats: an NLL in nats per image (a number or an array).
        num_dims: the number of dimensions (pixels) of one image; 784 for 28 x 28.

    Returns:
        The NLL in bits per dimension, a float (or an array for an array).

    Raises:
        ValueError: `num_dims` is not a positive integer.
    """
    num_dims = check_positive_int(num_dims, "num_dims")
    result = np.asarray(nats, dtype=np.float64) / (num_dims * math.log(2.0))
    return float(result) if result.ndim == 0 else result


def bits_per_dim_to_nats(bits_per_dim, num_dims: int = MNIST_NUM_DIMS):
    """Convert bits per dimension back to nats per image: `bits_per_dim * num_dims * ln 2`.

    Args:
        bits_per_dim: an NLL in bits per dimension (a number or an array).
        num_dims: the number of dimensions (pixels) of one image.

    Returns:
        The NLL in nats per image, a float (or an array for an array).

    Raises:
        ValueError: `num_dims` is not a positive integer.
    """
    num_dims = check_positive_int(num_dims, "num_dims")
    result = np.asarray(bits_per_dim, dtype=np.float64) * num_dims * math.log(2.0)
    return float(result) if result.ndim == 0 else result


def _as_flat_images(images, name: str) -> np.ndarray:
    """(N, D) float64 from (N, H, W), (N, H, W, 1) or (N, D), with values checked."""
    images = np.asarray(images, dtype=np.float64)
    if images.ndim < 2:
        raise ValueError(
            f"Expected `{name}` as a batch of images, shape (N, H, W) or (N, H, W, 1). "
            f"Received: {name}.shape={images.shape}"
        )
    check_value_range(images, 0.0, 1.0, name)
    return images.reshape(len(images), int(np.prod(images.shape[1:])))


def fit_bernoulli_baseline(train_images, smoothing: float = 1.0) -> np.ndarray:
    """Fit one independent Bernoulli per pixel by counting, with additive smoothing.

    Why smoothing: a pixel that is never on in the training set would get
    probability 0, and a single test image with that pixel on would have an
    infinite NLL. Adding `smoothing` pseudo-counts to "on" and to "off" keeps
    every probability strictly inside (0, 1): `(count_on + a) / (N + 2a)`.

    Args:
        train_images: training images with values in [0, 1], shape (N, H, W, 1),
            (N, H, W) or (N, D). Binarised images give the classic estimate.
        smoothing: the pseudo-count `a` >= 0 (1.0 is Laplace's rule).

    Returns:
        The probabilities of "on", float64, shaped like one training image.

    Raises:
        ValueError: values outside [0, 1], no images, or a negative `smoothing`.
    """
    if (
        isinstance(smoothing, bool)
        or not isinstance(smoothing, numbers.Real)
        or not math.isfinite(smoothing)
        or smoothing < 0
    ):
        raise ValueError(
            f"Expected `smoothing` to be a finite number >= 0. Received: smoothing={smoothing!r}"
        )
    shape = np.shape(train_images)[1:]
    flat = _as_flat_images(train_images, "train_images")
    if len(flat) == 0:
        raise ValueError("Expected at least one training image. Received: 0 images")
    probabilities = (flat.sum(axis=0) + smoothing) / (len(flat) + 2.0 * smoothing)
    return probabilities.reshape(shape)


def bernoulli_nll(images, probabilities) -> np.ndarray:
    """The NLL in nats of each image under independent per-pixel Bernoullis.

    `-log p(x) = -sum_i [x_i log q_i + (1 - x_i) log(1 - q_i)]`, the binary
    cross-entropy summed over pixels.

    Args:
        images: images with values in [0, 1], shape (N, H, W, 1), (N, H, W) or (N, D).
        probabilities: the probability of "on" of each pixel, shaped like one image
            (as `fit_bernoulli_baseline` returns), values in [0, 1].

    Returns:
        A float64 array of shape (N,): nats per image (`inf` where an image has a
        pixel the model gives probability 0).

    Raises:
        ValueError: values outside [0, 1], or probabilities of another size.
    """
    flat = _as_flat_images(images, "images")
    q = np.asarray(probabilities, dtype=np.float64).reshape(-1)
    check_value_range(q, 0.0, 1.0, "probabilities")
    if q.size != flat.shape[1]:
        raise ValueError(
            f"Expected `probabilities` with {flat.shape[1]} values, one per pixel of an image. "
            f"Received: probabilities.shape={np.shape(probabilities)}"
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        log_q = np.log(q)
        log_not_q = np.log1p(-q)
        # 0 * log(0) is 0 here: a pixel that is surely off costs nothing when it is off.
        on = np.where(flat > 0, flat * log_q, 0.0)
        off = np.where(flat < 1, (1.0 - flat) * log_not_q, 0.0)
    return -(on + off).sum(axis=1)


def bernoulli_baseline_nll(train_images, test_images, smoothing: float = 1.0) -> float:
    """Fit the independent per-pixel Bernoulli baseline on `train_images`; mean test NLL in nats.

    Args:
        train_images: the images to count on, values in [0, 1].
        test_images: the images to score, values in [0, 1], the same image size.
        smoothing: the pseudo-count of `fit_bernoulli_baseline`.

    Returns:
        The mean NLL of `test_images` in nats per image (a float).

    Raises:
        ValueError: as `fit_bernoulli_baseline` and `bernoulli_nll`.
    """
    probabilities = fit_bernoulli_baseline(train_images, smoothing=smoothing)
    return float(np.mean(bernoulli_nll(test_images, probabilities)))
