"""Checks of the exercises of notebook 08 (autoregressive image models).

Each function takes the learner's answer and the learner's own objects (the trained
network, the data), computes the reference itself, and raises `AssertionError` with a
hint that names the idea, never the expected value.

Example:
    >>> import numpy as np
    >>> check_nats_and_ratio(np.exp(-70.0 / 784), (210.0 - 70.0) / np.log(10), 70.0, 210.0, 784)
    Correct: mean_pixel_probability.
    Correct: log10_ratio.
"""

from __future__ import annotations

import numpy as np

from course_lib.exercises import (
    as_float_array,
    call_answer,
    check_answered,
    check_array,
    check_true,
    hide_difference,
)

__all__ = [
    "check_baseline_by_hand",
    "check_causality_test",
    "check_log_prob_from_logits",
    "check_nats_and_ratio",
]


_hide_difference = hide_difference


def _call(name: str, function, *args):
    """Call the learner's function; an error inside it becomes a hint, a stub a reminder."""
    return call_answer(
        name,
        function,
        *args,
        hint="It must work for images of any size (the check also uses small ones): "
        "do not hard-code 28 or 784.",
    )


_numpy = as_float_array


@_hide_difference
def check_nats_and_ratio(mean_pixel_probability, log10_ratio, test_nll, baseline_nll, num_pixels):
    """Exercise 1 of notebook 08: the geometric-mean pixel probability and a likelihood ratio."""
    check_array(
        "mean_pixel_probability",
        mean_pixel_probability,
        np.exp(-float(test_nll) / num_pixels),
        rtol=1e-6,
        hint="The NLL of an image is the sum of the pixels' -log p; the geometric mean of the "
        "pixel probabilities is exp of minus the mean per pixel (nats, so exp, not 2**).",
    )
    check_array(
        "log10_ratio",
        log10_ratio,
        (float(baseline_nll) - float(test_nll)) / np.log(10),
        rtol=1e-6,
        hint="The ratio is exp(baseline_nll - test_nll): take its base-10 logarithm "
        "analytically (a change of base), not the logarithm of the difference.",
    )


@_hide_difference
def check_log_prob_from_logits(log_prob_from_logits, network, model, images) -> None:
    """Exercise 2 of notebook 08: log p(x) as the sum of the per-pixel conditionals.

    On random logits for 4x4 images (any size must work), then on the learner's
    network's logits for `images`, against `model.log_likelihood`.
    """
    name = "log_prob_from_logits"
    hint = (
        "One value per image: the sum over every pixel (all axes but the batch axis) of "
        "x * l - softplus(l), the log-probability of the pixel's actual value."
    )
    rng = np.random.default_rng(2)
    for case in range(1, 4):
        x = (rng.random((3, 4, 4, 1)) > 0.5).astype("float64")
        logits = rng.normal(scale=3.0, size=(3, 4, 4, 1))
        expected = (x * logits - np.logaddexp(0.0, logits)).reshape(len(x), -1).sum(axis=1)
        check_array(
            f"{name} on random case {case}",
            _call(name, log_prob_from_logits, x, logits),
            expected,
            hint=hint,
            quiet=True,
        )
    images = np.asarray(images)
    logits = _numpy(network(images))
    check_array(
        f"{name} on the test digits",
        _call(name, log_prob_from_logits, images.astype("float64"), logits),
        model.log_likelihood(images),
        rtol=1e-4,
        atol=1e-3,
        hint="The model's log_likelihood is exactly this sum; check the sign and the summed axes.",
        quiet=True,
    )
    print(f"Correct: {name} agrees with the model's log-likelihood.")


@_hide_difference
def check_baseline_by_hand(pi_hat, baseline_by_hand, pixel_nll, x_train, x_test) -> None:
    """Exercise 3 of notebook 08: the independent baseline, counted and smoothed by hand."""
    from course_lib.metrics.likelihood import fit_bernoulli_baseline

    x_train = np.asarray(x_train, np.float64)
    x_test = np.asarray(x_test, np.float64)
    reference_pi = fit_bernoulli_baseline(x_train, smoothing=1.0)
    check_answered("pi_hat", pi_hat)
    pi_hat = np.asarray(pi_hat, np.float64)
    if pi_hat.size == reference_pi.size:  # (28, 28) or (28, 28, 1): both are one per pixel
        pi_hat = pi_hat.reshape(reference_pi.shape)
    check_array(
        "pi_hat",
        pi_hat,
        reference_pi,
        rtol=1e-5,  # float32 counts are fine; N + 1 instead of N + 2 is off by 1/N
        atol=0.0,
        hint="Laplace's rule adds one pseudo-count to 'on' and one to 'off': count the on "
        "pixels over the training images (axis 0), add 1, divide by the number of images "
        "plus 2.",
    )
    per_pixel = -(x_test * np.log(reference_pi) + (1.0 - x_test) * np.log(1.0 - reference_pi))
    check_array(
        "baseline_by_hand",
        baseline_by_hand,
        per_pixel.reshape(len(x_test), -1).sum(axis=1).mean(),
        rtol=2e-6,
        hint="Score the test images: sum the NLLs over the pixels of each image, then average "
        "over the images.",
    )
    check_true(
        "pixel_nll has one value per pixel position",
        pixel_nll is not None and np.shape(pixel_nll) == x_test.shape[1:3],
        "Average the per-pixel NLL over the test images and drop the channel axis.",
    )
    check_array(
        "pixel_nll",
        pixel_nll,
        per_pixel.mean(axis=0)[:, :, 0],
        rtol=1e-4,  # log(1 - pi) of a rare pixel loses digits in float32; pi_hat is exact
        atol=1e-6,
        hint="Each entry is that pixel's NLL averaged over the test images (not the training "
        "images, not summed).",
    )


class _Toy:
    """A tiny fake network: logit (i, j) = 3 * x[i + di, j + dj] (0 outside the image)."""

    def __init__(self, di: int, dj: int, description: str):
        self.di, self.dj, self.description = di, dj, description

    def __call__(self, images, training=False):
        import tensorflow as tf

        x = np.asarray(images, np.float32)[..., 0]
        out = np.zeros_like(x)
        height, width = x.shape[1:3]
        for i in range(height):
            for j in range(width):
                a, b = i + self.di, j + self.dj
                if 0 <= a < height and 0 <= b < width:
                    out[:, i, j] = 3.0 * x[:, a, b] - 1.0
        return tf.convert_to_tensor(out[..., None])

    def predict(self, images, verbose=0, **kwargs):
        return np.asarray(self(images))


def _reference_leaks(network, image, row, column) -> int:
    image = np.asarray(image, np.float32)
    flipped = image.copy()
    flipped[row, column, 0] = 1.0 - flipped[row, column, 0]
    logits = _numpy(network(np.stack([image, flipped])))[..., 0]
    changed = np.abs(logits[0] - logits[1]) > 1e-6
    width = changed.shape[1]
    raster = np.arange(changed.size).reshape(changed.shape)
    return int(np.sum(changed & (raster <= row * width + column)))


@_hide_difference
def check_causality_test(future_leaks, network, image) -> None:
    """Exercise 4 of notebook 08: a perturbation test of causality, written by the learner.

    `future_leaks(network, image, row, column)` must count the logits at or before pixel
    `(row, column)` in raster order that move when that pixel is flipped. It must find
    nothing in the learner's real `network` (on `image`) and flag three non-causal toy
    networks, with the exact count, on a small image.
    """
    name = "future_leaks"
    check_answered(name, future_leaks)
    image = np.asarray(image, np.float32)
    height, width = image.shape[:2]
    small = np.zeros((5, 5, 1), np.float32)
    small[1, 1] = small[2, 2] = small[2, 4] = small[3, 0] = small[3, 3] = 1.0
    toys = [
        _Toy(0, 0, "a network whose logit reads its own pixel"),
        _Toy(1, 0, "a network whose logit reads the pixel below it"),
        _Toy(1, -1, "a network whose logit reads the pixel below and to the left"),
        _Toy(0, -1, "a causal network whose logit reads the pixel to its left"),
    ]
    cases = [
        (network, image, row, column, "the trained model (which is causal)")
        for row, column in (
            (height // 2, width // 2),
            (0, 0),
            (height // 3, width - 1),
            (height - 1, width // 4),
        )
    ]
    for toy in toys:
        cases += [
            (toy, small, row, column, toy.description)
            for row, column in (
                (2, 2),
                (3, 0),
                (1, 3),
                (2, 1),
            )
        ]
    for net, picture, row, column, description in cases:
        expected = _reference_leaks(net, picture, row, column)
        got = _call(name, future_leaks, net, picture.copy(), row, column)
        try:
            got = int(got)
        except (TypeError, ValueError):
            raise AssertionError(f"`{name}` should return a count (an int).") from None
        if got != expected:
            kind = "finds leaks that are not there" if got > expected else "misses a leak"
            raise AssertionError(
                f"Not yet: `{name}` {kind} for {description}, flipping pixel ({row}, "
                f"{column}). Flip the pixel (1 - x), run the network on both images, and "
                "count the logits that move at that pixel and before it in raster order: "
                "every row above, and the same row up to and including its column."
            )
    print(f"Correct: {name} passes the real model and flags every non-causal test network.")
