"""The small digit classifier whose features the course's FID and KID compare.

Taught in notebook 06, section 4 ("Samples, and a classifier-based FID"), and
used again in notebook 07, sections 3 and 5. The metrics themselves are pure
functions in `course_lib.metrics.fid`; this module builds, trains, caches and
runs the network that turns images into features for them.

Papers use the pool features of an Inception-v3 network trained on ImageNet.
Here the features are the penultimate layer (128 numbers per image) of a
**small classifier trained on the course's own training split**: faster,
offline, and it sees what matters in digits, but a FID from it is NOT
comparable with the Inception-based FIDs reported in papers, nor with one
from a classifier trained on other data, settings or seed.

The FID's reference should be digits that neither the generator nor this
classifier saw (the test split, or validation while tuning): see
`course_lib.metrics.fid.fid_report`.

Example (small and offline: the course trains on MNIST's training split, 20 epochs):
    >>> from course_lib.data import load_dataset
    >>> from course_lib.metrics.fid import fid_report
    >>> train = load_dataset("digits", "train", num_examples=200)
    >>> validation = load_dataset("digits", "validation", num_examples=100)
    >>> test = load_dataset("digits", "test", num_examples=100)
    >>> extractor = get_feature_extractor(
    ...     train.images, train.labels, validation=(validation.images, validation.labels),
    ...     cache_dir=False, epochs=1, verbose=False,
    ... )
    >>> accuracy = extractor.validation_accuracy  # print it beside any FID
    >>> generated = validation.images  # stands in for a generator's samples in [0, 1]
    >>> report = fid_report(generated, train.images, test.images, extractor)  # 100 a side
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import keras
import numpy as np
from keras import layers

from course_lib._checks import check_image_shape, check_positive_int, check_value_range
from course_lib.data import default_data_dir
from course_lib.progress import progress_bar

__all__ = [
    "FeatureExtractor",
    "build_digit_classifier",
    "get_feature_extractor",
]

# Change this string whenever build_digit_classifier or the training recipe
# changes: it is part of the cache key, so old cached classifiers are not reused.
_ARCHITECTURE = (
    "digit-classifier-v2: rot0.03-zoom0.1-shift0.08, conv32-conv32s2-conv64-conv64s2, "
    "dropout0.3, dense128-dense10, adam1e-3 then 3e-4 for the last 30% of epochs"
)
IMAGE_SHAPE = (28, 28, 1)
FEATURE_LAYER = "features"
_PREDICT_BATCH_SIZE = 500


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


def _run_in_chunks(model, images: np.ndarray, batch_size: int) -> np.ndarray:
    """`model(images)` in fixed-size chunks, as float64 NumPy.

    Direct calls rather than `Model.predict`: no tf.function is retraced for
    every new number of images (and no warning).
    """
    batch_size = check_positive_int(batch_size, "batch_size")
    outputs = [
        np.asarray(model(images[start : start + batch_size], training=False))
        for start in range(0, len(images), batch_size)
    ]
    return np.concatenate(outputs).astype(np.float64)


def build_digit_classifier(num_classes: int = 10, seed: int = 0, name: str = "digit_classifier"):
    """Build the small convolutional classifier whose penultimate layer gives the features.

    Random rotations (up to about 11 degrees), zooms (10 %) and shifts (2 pixels)
    of each training image come first: they act only in training and keep a
    network that sees a few thousand digits from learning them by heart. Then
    four 3x3 convolutions (two of them strided), dropout and a 128-unit dense
    layer named `"features"`: about 99 % accurate on held-out digits after
    training on 7,000, and still seconds per epoch on a CPU.

    Args:
        num_classes: the number of classes.
        seed: seeds every initializer and augmentation, so the same data and seed
            give the same classifier without touching the global random state.
        name: the model's name.

    Returns:
        A functional `keras.Model` mapping (batch, 28, 28, 1) images in [0, 1] to logits.

    Example:
        >>> classifier = build_digit_classifier()
        >>> classifier.get_layer("features").units
        128
    """
    num_classes = check_positive_int(num_classes, "num_classes")
    seed = int(seed)

    def init(offset):
        return keras.initializers.GlorotUniform(seed=seed * 10 + offset)

    inputs = keras.Input(IMAGE_SHAPE, name="images")
    x = layers.RandomRotation(0.03, fill_mode="constant", seed=seed * 10 + 7)(inputs)
    x = layers.RandomZoom(0.1, fill_mode="constant", seed=seed * 10 + 8)(x)
    x = layers.RandomTranslation(0.08, 0.08, fill_mode="constant", seed=seed * 10 + 9)(x)
    for offset, (filters, strides) in enumerate(((32, 1), (32, 2), (64, 1), (64, 2)), start=1):
        x = layers.Conv2D(
            filters,
            3,
            strides=strides,
            padding="same",
            activation="relu",
            kernel_initializer=init(offset),
        )(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.3, seed=seed * 10 + 6)(x)
    features = layers.Dense(128, activation="relu", kernel_initializer=init(5), name=FEATURE_LAYER)(
        x
    )
    logits = layers.Dense(num_classes, kernel_initializer=init(6), name="logits")(features)
    return keras.Model(inputs, logits, name=name)


class FeatureExtractor:
    """The penultimate features of a trained digit classifier, with its accuracy.

    Returned by `get_feature_extractor`. Call it (or `.predict`) on images in
    [0, 1] of shape (N, 28, 28, 1) to get float64 features of shape (N, 128);
    pass it as the `extractor` of `course_lib.metrics.fid.fid`, `fid_floor`
    and `kid`.

    Attributes:
        classifier: the trained `keras.Model` (images -> logits).
        model: the `keras.Model` images -> features (shares the classifier's weights).
        validation_accuracy: accuracy on the held-out part of the training data.
        num_features: the feature dimension.
        cache_path: the `.keras` file the classifier was loaded from or saved to, or None.
    """

    def __init__(self, classifier, validation_accuracy: float, cache_path=None):
        self.classifier = classifier
        self.model = keras.Model(
            classifier.inputs[0],
            classifier.get_layer(FEATURE_LAYER).output,
            name="feature_extractor",
        )
        self.validation_accuracy = float(validation_accuracy)
        self.num_features = int(self.model.output.shape[-1])
        self.cache_path = cache_path

    def predict(
        self, images, batch_size: int = _PREDICT_BATCH_SIZE, verbose: int = 0
    ) -> np.ndarray:
        """Features of `images` (N, 28, 28, 1) in [0, 1], as float64 (N, num_features).

        `verbose` is accepted for compatibility with `keras.Model.predict` and ignored.
        """
        return _run_in_chunks(self.model, _as_images(images), batch_size)

    __call__ = predict

    def predict_labels(self, images, batch_size: int = _PREDICT_BATCH_SIZE) -> np.ndarray:
        """The classifier's predicted class of each image (used to check conditional samples)."""
        logits = _run_in_chunks(self.classifier, _as_images(images), batch_size)
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


def get_feature_extractor(
    train_images,
    train_labels,
    *,
    validation=None,
    cache_dir=None,
    epochs: int = 20,
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
        validation: `(images, labels)` of held-out digits (the validation split) on
            which to measure `validation_accuracy`; then every training image is
            trained on. `None`: hold out `validation_fraction` of the training images.
        cache_dir: where to keep classifiers; default `data/classifier_cache/`
            of the checkout (`course_lib.data.default_data_dir()`). Pass `False`
            to neither read nor write a cache.
        epochs: training epochs.
        batch_size: training batch size.
        validation_fraction: without `validation`, the part of the data held out
            to measure `validation_accuracy` (in [0, 0.5)).
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
        >>> from course_lib.data import load_dataset
        >>> train = load_dataset("digits", "train", num_examples=200)  # offline stand-in
        >>> extractor = get_feature_extractor(
        ...     train.images, train.labels, cache_dir=False, epochs=1, verbose=False
        ... )
        >>> extractor(train.images[:10]).shape
        (10, 128)
    """
    if validation is not None:
        validation_fraction = 0.0
    images, labels, settings = _check_training_data(
        train_images, train_labels, epochs, batch_size, validation_fraction, seed
    )
    if validation is not None:
        if not (isinstance(validation, (tuple, list)) and len(validation) == 2):
            raise ValueError(
                "Expected `validation` to be a pair (images, labels). "
                f"Received: {type(validation).__name__}"
            )
        validation_images = _as_images(validation[0], "validation images")
        validation_labels = np.asarray(validation[1]).reshape(-1).astype(np.int64)
        if len(validation_labels) != len(validation_images):
            raise ValueError(
                f"Expected one validation label per image ({len(validation_images)} labels). "
                f"Received: {len(validation_labels)} labels"
            )
        validation = (validation_images, validation_labels)
    cache_path = None
    if cache_dir is not False:
        directory = Path(cache_dir) if cache_dir is not None else _default_cache_dir()
        key = _cache_key(images, labels, settings, validation)
        cache_path = directory / f"fid_classifier_{key}.keras"
        cached = _load_cached(cache_path, verbose)
        if cached is not None:
            return cached

    classifier, validation_accuracy = _train_classifier(
        images, labels, settings, validation, verbose
    )
    if cache_path is not None:
        try:
            _save_atomically(classifier, cache_path, validation_accuracy, settings)
        except OSError as exc:  # a read-only folder must not stop the notebook
            if verbose:
                print(f"Could not cache the FID classifier in {cache_path.parent}: {exc}")
            cache_path = None
    return FeatureExtractor(classifier, validation_accuracy, cache_path)


def _check_training_data(
    train_images, train_labels, epochs, batch_size, validation_fraction, seed
) -> tuple[np.ndarray, np.ndarray, dict]:
    """Validated images, int64 labels, and the training settings (part of the cache key)."""
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
    settings = {
        "epochs": epochs,
        "batch_size": batch_size,
        "validation_fraction": float(validation_fraction),
        "seed": int(seed),
        "num_classes": int(labels.max()) + 1,
    }
    return images, labels, settings


def _train_classifier(
    images: np.ndarray, labels: np.ndarray, settings: dict, validation, verbose: bool
) -> tuple[keras.Model, float]:
    """Train a fresh classifier; return it and its accuracy on held-out digits."""
    seed = settings["seed"]
    epochs = settings["epochs"]
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(images))
    if validation is None:  # hold out a seeded part of the training data
        num_held_out = int(round(settings["validation_fraction"] * len(images)))
        held_out, kept = order[:num_held_out], order[num_held_out:]
        validation = (images[held_out], labels[held_out])
    else:
        kept = order
    classifier = build_digit_classifier(settings["num_classes"], seed=seed)
    optimizer = keras.optimizers.Adam(1e-3)
    classifier.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    # One fit call per epoch on a NumPy-shuffled copy: shuffling with our own
    # generator keeps the global TensorFlow random state untouched. One progress bar
    # follows all the calls (a few minutes on a CPU: the learner sees it move).
    callbacks = [progress_bar(epochs, desc="FID classifier")] if verbose else []
    for epoch in range(epochs):
        if epoch == int(0.7 * epochs):  # a smaller step for the last 30 %: it settles
            optimizer.learning_rate.assign(3e-4)
        epoch_order = rng.permutation(kept)
        classifier.fit(
            images[epoch_order],
            labels[epoch_order],
            batch_size=settings["batch_size"],
            initial_epoch=epoch,
            epochs=epoch + 1,
            shuffle=False,
            verbose=0,
            callbacks=callbacks,
        )
    if len(validation[0]) > 0:
        logits = _run_in_chunks(classifier, validation[0], _PREDICT_BATCH_SIZE)
        validation_accuracy = float(np.mean(np.argmax(logits, -1) == validation[1]))
    else:
        validation_accuracy = float("nan")
    if verbose:
        print(
            f"FID classifier trained on {len(kept)} images for {epochs} epochs: "
            f"accuracy {validation_accuracy:.4f} on {len(validation[0])} held-out digits"
        )
    return classifier, validation_accuracy


# --------------------------------------------------------------------------- on-disk cache


def _cache_key(images, labels, settings: dict, validation=None) -> str:
    digest = hashlib.sha256()
    digest.update(_ARCHITECTURE.encode())
    digest.update(json.dumps(settings, sort_keys=True).encode())
    arrays = [images, labels] if validation is None else [images, labels, *validation]
    for array in arrays:  # the stored accuracy depends on the validation digits too
        digest.update(str(array.shape).encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:20]


def _default_cache_dir() -> Path:
    return default_data_dir() / "classifier_cache"


def _load_cached(cache_path: Path, verbose: bool) -> FeatureExtractor | None:
    """The cached classifier at `cache_path` (with its `.json` info), or None to train one."""
    info_path = cache_path.with_suffix(".json")
    if not (cache_path.exists() and info_path.exists()):
        return None
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
        return None


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
