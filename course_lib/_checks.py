"""Argument checks shared by the whole package.

Every public function validates its arguments up front and, when one is wrong,
raises an error that says what was expected and what was received, in the
style of Keras's own messages::

    Expected `latent_dim` to be a positive integer. Received: latent_dim=0
"""

from __future__ import annotations

import numbers

import numpy as np


def check_positive_int(value, name: str) -> int:
    """Return `value` as an int, or raise `ValueError` if it is not a positive integer."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"Expected `{name}` to be a positive integer. Received: {name}={value!r}")
    return int(value)


def check_choice(value, name: str, choices) -> str:
    """Raise `ValueError` unless `value` is one of `choices`."""
    if value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ValueError(f"Expected `{name}` to be one of {options}. Received: {name}={value!r}")
    return value


def check_image_shape(shape, expected, name: str = "images") -> None:
    """Raise `ValueError` unless `shape[1:]` equals `expected` (the batch axis is free).

    Args:
        shape: the shape of a batch, e.g. `images.shape`.
        expected: the shape of one image, e.g. `(28, 28, 1)`.
        name: the argument's name, for the message.
    """
    shape = tuple(shape)
    expected = tuple(expected)
    if shape[1:] != expected:
        raise ValueError(
            f"Expected `{name}` of shape (batch, {', '.join(map(str, expected))}), "
            f"the image shape the model was built for. Received: {name}.shape={shape}"
        )


def check_value_range(array, low: float, high: float, name: str = "images") -> None:
    """Raise `ValueError` if any value of `array` lies outside `[low, high]`.

    Why: a model trained on pixels in [0, 1] silently produces nonsense when fed
    pixels in [0, 255] or [-1, 1]; a loud error at the boundary saves an hour.
    """
    values = np.asarray(array)
    if values.size == 0:
        return
    lo, hi = float(np.min(values)), float(np.max(values))
    if not (np.isfinite(lo) and np.isfinite(hi)) or lo < low - 1e-6 or hi > high + 1e-6:
        raise ValueError(
            f"Expected `{name}` with values in [{low:g}, {high:g}]. "
            f"Received: values in [{lo:g}, {hi:g}]"
        )


def check_shape_arg(shape, name: str = "shape") -> tuple[int, ...]:
    """Return `shape` as a tuple of ints, or raise `ValueError` unless all are positive integers.

    Used for shape *arguments* of builders, e.g. `data_shape=(2,)` or `(28, 28, 1)`;
    NumPy integers are accepted, booleans are not.
    """
    try:
        values = tuple(shape)
    except TypeError:
        values = None
    if not values or any(
        isinstance(s, bool) or not isinstance(s, numbers.Integral) or s <= 0 for s in values
    ):
        raise ValueError(
            f"Expected `{name}` to be a tuple of positive integers, e.g. (28, 28, 1). "
            f"Received: {name}={shape!r}"
        )
    return tuple(int(s) for s in values)


def check_image_shape_arg(
    image_shape, divisible_by: int = 1, name: str = "image_shape"
) -> tuple[int, int, int]:
    """Return `image_shape` as `(height, width, channels)` ints, checked.

    Why `divisible_by`: a network that halves the image `k` times with stride-2
    layers, and doubles it back `k` times, lands on the input size only when
    height and width are divisible by `2**k`; anything else gives a decoder whose
    output is not the image shape.

    Args:
        image_shape: the shape of one image.
        divisible_by: height and width must be multiples of this.
        name: the argument's name, for the message.

    Raises:
        ValueError: not three positive integers, or height or width not divisible.
    """
    try:
        values = tuple(image_shape)
    except TypeError:
        values = ()
    valid = len(values) == 3 and all(
        not isinstance(s, bool) and isinstance(s, numbers.Integral) and s > 0 for s in values
    )
    if not valid:
        raise ValueError(
            f"Expected `{name}` to be (height, width, channels) of positive integers, "
            f"e.g. (28, 28, 1). Received: {name}={image_shape!r}"
        )
    height, width, channels = (int(s) for s in values)
    if height % divisible_by or width % divisible_by:
        raise ValueError(
            f"Expected `{name}` with height and width divisible by {divisible_by} "
            f"(one halving per stride-2 layer). Received: {name}={image_shape!r}"
        )
    return height, width, channels


def check_fraction(value, name: str, *, high: float = 1.0) -> float:
    """Return `value` as a float, or raise `ValueError` unless `0 <= value < high`.

    For rates and probabilities such as `dropout_rate` (in [0, 1)) or
    `label_smoothing` (in [0, 0.5)).
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not 0.0 <= float(value) < high
    ):
        raise ValueError(f"Expected `{name}` in [0, {high:g}). Received: {name}={value!r}")
    return float(value)


def check_labels(labels, num_classes: int, count: int | None = None, name: str = "labels"):
    """Return class labels as an int32 array of shape `(count,)`, checked.

    Args:
        labels: integer class labels, one per item (a scalar is repeated `count` times).
        num_classes: labels must lie in `0 .. num_classes - 1`.
        count: how many labels are expected; `None` accepts any number.
        name: the argument's name, for the message.

    Raises:
        ValueError: labels that are not integers, of the wrong count, or out of range.
    """
    array = np.asarray(labels)
    if array.ndim == 0 and count is not None and np.issubdtype(array.dtype, np.integer):
        array = np.full(count, int(array))
    if array.ndim != 1 or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(
            f"Expected `{name}` to be a 1-D array of integers (one class per item). "
            f"Received: {name} with shape {array.shape} and dtype {array.dtype}"
        )
    if count is not None and len(array) != count:
        raise ValueError(f"Expected {count} `{name}`, one per item. Received: {len(array)} {name}")
    if array.size and (array.min() < 0 or array.max() >= num_classes):
        raise ValueError(
            f"Expected `{name}` in [0, {num_classes - 1}]. "
            f"Received: values in [{array.min()}, {array.max()}]"
        )
    return array.astype(np.int32)


def check_units(units, name: str = "hidden_units") -> tuple[int, ...]:
    """Return a sequence of layer widths as a tuple of ints, each a positive integer.

    An empty sequence is allowed (no hidden layer: notebook 01's linear autoencoder).
    """
    try:
        values = tuple(units)
    except TypeError:
        raise ValueError(
            f"Expected `{name}` to be a sequence of positive integers, e.g. (256, 128). "
            f"Received: {name}={units!r}"
        ) from None
    return tuple(check_positive_int(value, name) for value in values)
