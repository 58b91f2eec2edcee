"""Tests of course_lib.exercises: feedback that helps without giving the answer away."""

import numpy as np
import pytest

from course_lib import exercises


def test_check_array_accepts_a_right_answer(capsys):
    exercises.check_array("x", [1.0, 2.0], np.array([1.0, 2.0]))
    assert "Correct: x." in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "pattern"),
    [
        (None, "has no answer yet"),
        (np.zeros(3), r"has shape \(3,\), but shape \(2,\) was expected"),
        (np.array([1.0, np.nan]), "NaN"),
        (np.array([1.0, 2.5]), r"wrong values \(largest difference 0.5\). Look at the sign."),
    ],
)
def test_check_array_explains_what_is_wrong(answer, pattern):
    with pytest.raises(AssertionError, match=pattern):
        exercises.check_array("x", answer, np.array([1.0, 2.0]), hint="Look at the sign.")


def test_check_function_names_the_failing_input():
    def square(x):
        return x * 2  # right only at 0 and 2

    inputs = [(np.array(0.0),), (np.array(2.0),), (np.array(3.0),)]
    with pytest.raises(AssertionError, match="input 3 of 3"):
        exercises.check_function("square", square, lambda x: x**2, inputs)

    def stub(x):
        raise NotImplementedError

    with pytest.raises(AssertionError, match="not implemented yet"):
        exercises.check_function("square", stub, lambda x: x**2, inputs)

    def empty(x):
        pass

    with pytest.raises(AssertionError, match="has no answer yet"):
        exercises.check_function("square", empty, lambda x: x**2, inputs)


def test_check_true_gives_the_hint():
    with pytest.raises(AssertionError, match="Not yet: loss falls. Train longer."):
        exercises.check_true("loss falls", False, "Train longer.")


def test_check_array_never_reveals_a_single_expected_number():
    with pytest.raises(AssertionError) as error:
        exercises.check_array("ratio", 24.0, 24.5, hint="Count bits, not numbers.")
    message = str(error.value)
    assert "wrong value" in message and "Count bits" in message
    assert "0.5" not in message and "24.5" not in message
