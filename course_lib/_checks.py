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
