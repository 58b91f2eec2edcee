"""A classifier-based Fréchet distance (FID) and kernel distance (KID) for 28×28 digits.

Taught in notebook 06 (section on FID) and used again in notebooks 07 and 10.

The FID of Heusel et al. (2017) compares two sets of images through the
features of a network: fit a Gaussian to each set's features and take the
Fréchet (2-Wasserstein) distance between the two Gaussians,

    FID = |mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a^{1/2} S_b S_a^{1/2})^{1/2}).

Papers use the pool features of an Inception-v3 network trained on ImageNet.
Here the features come from a **small digit classifier trained on the course's
own training split** (its penultimate layer, 128 numbers per image). That is
faster, works offline and sees what matters in digits, but the numbers are on
a different scale: **a FID from this module is NOT comparable with the
Inception-based FIDs reported in papers**, nor with a FID computed with another
classifier (other data, settings or seed). Compare FIDs only within one
extractor, with the same numbers of images.

FID is biased upwards for small samples, so every FID should be printed beside
its floor: the FID between two disjoint halves of real data (`fid_floor`),
which is what a perfect generator would score at that sample size.

Which real images to compare with: a random sample of the split the generator
was trained on (for the course, the training split), with the floor from two
disjoint random halves of that same split. Avoid contiguous slices of MNIST:
its test file (from which the offline carve takes both splits) is ordered, its
first 5,000 digits and the rest come from different writers, and the
classifier-FID between them (about 11 for 1,000 vs 1,000) is several times the
floor (about 2-3).

KID (Bińkowski et al., 2018) is the unbiased squared maximum mean discrepancy
with the polynomial kernel k(x, y) = (x·y / d + 1)^3; its expectation is 0 for
two samples of the same distribution, whatever the sample size.

Example:
    >>> from course_lib.data import load_dataset
    >>> train = load_dataset("mnist", "train")
    >>> test = load_dataset("mnist", "test")
    >>> extractor = get_feature_extractor(train.images, train.labels)
    >>> print(f"classifier accuracy {extractor.evaluate(test.images, test.labels):.3f}")
    >>> reference = train.images[np.random.default_rng(0).permutation(len(train))[:4000]]
    >>> floor = fid_floor(reference, extractor)  # 2,000 vs 2,000 real images
    >>> score = fid(generated[:2000], reference[:2000], extractor)  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from course_lib._checks import check_image_shape, check_positive_int, check_value_range

__all__ = [
    "FeatureExtractor",
    "build_digit_classifier",
    "fid",
    "fid_floor",
    "frechet_distance",
    "get_feature_extractor",
    "kid",
    "kid_from_features",
]

# Change this string whenever build_digit_classifier or the training recipe
# changes: it is part of the cache key, so old cached classifiers are not reused.
_ARCHITECTURE = "digit-classifier-v1: conv32s2-conv64s2-dense128-dense10, adam1e-3"
IMAGE_SHAPE = (28, 28, 1)
FEATURE_LAYER = "features"


def _as_images(images, name: str = "images") -> np.ndarray:
    """Validate a batch of [0, 1] images and return it as float32 (N, 28, 28, 1)."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 3:  # (N, 28, 28): add the channel axis
        images = images[..., None]
    if images.ndim != 4:
        raise ValueError(
            f"Expected `{name}` of shape (batch, 28, 28, 1) or (batch, 28, 28). "
            f"Received: {name}.shape={images.shape}"
        )
    check_image_shape(images.shape, IMAGE_SHAPE, name)
    if len(images) == 0:
        raise ValueError(f"Expected `{name}` to hold at least one image. Received: 0 images")
    # Generators often output [-1, 1] (tanh): the caller must rescale, or the
    # classifier sees images unlike anything it was trained on.
    check_value_range(images, 0.0, 1.0, name)
    return images


def build_digit_classifier(num_classes: int = 10, seed: int = 0, name: str = "digit_classifier"):
    """Build the small convolutional classifier whose penultimate layer gives the features.

    Two strided convolutions and a 128-unit dense layer named `"features"`:
    small enough to train in seconds on a CPU, accurate enough (about 98 % on
    MNIST) that its features separate the classes.

    Args:
        num_classes: the number of classes.
        seed: seeds every initializer, so the same data and seed give the same
            classifier without touching the global random state.
        name: the model's name.

    Returns:
        A functional `keras.Model` mapping (batch, 28, 28, 1) images in [0, 1] to logits.

    Example:
        >>> classifier = build_digit_classifier()
        >>> classifier.get_layer("features").units
        128
    """
    import keras
    from keras import layers

    num_classes = check_positive_int(num_classes, "num_classes")

    def init(offset):
        return keras.initializers.GlorotUniform(seed=int(seed) * 10 + offset)

    inputs = keras.Input(IMAGE_SHAPE, name="images")
    x = layers.Conv2D(
        32, 3, strides=2, padding="same", activation="relu", kernel_initializer=init(1)
    )(inputs)
    x = layers.Conv2D(
        64, 3, strides=2, padding="same", activation="relu", kernel_initializer=init(2)
    )(x)
    x = layers.Flatten()(x)
    features = layers.Dense(128, activation="relu", kernel_initializer=init(3), name=FEATURE_LAYER)(
        x
    )
    logits = layers.Dense(num_classes, kernel_initializer=init(4), name="logits")(features)
    return keras.Model(inputs, logits, name=name)


class FeatureExtractor:
    """The penultimate features of a trained digit classifier, with its accuracy.

    Returned by `get_feature_extractor`. Call it (or `.predict`) on images in
    [0, 1] of shape (N, 28, 28, 1) to get float64 features of shape (N, 128).

    Attributes:
        classifier: the trained `keras.Model` (images -> logits).
        model: the `keras.Model` images -> features (shares the classifier's weights).
        validation_accuracy: accuracy on the held-out part of the training data.
        num_features: the feature dimension.
        cache_path: the `.keras` file the classifier was loaded from or saved to, or None.
    """

    def __init__(self, classifier, validation_accuracy: float, cache_path=None):
        import keras

        self.classifier = classifier
        self.model = keras.Model(
            classifier.inputs[0],
            classifier.get_layer(FEATURE_LAYER).output,
            name="feature_extractor",
        )
        self.validation_accuracy = float(validation_accuracy)
        self.num_features = int(self.model.output.shape[-1])
        self.cache_path = cache_path

    def predict(self, images, batch_size: int = 500, verbose: int = 0) -> np.ndarray:
        """Features of `images` (N, 28, 28, 1) in [0, 1], as float64 (N, num_features).

        `verbose` is accepted for compatibility with `keras.Model.predict` and ignored.
        """
        return self._run(self.model, _as_images(images), batch_size)

    __call__ = predict

    @staticmethod
    def _run(model, images, batch_size):
        # Direct calls in fixed-size chunks rather than `Model.predict`: no
        # tf.function is retraced for every new number of images (and no warning).
        batch_size = check_positive_int(batch_size, "batch_size")
        outputs = [
            np.asarray(model(images[start : start + batch_size], training=False))
            for start in range(0, len(images), batch_size)
        ]
        return np.concatenate(outputs).astype(np.float64)

    def predict_labels(self, images, batch_size: int = 500) -> np.ndarray:
        """The classifier's predicted class of each image (used to check conditional samples)."""
        logits = self._run(self.classifier, _as_images(images), batch_size)
        return np.argmax(logits, axis=-1)

    def evaluate(self, images, labels) -> float:
        """The classifier's accuracy on `images` with true `labels` (e.g. the test split)."""
        labels = np.asarray(labels).reshape(-1)
        if len(labels) != len(images):
            raise ValueError(
                f"Expected as many labels as images ({len(images)}). Received: {len(labels)} labels"
            )
        return float(np.mean(self.predict_labels(images) == labels))

    def __repr__(self) -> str:
        return (
            f"FeatureExtractor(num_features={self.num_features}, "
            f"validation_accuracy={self.validation_accuracy:.4f})"
        )


def _cache_key(images, labels, settings: dict) -> str:
    digest = hashlib.sha256()
    digest.update(_ARCHITECTURE.encode())
    digest.update(json.dumps(settings, sort_keys=True).encode())
    digest.update(str(images.shape).encode())
    digest.update(np.ascontiguousarray(images).tobytes())
    digest.update(np.ascontiguousarray(labels).tobytes())
    return digest.hexdigest()[:20]


def _default_cache_dir() -> Path:
    from course_lib.data import default_data_dir

    return default_data_dir() / "classifier_cache"


def get_feature_extractor(
    train_images,
    train_labels,
    *,
    cache_dir=None,
    epochs: int = 6,
    batch_size: int = 128,
    validation_fraction: float = 0.1,
    seed: int = 0,
    verbose: bool = True,
) -> FeatureExtractor:
    """Train the digit classifier on the given data (or load it from the cache) for FID/KID.

    The cache file is named by a SHA-256 of the images, the labels, the
    architecture and these settings, so the same data and settings always give
    the same classifier, and any change trains a new one. Training takes a few
    seconds on a CPU; the global random state is not touched (seeded
    initializers and a NumPy shuffle), so a cache hit or miss does not change
    what the rest of a notebook draws.

    Args:
        train_images: (N, 28, 28, 1) or (N, 28, 28) images in [0, 1].
        train_labels: (N,) integer class labels.
        cache_dir: where to keep classifiers; default `data/classifier_cache/`
            of the checkout (`course_lib.data.default_data_dir()`). Pass `False`
            to neither read nor write a cache.
        epochs: training epochs.
        batch_size: training batch size.
        validation_fraction: the part of the data held out to measure
            `validation_accuracy` (in [0, 0.5)).
        seed: seeds the initializers, the hold-out split and the shuffles.
        verbose: print one line saying whether the classifier was trained or loaded.

    Returns:
        A `FeatureExtractor`: call it on images to get features; its
        `validation_accuracy` and `evaluate(test_images, test_labels)` report
        how good the classifier is (print it beside any FID).

    Raises:
        ValueError: images of the wrong shape or outside [0, 1], labels that do not
            match, a non-positive `epochs` or `batch_size`, a bad `validation_fraction`.

    Example:
        >>> extractor = get_feature_extractor(train.images, train.labels)  # doctest: +SKIP
        >>> extractor(test.images[:10]).shape  # doctest: +SKIP
        (10, 128)
    """
    import keras

    images = _as_images(train_images, "train_images")
    labels = np.asarray(train_labels).reshape(-1).astype(np.int64)
    if len(labels) != len(images):
        raise ValueError(
            f"Expected one label per image ({len(images)} labels). Received: {len(labels)} labels"
        )
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    if not 0.0 <= float(validation_fraction) < 0.5:
        raise ValueError(
            "Expected `validation_fraction` in [0, 0.5). "
            f"Received: validation_fraction={validation_fraction!r}"
        )
    num_classes = int(labels.max()) + 1
    settings = {
        "epochs": epochs,
        "batch_size": batch_size,
        "validation_fraction": float(validation_fraction),
        "seed": int(seed),
        "num_classes": num_classes,
    }

    cache_path = None
    if cache_dir is not False:
        directory = Path(cache_dir) if cache_dir is not None else _default_cache_dir()
        cache_path = directory / f"fid_classifier_{_cache_key(images, labels, settings)}.keras"
        info_path = cache_path.with_suffix(".json")
        if cache_path.exists() and info_path.exists():
            try:
                classifier = keras.saving.load_model(cache_path, compile=False, safe_mode=True)
                info = json.loads(info_path.read_text())
                if verbose:
                    print(
                        f"FID classifier loaded from the cache ({cache_path.name}): "
                        f"held-out accuracy {info['validation_accuracy']:.4f}"
                    )
                return FeatureExtractor(classifier, info["validation_accuracy"], cache_path)
            except Exception as exc:  # noqa: BLE001 - a broken cache file is retrained
                if verbose:
                    print(f"Cached FID classifier unreadable ({exc}); training a new one.")

    # Hold out a seeded part of the data to report the classifier's accuracy.
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(images))
    num_held_out = int(round(validation_fraction * len(images)))
    held_out, kept = order[:num_held_out], order[num_held_out:]
    classifier = build_digit_classifier(num_classes, seed=seed)
    classifier.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    # One fit call per epoch on a NumPy-shuffled copy: shuffling with our own
    # generator keeps the global TensorFlow random state untouched.
    for _ in range(epochs):
        epoch_order = rng.permutation(kept)
        classifier.fit(
            images[epoch_order],
            labels[epoch_order],
            batch_size=batch_size,
            epochs=1,
            shuffle=False,
            verbose=0,
        )
    if num_held_out > 0:
        logits = FeatureExtractor._run(classifier, images[held_out], 500)
        validation_accuracy = float(np.mean(np.argmax(logits, -1) == labels[held_out]))
    else:
        validation_accuracy = float("nan")
    if verbose:
        print(
            f"FID classifier trained on {len(kept)} images for {epochs} epochs: "
            f"held-out accuracy {validation_accuracy:.4f}"
        )

    if cache_path is not None:
        try:
            _save_atomically(classifier, cache_path, validation_accuracy, settings)
        except OSError as exc:  # a read-only folder must not stop the notebook
            if verbose:
                print(f"Could not cache the FID classifier in {cache_path.parent}: {exc}")
            cache_path = None
    return FeatureExtractor(classifier, validation_accuracy, cache_path)


def _save_atomically(classifier, cache_path: Path, validation_accuracy: float, settings: dict):
    """Write the classifier and its info via temporary files (parallel runs never read half)."""
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(suffix=".keras", dir=cache_path.parent)
    os.close(handle)
    try:
        classifier.save(temporary)
        os.replace(temporary, cache_path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    info = {"architecture": _ARCHITECTURE, "validation_accuracy": validation_accuracy, **settings}
    info_temporary = cache_path.with_suffix(".json.tmp")
    info_temporary.write_text(json.dumps(info, indent=1))
    os.replace(info_temporary, cache_path.with_suffix(".json"))


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
    features_a = _as_features(features_a, "features_a")
    features_b = _as_features(features_b, "features_b")
    if features_a.shape[1] != features_b.shape[1]:
        raise ValueError(
            "Expected `features_a` and `features_b` with the same number of features. "
            f"Received: {features_a.shape[1]} and {features_b.shape[1]}"
        )
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
        images_a, images_b: (N, 28, 28, 1) or (N, 28, 28) images in [0, 1], N >= 2.
        extractor: a `FeatureExtractor` from `get_feature_extractor`, or any
            callable/`keras.Model` that maps images to (N, d) features.

    Returns:
        The FID, a float >= 0.

    Raises:
        ValueError: images of the wrong shape or outside [0, 1] (rescale a
            tanh generator's [-1, 1] output with `(x + 1) / 2` first).
    """
    return frechet_distance(
        _features(extractor, images_a, "images_a"), _features(extractor, images_b, "images_b")
    )


def _features(extractor, images, name: str) -> np.ndarray:
    images = _as_images(images, name)
    if isinstance(extractor, FeatureExtractor):
        return extractor.predict(images)
    if isinstance(extractor, _keras_model_type()):
        return FeatureExtractor._run(extractor, images, 500)
    return np.asarray(extractor(images), dtype=np.float64)


def _keras_model_type():
    import keras

    return keras.Model


def fid_floor(real_images, extractor, *, num_examples: int | None = None, seed: int = 0) -> float:
    """The FID between two disjoint random halves of real images: what a perfect generator scores.

    FID is biased upwards at finite sample size, so a generator's FID means
    little alone; print this floor beside it. For a fair comparison compute the
    generator's FID with `num_examples` images on each side as well.

    Args:
        real_images: (N, 28, 28, 1) images in [0, 1], N >= 4.
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
    features_a, features_b, *, num_subsets: int = 10, subset_size: int = 1000, seed: int = 0
) -> float:
    """Unbiased squared MMD with the kernel k(x, y) = (x·y / d + 1)^3, averaged over subsets.

    Args:
        features_a, features_b: (N, d) features.
        num_subsets: how many random subsets to average over.
        subset_size: examples per subset (capped at the smaller set's size).
        seed: seeds the subsets.

    Returns:
        The KID, a float; it can be slightly negative (it is unbiased), and its
        expectation is 0 when both sets come from one distribution.
    """
    features_a = _as_features(features_a, "features_a")
    features_b = _as_features(features_b, "features_b")
    if features_a.shape[1] != features_b.shape[1]:
        raise ValueError(
            "Expected `features_a` and `features_b` with the same number of features. "
            f"Received: {features_a.shape[1]} and {features_b.shape[1]}"
        )
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
    return float(np.mean(estimates))


def kid(
    images_a, images_b, extractor, *, num_subsets: int = 10, subset_size: int = 1000, seed: int = 0
) -> float:
    """The kernel inception distance (with the course classifier's features) of two image sets.

    Unlike FID, KID is unbiased: two samples of one distribution score about 0
    at any size, so it needs no floor (though its noise shrinks with size).

    Args:
        images_a, images_b: (N, 28, 28, 1) images in [0, 1].
        extractor: as in `fid`.
        num_subsets, subset_size, seed: see `kid_from_features`.

    Returns:
        The KID, a float (may be slightly negative).
    """
    return kid_from_features(
        _features(extractor, images_a, "images_a"),
        _features(extractor, images_b, "images_b"),
        num_subsets=num_subsets,
        subset_size=subset_size,
        seed=seed,
    )
