"""Checks of the exercises of notebooks 06 (DCGAN) and 07 (conditional GAN and WGAN-GP).

Each function takes the learner's answer (and, where the expected value depends on a
run, the learner's own objects), computes the reference itself from the library, and
raises `AssertionError` with a hint that names the idea, never the expected value.

Example:
    >>> def size(n, k, s, padding):
    ...     return n * s if padding == "same" else (n - 1) * s + max(k, s)
    >>> check_transposed_output_size(size)
    Correct: transposed_output_size agrees with the reference on 6 inputs.
"""

from __future__ import annotations

import numpy as np

from course_lib.exercises import (
    as_float_array,
    call_answer,
    check_answered,
    check_array,
    check_function,
    check_true,
    hide_difference,
)

__all__ = [
    "check_discriminator_wins",
    "check_generator_parameters",
    "check_gradient_penalty",
    "check_linear_penalty",
    "check_slerp",
    "check_style_row",
    "check_transposed_output_size",
    "check_wasserstein_1d",
]


_hide_difference = hide_difference


def _call(name: str, function, *args):
    """Call the learner's function; an error inside it becomes a hint, a stub a reminder."""
    return call_answer(
        name,
        function,
        *args,
        hint="Run it on a small input and compare the shapes with the task.",
    )


_numpy = as_float_array


# --------------------------------------------------------------------------- notebook 06


def _keras_transposed_size(size, kernel, stride, padding):
    import keras

    layer = keras.layers.Conv2DTranspose(1, kernel, strides=stride, padding=padding)
    return layer.compute_output_shape((1, size, size, 1))[1]


@_hide_difference
def check_transposed_output_size(transposed_output_size) -> None:
    """Exercise 1 of notebook 06: the output size of a `Conv2DTranspose` along one axis."""
    cases = [
        (7, 4, 2, "same"),
        (7, 5, 2, "valid"),
        (14, 3, 1, "valid"),
        (4, 3, 3, "same"),
        (5, 2, 3, "valid"),
        (6, 1, 1, "same"),
    ]
    check_function(
        "transposed_output_size",
        transposed_output_size,
        _keras_transposed_size,
        cases,
        hint="Treat 'same' and 'valid' separately; with 'valid' the kernel overhangs the "
        "input, and Keras pads up a kernel smaller than the stride.",
    )


def _reference_slerp(z0, z1, t):
    z0, z1 = np.asarray(z0, np.float64), np.asarray(z1, np.float64)
    cos_theta = np.dot(z0, z1) / (np.linalg.norm(z0) * np.linalg.norm(z1))
    theta = np.arccos(np.clip(cos_theta, -1.0, 1.0))
    return (np.sin((1 - t) * theta) * z0 + np.sin(t * theta) * z1) / np.sin(theta)


@_hide_difference
def check_slerp(my_slerp) -> None:
    """Exercise 2 of notebook 06: spherical interpolation, on vectors of unequal norms."""
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal((2, 16))
    check_function(
        "my_slerp",
        my_slerp,
        _reference_slerp,
        [(a, b, 0.0), (a, b, 0.3), (a, b, 1.0), (a, 2 * b, 0.5), (3 * a, b, 0.8)],
        hint="Weights sin((1 - t) theta) / sin(theta) and sin(t theta) / sin(theta), with theta "
        "the angle between the two vectors (normalise the dot product).",
    )
    unit_a, unit_b = a / np.linalg.norm(a), b / np.linalg.norm(b)
    middle = _numpy(_call("my_slerp", my_slerp, unit_a, unit_b, 0.5))
    check_true(
        "slerp keeps unit vectors on the unit sphere",
        abs(np.linalg.norm(middle) - 1) < 1e-6,
        "Along a great circle the norm does not change.",
    )


def _generator_parameters(latent_dim, base_filters, refine):
    from course_lib.models.gan import build_dcgan_generator

    return build_dcgan_generator(
        latent_dim, base_filters=base_filters, refine=refine
    ).count_params()


@_hide_difference
def check_generator_parameters(count_generator_parameters) -> None:
    """Exercise 3 of notebook 06: the DCGAN generator's parameter count, as a formula.

    Several sizes, with and without the refining convolutions, so that a count that is
    right for one configuration by accident (or copied from `count_params()`) fails.
    """
    check_function(
        "count_generator_parameters",
        count_generator_parameters,
        _generator_parameters,
        [(64, 32, True), (16, 8, False), (10, 4, True), (3, 2, False)],
        rtol=0.0,
        atol=0.5,
        hint="Count the dense projection, every batch normalisation (4 numbers per unit or "
        "channel), every convolution (k * k * c_in * c_out, a bias only where the task "
        "says so), and the two refining layers only when `refine` is True.",
    )


def _history(history, name: str) -> dict:
    values = getattr(history, "history", history)
    check_answered(name, values)
    if not isinstance(values, dict) or "d_fake" not in values or "d_real" not in values:
        raise AssertionError(
            f"`{name}` should be the History returned by `fit` (or its `.history` dict), "
            "with the monitors `d_real` and `d_fake`."
        )
    return values


def _learning_rate(optimizer) -> float:
    return float(_numpy(optimizer.learning_rate))


@_hide_difference
def check_discriminator_wins(
    strong_d_gan, strong_d_history, history, d_fake_strong, d_fake_normal
) -> None:
    """Exercise 4 of notebook 06: provoke "the discriminator wins" and measure it.

    Reads the learner's own run (`strong_d_gan`, `strong_d_history`) and the notebook's
    normal run (`history`): the change must be the discriminator's learning rate, the two
    numbers must be the mean `D(G(z))` over the same epochs of each run, and the symptom
    must show (a lower mean `D(G(z))` with the stronger discriminator).
    """
    for name, value in (
        ("strong_d_gan", strong_d_gan),
        ("d_fake_strong", d_fake_strong),
        ("d_fake_normal", d_fake_normal),
    ):
        check_answered(name, value)
    strong = _history(strong_d_history, "strong_d_history")
    normal = _history(history, "history")
    d_rate = _learning_rate(strong_d_gan.d_optimizer)
    g_rate = _learning_rate(strong_d_gan.g_optimizer)
    check_true(
        "the discriminator of your run learns much faster than its generator",
        d_rate >= 5 * g_rate,
        "Raise the learning rate of the discriminator's optimizer (d_optimizer), not the "
        "generator's, by the factor the task gives.",
    )
    num_epochs = len(strong["d_fake"])
    if num_epochs > len(normal["d_fake"]):
        raise AssertionError(
            "Your run has more epochs than the normal run: compare the same epochs of both."
        )
    check_array(
        "d_fake_strong",
        d_fake_strong,
        np.mean(strong["d_fake"]),
        rtol=1e-6,
        hint="Average D(G(z)) (the `d_fake` monitor, not `d_real`) over all epochs of your run, "
        "read from its history.",
    )
    check_array(
        "d_fake_normal",
        d_fake_normal,
        np.mean(normal["d_fake"][:num_epochs]),
        rtol=1e-6,
        hint="Average `d_fake` of the normal run over the same epochs as your run (its first "
        "ones), so that both runs had the same number of steps.",
    )
    check_true(
        "the stronger discriminator pushes D(G(z)) down",
        float(d_fake_strong) < float(d_fake_normal),
        "With a discriminator that learns faster, D(G(z)) should fall below that of the "
        "normal run; check that your run used the changed optimizer and the same data.",
    )


# --------------------------------------------------------------------------- notebook 07


@_hide_difference
def check_wasserstein_1d(wasserstein_1d) -> None:
    """Exercise 1 of notebook 07: the W1 distance of two equal-size samples on the line."""
    from scipy.stats import wasserstein_distance

    rng = np.random.default_rng(1)
    cases = [
        (rng.normal(size=50), rng.normal(size=50)),
        (rng.normal(size=200), rng.normal(3.0, 1.0, size=200)),
        (np.zeros(10), np.full(10, 0.7)),
        (rng.exponential(size=40), rng.normal(size=40)),
    ]
    check_function(
        "wasserstein_1d",
        wasserstein_1d,
        wasserstein_distance,
        cases,
        hint="Pair the i-th smallest of a with the i-th smallest of b, then average the gaps.",
    )


def _images(seed: int, shape=(4, 6, 6, 1)) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    real = rng.uniform(-1, 1, shape).astype("float32")
    fake = rng.uniform(-1, 1, shape).astype("float32")
    return real, fake


def _linear_critic(weights):
    import keras

    weights = np.asarray(weights, "float32").reshape(-1)
    critic = keras.Sequential([keras.Input((weights.size,)), keras.layers.Dense(1)])
    critic.layers[-1].set_weights([weights.reshape(-1, 1), np.zeros(1, "float32")])
    return critic


@_hide_difference
def check_linear_penalty(penalty_by_hand, weights) -> None:
    """Exercise 2 of notebook 07: the penalty of a linear critic, from its weight vector."""
    from course_lib.models.wgan_gp import gradient_penalty

    weights = np.asarray(weights, np.float64).reshape(-1)
    rng = np.random.default_rng(0)
    real = rng.uniform(-1, 1, (8, weights.size)).astype("float32")
    fake = rng.uniform(-1, 1, (8, weights.size)).astype("float32")
    expected = float(gradient_penalty(_linear_critic(weights), real, fake, seed=0))
    check_array(
        "penalty_by_hand",
        penalty_by_hand,
        expected,
        rtol=1e-4,
        hint="The gradient of w . x is w everywhere; the penalty is the squared distance of "
        "its (Euclidean, not squared) norm from 1, without the weight lambda.",
    )


def _nonlinear_critic(shape, seed: int, flat: bool = False):
    """A small tanh network: its input gradient changes along the interpolation line."""
    import keras

    initializer = keras.initializers.RandomNormal(stddev=0.6, seed=seed)
    last = keras.initializers.Zeros() if flat else keras.initializers.RandomNormal(0.0, 1.5, seed)
    return keras.Sequential(
        [
            keras.Input(shape),
            keras.layers.Flatten(),
            keras.layers.Dense(8, activation="tanh", kernel_initializer=initializer),
            keras.layers.Dense(1, kernel_initializer=last),
        ]
    )


def _penalty_and_weight_gradients(name, function, critic, real, fake, epsilon):
    import tensorflow as tf

    with tf.GradientTape() as outer:  # what a critic step does with the penalty
        value = _call(name, function, critic, real, fake, epsilon)
        if not tf.is_tensor(value):
            raise AssertionError(
                f"`{name}` returned a {type(value).__name__}, not a tensor: keep the whole "
                "computation in TensorFlow (keras.ops or tf), so that a training step can "
                "differentiate the penalty again (a tape inside a tape)."
            )
    gradients = outer.gradient(value, critic.trainable_weights)
    return value, gradients


@_hide_difference
def check_gradient_penalty(my_gradient_penalty) -> None:
    """Exercise 3 of notebook 07: the WGAN-GP penalty, with a tape inside a tape.

    Compared with `course_lib.models.wgan_gp.gradient_penalty` on a nonlinear critic with
    the same interpolation weights (values, and gradients with respect to the critic's
    weights), then differentiated at a flat critic, where a norm without the small
    constant inside the square root gives NaN gradients.
    """
    import tensorflow as tf

    from course_lib.models.wgan_gp import gradient_penalty

    name = "my_gradient_penalty"
    check_answered(name, my_gradient_penalty)
    hint = (
        "Interpolate with one weight per image, epsilon * real + (1 - epsilon) * fake; take "
        "the gradient of the critic's scores with respect to those images (not the weights); "
        "one Euclidean norm per image; then the mean of (norm - 1) squared."
    )
    for case, (seed, shape) in enumerate(((0, (4, 6, 6, 1)), (1, (5, 4, 4, 2))), start=1):
        real, fake = _images(seed, shape)
        epsilon = np.random.default_rng(seed + 10).uniform(size=(shape[0], 1, 1, 1))
        epsilon = epsilon.astype("float32")
        critic = _nonlinear_critic(shape[1:], seed)
        value, gradients = _penalty_and_weight_gradients(
            name, my_gradient_penalty, critic, real, fake, epsilon
        )
        with tf.GradientTape() as outer:
            expected = gradient_penalty(critic, real, fake, epsilon=epsilon)
        expected_gradients = outer.gradient(expected, critic.trainable_weights)
        if np.size(_numpy(value)) != 1:
            raise AssertionError(
                f"`{name}` should return one number for the batch (a mean over images)."
            )
        check_array(
            f"{name} on test critic {case}",
            _numpy(value).reshape(()),
            _numpy(expected),
            rtol=1e-4,
            atol=1e-6,
            hint=hint,
            quiet=True,
        )
        if all(g is None for g in gradients):
            raise AssertionError(
                f"The value of `{name}` is right, but it cannot be differentiated with respect "
                "to the critic's weights: compute the norm from the tape's gradient with "
                "TensorFlow operations (no NumPy, no .numpy()), so that the training step's "
                "outer tape can see it."
            )
        for weight, got, want in zip(
            critic.trainable_weights, gradients, expected_gradients, strict=True
        ):
            # None: a weight the penalty does not depend on (the last bias)
            zero = np.zeros(tuple(weight.shape))
            check_array(
                f"the gradient of {name} with respect to the critic's weights",
                zero if got is None else _numpy(got),
                zero if want is None else _numpy(want),
                rtol=1e-3,
                atol=1e-6,
                hint=hint,
                quiet=True,
            )
    real, fake = _images(2)
    flat_critic = _nonlinear_critic(real.shape[1:], 2, flat=True)
    half = np.full((len(real), 1, 1, 1), 0.5, "float32")
    _, gradients = _penalty_and_weight_gradients(
        name, my_gradient_penalty, flat_critic, real, fake, half
    )
    finite = all(g is None or np.all(np.isfinite(_numpy(g))) for g in gradients)
    check_true(
        f"{name} agrees with the library's penalty, and its training gradient stays finite "
        "for a flat critic",
        finite,
        "At a critic whose gradient is zero, the derivative of the square root is infinite: "
        "add the small constant inside the root, to the sum of squares.",
    )


@_hide_difference
def check_style_row(style_row, generator, z_style) -> None:
    """Exercise 4 of notebook 07: one noise vector `z_style`, the ten classes in order."""
    check_answered("style_row", style_row)
    z_style = np.asarray(z_style, "float32").reshape(1, -1)
    reference = _numpy(generator([np.tile(z_style, (10, 1)), np.arange(10)], training=False))
    answer = _numpy(style_row)
    if answer.shape != reference.shape:
        raise AssertionError(
            f"`style_row` has shape {answer.shape}; the task asks for one image per class "
            "0-9, stacked along the first axis. Repeat z_style along axis 0 (a (1, d) vector "
            "repeated without an axis is flattened)."
        )
    flat = answer.reshape(10, -1)
    if np.max(np.std(flat, axis=0)) == 0:
        raise AssertionError(
            "The ten images are identical: pass the labels 0, 1, ..., 9, not one label."
        )
    close = np.all(np.isclose(answer, reference, rtol=1e-4, atol=1e-4), axis=(1, 2, 3))
    if close.all():
        print("Correct: style_row, one style for the ten classes.")
        return
    distances = np.abs(flat[:, None, :] - reference.reshape(10, -1)[None]).max(axis=2)
    if np.all(distances.min(axis=1) < 1e-4) and not close.all():
        raise AssertionError(
            "Each image is one of the ten classes, but not in order: image k must show "
            "class k, for k = 0, 1, ..., 9."
        )
    raise AssertionError(
        f"{int(np.sum(~close))} of the 10 images differ from what the generator draws for "
        "z_style and their class: use the same z_style for every image (not a fresh noise "
        "vector each), and generate in inference mode (training=False, or predict)."
    )
