"""Tests of course_lib._checks: each rule accepts what it should and says what it expected."""

import numpy as np
import pytest

from course_lib._checks import (
    check_fraction,
    check_image_shape_arg,
    check_labels,
    check_shape_arg,
    check_units,
)


def test_image_shape_arg_accepts_numpy_ints_and_checks_divisibility():
    assert check_image_shape_arg((np.int64(28), 28, 1)) == (28, 28, 1)
    assert check_image_shape_arg((32, 32, 3), divisible_by=8) == (32, 32, 3)
    with pytest.raises(ValueError, match=r"divisible by 8.*Received: image_shape=\(28, 28, 1\)"):
        check_image_shape_arg((28, 28, 1), divisible_by=8)
    for bad in [(28, 28), (28, 0, 1), (28.0, 28, 1), (True, 28, 1), 28]:
        with pytest.raises(ValueError, match=r"\(height, width, channels\).*Received"):
            check_image_shape_arg(bad)


def test_shape_arg_and_units():
    assert check_shape_arg((2,), "data_shape") == (2,)
    with pytest.raises(ValueError, match=r"Received: data_shape=\(\)"):
        check_shape_arg((), "data_shape")
    assert check_units((), "hidden_units") == ()
    assert check_units([8, np.int32(4)], "hidden_units") == (8, 4)
    with pytest.raises(ValueError, match=r"Received: hidden_units=0"):
        check_units((8, 0), "hidden_units")
    with pytest.raises(
        ValueError, match=r"sequence of positive integers.*Received: hidden_units=8"
    ):
        check_units(8, "hidden_units")


def test_fraction():
    assert check_fraction(0.0, "dropout_rate") == 0.0
    assert check_fraction(0.49, "label_smoothing", high=0.5) == 0.49
    for bad in [1.0, -0.1, True, "0.1"]:
        with pytest.raises(ValueError, match=r"Expected `dropout_rate` in \[0, 1\)"):
            check_fraction(bad, "dropout_rate")


def test_labels():
    np.testing.assert_array_equal(check_labels([0, 9], 10), [0, 9])
    np.testing.assert_array_equal(check_labels(3, 10, count=2), [3, 3])
    assert check_labels(np.array([1, 2], np.int64), 10).dtype == np.int32
    with pytest.raises(ValueError, match=r"in \[0, 9\]\. Received: values in \[-1, 2\]"):
        check_labels([-1, 2], 10)
    with pytest.raises(ValueError, match=r"Expected 3 `labels`"):
        check_labels([1, 2], 10, count=3)
    with pytest.raises(ValueError, match=r"1-D array of integers.*float64"):
        check_labels([1.0, 2.0], 10)
