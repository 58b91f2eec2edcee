"""Tests of course_lib.models.wgan_gp: the critic, the gradient penalty and the WGAN-GP model."""

import keras
import numpy as np
import pytest

from course_lib.models.gan import build_dcgan_generator
from course_lib.models.wgan_gp import (
    NORM_EPSILON,
    WGANGP,
    build_critic,
    gradient_norms,
    gradient_penalty,
)

LATENT_DIM = 8


def _linear_critic(weights):
    """f(x) = w . flatten(x) + 1: its gradient is w everywhere, of norm ||w||."""
    critic = keras.Sequential(
        [keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(1)]
    )
    critic.layers[-1].set_weights([weights.reshape(-1, 1).astype("float32"), np.ones(1, "f4")])
    return critic


def _small_wgan(seed=0, num_critic_steps=2):
    generator = build_dcgan_generator(latent_dim=LATENT_DIM, base_filters=8)
    critic = build_critic(base_filters=8)
    wgan = WGANGP(generator, critic, num_critic_steps=num_critic_steps, gp_weight=10.0, seed=seed)
    wgan.compile(
        d_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.0, beta_2=0.9),
        g_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.0, beta_2=0.9),
    )
    return wgan


def test_critic_shape_and_no_batch_normalisation():
    critic = build_critic(base_filters=8)
    assert critic.output_shape == (None, 1)
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in critic.layers)


def test_gradient_penalty_matches_the_formula_on_a_linear_critic():
    rng = np.random.default_rng(0)
    weights = rng.normal(size=784) * 0.1
    critic = _linear_critic(weights)
    real = rng.uniform(-1, 1, (6, 28, 28, 1)).astype("float32")
    fake = rng.uniform(-1, 1, (6, 28, 28, 1)).astype("float32")
    norm = np.linalg.norm(weights)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(gradient_norms(critic, real)), norm, 1e-5)
    penalty = float(gradient_penalty(critic, real, fake, seed=0))
    assert penalty == pytest.approx((norm - 1.0) ** 2, rel=1e-4)
    # A unit-norm gradient is not penalised.
    unit = _linear_critic(weights / norm)
    assert float(gradient_penalty(unit, real, fake, seed=0)) == pytest.approx(0.0, abs=1e-6)


def test_gradient_penalty_on_a_nonlinear_critic_matches_finite_differences():
    # f(x) = sum(x^2) / 2 has gradient x: at the interpolate the norm is ||x_hat||.
    class Square(keras.layers.Layer):
        def call(self, x):
            return 0.5 * keras.ops.sum(keras.ops.square(x), axis=[1, 2, 3])[:, None]

    critic = keras.Sequential([keras.Input((28, 28, 1)), Square()])
    rng = np.random.default_rng(1)
    real = rng.uniform(-0.1, 0.1, (4, 28, 28, 1)).astype("float32")
    fake = rng.uniform(-0.1, 0.1, (4, 28, 28, 1)).astype("float32")
    epsilon = rng.uniform(size=(4, 1, 1, 1)).astype("float32")
    x_hat = epsilon * real + (1 - epsilon) * fake
    expected = np.mean((np.sqrt(np.sum(x_hat**2, axis=(1, 2, 3))) - 1) ** 2)
    penalty = float(gradient_penalty(critic, real, fake, epsilon=epsilon))
    assert penalty == pytest.approx(expected, rel=1e-4)


def test_gradient_penalty_is_finite_at_zero_gradient():
    import tensorflow as tf

    critic = _linear_critic(np.zeros(784))  # a constant critic: gradient exactly 0
    real = np.zeros((3, 28, 28, 1), "float32")
    with tf.GradientTape() as tape:
        penalty = gradient_penalty(critic, real, real, seed=0)
    kernel = critic.layers[-1].kernel
    grad = keras.ops.convert_to_numpy(tape.gradient(penalty, kernel))  # the bias plays no part
    assert float(penalty) == pytest.approx((np.sqrt(NORM_EPSILON) - 1) ** 2, rel=1e-6)
    assert np.all(np.isfinite(grad))


def test_metric_names_and_seeded_micro_fit_with_finite_losses(tiny_digits):
    keras.utils.set_random_seed(0)
    images = tiny_digits[0] * 2 - 1
    wgan = _small_wgan()
    history = wgan.fit(images, epochs=4, batch_size=32, verbose=0)
    assert set(history.history) == {"d_loss", "g_loss", "gradient_penalty", "w_distance"}
    for values in history.history.values():
        assert np.all(np.isfinite(values))
    # The critic learns to tell the sets apart: its distance estimate grows from ~0.
    assert history.history["w_distance"][-1] > history.history["w_distance"][0]
    # 64 images in batches of 32, 2 critic steps each: 4 critic and 2 generator steps per epoch.
    assert int(wgan.d_optimizer.iterations) == 4 * 4
    assert int(wgan.g_optimizer.iterations) == 4 * 2


def test_fresh_noise_each_step():
    wgan = _small_wgan(seed=3)
    first = wgan.sample(4)
    second = wgan.sample(4)
    assert not np.allclose(first, second)
    np.testing.assert_allclose(wgan.sample(4, seed=1), wgan.sample(4, seed=1))


def test_compile_builds_both_optimizers():
    wgan = _small_wgan()
    assert wgan.d_optimizer.built and wgan.g_optimizer.built
    assert len(wgan.d_optimizer.variables) > 1 and len(wgan.g_optimizer.variables) > 1


def test_keras_round_trip_in_safe_mode(tmp_path, tiny_digits):
    wgan = _small_wgan()
    wgan.fit(tiny_digits[0] * 2 - 1, epochs=1, batch_size=32, verbose=0)
    z = np.random.default_rng(0).normal(size=(3, LATENT_DIM)).astype("float32")
    for network in (wgan.generator, wgan.critic):
        network.save(tmp_path / f"{network.name}.keras")
    generator = keras.saving.load_model(tmp_path / "dcgan_generator.keras", safe_mode=True)
    critic = keras.saving.load_model(tmp_path / "critic.keras", safe_mode=True)
    np.testing.assert_allclose(generator(z), wgan.generator(z), atol=1e-6)
    x = np.zeros((2, 28, 28, 1), "float32")
    np.testing.assert_allclose(critic(x), wgan.critic(x), atol=1e-6)
    clone = WGANGP.from_config(wgan.get_config())
    assert clone.num_critic_steps == 2 and clone.gp_weight == 10.0


def test_bad_arguments_say_what_was_expected_and_received(tiny_digits):
    generator = build_dcgan_generator(latent_dim=LATENT_DIM, base_filters=8)
    with pytest.raises(ValueError, match="`num_critic_steps` to be a positive integer.*=0"):
        WGANGP(generator, build_critic(base_filters=8), num_critic_steps=0)
    with pytest.raises(ValueError, match="non-negative.*gp_weight=-1"):
        WGANGP(generator, build_critic(base_filters=8), gp_weight=-1)
    with pytest.raises(ValueError, match=r"critic input \(32, 32, 1\)"):
        WGANGP(generator, build_critic(image_shape=(32, 32, 1), base_filters=8))
    with pytest.raises(
        ValueError, match="`base_filters` to be a positive integer. Received: base_filters=0"
    ):
        build_critic(base_filters=0)
    with pytest.raises(ValueError, match="divisible by 4.*image_shape=\\(30, 30, 1\\)"):
        build_critic(image_shape=(30, 30, 1))
    wgan = _small_wgan()
    with pytest.raises(ValueError, match=r"values in \[-1, 1\]\. Received: values in \[0, 2"):
        wgan.fit(tiny_digits[0] * 2, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"Received: images.shape=\(4, 32, 32, 1\)"):
        wgan.fit(np.zeros((4, 32, 32, 1), "float32"), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="two optimizer objects"):
        optimizer = keras.optimizers.Adam()
        wgan.compile(d_optimizer=optimizer, g_optimizer=optimizer)


def test_interrupted_training_resumes_with_both_optimizers_exactly(tiny_digits, tmp_path):
    from course_lib.training import SimulatedInterruption, TrainingInterrupted, fit_resumable

    images = tiny_digits[0] * 2 - 1
    folder = tmp_path / "checkpoints"
    fit_args = {"batch_size": 32, "shuffle": False, "verbose": 0}
    model = _small_wgan()
    with pytest.raises(TrainingInterrupted):
        fit_resumable(model, images, 3, folder, callbacks=[SimulatedInterruption(1)], **fit_args)
    saved_state = [np.array(v) for v in model.d_optimizer.variables + model.g_optimizer.variables]
    assert int(model.d_optimizer.iterations) == 4  # 2 batches x 2 critic steps

    class StateAtStart(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            optimizers = self.model.d_optimizer.variables + self.model.g_optimizer.variables
            self.state = [np.array(v) for v in optimizers]

    resumed, probe = _small_wgan(), StateAtStart()
    history = fit_resumable(resumed, images, 3, folder, callbacks=[probe], **fit_args)
    for restored, saved in zip(probe.state, saved_state, strict=True):
        np.testing.assert_array_equal(restored, saved)
    assert int(resumed.d_optimizer.iterations) == 3 * 4
    assert int(resumed.g_optimizer.iterations) == 3 * 2
    assert len(history.history["w_distance"]) == 3
