"""How good is a reconstruction, and how small is the code? Pure functions on arrays.

Taught in notebook 01, sections "The idea in equations" and 4: MSE and BCE, and
the compression ratio; and in notebook 02, sections 2, 3 and 5: PSNR and SSIM
of restored images, the ROC-AUC of anomaly scores, and bits per image of a
quantised code beside the JPEG baseline.

PSNR and SSIM come from TensorFlow (`tf.image.psnr`, `tf.image.ssim`), ROC
curves from scikit-learn and JPEG from Pillow: well-tested implementations,
so the numbers mean what they mean elsewhere.

Example:
    >>> import numpy as np
    >>> x = np.zeros((2, 28, 28, 1), "float32")
    >>> round(float(mse(x, x + 0.1)), 6)
    0.01
    >>> round(float(psnr(x, x + 0.1)), 6)
    20.0
"""

from __future__ import annotations

import io

import numpy as np

from course_lib._checks import check_positive_int, check_value_range

__all__ = [
    "bce",
    "bits_per_image",
    "compression_ratio",
    "jpeg_roundtrip",
    "mse",
    "psnr",
    "quantize_codes",
    "roc_auc",
    "roc_curve",
    "ssim",
]


def _pair(originals, reconstructions) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(originals, dtype=np.float64)
    y = np.asarray(reconstructions, dtype=np.float64)
    if x.shape != y.shape or x.ndim < 2:
        raise ValueError(
            "Expected originals and reconstructions of one shape (batch, ...). "
            f"Received: {x.shape} and {y.shape}"
        )
    return x, y


def _reduce(per_pixel: np.ndarray, per_image: bool):
    per_example = per_pixel.reshape(len(per_pixel), -1).mean(axis=1)
    return per_example if per_image else per_example.mean()


def mse(originals, reconstructions, *, per_image: bool = False):
    """Mean squared error per pixel: `mean((x - x_hat)^2)`.

    Args:
        originals, reconstructions: arrays of one shape `(N, ...)`.
        per_image: return one value per image (e.g. an anomaly score) instead of the mean.

    Returns:
        A float, or an array `(N,)` with `per_image=True`.

    Raises:
        ValueError: arrays of different shapes.
    """
    x, y = _pair(originals, reconstructions)
    return _reduce((x - y) ** 2, per_image)


def bce(originals, reconstructions, *, per_image: bool = False, epsilon: float = 1e-7):
    """Binary cross-entropy per pixel: `-mean(x log x_hat + (1 - x) log(1 - x_hat))`, in nats.

    Its minimum over `x_hat` is at `x_hat = x`, but for grey targets (0 < x < 1)
    the minimum is the entropy of `x`, not zero.

    Args:
        originals: targets in [0, 1].
        reconstructions: predicted probabilities in [0, 1] (clipped to
            `[epsilon, 1 - epsilon]` so the logarithms stay finite).
        per_image: one value per image instead of the mean.
        epsilon: the clipping margin.

    Returns:
        A float, or an array `(N,)`.

    Raises:
        ValueError: different shapes, or values outside [0, 1].
    """
    x, y = _pair(originals, reconstructions)
    check_value_range(x, 0.0, 1.0, "originals")
    check_value_range(y, 0.0, 1.0, "reconstructions")
    p = np.clip(y, epsilon, 1.0 - epsilon)
    return _reduce(-(x * np.log(p) + (1.0 - x) * np.log(1.0 - p)), per_image)


def _images_for_tf(originals, reconstructions, max_value: float):
    x, y = _pair(originals, reconstructions)
    if x.ndim == 3:  # (N, H, W): add the channel axis tf.image expects
        x, y = x[..., np.newaxis], y[..., np.newaxis]
    if x.ndim != 4:
        raise ValueError(
            "Expected images of shape (N, H, W) or (N, H, W, C). "
            f"Received: shape={np.shape(originals)}"
        )
    check_value_range(x, 0.0, max_value, "originals")
    check_value_range(y, 0.0, max_value, "reconstructions")
    return x.astype(np.float32), y.astype(np.float32)


def psnr(originals, reconstructions, *, max_value: float = 1.0, per_image: bool = False):
    """Peak signal-to-noise ratio in dB, `10 log10(max_value^2 / MSE)`, per image, then averaged.

    Uses `tf.image.psnr`. Higher is better; +10 dB means a tenth of the squared
    error. An image identical to its original has infinite PSNR.

    Args:
        originals, reconstructions: images `(N, H, W[, C])` in `[0, max_value]`.
        max_value: the brightest possible pixel.
        per_image: return the per-image values instead of their mean.

    Returns:
        A float (the mean over images), or an array `(N,)`.

    Raises:
        ValueError: different shapes, or values outside `[0, max_value]`.
    """
    import tensorflow as tf

    x, y = _images_for_tf(originals, reconstructions, max_value)
    values = tf.image.psnr(x, y, max_val=max_value).numpy().astype(np.float64)
    return values if per_image else float(values.mean())


def ssim(
    originals,
    reconstructions,
    *,
    max_value: float = 1.0,
    filter_size: int = 11,
    per_image: bool = False,
):
    """Structural similarity (Wang et al., 2004), per image, then averaged.

    Uses `tf.image.ssim` with its Gaussian window (sigma 1.5). 1 means
    identical; SSIM compares local means, contrasts and correlations, so it
    tracks what a viewer notices (blur, lost strokes) better than MSE does.

    Args:
        originals, reconstructions: images `(N, H, W[, C])` in `[0, max_value]`,
            at least `filter_size` pixels on each side.
        max_value: the brightest possible pixel.
        filter_size: the side of the Gaussian window.
        per_image: return the per-image values instead of their mean.

    Returns:
        A float, or an array `(N,)`.

    Raises:
        ValueError: different shapes, values outside `[0, max_value]`, or
            images smaller than the window.
    """
    import tensorflow as tf

    filter_size = check_positive_int(filter_size, "filter_size")
    x, y = _images_for_tf(originals, reconstructions, max_value)
    if min(x.shape[1:3]) < filter_size:
        raise ValueError(
            f"Expected images at least {filter_size} pixels on each side for the SSIM window. "
            f"Received: shape={x.shape}"
        )
    values = tf.image.ssim(x, y, max_val=max_value, filter_size=filter_size).numpy()
    values = values.astype(np.float64)
    return values if per_image else float(values.mean())


def _labels_and_scores(labels, scores):
    labels = np.asarray(labels).ravel()
    scores = np.asarray(scores, dtype=np.float64).ravel()
    if labels.shape != scores.shape:
        raise ValueError(
            f"Expected one score per label. Received: {labels.size} labels and {scores.size} scores"
        )
    if set(np.unique(labels).tolist()) != {0, 1}:
        raise ValueError(
            "Expected binary labels with both classes present (1 = anomaly, 0 = normal). "
            f"Received: labels with values {np.unique(labels).tolist()}"
        )
    return labels.astype(int), scores


def roc_auc(labels, scores) -> float:
    """Area under the ROC curve (scikit-learn's `roc_auc_score`).

    The probability that a random anomaly (label 1) scores higher than a
    random normal example (label 0): 1 is perfect, 0.5 is chance.

    Args:
        labels: 1 for an anomaly, 0 for a normal example.
        scores: higher means "more anomalous", e.g. the reconstruction error.

    Returns:
        The AUC, a float in [0, 1].

    Raises:
        ValueError: mismatched lengths or labels that are not both 0 and 1.
    """
    from sklearn.metrics import roc_auc_score

    labels, scores = _labels_and_scores(labels, scores)
    return float(roc_auc_score(labels, scores))


def roc_curve(labels, scores) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """False- and true-positive rates at every threshold (scikit-learn's `roc_curve`).

    Returns:
        `(false_positive_rate, true_positive_rate, thresholds)`.

    Raises:
        ValueError: as `roc_auc`.
    """
    from sklearn.metrics import roc_curve as sklearn_roc_curve

    labels, scores = _labels_and_scores(labels, scores)
    return sklearn_roc_curve(labels, scores)


def compression_ratio(
    original_size: int, code_size: int, *, original_bits: int = 8, code_bits: int = 8
) -> float:
    """How many times smaller the code is than the image, in bits.

    `(original_size * original_bits) / (code_size * code_bits)`. With the
    defaults (8-bit pixels, 8-bit code values) it is simply
    `original_size / code_size`; float32 codes (`code_bits=32`) are 4 times
    less compact.

    Args:
        original_size: numbers per image (784 for MNIST).
        code_size: numbers per code (`latent_dim`).
        original_bits: bits per pixel.
        code_bits: bits per code value.

    Returns:
        The ratio, a float.

    Raises:
        ValueError: a non-positive argument.
    """
    original_size = check_positive_int(original_size, "original_size")
    code_size = check_positive_int(code_size, "code_size")
    original_bits = check_positive_int(original_bits, "original_bits")
    code_bits = check_positive_int(code_bits, "code_bits")
    return (original_size * original_bits) / (code_size * code_bits)


def bits_per_image(code_size: int, num_bits: int) -> int:
    """Bits to store one code of `code_size` values quantised to `num_bits` bits each."""
    return check_positive_int(code_size, "code_size") * check_positive_int(num_bits, "num_bits")


def quantize_codes(codes, num_bits: int, *, low, high) -> np.ndarray:
    """Uniformly quantise codes to `2**num_bits` levels per dimension and map them back.

    Each value is clipped to `[low, high]` (per dimension when arrays are
    given, e.g. the minimum and maximum of the training codes, which the
    decoder side knows) and rounded to the nearest of `2**num_bits` evenly
    spaced levels. The result is what the decoder would see after storing
    `bits_per_image(code_size, num_bits)` bits.

    Args:
        codes: an array `(N, code_size)`.
        num_bits: bits per value (1-16).
        low, high: scalars or arrays `(code_size,)` with `low < high`.

    Returns:
        The quantised codes, float32, of the same shape.

    Raises:
        ValueError: `num_bits` outside 1-16, or `low >= high` somewhere.
    """
    num_bits = check_positive_int(num_bits, "num_bits")
    if num_bits > 16:
        raise ValueError(f"Expected `num_bits` between 1 and 16. Received: num_bits={num_bits}")
    codes = np.asarray(codes, dtype=np.float64)
    low = np.broadcast_to(np.asarray(low, dtype=np.float64), codes.shape[1:])
    high = np.broadcast_to(np.asarray(high, dtype=np.float64), codes.shape[1:])
    if np.any(high <= low):
        raise ValueError("Expected `low` < `high` in every dimension. Received: low >= high")
    levels = 2**num_bits - 1
    unit = (np.clip(codes, low, high) - low) / (high - low)
    return (np.round(unit * levels) / levels * (high - low) + low).astype(np.float32)


def jpeg_roundtrip(images, quality: int) -> tuple[np.ndarray, np.ndarray]:
    """Compress each greyscale image with Pillow's JPEG and decode it again.

    The standard codec to compare a learned code with. A JPEG file carries
    headers (quantisation and Huffman tables) of a few hundred bytes that
    dwarf a 28x28 image's payload; `optimize=True` keeps the Huffman tables
    small, and the notebook reports the full file size.

    Args:
        images: `(N, H, W)` or `(N, H, W, 1)` in [0, 1].
        quality: Pillow's JPEG quality, 1 (smallest) to 95.

    Returns:
        `(decoded, bits)`: the decoded images in [0, 1] with the input's shape,
        and the file size in bits of each image `(N,)`.

    Raises:
        ValueError: a quality outside 1-95, or pixel values outside [0, 1].
    """
    from PIL import Image

    quality = check_positive_int(quality, "quality")
    if quality > 95:
        raise ValueError(f"Expected `quality` between 1 and 95. Received: quality={quality}")
    images = np.asarray(images, dtype=np.float32)
    check_value_range(images, 0.0, 1.0)
    squeeze = images.ndim == 4 and images.shape[-1] == 1
    pixels = np.clip(np.rint((images[..., 0] if squeeze else images) * 255), 0, 255)
    pixels = pixels.astype(np.uint8)
    decoded = np.empty(pixels.shape, dtype=np.float32)
    bits = np.empty(len(pixels), dtype=np.int64)
    for index, image in enumerate(pixels):
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, format="JPEG", quality=quality, optimize=True)
        bits[index] = 8 * buffer.tell()
        buffer.seek(0)
        decoded[index] = np.asarray(Image.open(buffer), dtype=np.float32) / 255.0
    return (decoded[..., np.newaxis] if squeeze else decoded), bits
