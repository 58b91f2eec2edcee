"""Tests of course_lib.models.conditional_gan: builders, the model, serialisation, bad arguments."""

import keras
import numpy as np
import pytest

from course_lib.models.conditional_gan import (
    ConditionalGAN,
    build_conditional_discriminator,
    build_conditional_generator,
)

LATENT_DIM = 8


def _small_cgan(seed=0):
    generator = build_conditional_generator(latent_dim=LATENT_DIM, base_filters=8, embedding_dim=4)
    discriminator = build_conditional_discriminator(base_filters=8)
    cgan = ConditionalGAN(generator, discriminator, seed=seed)
    cgan.compile(
        d_optimizer=keras.optimizers.Adam(2e-3, beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(2e-3, beta_1=0.5),
    )
    return cgan


def test_shapes_and_that_the_label_changes_the_output():
    generator = build_conditional_generator(latent_dim=LATENT_DIM, base_filters=8)
    discriminator = build_conditional_discriminator(base_filters=8)
    z = np.random.default_rng(0).normal(size=(2, LATENT_DIM)).astype("float32")
    images = keras.ops.convert_to_numpy(generator([z, np.array([3, 3])]))
    assert images.shape == (2, 28, 28, 1)
    assert np.all(np.abs(images) <= 1.0)
    other = keras.ops.convert_to_numpy(generator([z, np.array([5, 5])]))
    assert not np.allclose(images, other)  # same z, other label: another image
    logits = discriminator([images, np.array([3, 3])])
    assert tuple(logits.shape) == (2, 1)
    assert len(generator.inputs) == 2 and len(discriminator.inputs) == 2


def test_metric_names_and_seeded_micro_fit_with_finite_losses(tiny_digits):
    keras.utils.set_random_seed(0)
    images, labels = tiny_digits
    cgan = _small_cgan()
    history = cgan.fit(images * 2 - 1, labels, epochs=3, batch_size=32, verbose=0)
    assert set(history.history) == {"d_loss", "g_loss", "d_real", "d_fake"}
    for values in history.history.values():
        assert np.all(np.isfinite(values))
    # The discriminator learns: it tells real pairs from generated ones better than chance.
    assert history.history["d_real"][-1] > history.history["d_fake"][-1]
    assert history.history["d_loss"][-1] < history.history["d_loss"][0]
    assert int(cgan.d_optimizer.iterations) == int(cgan.g_optimizer.iterations) == 3 * 2


def test_fresh_noise_and_labels_each_step():
    cgan = _small_cgan(seed=1)
    z1, y1 = cgan._noise_and_labels(64)
    z2, y2 = cgan._noise_and_labels(64)
    assert not np.allclose(z1, z2)
    assert not np.array_equal(keras.ops.convert_to_numpy(y1), keras.ops.convert_to_numpy(y2))
    assert set(np.unique(keras.ops.convert_to_numpy(y1))) <= set(range(10))
    assert not np.allclose(cgan.sample(2, labels=[4, 4]), cgan.sample(2, labels=[4, 4]))
    np.testing.assert_allclose(
        cgan.sample(2, labels=[4, 4], seed=2), cgan.sample(2, labels=[4, 4], seed=2)
    )


def test_compile_builds_both_optimizers():
    cgan = _small_cgan()
    assert cgan.d_optimizer.built and cgan.g_optimizer.built
    assert len(cgan.d_optimizer.variables) > 1 and len(cgan.g_optimizer.variables) > 1


def test_keras_round_trip_in_safe_mode(tmp_path):
    cgan = _small_cgan()
    z = np.random.default_rng(0).normal(size=(3, LATENT_DIM)).astype("float32")
    labels = np.array([0, 4, 9])
    cgan.generator.save(tmp_path / "generator.keras")
    cgan.discriminator.save(tmp_path / "discriminator.keras")
    generator = keras.saving.load_model(tmp_path / "generator.keras", safe_mode=True)
    discriminator = keras.saving.load_model(tmp_path / "discriminator.keras", safe_mode=True)
    np.testing.assert_allclose(generator([z, labels]), cgan.generator([z, labels]), atol=1e-6)
    images = np.zeros((3, 28, 28, 1), "float32")
    np.testing.assert_allclose(
        discriminator([images, labels]), cgan.discriminator([images, labels]), atol=1e-6
    )
    clone = ConditionalGAN.from_config(cgan.get_config())
    assert clone.latent_dim == LATENT_DIM and clone.num_classes == 10


def test_bad_arguments_say_what_was_expected_and_received(tiny_digits):
    images, labels = tiny_digits
    with pytest.raises(
        ValueError, match="`latent_dim` to be a positive integer. Received: latent_dim=0"
    ):
        build_conditional_generator(latent_dim=0)
    with pytest.raises(ValueError, match="`num_classes` to be a positive integer.*=-1"):
        build_conditional_discriminator(num_classes=-1)
    with pytest.raises(ValueError, match="divisible by 4.*image_shape=\\(27, 27, 1\\)"):
        build_conditional_generator(image_shape=(27, 27, 1))
    generator = build_conditional_generator(latent_dim=LATENT_DIM, base_filters=8)
    with pytest.raises(ValueError, match=r"discriminator input \(32, 32, 1\)"):
        ConditionalGAN(generator, build_conditional_discriminator(image_shape=(32, 32, 1)))
    cgan = _small_cgan()
    with pytest.raises(ValueError, match=r"values in \[-1, 1\]\. Received: values in \[0, 255"):
        cgan.fit(images * 255, labels, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"Received: images.shape=\(4, 32, 32, 1\)"):
        cgan.fit(np.zeros((4, 32, 32, 1), "float32"), labels[:4], epochs=1, verbose=0)
    with pytest.raises(ValueError, match="Expected integer labels `y`.*Received: y=None"):
        cgan.fit(images * 2 - 1, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"labels` in \[0, 9\].*values in \[0, 12\]"):
        cgan.sample(2, labels=[0, 12])
    with pytest.raises(ValueError, match="Expected 64 `labels`, one per item. Received: 3 labels"):
        cgan.fit(images * 2 - 1, labels[:3], epochs=1, verbose=0)
    with pytest.raises(ValueError, match="label_smoothing"):
        cgan.compile(keras.optimizers.Adam(), keras.optimizers.Adam(), label_smoothing=0.7)


def test_interrupted_training_resumes_with_both_optimizers_exactly(tiny_digits, tmp_path):
    from course_lib.training import SimulatedInterruption, TrainingInterrupted, fit_resumable

    images, labels = tiny_digits
    images = images * 2 - 1
    folder = tmp_path / "checkpoints"
    fit_args = {"y": labels, "batch_size": 32, "shuffle": False, "verbose": 0}
    model = _small_cgan()
    with pytest.raises(TrainingInterrupted):
        fit_resumable(model, images, 3, folder, callbacks=[SimulatedInterruption(1)], **fit_args)
    saved_state = [np.array(v) for v in model.d_optimizer.variables + model.g_optimizer.variables]
    assert int(model.g_optimizer.iterations) == 2

    resumed = _small_cgan()  # a new session: fresh weights and optimizers

    class StateAtStart(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            optimizers = self.model.d_optimizer.variables + self.model.g_optimizer.variables
            self.state = [np.array(v) for v in optimizers]

    probe = StateAtStart()
    history = fit_resumable(resumed, images, 3, folder, callbacks=[probe], **fit_args)
    for restored, saved in zip(probe.state, saved_state, strict=True):
        np.testing.assert_array_equal(restored, saved)
    assert int(resumed.d_optimizer.iterations) == int(resumed.g_optimizer.iterations) == 3 * 2
    assert len(history.history["d_loss"]) == 3
