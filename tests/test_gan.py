"""Tests of course_lib.models.gan: formulas, shapes, serialisation, noise, training, errors."""

import keras
import numpy as np
import pytest

from course_lib.models import gan as gan_lib
from course_lib.models.gan import (
    GAN,
    build_dcgan_discriminator,
    build_dcgan_generator,
    build_mlp_discriminator,
    build_mlp_generator,
    discriminator_loss,
    generator_loss,
    jensen_shannon_divergence,
    optimal_discriminator,
    value_function,
)


def _histograms():
    """Two 1-D Gaussians as histograms on a grid (probabilities summing to 1)."""
    x = np.linspace(-6, 6, 601)
    p_data = np.exp(-0.5 * (x - 1.0) ** 2)
    p_g = np.exp(-0.5 * ((x + 0.5) / 1.5) ** 2)
    return p_data / p_data.sum(), p_g / p_g.sum()


def _small_gan(seed=0, base_filters=4, latent_dim=8, ema_decay=None):
    generator = build_dcgan_generator(latent_dim=latent_dim, base_filters=base_filters)
    discriminator = build_dcgan_discriminator(base_filters=base_filters)
    model = GAN(generator, discriminator, seed=seed, ema_decay=ema_decay)
    model.compile(
        d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
    )
    return model


# --------------------------------------------------------------------------- theory


def test_optimal_discriminator_maximises_the_value_and_gives_the_js_link():
    p_data, p_g = _histograms()
    d_star = optimal_discriminator(p_data, p_g)
    best = value_function(p_data, p_g, d_star)
    # V(D*, G) = -log 4 + 2 JS(p_data || p_g)  (Goodfellow et al. 2014, Theorem 1).
    assert best == pytest.approx(-np.log(4) + 2 * jensen_shannon_divergence(p_data, p_g), abs=1e-9)
    # Any other discriminator does worse.
    rng = np.random.default_rng(0)
    for _ in range(5):
        other = np.clip(d_star + rng.normal(0, 0.05, d_star.shape), 1e-6, 1 - 1e-6)
        assert value_function(p_data, p_g, other) < best
    # With p_g = p_data, D* = 1/2 everywhere and the value is -log 4.
    assert np.allclose(optimal_discriminator(p_data, p_data), 0.5)
    assert value_function(p_data, p_data, np.full_like(p_data, 0.5)) == pytest.approx(-np.log(4))


def test_js_divergence_bounds():
    p = np.array([1.0, 0.0])
    q = np.array([0.0, 1.0])
    assert jensen_shannon_divergence(p, q) == pytest.approx(np.log(2))
    assert jensen_shannon_divergence(p, p) == pytest.approx(0.0)


def test_losses_match_their_probability_forms():
    logits = np.array([[-3.0], [0.0], [2.0]], dtype="float32")
    d = 1 / (1 + np.exp(-logits))
    nonsat = float(generator_loss(logits, "non_saturating"))
    sat = float(generator_loss(logits, "saturating"))
    assert nonsat == pytest.approx(np.mean(-np.log(d)), rel=1e-5)
    assert sat == pytest.approx(np.mean(np.log(1 - d)), rel=1e-5)
    d_loss = float(discriminator_loss(logits, logits))
    assert d_loss == pytest.approx(np.mean(-np.log(d)) + np.mean(-np.log(1 - d)), rel=1e-5)
    # At D = 1/2 everywhere the discriminator's loss is 2 log 2.
    zeros = np.zeros((4, 1), dtype="float32")
    assert float(discriminator_loss(zeros, zeros)) == pytest.approx(2 * np.log(2), rel=1e-6)


# --------------------------------------------------------------------------- networks


def test_shapes_of_every_network():
    z = np.zeros((3, 16), dtype="float32")
    assert build_mlp_generator(16)(z).shape == (3, 28, 28, 1)
    assert build_mlp_generator(16, data_shape=(2,), output_activation=None)(z).shape == (3, 2)
    assert build_dcgan_generator(16, base_filters=8)(z).shape == (3, 28, 28, 1)
    images = np.zeros((3, 28, 28, 1), dtype="float32")
    assert build_mlp_discriminator()(images).shape == (3, 1)
    assert build_mlp_discriminator(data_shape=(2,))(np.zeros((3, 2), "float32")).shape == (3, 1)
    assert build_dcgan_discriminator(base_filters=8)(images).shape == (3, 1)
    generator = build_dcgan_generator(16, base_filters=8)
    assert float(np.max(np.abs(generator(np.ones((2, 16), "float32"))))) <= 1.0  # tanh


def test_refined_dcgan_generator_adds_two_same_size_convolutions():
    width = 8
    plain = build_dcgan_generator(16, base_filters=width)
    refined = build_dcgan_generator(16, base_filters=width, refine=True)
    assert refined(np.zeros((3, 16), "float32")).shape == (3, 28, 28, 1)
    assert refined.get_layer("refine_1").output.shape[1:] == (7, 7, 2 * width)
    assert refined.get_layer("refine_2").output.shape[1:] == (14, 14, width)
    # 3x3 kernels without bias, each followed by a batch norm of 4 numbers per channel.
    extra = 9 * (2 * width) ** 2 + 4 * 2 * width + 9 * width**2 + 4 * width
    assert refined.count_params() == plain.count_params() + extra


def test_networks_and_gan_round_trip_through_keras_files(tmp_path):
    model = _small_gan()
    z = np.random.default_rng(0).standard_normal((4, 8)).astype("float32")
    images = model.generator(z, training=False)
    for network in (model.generator, model.discriminator):
        path = tmp_path / f"{network.name}.keras"
        network.save(path)
        reloaded = keras.models.load_model(path, safe_mode=True)
        inputs = z if network is model.generator else images
        np.testing.assert_allclose(reloaded(inputs), network(inputs), atol=1e-6)
    config = model.get_config()
    clone = GAN.from_config(config)
    assert clone.latent_dim == 8 and clone.data_shape == (28, 28, 1)


def test_seed_generator_gives_fresh_noise_each_step():
    model = _small_gan()
    first = keras.random.normal((2, 8), seed=model.seed_generator)
    second = keras.random.normal((2, 8), seed=model.seed_generator)
    assert not np.allclose(first, second)
    # Two models with one seed draw the same sequence: runs repeat.
    other = _small_gan()
    np.testing.assert_allclose(first, keras.random.normal((2, 8), seed=other.seed_generator))
    # And sample() without a seed differs from call to call.
    assert not np.allclose(model.sample(3), model.sample(3))
    np.testing.assert_allclose(model.sample(3, seed=1), model.sample(3, seed=1))


def test_compile_builds_both_optimizers():
    model = _small_gan()
    assert model.d_optimizer.built and model.g_optimizer.built
    assert int(model.d_optimizer.iterations) == 0
    assert len(model.d_optimizer.variables) > 1 and len(model.g_optimizer.variables) > 1


def test_seeded_micro_fit_has_finite_losses_and_alternates(tiny_digits):
    images, _ = tiny_digits
    images = images * 2 - 1
    keras.utils.set_random_seed(0)
    model = _small_gan()
    g_before = [w.copy() for w in model.generator.get_weights()]
    history = model.fit(images[:48], epochs=3, batch_size=16, verbose=0)
    assert set(history.history) == {"d_loss", "g_loss", "d_real", "d_fake"}
    for values in history.history.values():
        assert np.all(np.isfinite(values))
    # Both networks moved, each with its own optimizer (3 epochs x 3 steps).
    assert int(model.d_optimizer.iterations) == 9
    assert int(model.g_optimizer.iterations) == 9
    assert any(
        not np.allclose(a, b) for a, b in zip(g_before, model.generator.get_weights(), strict=True)
    )
    # The discriminator's loss falls: it learns to tell real from generated digits.
    assert history.history["d_loss"][-1] < history.history["d_loss"][0]


def test_the_generator_average_follows_the_formula_and_is_what_sample_draws(tiny_digits):
    images = tiny_digits[0][:32] * 2 - 1
    keras.utils.set_random_seed(0)
    model = _small_gan(ema_decay=0.9)
    assert model.sampling_generator is model.ema_generator
    before = [w.copy() for w in model.ema_generator.get_weights()]
    np.testing.assert_allclose(before[0], model.generator.get_weights()[0])  # starts equal
    model.fit(images[:16], epochs=1, batch_size=16, verbose=0)  # one generator step
    # Step t = 1: decay = min(0.9, 2 / 11), so the average moved 9/11 of the way.
    decay = min(0.9, 2 / 11)
    for average, old, new in zip(
        model.ema_generator.get_weights(), before, model.generator.get_weights(), strict=True
    ):
        np.testing.assert_allclose(average, decay * old + (1 - decay) * new, rtol=1e-5, atol=1e-6)
    model.fit(images, epochs=3, batch_size=16, verbose=0)
    assert int(model.ema_steps) == 7
    # sample() draws from the average, not from the raw generator.
    z = model._noise(4, seed=3)
    expected = (np.asarray(model.ema_generator(z, training=False)) + 1) / 2
    np.testing.assert_allclose(model.sample(4, seed=3), expected, atol=1e-6)
    raw = (np.asarray(model.generator(z, training=False)) + 1) / 2
    assert not np.allclose(model.sample(4, seed=3), raw, atol=1e-4)
    # The average is part of the weights (so checkpoints keep it) and of the config.
    assert len(model.weights) > len(_small_gan().weights)
    assert GAN.from_config(model.get_config()).ema_decay == 0.9
    with pytest.raises(
        ValueError, match=r"Expected `ema_decay` in \[0, 1\). Received: ema_decay=1"
    ):
        _small_gan(ema_decay=1)


def test_mlp_gan_learns_on_the_2d_toy():
    rng = np.random.default_rng(0)
    data = rng.normal([2.0, -1.0], 0.1, size=(512, 2)).astype("float32")
    keras.utils.set_random_seed(0)
    generator = build_mlp_generator(4, data_shape=(2,), hidden_units=(32,), output_activation=None)
    discriminator = build_mlp_discriminator(data_shape=(2,), hidden_units=(32,), dropout_rate=0.0)
    model = GAN(generator, discriminator, seed=0, value_range=None)
    model.compile(keras.optimizers.Adam(2e-3), keras.optimizers.Adam(2e-3))
    before = np.linalg.norm(model.sample(256, seed=0).mean(0) - [2.0, -1.0])
    model.fit(data, epochs=10, batch_size=64, verbose=0)
    after = np.linalg.norm(model.sample(256, seed=0).mean(0) - [2.0, -1.0])
    assert after < before


# --------------------------------------------------------------------------- bad arguments


@pytest.mark.parametrize(
    "build", [build_mlp_generator, build_dcgan_generator], ids=["mlp", "dcgan"]
)
def test_non_positive_latent_dim_is_refused(build):
    with pytest.raises(ValueError, match=r"positive integer. Received: latent_dim=0"):
        build(latent_dim=0)


def test_bad_image_shape_and_width_are_refused():
    with pytest.raises(ValueError, match=r"divisible by 4.*Received: image_shape=\(30, 30, 1\)"):
        build_dcgan_generator(image_shape=(30, 30, 1))
    with pytest.raises(ValueError, match=r"Received: base_filters=-1"):
        build_dcgan_discriminator(base_filters=-1)
    with pytest.raises(ValueError, match=r"Received: dropout_rate=1.5"):
        build_mlp_discriminator(dropout_rate=1.5)


def test_fit_refuses_wrong_shapes_and_ranges():
    model = _small_gan()
    with pytest.raises(ValueError, match=r"\(batch, 28, 28, 1\).*Received: images.shape=\(8, 32"):
        model.fit(np.zeros((8, 32, 32, 1), "float32"), epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"values in \[-1, 1\]. Received: values in \[0, 255\]"):
        model.fit(np.linspace(0, 255, 8 * 784).reshape(8, 28, 28, 1), epochs=1, verbose=0)


def test_mismatched_networks_and_bad_compile_are_refused():
    generator = build_dcgan_generator(8, base_filters=4)
    with pytest.raises(ValueError, match=r"generator output \(28, 28, 1\).*input \(2,\)"):
        GAN(generator, build_mlp_discriminator(data_shape=(2,)))
    model = GAN(generator, build_dcgan_discriminator(base_filters=4))
    optimizer = keras.optimizers.Adam()
    with pytest.raises(ValueError, match="two optimizer objects"):
        model.compile(optimizer, optimizer)
    with pytest.raises(
        ValueError, match=r"'non_saturating', 'saturating'. Received: g_loss_kind='x'"
    ):
        model.compile(keras.optimizers.Adam(), keras.optimizers.Adam(), g_loss_kind="x")
    with pytest.raises(ValueError, match=r"Received: p_data.shape=\(2,\), p_g.shape=\(3,\)"):
        optimal_discriminator([0.5, 0.5], [0.2, 0.3, 0.5])


def test_module_exports_exist():
    for name in gan_lib.__all__:
        assert hasattr(gan_lib, name)
