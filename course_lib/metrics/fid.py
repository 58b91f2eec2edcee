"""A classifier-based Fréchet distance (FID) and kernel distance (KID): pure functions.

Taught in notebook 06, section 4 ("Samples, and a classifier-based FID"), and
used again in notebook 07, sections 3 and 5.

The FID of Heusel et al. (2017) compares two sets of images through the
features of a network: fit a Gaussian to each set's features and take the
Fréchet (2-Wasserstein) distance between the two Gaussians,

    FID = |mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a^{1/2} S_b S_a^{1/2})^{1/2}).

Papers use the pool features of an Inception-v3 network trained on ImageNet.
The course uses a **small digit classifier trained on its own training split**
(`course_lib.models.digit_classifier`, its penultimate layer, 128 numbers per
image); this module only measures, with whatever `extractor` it is given. The
numbers are on a different scale: **a FID from the course classifier is NOT
comparable with the Inception-based FIDs reported in papers**, nor with a FID
computed with another classifier (other data, settings or seed). Compare FIDs
only within one extractor, with the same numbers of images.

FID is biased upwards for small samples, so every FID should be printed beside
a floor measured with as many images: what real digits score.

Which real images to compare with: **held-out** digits that neither the generator
nor the feature classifier saw (the validation split while tuning, the test split
for the headline). `fid_report` prints everything needed to read the number: the
floor (a random sample of training digits against the same held-out digits), the
FID against training digits (a copying generator scores clearly lower there), KID
with its spread, and a calibration ladder of noisy and blurred real digits.
`fid_floor` (two disjoint halves of one set) remains for a quick check. Avoid
contiguous slices of MNIST's files: they are ordered by writer population, and the
classifier-FID between the test file's first 5,000 digits and the rest is several
times the floor; `course_lib.data` returns every split shuffled.

KID (Bińkowski et al., 2018) is the unbiased squared maximum mean discrepancy
with the polynomial kernel k(x, y) = (x·y / d + 1)^3; its expectation is 0 for
two samples of the same distribution, whatever the sample size.

Example (a toy extractor, the first four pixels, stands in for the course
classifier of `course_lib.models.digit_classifier.get_feature_extractor`):
    >>> rng = np.random.default_rng(0)
    >>> real = rng.uniform(size=(400, 8, 8, 1))
    >>> def first_pixels(images):
    ...     return images.reshape(len(images), -1)[:, :4]
    >>> floor = fid_floor(real, first_pixels)  # two random halves of 200
    >>> brighter = np.clip(real[:200] + 0.2, 0.0, 1.0)  # a "generator" that is off
    >>> score = fid(brighter, real[200:], first_pixels)  # 200 against 200, like the floor
    >>> print(f"FID {score:.2f}, floor {floor:.2f}")
    FID 0.14, floor 0.01
"""

from __future__ import annotations

import numpy as np

from course_lib._checks import check_positive_int, check_value_range

__all__ = [
    "CALIBRATION",
    "corrupt",
    "fid",
    "fid_floor",
    "fid_report",
    "format_fid_report",
    "frechet_distance",
    "kid",
    "kid_from_features",
]


def _as_images(images, name: str = "images") -> np.ndarray:
    """Validate a batch of [0, 1] images and return it as float32 (N, H, W, C).

    The image shape itself is the extractor's to check (the course classifier
    takes 28 x 28 x 1).
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 3:  # (N, H, W): add the channel axis
        images = images[..., None]
    if images.ndim != 4:
        raise ValueError(
            f"Expected `{name}` of shape (batch, height, width, channels) or "
            f"(batch, height, width). Received: {name}.shape={images.shape}"
        )
    if len(images) == 0:
        raise ValueError(f"Expected `{name}` to hold at least one image. Received: 0 images")
    # Generators often output [-1, 1] (tanh): the caller must rescale, or the
    # classifier sees images unlike anything it was trained on.
    check_value_range(images, 0.0, 1.0, name)
    return images


def _features(extractor, images: np.ndarray) -> np.ndarray:
    """The extractor's features of validated images, as float64 (N, d).

    Duck-typed: anything with `predict(images, verbose=0)` (a `FeatureExtractor`,
    a `keras.Model`), else any callable images -> features.
    """
    predict = getattr(extractor, "predict", None)
    features = predict(images, verbose=0) if callable(predict) else extractor(images)
    return np.asarray(features, dtype=np.float64)


def _paired_features(extractor, images_a, images_b) -> tuple[np.ndarray, np.ndarray]:
    """Validate two image sets of one image shape and return their features."""
    images_a = _as_images(images_a, "images_a")
    images_b = _as_images(images_b, "images_b")
    if images_a.shape[1:] != images_b.shape[1:]:
        raise ValueError(
            "Expected `images_a` and `images_b` with the same image shape "
            f"{images_a.shape[1:]}. Received: images_b.shape={images_b.shape}"
        )
    return _features(extractor, images_a), _features(extractor, images_b)


def _as_features(features, name: str) -> np.ndarray:
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(
            f"Expected `{name}` of shape (num_examples >= 2, num_features). "
            f"Received: {name}.shape={features.shape}"
        )
    if not np.all(np.isfinite(features)):
        raise ValueError(f"Expected `{name}` to be finite. Received: NaN or infinite values")
    return features


def _as_feature_pair(features_a, features_b) -> tuple[np.ndarray, np.ndarray]:
    """Both feature sets checked, with the same number of features."""
    features_a = _as_features(features_a, "features_a")
    features_b = _as_features(features_b, "features_b")
    if features_a.shape[1] != features_b.shape[1]:
        raise ValueError(
            "Expected `features_a` and `features_b` with the same number of features. "
            f"Received: {features_a.shape[1]} and {features_b.shape[1]}"
        )
    return features_a, features_b


def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    """The symmetric square root of a positive semi-definite matrix (eigenvalues clipped at 0)."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance(features_a, features_b) -> float:
    """The Fréchet distance between Gaussians fitted to two sets of features.

    Uses Tr((S_a S_b)^{1/2}) = Tr((S_a^{1/2} S_b S_a^{1/2})^{1/2}): the inner
    matrix is symmetric positive semi-definite, so its square root comes from a
    symmetric eigendecomposition, with no complex parts to discard and no
    failure on singular covariances (dead ReLU features).

    Args:
        features_a: (N_a, d) features.
        features_b: (N_b, d) features, the same d.

    Returns:
        The distance (>= 0, a float). It is 0 for identical sets.

    Raises:
        ValueError: not 2-D, fewer than 2 rows, different d, or non-finite values.

    Example:
        >>> a = np.random.default_rng(0).normal(size=(500, 4))
        >>> round(frechet_distance(a, a), 6)
        0.0
        >>> round(frechet_distance(a, a + 1.0), 6)  # a shift of 1 in each of 4 dims
        4.0
    """
    features_a, features_b = _as_feature_pair(features_a, features_b)
    mean_a, mean_b = features_a.mean(axis=0), features_b.mean(axis=0)
    cov_a = np.cov(features_a, rowvar=False)
    cov_b = np.cov(features_b, rowvar=False)
    sqrt_a = _sqrt_psd(cov_a)
    cross = np.sum(np.sqrt(np.clip(np.linalg.eigvalsh(sqrt_a @ cov_b @ sqrt_a), 0.0, None)))
    distance = float(np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * cross)
    return max(distance, 0.0)  # rounding can leave -1e-12 for identical sets


def fid(images_a, images_b, extractor) -> float:
    """The classifier-based FID between two sets of [0, 1] images.

    Not comparable with Inception-based FIDs in papers (see the module
    docstring). Print it beside `fid_floor` computed with the same number of
    images per set: FID grows as the sample shrinks.

    Args:
        images_a, images_b: (N, H, W, C) or (N, H, W) images in [0, 1], N >= 2,
            of the shape the extractor takes ((N, 28, 28, 1) for the course classifier).
        extractor: what maps images to (N, d) features: anything with
            `predict(images, verbose=0)`, such as the `FeatureExtractor` of
            `course_lib.models.digit_classifier.get_feature_extractor` or a
            `keras.Model`, or a plain callable.

    Returns:
        The FID, a float >= 0.

    Raises:
        ValueError: images of the wrong shape or outside [0, 1] (rescale a
            tanh generator's [-1, 1] output with `(x + 1) / 2` first).
    """
    return frechet_distance(*_paired_features(extractor, images_a, images_b))


def fid_floor(real_images, extractor, *, num_examples: int | None = None, seed: int = 0) -> float:
    """The FID between two disjoint random halves of real images: what a perfect generator scores.

    FID is biased upwards at finite sample size, so a generator's FID means
    little alone; print this floor beside it. For a fair comparison compute the
    generator's FID with `num_examples` images on each side as well.

    Args:
        real_images: (N, H, W, C) images in [0, 1], N >= 4.
        extractor: as in `fid`.
        num_examples: images per half; default N // 2. At most N // 2.
        seed: seeds the random split.

    Returns:
        The floor, a float >= 0.

    Raises:
        ValueError: too few images for two halves of `num_examples`, or bad images.
    """
    real_images = _as_images(real_images, "real_images")
    half = len(real_images) // 2
    if num_examples is None:
        num_examples = half
    num_examples = check_positive_int(num_examples, "num_examples")
    if num_examples < 2 or num_examples > half:
        raise ValueError(
            f"Expected `num_examples` between 2 and half the real images ({half}). "
            f"Received: num_examples={num_examples}"
        )
    order = np.random.default_rng(seed).permutation(len(real_images))
    first = real_images[order[:num_examples]]
    second = real_images[order[num_examples : 2 * num_examples]]
    return fid(first, second, extractor)


def kid_from_features(
    features_a,
    features_b,
    *,
    num_subsets: int = 10,
    subset_size: int = 1000,
    seed: int = 0,
    return_std: bool = False,
):
    """Unbiased squared MMD with the kernel k(x, y) = (x·y / d + 1)^3, averaged over subsets.

    Args:
        features_a, features_b: (N, d) features.
        num_subsets: how many random subsets to average over.
        subset_size: examples per subset (capped at the smaller set's size).
        seed: seeds the subsets.
        return_std: also return the standard deviation of the subsets' estimates
            (as Bińkowski et al. report it: how much one subset's KID varies).

    Returns:
        The KID, a float; it can be slightly negative (it is unbiased), and its
        expectation is 0 when both sets come from one distribution. With
        `return_std`, a pair `(kid, std)`.
    """
    features_a, features_b = _as_feature_pair(features_a, features_b)
    num_subsets = check_positive_int(num_subsets, "num_subsets")
    subset_size = check_positive_int(subset_size, "subset_size")
    m = min(subset_size, len(features_a), len(features_b))
    d = features_a.shape[1]
    rng = np.random.default_rng(seed)
    estimates = []
    for _ in range(num_subsets):
        x = features_a[rng.choice(len(features_a), m, replace=False)]
        y = features_b[rng.choice(len(features_b), m, replace=False)]
        k_xx = (x @ x.T / d + 1) ** 3
        k_yy = (y @ y.T / d + 1) ** 3
        k_xy = (x @ y.T / d + 1) ** 3
        # Unbiased: leave out the diagonal (an example compared with itself).
        term_xx = (k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
        term_yy = (k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
        estimates.append(term_xx + term_yy - 2 * k_xy.mean())
    if return_std:
        return float(np.mean(estimates)), float(np.std(estimates))
    return float(np.mean(estimates))


def kid(
    images_a,
    images_b,
    extractor,
    *,
    num_subsets: int = 10,
    subset_size: int = 1000,
    seed: int = 0,
    return_std: bool = False,
):
    """The kernel inception distance (with the course classifier's features) of two image sets.

    Unlike FID, KID is unbiased: two samples of one distribution score about 0
    at any size, so it needs no floor (though its noise shrinks with size).

    Args:
        images_a, images_b: (N, H, W, C) images in [0, 1], as in `fid`.
        extractor: as in `fid`.
        num_subsets, subset_size, seed, return_std: see `kid_from_features`.

    Returns:
        The KID, a float (may be slightly negative); with `return_std`, `(kid, std)`.
    """
    return kid_from_features(
        *_paired_features(extractor, images_a, images_b),
        num_subsets=num_subsets,
        subset_size=subset_size,
        seed=seed,
        return_std=return_std,
    )


# --------------------------------------------------------------------- a full report

# Corruptions of real digits whose FIDs give the scale of the numbers: a learner
# reads a generator's FID against them ("as far off as real digits blurred by 1 px").
CALIBRATION = (
    ("noise", 0.1),
    ("noise", 0.3),
    ("blur", 0.5),
    ("blur", 1.0),
)


def corrupt(images, kind: str, strength: float, *, seed: int = 0) -> np.ndarray:
    """Real images made worse by a known amount, for calibrating FID.

    Args:
        images: (N, H, W[, C]) images in [0, 1].
        kind: `"noise"` (add Gaussian noise of standard deviation `strength`,
            then clip to [0, 1]) or `"blur"` (a Gaussian blur of `strength` pixels).
        strength: the noise's standard deviation or the blur's width, > 0.
        seed: seeds the noise.

    Returns:
        float32 images of the same shape, in [0, 1].

    Example:
        >>> images = np.zeros((1, 11, 11, 1)); images[0, 5, 5, 0] = 1.0  # one bright pixel
        >>> blurred = corrupt(images, "blur", 1.0)  # spread over its neighbours, ink kept
        >>> print(f"{blurred[0, 5, 5, 0]:.3f} {blurred.sum():.3f}")
        0.159 1.000
    """
    from scipy.ndimage import gaussian_filter

    images = _as_images(images)
    if kind not in ("noise", "blur"):
        raise ValueError(f"Expected `kind` 'noise' or 'blur'. Received: kind={kind!r}")
    if not (np.isfinite(strength) and strength > 0):
        raise ValueError(f"Expected `strength` > 0. Received: strength={strength!r}")
    if kind == "noise":
        noise = np.random.default_rng(seed).normal(size=images.shape).astype(np.float32)
        return np.clip(images + strength * noise, 0.0, 1.0)
    # Blur each image over its height and width only (not across images or channels).
    blurred = gaussian_filter(images, sigma=(0, strength, strength, 0), mode="constant")
    return np.clip(blurred, 0.0, 1.0).astype(np.float32)


def fid_report(
    samples,
    train_images,
    held_out_images,
    extractor,
    *,
    num_examples: int | None = None,
    calibration=CALIBRATION,
    seed: int = 0,
) -> dict:
    """A generator's FID and KID with everything needed to read them.

    The reference is **held-out** real images (neither the generator nor the
    classifier saw them). Beside the generator's FID the report gives:

    * `floor`: FID(a random sample of training images, the held-out images),
      what a generator scores whose samples are as good as fresh real digits,
      at this sample size (FID is biased upwards for small samples);
    * `fid_train`: the samples' FID against that training sample instead. A
      generator that copies its training images scores clearly lower here than
      against held-out digits; a generalising one scores about the same;
    * `kid` and `kid_std` (the spread over 10 subsets of half the images, at most
      1,000), with `kid_floor`, the KID of the training sample against the
      held-out images (about 0);
    * `calibration`: the FID of the training sample corrupted by known amounts
      (`corrupt`), so the numbers have a scale.

    Args:
        samples: (N, 28, 28[, 1]) generated images in [0, 1].
        train_images: the generator's training images (at least `num_examples`).
        held_out_images: real images neither model saw (e.g. the test split).
        extractor: as in `fid`.
        num_examples: images per set; default the smallest of the three sets.
        calibration: `(kind, strength)` pairs for `corrupt`; `()` for none.
        seed: seeds the training sample, the KID subsets and the noise.

    Returns:
        A dict: `num_examples`, `fid`, `fid_train`, `floor`, `kid`, `kid_std`,
        `kid_floor` and `calibration` (a dict "noise 0.1" -> FID, ...).

    Raises:
        ValueError: images outside [0, 1] or of the wrong shape, or fewer than
            2 images in a set.
    """
    samples = _as_images(samples, "samples")
    train_images = _as_images(train_images, "train_images")
    held_out_images = _as_images(held_out_images, "held_out_images")
    largest = min(len(samples), len(train_images), len(held_out_images))
    n = largest if num_examples is None else check_positive_int(num_examples, "num_examples")
    if not 2 <= n <= largest:
        raise ValueError(
            f"Expected `num_examples` between 2 and the smallest set's size ({largest}). "
            f"Received: num_examples={n}"
        )
    rng = np.random.default_rng(seed)
    train_sample = train_images[rng.choice(len(train_images), n, replace=False)]
    held = _features(extractor, held_out_images[:n])
    fake = _features(extractor, samples[:n])
    real = _features(extractor, train_sample)
    # Subsets of at most half the images, so that they differ and their spread means something.
    subset_size = min(1000, max(2, n // 2))
    kid_value, kid_std = kid_from_features(
        fake, held, subset_size=subset_size, seed=seed, return_std=True
    )
    report = {
        "num_examples": n,
        "fid": frechet_distance(fake, held),
        "fid_train": frechet_distance(fake, real),
        "floor": frechet_distance(real, held),
        "kid": kid_value,
        "kid_std": kid_std,
        "kid_floor": kid_from_features(real, held, subset_size=subset_size, seed=seed),
        "calibration": {},
    }
    for kind, strength in calibration:
        corrupted = corrupt(train_sample, kind, strength, seed=seed)
        report["calibration"][f"{kind} {strength:g}"] = frechet_distance(
            _features(extractor, corrupted), held
        )
    return report


def format_fid_report(report: dict, name: str = "samples") -> str:
    """The report of `fid_report` as a small table with a one-line reading.

    The reading places the FID on the calibration ladder and says whether the
    train-reference FID suggests copying (more than 20 % below the held-out one).
    """
    n = report["num_examples"]
    rows = [
        ("FID", report["fid"], ""),
        ("floor: real training digits", report["floor"], "what real digits score"),
        ("FID against training digits", report["fid_train"], "far below the FID = copying"),
    ]
    for label, value in report["calibration"].items():
        kind, strength = label.split()
        what = f"noise σ={strength}" if kind == "noise" else f"blurred by {strength} px"
        rows.append((f"calibration: real, {what}", value, ""))
    lines = [f"{name}, {n:,} images a side, reference: held-out real digits"]
    lines += [f"  {label:<36}{value:9.2f}   {note}".rstrip() for label, value, note in rows]
    lines.append(
        f"  {'KID':<36}{report['kid']:9.3g} ± {report['kid_std']:.2g}   "
        f"(real training digits: {report['kid_floor']:.2g})"
    )
    lines.append("  reading: " + _reading(report))
    return "\n".join(lines)


def _ladder_name(label: str) -> str:
    """ "noise 0.1" -> "noise σ=0.1", "blur 1" -> "a 1 px blur"."""
    kind, strength = label.split()
    return f"noise σ={strength}" if kind == "noise" else f"a {strength} px blur"


def _reading(report: dict) -> str:
    """One computed sentence: the FID's multiple of the floor and its place on the ladder."""
    fid_value, floor = report["fid"], report["floor"]
    text = f"FID is {fid_value / floor:.1f}x the floor" if floor > 0 else f"FID {fid_value:.2f}"
    names = {label: _ladder_name(label) for label in report["calibration"]}
    worse = [names[label] for label, value in report["calibration"].items() if value <= fid_value]
    better = [names[label] for label, value in report["calibration"].items() if value > fid_value]
    if report["calibration"]:
        if not worse:
            text += "; closer to real digits than every corruption in the ladder"
        elif not better:
            text += "; further from real digits than every corruption in the ladder"
        else:
            text += f"; worse than {', '.join(worse)} but better than {', '.join(better)}"
    copying = report["fid_train"] < 0.8 * fid_value
    text += (
        "; much closer to the training digits than to held-out ones: check for copying"
        if copying
        else "; no closer to the training digits than to held-out ones (no sign of copying)"
    )
    return text
