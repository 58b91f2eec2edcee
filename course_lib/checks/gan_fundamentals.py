"""Checks of the exercises of notebook 05 (GAN fundamentals).

Every check computes its reference from the library (`course_lib.models.gan`) or
from a reference written here, on inputs chosen so that plausible wrong answers
give a different result, and its failure messages name the idea, never the value.

Example:
    >>> import numpy as np
    >>> def count_modes(points, centers, radius, min_count):
    ...     near = np.linalg.norm(points[:, None] - centers[None], axis=-1) < radius
    ...     return int((near.sum(axis=0) >= min_count).sum())
    >>> check_exercise_3(count_modes)
    Correct: count_modes agrees with the reference on 7 inputs.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from course_lib.exercises import check_answered, check_array, check_function
from course_lib.models.gan import (
    GAN,
    build_mlp_discriminator,
    build_mlp_generator,
    generator_loss,
    optimal_discriminator,
)

__all__ = ["check_exercise_1", "check_exercise_2", "check_exercise_3", "check_exercise_4"]


def check_exercise_1(my_optimal_discriminator):
    """Exercise 1: `my_optimal_discriminator(p_data, p_g)`, with 1/2 where both densities are 0."""
    rng = np.random.default_rng(0)
    p_data, p_g = rng.dirichlet(np.ones(20)), rng.dirichlet(np.ones(20))
    cases = [
        (p_data, p_g),
        (np.array([0.2, 0.0, 0.0, 0.5]), np.array([0.2, 0.3, 0.0, 0.1])),
        (np.array([[0.0, 1.0], [0.25, 0.0]]), np.array([[0.0, 3.0], [0.75, 0.0]])),
    ]
    check_function(
        "my_optimal_discriminator",
        my_optimal_discriminator,
        lambda a, b: np.asarray(optimal_discriminator(a, b), dtype=np.float64),
        cases,
        hint="D* is p_data / (p_data + p_g), the density of the data over the total; where "
        "both densities are 0 it is 1/2.",
    )


def check_exercise_2(grad_saturating, grad_non_saturating, d_of_g: float = 0.01):
    """Exercise 2: d(loss)/d(logit) of both generator losses where D(G(z)) = `d_of_g`.

    The reference differentiates the library's `generator_loss` with TensorFlow.
    """
    logit = tf.constant([np.log(d_of_g / (1 - d_of_g))], dtype=tf.float64)
    expected = {}
    for kind in ("saturating", "non_saturating"):
        with tf.GradientTape() as tape:
            tape.watch(logit)
            loss = generator_loss(logit, kind)
        expected[kind] = float(tape.gradient(loss, logit).numpy()[0])
    check_array(
        "grad_saturating",
        grad_saturating,
        expected["saturating"],
        rtol=1e-3,
        hint="Differentiate log(1 - sigmoid(l)) with respect to the logit l (not D), with "
        "its sign; notebook 05, section 2 writes it in terms of D.",
    )
    check_array(
        "grad_non_saturating",
        grad_non_saturating,
        expected["non_saturating"],
        rtol=1e-3,
        hint="Differentiate -log(sigmoid(l)) with respect to the logit l (not D), with "
        "its sign; notebook 05, section 2 writes it in terms of D.",
    )
    ratio = abs(float(grad_non_saturating)) / abs(float(grad_saturating))
    print(f"At D(G(z)) = {d_of_g:g} the non-saturating loss gives {ratio:.0f} times the gradient.")


def _count_modes(points, centers, radius, min_count):
    distances = np.linalg.norm(points[:, None, :] - centers[None, :, :], axis=2)
    return int(np.sum(np.sum(distances < radius, axis=0) >= min_count))


def check_exercise_3(count_modes):
    """Exercise 3: `count_modes(points, centers, radius, min_count)`.

    The cases put points just outside the radius (where a nearest-centre rule, a
    squared distance or a larger radius would count them), exactly `min_count`
    points at a centre, and a ring of eight Gaussians like the notebook's.
    """
    check_answered("count_modes", count_modes)
    centers3 = np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]])
    points = np.concatenate([np.zeros((30, 2)), np.tile([[5.0, 0.0]], (5, 1)), [[9.0, 9.0]]])
    # 12 points at distance 0.4 from the origin, on a circle around it.
    angles = np.linspace(0, 2 * np.pi, 12, endpoint=False)
    circle = 0.4 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    # 12 points at distance 1.5 from (5, 0): inside radius 2, outside radius 2 squared.
    far_circle = np.array([5.0, 0.0]) + 1.5 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    ring_angles = 2 * np.pi * np.arange(8) / 8
    ring_centers = 2.0 * np.stack([np.cos(ring_angles), np.sin(ring_angles)], axis=1)
    rng = np.random.default_rng(0)
    ring = ring_centers[rng.integers(0, 8, 2000)] + rng.normal(0, 0.02, (2000, 2))
    blob = ring_centers[3] + rng.normal(0, 0.3, (300, 2))  # a collapsed generator
    cases = [
        (points, centers3, 0.5, 10),
        (points, centers3, 0.5, 5),
        (points, centers3, 0.5, 31),
        (circle, centers3, 0.3, 5),
        (far_circle, centers3, 2.0, 5),
        (ring, ring_centers, 0.25, 20),
        (blob, ring_centers, 0.25, 20),
    ]
    check_function(
        "count_modes",
        count_modes,
        _count_modes,
        cases,
        hint="Count, for each center, the points whose Euclidean distance (not its square) is "
        "below `radius`, then count the centers with at least `min_count` such points; a "
        "point far from every center counts for none.",
    )


class _RecordingSGD(keras.optimizers.SGD):
    """Plain SGD that records which variables each call of `apply` was given."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.applied_to = []

    def apply(self, grads, trainable_variables=None):
        variables = (
            self._trainable_variables if trainable_variables is None else trainable_variables
        )
        self.applied_to.append({id(v) for v in variables})
        return super().apply(grads, trainable_variables)


def _tiny_networks(weights=None):
    """A 2-D toy generator (3-D noise) and discriminator, with fixed weights."""
    generator = build_mlp_generator(3, data_shape=(2,), hidden_units=(8,), output_activation=None)
    discriminator = build_mlp_discriminator(data_shape=(2,), hidden_units=(8,), dropout_rate=0.0)
    if weights is None:
        rng = np.random.default_rng(0)
        weights = [
            [0.7 * rng.standard_normal(w.shape) for w in net.get_weights()]
            for net in (generator, discriminator)
        ]
    generator.set_weights(weights[0])
    discriminator.set_weights(weights[1])
    return generator, discriminator, weights


def _require(name, condition, hint):
    """`check_true` without its confirmation: one step of a longer check."""
    if not bool(condition):
        raise AssertionError(f"Not yet: {name}. {hint}")


def _close(a, b):
    return all(np.allclose(x, y, rtol=1e-4, atol=1e-6) for x, y in zip(a, b, strict=True))


def check_exercise_4(my_train_step, num_steps: int = 2, learning_rate: float = 0.5):
    """Exercise 4: `my_train_step(generator, discriminator, d_optimizer, g_optimizer, ...)`.

    The learner's step takes `(generator, discriminator, d_optimizer, g_optimizer,
    real_images, z_d, z_g)` and returns `(d_loss, g_loss)`.

    Two copies of a tiny 2-D GAN with the same fixed weights: the library's
    `GAN.train_step` trains one, the learner's step the other, with the same
    noise (the library draws it from `SeedGenerator(seed)`; the same draws are
    handed to the learner). Plain SGD, so each update is proportional to its
    gradient and every mistake shows in the weights. After each step: each
    optimizer took one step on its own network only, both networks equal the
    library's, and the returned losses equal the library's.
    """
    check_answered("my_train_step", my_train_step)
    generator, discriminator, weights = _tiny_networks()
    ref_generator, ref_discriminator, _ = _tiny_networks(weights)
    d_optimizer, g_optimizer = _RecordingSGD(learning_rate), _RecordingSGD(learning_rate)
    library = GAN(ref_generator, ref_discriminator, seed=0, value_range=None)
    library.compile(
        d_optimizer=keras.optimizers.SGD(learning_rate),
        g_optimizer=keras.optimizers.SGD(learning_rate),
    )
    noise = keras.random.SeedGenerator(0)  # the same draws as the library's, in the same order
    rng = np.random.default_rng(1)
    g_ids = {id(v) for v in generator.trainable_weights}
    d_ids = {id(v) for v in discriminator.trainable_weights}
    for step in range(1, num_steps + 1):
        real = (rng.normal(size=(16, 2)) + [1.5, -0.5]).astype("float32")
        z_d = ops.convert_to_numpy(keras.random.normal((16, 3), seed=noise))
        z_g = ops.convert_to_numpy(keras.random.normal((16, 3), seed=noise))
        for tracker in library.metrics:
            tracker.reset_state()
        logs = library.train_step(real)
        try:
            returned = my_train_step(
                generator, discriminator, d_optimizer, g_optimizer, real, z_d, z_g
            )
        except NotImplementedError as error:
            raise AssertionError("`my_train_step` is not implemented yet.") from error
        if returned is None and not d_optimizer.applied_to and not g_optimizer.applied_to:
            check_answered("my_train_step(...)", returned)
        _require(
            f"step {step}: each optimizer took one step",
            len(d_optimizer.applied_to) == step and len(g_optimizer.applied_to) == step,
            "Call d_optimizer once and g_optimizer once per training step (two optimizers, "
            "two gradient steps, not one step over both networks).",
        )
        _require(
            f"step {step}: d_optimizer changed only the discriminator",
            d_optimizer.applied_to[-1] == d_ids,
            "Apply the discriminator's gradients with d_optimizer to "
            "discriminator.trainable_weights only: the D step must not move the generator.",
        )
        _require(
            f"step {step}: g_optimizer changed only the generator",
            g_optimizer.applied_to[-1] == g_ids,
            "Apply the generator's gradients with g_optimizer to "
            "generator.trainable_weights only: the G step must not move the discriminator.",
        )
        _require(
            f"step {step}: the discriminator equals the library's after its step",
            _close(discriminator.get_weights(), ref_discriminator.get_weights()),
            "The D loss is softplus(-D(x)) + softplus(D(G(z_d))), each averaged over the "
            "batch (real -> 1, generated -> 0), with the samples of z_d.",
        )
        _require(
            f"step {step}: the generator equals the library's after its step",
            _close(generator.get_weights(), ref_generator.get_weights()),
            "The G step uses z_g, goes through the discriminator as it is *after* its "
            "update (a new forward pass, after d_optimizer's step), and minimises the "
            "non-saturating loss -log D(G(z)) = softplus(-D(G(z_g))).",
        )
        _require(
            f"step {step}: my_train_step returns (d_loss, g_loss)",
            isinstance(returned, (tuple, list)) and len(returned) == 2,
            "Return the two losses of this call, as a pair (d_loss, g_loss).",
        )
        check_array(
            "d_loss",
            np.asarray(ops.convert_to_numpy(returned[0])),
            float(logs["d_loss"]),
            rtol=1e-4,
            hint="Return the discriminator's loss of this step (before its update).",
            quiet=True,
        )
        check_array(
            "g_loss",
            np.asarray(ops.convert_to_numpy(returned[1])),
            float(logs["g_loss"]),
            rtol=1e-4,
            hint="Return the generator's loss of this step, the non-saturating one.",
            quiet=True,
        )
    print(f"Correct: my_train_step equals GAN.train_step for {num_steps} steps.")
