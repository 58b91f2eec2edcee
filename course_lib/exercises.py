"""Checks for the exercises: clear feedback without giving the answer away.

Each exercise in a notebook ends with a check cell of plain `assert`s. Where a
check is more than one line, it calls one of these helpers, which raise
`AssertionError` with a message that says what was wrong and what to look
at, and print a short confirmation when the answer is right.

Example:
    >>> import numpy as np
    >>> check_array("mean pixel", np.float32(0.5), 0.5)
    Correct: mean pixel.
"""

from __future__ import annotations

import functools
import re

import numpy as np

__all__ = [
    "as_float_array",
    "call_answer",
    "check_answered",
    "check_array",
    "check_function",
    "check_true",
    "hide_difference",
]


def _not_answered(value) -> bool:
    return value is None or value is Ellipsis


def check_answered(name: str, value) -> None:
    """Fail with a friendly message while the answer is still the stub's placeholder."""
    if _not_answered(value):
        raise AssertionError(
            f"`{name}` has no answer yet: write your code between the comments in the "
            "exercise cell above, run that cell, then run this check again."
        )


def check_array(
    name: str,
    answer,
    expected,
    *,
    rtol: float = 1e-4,
    atol: float = 1e-6,
    hint: str = "",
    quiet: bool = False,
) -> None:
    """Check that `answer` has the shape and values of `expected`.

    Args:
        name: what the answer is, for the messages.
        answer: the learner's value (array-like or scalar).
        expected: the reference value.
        rtol, atol: tolerances of `np.allclose`.
        hint: what to look at when the values are wrong.
        quiet: do not print the confirmation.

    Raises:
        AssertionError: no answer, a wrong shape, or wrong values.
    """
    check_answered(name, answer)
    answer = np.asarray(answer, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if answer.shape != expected.shape:
        raise AssertionError(
            f"`{name}` has shape {answer.shape}, but shape {expected.shape} was expected. "
            "Check which axes you reduce over and whether you kept the batch axis."
        )
    if not np.all(np.isfinite(answer)):
        raise AssertionError(f"`{name}` contains NaN or infinite values. {hint}".strip())
    if not np.allclose(answer, expected, rtol=rtol, atol=atol):
        if expected.size == 1:
            # For one number, the difference would give the answer away.
            raise AssertionError(f"`{name}` has the wrong value. {hint}".strip())
        worst = float(np.max(np.abs(answer - expected)))
        raise AssertionError(
            f"`{name}` has the right shape but wrong values (largest difference {worst:.3g}). "
            f"{hint}".strip()
        )
    if not quiet:
        print(f"Correct: {name}.")


def check_function(
    name: str,
    function,
    reference,
    inputs,
    *,
    rtol: float = 1e-4,
    atol: float = 1e-6,
    hint: str = "",
) -> None:
    """Check `function` against `reference` on each tuple of arguments in `inputs`.

    Why several inputs: a function can be right on one input by accident (for
    instance a KL term that ignores the variance is right when the variance is 1).

    Raises:
        AssertionError: naming the first input on which the two disagree.
    """
    check_answered(name, function)
    for number, args in enumerate(inputs, start=1):
        try:
            got = function(*args)
        except NotImplementedError as error:
            raise AssertionError(
                f"`{name}` is not implemented yet: replace the stub with your code."
            ) from error
        if _not_answered(got):
            check_answered(f"{name}(...)", got)
        want = reference(*args)
        try:
            check_array(
                f"{name} on test input {number}",
                got,
                want,
                rtol=rtol,
                atol=atol,
                hint=hint,
                quiet=True,
            )
        except AssertionError as error:
            raise AssertionError(f"{error} (input {number} of {len(inputs)})") from None
    print(f"Correct: {name} agrees with the reference on {len(inputs)} inputs.")


def check_true(name: str, condition: bool, hint: str) -> None:
    """Fail with `hint` unless `condition` holds; print a confirmation otherwise."""
    if not bool(condition):
        raise AssertionError(f"Not yet: {name}. {hint}")
    print(f"Correct: {name}.")


def call_answer(name: str, function, *args, hint: str = "", allow_none: bool = False):
    """Call the learner's function on `args`; a stub or an error becomes a hint.

    Args:
        name: the function's name, for the messages.
        function: the learner's answer.
        *args: what the check calls it with.
        hint: what to look at when the learner's code raises.
        allow_none: `None` is a valid answer (e.g. "no model meets the budget").

    Returns:
        What the function returned (checked not to be a placeholder).

    Raises:
        AssertionError: no answer, a stub, or an error inside the learner's code.
    """
    check_answered(name, function)
    try:
        value = function(*args)
    except NotImplementedError as error:
        raise AssertionError(f"`{name}` is not implemented yet: replace the stub.") from error
    except AssertionError:
        raise
    except Exception as error:  # the learner's code failed: say so, with its own message
        raise AssertionError(
            f"`{name}` raised {type(error).__name__}: {error}. {hint}".strip()
        ) from None
    if not (allow_none and value is None):
        check_answered(f"{name}(...)", value)
    return value


def as_float_array(value) -> np.ndarray:
    """A NumPy float64 array from an array, a tensor or a number."""
    import keras

    return np.asarray(keras.ops.convert_to_numpy(value), dtype=np.float64)


def hide_difference(check):
    """Wrap a check so its messages never say "largest difference" (it can reveal the answer)."""

    @functools.wraps(check)
    def wrapper(*args, **kwargs):
        try:
            return check(*args, **kwargs)
        except AssertionError as error:
            message = re.sub(r" \(largest difference [^)]*\)", "", str(error))
            raise AssertionError(message) from None

    return wrapper
