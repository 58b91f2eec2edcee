"""What every model family shares: one sampling contract and three small helpers.

Each family (`vae`, `gan`, `conditional_gan`, `wgan_gp`, `autoregressive`) keeps its
networks and its training step; what faces NumPy and the notebooks is the same
everywhere:

- `GenerativeModel.sample(num_samples, *, labels=None, seed=None)` returns images
  in **[0, 1]** whatever range the networks work in, so FID, the memorisation
  check, the widgets and `run.save_samples` treat every family alike. `seed=None`
  draws fresh samples from the model's `keras.random.SeedGenerator`; an int gives
  the same samples on every call.
- `unpack_batch(data)`: the `(x, y)` of what `fit` passes to `train_step`.
- `batched_call(function, arrays, batch_size)`: inference in chunks, as NumPy.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from course_lib._checks import check_labels, check_positive_int

__all__ = ["GenerativeModel", "batched_call", "to_unit_interval", "unpack_batch"]


def unpack_batch(data):
    """`(x, y)` from what `fit` gives `train_step`: `x`, `(x,)`, `(x, y)` or `(x, y, w)`.

    Sample weights are not used by the course's models and are dropped.

    Example:
        >>> unpack_batch(("images", "labels", "weights"))
        ('images', 'labels')
        >>> unpack_batch("images")
        ('images', None)
    """
    x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
    return x, y


def batched_call(function, arrays, batch_size: int = 500):
    """Call `function` (a network, in inference mode) on `arrays` in chunks; return NumPy.

    Why not `Model.predict`: a direct call traces no `tf.function` per model, so a
    notebook that trains a dozen small models sees no retracing warnings, and
    chunks bound the memory a large batch would take.

    Args:
        function: a Keras model or layer, called as `function(inputs, training=False)`.
        arrays: one array, or a list of arrays of equal length (a multi-input network).
        batch_size: items per call (positive).

    Returns:
        The outputs concatenated along the first axis: one array, or a list of
        arrays for a network with several outputs.

    Example:
        >>> dense = keras.layers.Dense(3)
        >>> batched_call(dense, np.zeros((5, 2), "float32"), batch_size=2).shape
        (5, 3)
    """
    batch_size = check_positive_int(batch_size, "batch_size")
    several = isinstance(arrays, (list, tuple))
    arrays = list(arrays) if several else [arrays]
    chunks = []
    # An empty input still makes one call, so the (empty) output has the right shape.
    for start in range(0, max(len(arrays[0]), 1), batch_size):
        chunk = [array[start : start + batch_size] for array in arrays]
        outputs = function(chunk if several else chunk[0], training=False)
        if isinstance(outputs, (list, tuple)):
            chunks.append([ops.convert_to_numpy(o) for o in outputs])
        else:
            chunks.append(ops.convert_to_numpy(outputs))
    if chunks and isinstance(chunks[0], list):
        return [np.concatenate(parts) for parts in zip(*chunks, strict=True)]
    return np.concatenate(chunks)


def to_unit_interval(images, value_range) -> np.ndarray:
    """Map images from `value_range = (low, high)` to [0, 1], as float32 (clipped).

    Example:
        >>> to_unit_interval(np.array([-1.0, 0.0, 1.0]), (-1.0, 1.0))
        array([0. , 0.5, 1. ], dtype=float32)
    """
    low, high = (float(v) for v in value_range)
    images = np.asarray(images, dtype=np.float32)
    if (low, high) != (0.0, 1.0):
        images = (images - low) / (high - low)
    return np.clip(images, 0.0, 1.0)


class GenerativeModel(keras.Model):
    """Base of the course's generative models: the one sampling contract.

    A subclass sets `output_range` (the range of what its networks produce, or
    `None` for data that are not images, which `sample` returns as drawn),
    `num_classes` (`None` for an unconditional model) and `seed_generator`, and
    implements `_sample(num_samples, labels, seed, batch_size)`, which returns raw
    samples in `output_range`. `sample` checks the arguments and maps the result
    to [0, 1].
    """

    # The range of the raw samples; sample() maps it to [0, 1].
    output_range: tuple[float, float] | None = (0.0, 1.0)
    # The number of classes of a class-conditional model; None when unconditional.
    num_classes: int | None = None

    def sample(self, num_samples: int, *, labels=None, seed=None, batch_size: int = 500):
        """Draw `num_samples` images with pixel values in [0, 1], as a NumPy array.

        Args:
            num_samples: how many images (positive).
            labels: for a class-conditional model, one class per image (or one
                int for all); `None` asks for the classes in turn, `0, 1, ...,
                num_classes - 1, 0, 1, ...`, so every class is equally present.
                An unconditional model takes no labels.
            seed: `None` draws fresh samples from the model's `SeedGenerator`
                (different on every call); an int gives the same samples on
                every call.
            batch_size: images per network call.

        Returns:
            Float32 images `(num_samples, height, width, channels)` in [0, 1].

        Raises:
            ValueError: a non-positive count, labels for an unconditional model,
                or labels that are not integers in `[0, num_classes)`.
        """
        num_samples = check_positive_int(num_samples, "num_samples")
        batch_size = check_positive_int(batch_size, "batch_size")
        labels = self._sample_labels(labels, num_samples)
        raw = self._sample(num_samples, labels, seed, batch_size)
        if self.output_range is None:  # not images (e.g. notebook 05's 2-D toy): as drawn
            return raw
        return to_unit_interval(raw, self.output_range)

    def _check_labels(self, labels, count):
        """Labels for `count` items: none for an unconditional model, checked ints otherwise."""
        if self.num_classes is None:
            if labels is not None:
                raise ValueError(
                    "Expected no `labels`: this model is unconditional. "
                    f"Received: labels of shape {np.shape(labels)}"
                )
            return None
        if labels is None:
            raise ValueError(
                f"Expected `labels` (integers in [0, {self.num_classes - 1}]) for this "
                "class-conditional model. Received: labels=None"
            )
        return check_labels(labels, self.num_classes, count)

    def _sample_labels(self, labels, num_samples):
        """The labels for `sample`: as `_check_labels`, but the classes in turn when not given."""
        if labels is None and self.num_classes is not None:
            return (np.arange(num_samples) % self.num_classes).astype(np.int32)
        return self._check_labels(labels, num_samples)

    def _normal(self, shape, seed) -> np.ndarray:
        """Standard normal noise: from NumPy with an int `seed`, else from the SeedGenerator."""
        if seed is not None:
            if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
                raise ValueError(f"Expected `seed` to be None or an int. Received: seed={seed!r}")
            return np.random.default_rng(int(seed)).standard_normal(shape).astype("float32")
        return ops.convert_to_numpy(keras.random.normal(shape, seed=self.seed_generator))

    def _sample(self, num_samples, labels, seed, batch_size):
        raise NotImplementedError
