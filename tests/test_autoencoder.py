"""Tests of course_lib.models.autoencoder: shapes, serialisation, a micro-fit, bad arguments."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_lib.models.autoencoder import (
    Autoencoder,
    build_conv_decoder,
    build_conv_encoder,
    build_dense_decoder,
    build_dense_encoder,
)

BUILDERS = [
    (build_dense_encoder, (None, 8)),
    (build_dense_decoder, (None, 28, 28, 1)),
    (build_conv_encoder, (None, 8)),
    (build_conv_decoder, (None, 28, 28, 1)),
]


@pytest.mark.parametrize(("builder", "shape"), BUILDERS)
def test_builders_give_named_models_of_the_right_shape(builder, shape):
    model = builder(8)
    assert model.output_shape == shape
    assert model.name == builder.__name__.removeprefix("build_")


def test_dense_weight_count_matches_the_layer_sizes():
    encoder = build_dense_encoder(32, hidden_units=(64, 32))
    assert encoder.count_params() == (784 * 64 + 64) + (64 * 32 + 32) + (32 * 32 + 32)
    linear = build_dense_encoder(4, hidden_units=(), activation=None)
    assert linear.count_params() == 784 * 4 + 4


def test_conv_builders_accept_other_image_shapes():
    encoder = build_conv_encoder(5, image_shape=(32, 16, 3), filters=(8, 8, 8))
    decoder = build_conv_decoder(5, image_shape=(32, 16, 3), filters=(8, 8, 8))
    assert encoder.input_shape == (None, 32, 16, 3)
    assert decoder.output_shape == (None, 32, 16, 3)


@pytest.mark.parametrize(("builder", "_"), BUILDERS)
def test_builders_round_trip_through_keras_files(builder, _, tmp_path):
    model = builder(4)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    x = np.random.default_rng(0).uniform(size=(2, *model.input_shape[1:])).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


def _small_autoencoder(loss="mse"):
    return Autoencoder(
        build_dense_encoder(4, hidden_units=(16,)),
        build_dense_decoder(4, hidden_units=(16,)),
        loss=loss,
    )


def test_autoencoder_config_and_keras_file_round_trip(tmp_path):
    model = _small_autoencoder("bce")
    x = np.random.default_rng(1).uniform(size=(3, 28, 28, 1)).astype("float32")
    expected = model.reconstruct(x)
    config = model.get_config()
    assert config["loss"] == "bce"
    clone = Autoencoder.from_config(config)
    assert clone.latent_dim == 4 and clone.loss_name == "bce"
    path = tmp_path / "ae.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(loaded, Autoencoder)
    np.testing.assert_allclose(loaded.reconstruct(x), expected, atol=1e-6)


@pytest.mark.parametrize("loss", ["mse", "bce"])
def test_seeded_micro_fit_loss_is_finite_and_falls(loss, tiny_digits):
    images, _ = tiny_digits
    keras.utils.set_random_seed(0)
    model = _small_autoencoder(loss)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    history = model.fit(images, batch_size=16, epochs=8, verbose=0)
    assert set(history.history) == {"loss", "mse"}
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses))
    assert losses[-1] < 0.8 * losses[0]
    assert model.evaluate(images, verbose=0, return_dict=True).keys() == {"loss", "mse"}


def test_fit_on_input_target_pairs_learns_the_targets(tiny_digits):
    # A denoising set-up: inputs differ from targets; the loss is against the targets.
    images, _ = tiny_digits
    keras.utils.set_random_seed(0)
    noisy = np.clip(images + np.random.default_rng(0).normal(0, 0.3, images.shape), 0, 1)
    model = _small_autoencoder()
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    dataset = tf.data.Dataset.from_tensor_slices((noisy.astype("float32"), images)).batch(16)
    history = model.fit(dataset, epochs=6, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_conv_autoencoder_reconstructs_with_the_input_shape(tiny_digits):
    images, _ = tiny_digits
    model = Autoencoder(
        build_conv_encoder(6, filters=(4, 8)), build_conv_decoder(6, filters=(8, 4))
    )
    assert model.reconstruct(images[:5]).shape == (5, 28, 28, 1)
    assert model.encode(images[:5]).shape == (5, 6)
    assert model.decode(np.zeros((2, 6))).shape == (2, 28, 28, 1)


def test_linear_autoencoder_has_no_nonlinearity():
    model = Autoencoder(
        build_dense_encoder(3, hidden_units=(), activation=None),
        build_dense_decoder(3, hidden_units=(), activation=None, output_activation="linear"),
    )
    x = np.random.default_rng(2).uniform(size=(2, 28, 28, 1)).astype("float32")
    # Linear: the reconstruction of a + b, minus the bias path, is additive.
    zero = np.zeros((1, 28, 28, 1), "float32")
    r = model.predict(np.concatenate([x, x[:1] + x[1:], zero]), verbose=0)
    np.testing.assert_allclose(r[2] - r[3], (r[0] - r[3]) + (r[1] - r[3]), atol=1e-4)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: build_dense_encoder(0), r"`latent_dim` to be a positive integer. Received: lat"),
        (lambda: build_conv_decoder(-3), r"positive integer. Received: latent_dim=-3"),
        (lambda: build_dense_decoder(2.5), r"Received: latent_dim=2.5"),
        (lambda: build_dense_encoder(4, hidden_units=(8, 0)), r"Received: hidden_units=0"),
        (lambda: build_conv_encoder(4, image_shape=(30, 30, 1)), r"divisible by 4.*\(30, 30"),
        (lambda: build_dense_encoder(4, image_shape=(28, 28)), r"\(height, width, channels\)"),
        (lambda: build_dense_decoder(4, output_activation="tanh"), r"'sigmoid', 'linear'.*tanh"),
    ],
)
def test_bad_builder_arguments_say_what_was_expected_and_received(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_autoencoder_refuses_what_it_was_not_built_for():
    model = _small_autoencoder()
    with pytest.raises(ValueError, match=r"\(batch, 28, 28, 1\).*Received: images.shape=\(2, 32"):
        model.reconstruct(np.zeros((2, 32, 32, 1)))
    with pytest.raises(ValueError, match=r"values in \[0, 1\]. Received: values in \[0, 255\]"):
        model.encode(np.full((2, 28, 28, 1), 255.0) * np.eye(28)[None, :, :, None])
    with pytest.raises(ValueError, match=r"codes of shape \(N, 4\). Received: shape=\(2, 5\)"):
        model.decode(np.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"'mse', 'bce'. Received: loss='l1'"):
        Autoencoder(build_dense_encoder(4), build_dense_decoder(4), loss="l1")
    with pytest.raises(ValueError, match=r"codes of the encoder's shape \(4,\). Received"):
        Autoencoder(build_dense_encoder(4), build_dense_decoder(5))
