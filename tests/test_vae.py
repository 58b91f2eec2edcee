"""Tests of course_lib.models.vae: the KL and likelihood formulas, sampling, VAE and CVAE."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_lib.models.vae import (
    VAE,
    ConditionalVAE,
    Sampling,
    bernoulli_log_likelihood,
    build_decoder,
    build_encoder,
    gaussian_kl,
    gaussian_log_likelihood,
)

LATENT_DIM = 4


def small_vae(latent_dim=LATENT_DIM, num_classes=None, architecture="dense", beta=1.0, seed=0):
    keras.utils.set_random_seed(seed)
    kwargs = dict(architecture=architecture, hidden_units=(32,), num_classes=num_classes)
    if architecture == "conv":
        kwargs["filters"] = (4, 8)
    encoder = build_encoder(latent_dim, **kwargs)
    kwargs["filters"] = kwargs.get("filters", (8, 4))[::-1]
    decoder = build_decoder(latent_dim, **kwargs)
    model_class = VAE if num_classes is None else ConditionalVAE
    return model_class(encoder, decoder, beta=beta, seed=seed)


@pytest.fixture
def binary_digits(tiny_digits):
    images, labels = tiny_digits
    return (images > 0.5).astype(np.float32), labels


# --------------------------------------------------------------------------- formulas


def test_kl_of_standard_normal_to_itself_is_zero():
    kl = gaussian_kl(np.zeros((3, 5)), np.zeros((3, 5)))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(kl), np.zeros(3), atol=1e-7)


def test_kl_hand_value():
    # KL(N(1, e^1) || N(0, 1)) in one dimension = 1/2 (e + 1 - 1 - 1) = (e - 1) / 2.
    kl = keras.ops.convert_to_numpy(gaussian_kl(np.ones((1, 1)), np.ones((1, 1))))
    np.testing.assert_allclose(kl, [(np.e - 1.0) / 2.0], rtol=1e-6)


def test_closed_form_kl_matches_monte_carlo():
    rng = np.random.default_rng(0)
    z_mean = rng.normal(size=(3, 4)).astype(np.float32)
    z_log_var = rng.normal(scale=0.5, size=(3, 4)).astype(np.float32)
    closed = keras.ops.convert_to_numpy(gaussian_kl(z_mean, z_log_var))
    # E_q[log q(z) - log p(z)] estimated with 200,000 draws per example.
    std = np.exp(0.5 * z_log_var)
    eps = rng.standard_normal((200_000, 3, 4))
    z = z_mean + std * eps
    log_q = -0.5 * (eps**2 + np.log(2 * np.pi) + z_log_var)
    log_p = -0.5 * (z**2 + np.log(2 * np.pi))
    monte_carlo = (log_q - log_p).sum(axis=-1).mean(axis=0)
    np.testing.assert_allclose(closed, monte_carlo, atol=0.02)


def test_bernoulli_log_likelihood_matches_hand_computation():
    rng = np.random.default_rng(1)
    images = (rng.random((2, 28, 28, 1)) > 0.5).astype(np.float32)
    logits = rng.normal(scale=3.0, size=(2, 28, 28, 1)).astype(np.float32)
    p = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
    expected = (images * np.log(p) + (1 - images) * np.log(1 - p)).reshape(2, -1).sum(axis=1)
    got = keras.ops.convert_to_numpy(bernoulli_log_likelihood(images, logits))
    np.testing.assert_allclose(got, expected, rtol=1e-4)


def test_gaussian_log_likelihood_matches_scipy():
    from scipy.stats import norm

    rng = np.random.default_rng(2)
    images = rng.random((2, 28, 28, 1)).astype(np.float32)
    mean = rng.random((2, 28, 28, 1)).astype(np.float32)
    expected = norm.logpdf(images, loc=mean, scale=0.2).reshape(2, -1).sum(axis=1)
    got = keras.ops.convert_to_numpy(gaussian_log_likelihood(images, mean, sigma=0.2))
    np.testing.assert_allclose(got, expected, rtol=1e-4)


# --------------------------------------------------------------------------- sampling


def test_gradients_flow_through_sampling():
    sampling = Sampling(seed=0)
    z_mean = tf.Variable(np.zeros((8, 2), np.float32))
    z_log_var = tf.Variable(np.zeros((8, 2), np.float32))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(sampling([z_mean, z_log_var]))
    grad_mean, grad_log_var = tape.gradient(loss, [z_mean, z_log_var])
    # dz/dz_mean = 1 exactly; dz/dz_log_var = eps / 2, random but not zero.
    np.testing.assert_allclose(grad_mean.numpy(), np.ones((8, 2)))
    assert np.all(np.abs(grad_log_var.numpy()) > 0)


def test_sampling_draws_fresh_noise_and_repeats_with_a_seed():
    z_mean, z_log_var = np.zeros((4, 3), np.float32), np.zeros((4, 3), np.float32)
    first, second = Sampling(seed=7), Sampling(seed=7)
    a1, a2 = first([z_mean, z_log_var]).numpy(), first([z_mean, z_log_var]).numpy()
    b1 = second([z_mean, z_log_var]).numpy()
    assert not np.allclose(a1, a2), "each call must see fresh noise"
    np.testing.assert_allclose(a1, b1)  # same seed, same sequence


def test_sampling_statistics():
    sampling = Sampling(seed=3)
    z_mean = np.full((20_000, 1), 2.0, np.float32)
    z_log_var = np.full((20_000, 1), np.log(0.25), np.float32)
    z = sampling([z_mean, z_log_var]).numpy()
    assert abs(z.mean() - 2.0) < 0.02 and abs(z.std() - 0.5) < 0.02


def test_sampling_config_round_trip():
    layer = Sampling(seed=5, name="s")
    clone = Sampling.from_config(layer.get_config())
    assert clone.seed == 5 and clone.name == "s"


# --------------------------------------------------------------------------- networks and models


@pytest.mark.parametrize("architecture", ["dense", "conv"])
def test_network_shapes(architecture):
    vae = small_vae(architecture=architecture)
    z_mean, z_log_var = vae.encoder(np.zeros((5, 28, 28, 1), np.float32))
    assert z_mean.shape == (5, LATENT_DIM) and z_log_var.shape == (5, LATENT_DIM)
    assert vae.decoder(np.zeros((5, LATENT_DIM), np.float32)).shape == (5, 28, 28, 1)
    assert vae.encoder.name == "encoder" and vae.decoder.name == "decoder"
    assert vae(np.zeros((2, 28, 28, 1), np.float32)).shape == (2, 28, 28, 1)


def test_metric_names_loss_decomposition_and_micro_fit(binary_digits):
    images, _ = binary_digits
    vae = small_vae()
    vae.compile(optimizer=keras.optimizers.Adam(3e-3))
    history = vae.fit(
        images, epochs=8, batch_size=16, validation_data=(images[:16],), verbose=0, shuffle=False
    ).history
    assert set(history) == {
        "loss",
        "reconstruction_loss",
        "kl_loss",
        "val_loss",
        "val_reconstruction_loss",
        "val_kl_loss",
    }
    losses = np.array(history["loss"])
    assert np.all(np.isfinite(losses))
    assert losses[-1] < 0.8 * losses[0], f"the loss should fall: {losses}"
    # beta = 1: loss = reconstruction + KL, the negative ELBO.
    np.testing.assert_allclose(
        losses, np.add(history["reconstruction_loss"], history["kl_loss"]), rtol=1e-4
    )


def test_beta_weights_the_kl_term(binary_digits):
    images, _ = binary_digits
    vae = small_vae(beta=4.0)
    vae.compile(optimizer="adam")
    logs = vae.evaluate(images, batch_size=64, verbose=0, return_dict=True)
    np.testing.assert_allclose(
        logs["loss"], logs["reconstruction_loss"] + 4.0 * logs["kl_loss"], rtol=1e-4
    )


def test_elbo_is_below_iwae_bound_on_a_trained_model(binary_digits):
    images, _ = binary_digits
    vae = small_vae()
    vae.compile(optimizer=keras.optimizers.Adam(3e-3))
    vae.fit(images, epochs=5, batch_size=16, verbose=0)
    bounds = vae.evaluate_bounds(images[:32], num_samples=32)
    assert bounds["elbo"].shape == bounds["iwae"].shape == (32,)
    assert np.all(bounds["iwae"] >= bounds["elbo"] - 1e-3)  # Jensen, sample by sample
    single = vae.evaluate_bounds(images[:32], num_samples=1, seed=1)
    np.testing.assert_allclose(single["elbo"], single["iwae"], rtol=1e-5)  # k = 1: the same
    assert bounds["iwae"].mean() > single["elbo"].mean()


def test_conditional_vae_output_depends_on_label(binary_digits):
    images, labels = binary_digits
    cvae = small_vae(num_classes=10)
    cvae.compile(optimizer=keras.optimizers.Adam(3e-3))
    history = cvae.fit(images, labels, epochs=3, batch_size=16, verbose=0).history
    assert np.all(np.isfinite(history["loss"]))
    z = np.zeros((1, LATENT_DIM), np.float32)
    zero, one = cvae.decode(z, labels=[0]), cvae.decode(z, labels=[1])
    assert np.abs(zero - one).max() > 1e-3
    means_0, _ = cvae.encode(images[:4], labels=np.zeros(4, int))
    means_1, _ = cvae.encode(images[:4], labels=np.ones(4, int))
    assert np.abs(means_0 - means_1).max() > 1e-4
    assert cvae.sample(6, labels=3).shape == (6, 28, 28, 1)
    bounds = cvae.evaluate_bounds(images[:4], labels[:4], num_samples=3)
    assert np.all(bounds["iwae"] >= bounds["elbo"] - 1e-3)
    assert cvae([images[:2], labels[:2]]).shape == (2, 28, 28, 1)


@pytest.mark.parametrize("num_classes", [None, 10])
def test_keras_file_round_trip(tmp_path, binary_digits, num_classes):
    images, labels = binary_digits
    model = small_vae(num_classes=num_classes, architecture="conv")
    model.compile(optimizer="adam")
    y = None if num_classes is None else labels
    model.fit(images[:32], None if y is None else y[:32], epochs=1, batch_size=16, verbose=0)
    path = tmp_path / "vae.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    assert type(loaded) is type(model)
    assert loaded.beta == model.beta and loaded.latent_dim == LATENT_DIM
    z = np.random.default_rng(0).normal(size=(3, LATENT_DIM)).astype(np.float32)
    lab = None if y is None else y[:3]
    np.testing.assert_allclose(loaded.decode(z, lab), model.decode(z, lab), atol=1e-6)
    np.testing.assert_allclose(
        loaded.encode(images[:3], lab)[0], model.encode(images[:3], lab)[0], atol=1e-6
    )


def test_config_round_trip():
    vae = small_vae(beta=0.5)
    clone = VAE.from_config(vae.get_config())
    assert clone.beta == 0.5 and clone.likelihood == "bernoulli"
    assert clone.encoder.count_params() == vae.encoder.count_params()


# --------------------------------------------------------------------------- bad arguments


def test_non_positive_latent_dim_is_refused():
    with pytest.raises(ValueError, match=r"positive integer\. Received: latent_dim=0"):
        build_encoder(0)
    with pytest.raises(ValueError, match=r"Received: latent_dim=-2"):
        build_decoder(-2)


def test_wrong_image_shape_is_refused():
    vae = small_vae()
    with pytest.raises(ValueError, match=r"\(batch, 28, 28, 1\).*Received: images.shape"):
        vae.encode(np.zeros((2, 32, 32, 1), np.float32))
    with pytest.raises(ValueError, match=r"Received: images.shape=\(2, 28, 28, 3\)"):
        vae.evaluate_bounds(np.zeros((2, 28, 28, 3), np.float32))


def test_pixels_outside_unit_range_are_refused():
    vae = small_vae()
    with pytest.raises(ValueError, match=r"values in \[0, 1\]\. Received: values in \[0, 255\]"):
        images = np.zeros((2, 28, 28, 1), np.float32)
        images[0, 0, 0, 0] = 255.0
        vae.evaluate_bounds(images)


def test_fitting_on_pixels_outside_unit_range_is_refused(binary_digits):
    images = binary_digits[0][:16]
    vae = small_vae()
    vae.compile(optimizer="adam")
    # NumPy arrays are checked before training starts: 0-255 pixels, a tanh range.
    with pytest.raises(ValueError, match=r"Expected `x` with values in \[0, 1\]\. Received: .*255"):
        vae.fit(images * 255.0, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"`validation_data` with values in \[0, 1\]"):
        vae.fit(images, validation_data=(images * 2 - 1,), epochs=1, verbose=0)
    # A tf.data pipeline is checked inside the training step.
    batches = tf.data.Dataset.from_tensor_slices(images * 255.0).batch(8)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"values in \[0, 1\]"):
        vae.fit(batches, epochs=1, verbose=0)
    # Images in range still train.
    history = vae.fit(images, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_other_bad_arguments():
    encoder, decoder = (
        build_encoder(2, architecture="dense"),
        build_decoder(3, architecture="dense"),
    )
    with pytest.raises(ValueError, match="latent sizes to agree"):
        VAE(encoder, decoder)
    decoder = build_decoder(2, architecture="dense")
    with pytest.raises(ValueError, match=r"beta.*Received: beta=-1"):
        VAE(encoder, decoder, beta=-1.0)
    with pytest.raises(ValueError, match=r"likelihood.*Received: likelihood='poisson'"):
        VAE(encoder, decoder, likelihood="poisson")
    with pytest.raises(ValueError, match="architecture"):
        build_encoder(2, architecture="transformer")
    with pytest.raises(ValueError, match=r"z of shape|`z` of shape"):
        VAE(encoder, decoder).decode(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="two inputs each"):
        ConditionalVAE(encoder, decoder)
    with pytest.raises(ValueError, match=r"num_samples=0"):
        VAE(encoder, decoder).evaluate_bounds(np.zeros((1, 28, 28, 1)), num_samples=0)
    cvae = small_vae(latent_dim=2, num_classes=10)
    with pytest.raises(ValueError, match=r"labels` in \[0, 9\]\. Received: values in \[10, 10\]"):
        cvae.decode(np.zeros((1, 2)), labels=[10])
    with pytest.raises(ValueError, match="Expected `labels`.*Received: labels=None"):
        cvae.decode(np.zeros((1, 2)))


@pytest.mark.parametrize(
    "filters, image_shape",
    [((16,), (28, 28, 1)), ((16, 32), (28, 28, 1)), ((8, 16, 32), (32, 32, 1)), ((8,), (6, 10, 3))],
)
def test_decoder_output_is_the_encoder_input_for_every_filters_length(filters, image_shape):
    encoder = build_encoder(2, image_shape=image_shape, filters=filters)
    decoder = build_decoder(2, image_shape=image_shape, filters=filters[::-1])
    assert decoder.output_shape[1:] == encoder.input_shape[1:] == image_shape


def test_filters_the_image_cannot_be_halved_for_are_refused():
    with pytest.raises(ValueError, match=r"divisible by 8.*image_shape=\(28, 28, 1\)"):
        build_decoder(2, filters=(64, 32, 16))
    with pytest.raises(ValueError, match=r"divisible by 8.*image_shape=\(28, 28, 1\)"):
        build_encoder(2, filters=(16, 32, 64))


def test_conditional_vae_reads_num_classes_from_the_named_label_layer():
    encoder = build_encoder(2, num_classes=7, filters=(4, 8))
    decoder = build_decoder(2, num_classes=7, filters=(8, 4))
    assert ConditionalVAE(encoder, decoder).num_classes == 7
    assert decoder.get_layer("label_one_hot").num_tokens == 7
