"""The sampling contract every generative family honours (course_lib.models._base).

`sample(num_samples, *, labels=None, seed=None)` returns images of the model's shape
with pixels in [0, 1]; `seed=None` gives fresh samples on every call, an int the same
samples; a conditional model checks its labels and an unconditional one refuses them.
"""

import keras
import numpy as np
import pytest

from course_lib.models._base import GenerativeModel, batched_call, to_unit_interval, unpack_batch
from course_lib.models.autoencoder import build_dense_decoder
from course_lib.models.autoregressive import AutoregressiveImageModel, build_row_rnn
from course_lib.models.conditional_gan import (
    ConditionalGAN,
    build_conditional_discriminator,
    build_conditional_generator,
)
from course_lib.models.diffusion import LatentDiffusion, build_mlp_denoiser
from course_lib.models.gan import GAN, build_dcgan_discriminator, build_dcgan_generator
from course_lib.models.vae import VAE, ConditionalVAE, build_decoder, build_encoder
from course_lib.models.wgan_gp import WGANGP, build_critic


def _vae():
    return VAE(build_encoder(2, filters=(4, 8)), build_decoder(2, filters=(8, 4)), seed=0)


def _cvae():
    encoder = build_encoder(2, num_classes=10, filters=(4, 8))
    decoder = build_decoder(2, num_classes=10, filters=(8, 4))
    return ConditionalVAE(encoder, decoder, seed=0)


def _gan():
    return GAN(build_dcgan_generator(8, base_filters=4), build_dcgan_discriminator(base_filters=4))


def _cgan():
    generator = build_conditional_generator(8, num_classes=10, base_filters=4, embedding_dim=2)
    return ConditionalGAN(generator, build_conditional_discriminator(10, base_filters=4))


def _wgan():
    return WGANGP(build_dcgan_generator(8, base_filters=4), build_critic(base_filters=4))


def _autoregressive():
    return AutoregressiveImageModel(build_row_rnn(units=4, num_layers=1, head_units=4), seed=0)


def _conditional_autoregressive():
    network = build_row_rnn(units=4, num_layers=1, head_units=4, num_classes=10, embedding_dim=2)
    return AutoregressiveImageModel(network, seed=0)


def _latent_diffusion(num_classes=None):
    # A tiny denoiser on 4-D codes and a tiny dense decoder; the cosine schedule keeps an
    # untrained network's samples bounded at so few steps (see tests/test_diffusion.py).
    denoiser = build_mlp_denoiser(
        4, num_classes=num_classes, hidden_units=(8,), time_embedding_dim=4
    )
    decoder = build_dense_decoder(4, hidden_units=(8,))
    return LatentDiffusion(
        denoiser, decoder, np.zeros(4), np.ones(4), num_timesteps=10, schedule="cosine", seed=0
    )


def _conditional_latent_diffusion():
    return _latent_diffusion(num_classes=10)


FAMILIES = {
    "vae": (_vae, False),
    "conditional_vae": (_cvae, True),
    "gan": (_gan, False),
    "conditional_gan": (_cgan, True),
    "wgan_gp": (_wgan, False),
    "autoregressive": (_autoregressive, False),
    "conditional_autoregressive": (_conditional_autoregressive, True),
    "latent_diffusion": (_latent_diffusion, False),
    "conditional_latent_diffusion": (_conditional_latent_diffusion, True),
}


@pytest.fixture(scope="module", params=sorted(FAMILIES))
def family(request):
    keras.utils.set_random_seed(0)
    build, conditional = FAMILIES[request.param]
    return request.param, build(), conditional


def test_every_family_is_a_generative_model(family):
    _, model, conditional = family
    assert isinstance(model, GenerativeModel)
    assert (model.num_classes is not None) == conditional


def test_samples_have_the_image_shape_and_lie_in_the_unit_interval(family):
    _, model, _ = family
    samples = model.sample(5, seed=0)
    assert samples.shape == (5, 28, 28, 1)
    assert samples.dtype == np.float32
    assert samples.min() >= 0.0 and samples.max() <= 1.0


def test_an_int_seed_repeats_and_none_draws_fresh_samples(family):
    _, model, _ = family
    np.testing.assert_array_equal(model.sample(4, seed=3), model.sample(4, seed=3))
    assert not np.array_equal(model.sample(4, seed=3), model.sample(4, seed=4))
    assert not np.array_equal(model.sample(4), model.sample(4))


def test_labels_are_checked(family):
    _, model, conditional = family
    if not conditional:
        with pytest.raises(ValueError, match=r"Expected no `labels`.*unconditional"):
            model.sample(2, labels=[0, 1])
        return
    with pytest.raises(ValueError, match=r"`labels` in \[0, 9\]\. Received: values in \[0, 10\]"):
        model.sample(2, labels=[0, 10])
    with pytest.raises(ValueError, match=r"Expected 2 `labels`, one per item\. Received: 3"):
        model.sample(2, labels=[0, 1, 2])
    with pytest.raises(ValueError, match=r"1-D array of integers.*float"):
        model.sample(2, labels=[0.5, 1.0])


def test_a_conditional_model_asks_for_the_labels_it_is_given(family):
    name, model, conditional = family
    if not conditional:
        pytest.skip("unconditional")
    # The same noise with one label per row: the label must change the image.
    sevens = model.sample(3, labels=7, seed=1)
    ones = model.sample(3, labels=[1, 1, 1], seed=1)
    assert not np.array_equal(sevens, ones), name
    # Without labels, the classes in turn; the first image is that of class 0.
    balanced = model.sample(3, seed=1)
    # (A batch of another size may differ in the last bit of a float: compare to 1e-6.)
    np.testing.assert_allclose(balanced[:1], model.sample(1, labels=[0], seed=1), atol=1e-6)


def test_bad_counts_and_seeds_are_refused(family):
    _, model, _ = family
    with pytest.raises(ValueError, match=r"`num_samples` to be a positive integer.*=0"):
        model.sample(0)
    with pytest.raises(ValueError, match=r"seed"):
        model.sample(1, seed="a")


def test_gan_samples_are_the_generator_output_mapped_from_minus_one_one():
    model = _gan()
    z = np.random.default_rng(5).standard_normal((3, 8)).astype("float32")
    raw = keras.ops.convert_to_numpy(model.generator(z, training=False))
    np.testing.assert_array_equal(model.sample(3, seed=5), (raw + 1) / 2)


def test_vae_samples_are_decoded_prior_draws():
    model = _vae()
    z = np.random.default_rng(2).standard_normal((3, 2)).astype("float32")
    np.testing.assert_array_equal(model.sample(3, seed=2), model.decode(z))


def test_unpack_batch_forms():
    assert unpack_batch("x") == ("x", None)
    assert unpack_batch(("x",)) == ("x", None)
    assert unpack_batch(("x", "y")) == ("x", "y")
    assert unpack_batch(("x", "y", "w")) == ("x", "y")


def test_batched_call_matches_one_call_and_keeps_empty_shapes():
    layer = keras.layers.Dense(3)
    x = np.random.default_rng(0).standard_normal((7, 2)).astype("float32")
    whole = keras.ops.convert_to_numpy(layer(x))
    np.testing.assert_allclose(batched_call(layer, x, batch_size=3), whole, rtol=1e-6)
    assert batched_call(layer, x[:0], batch_size=3).shape == (0, 3)
    with pytest.raises(ValueError, match="batch_size"):
        batched_call(layer, x, batch_size=0)


def test_to_unit_interval_maps_and_clips():
    np.testing.assert_allclose(to_unit_interval([-1.0, 0.0, 1.0, 3.0], (-1, 1)), [0, 0.5, 1, 1])
    np.testing.assert_allclose(to_unit_interval([0.2, 0.7], (0, 1)), [0.2, 0.7])
