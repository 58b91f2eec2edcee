"""Variational autoencoders: the sampling layer, the ELBO's two terms, VAE, CVAE, IWAE.

Taught in notebook 03 (variational autoencoders) and notebook 04 (conditional
and beta-VAEs). The mathematics lives there; this module is the code the
notebooks import.

- `Sampling`: the reparameterization trick, `z = z_mean + exp(z_log_var / 2) * eps`,
  with noise from a `keras.random.SeedGenerator` (fresh noise on every call).
- `gaussian_kl`: KL(N(z_mean, diag exp(z_log_var)) || N(0, I)) in closed form.
- `bernoulli_log_likelihood` / `gaussian_log_likelihood`: log p(x | z) per image.
- `build_encoder` / `build_decoder`: named functional networks, optionally
  conditioned on a class label.
- `VAE`: the thin `keras.Model` whose `train_step` minimises
  `reconstruction_loss + beta * kl_loss`; `ConditionalVAE` feeds the label to both
  networks. `VAE.evaluate_bounds` gives the ELBO and the importance-weighted
  (IWAE) bound in nats.

Example:
    >>> encoder = build_encoder(latent_dim=2)
    >>> decoder = build_decoder(latent_dim=2)
    >>> vae = VAE(encoder, decoder, seed=0)
    >>> vae.compile(optimizer="adam")
    >>> images = np.zeros((8, 28, 28, 1), "float32")  # binarised pixels, 0 or 1
    >>> history = vae.fit(images, epochs=1, batch_size=4, verbose=0)
    >>> bounds = vae.evaluate_bounds(images, num_samples=10)
    >>> bounds["elbo"].shape, bool((bounds["iwae"] >= bounds["elbo"] - 1e-3).all())
    ((8,), True)
    >>> vae.sample(3, seed=0).shape  # pixel probabilities in [0, 1]
    (3, 28, 28, 1)
"""

from __future__ import annotations

import math
import numbers

import keras
import numpy as np
from keras import ops

from course_lib import distribute
from course_lib._checks import (
    check_choice,
    check_image_shape,
    check_image_shape_arg,
    check_positive_int,
    check_units,
    check_value_range,
)
from course_lib.models._base import GenerativeModel, batched_call, unpack_batch

__all__ = [
    "LIKELIHOODS",
    "VAE",
    "ConditionalVAE",
    "Sampling",
    "bernoulli_log_likelihood",
    "build_decoder",
    "build_encoder",
    "gaussian_kl",
    "gaussian_log_likelihood",
]

LIKELIHOODS = ("bernoulli", "gaussian")
ARCHITECTURES = ("conv", "dense")
_LOG_2PI = math.log(2.0 * math.pi)


# --------------------------------------------------------------------------- the two terms


def gaussian_kl(z_mean, z_log_var):
    """KL(N(z_mean, diag(exp(z_log_var))) || N(0, I)) per example, in nats.

    The closed form derived in notebook 03, section "The KL term in closed
    form": `-1/2 * sum(1 + z_log_var - z_mean**2 - exp(z_log_var))`.

    Args:
        z_mean: `(batch, latent_dim)` means of q(z | x).
        z_log_var: `(batch, latent_dim)` log-variances of q(z | x).

    Returns:
        A tensor `(batch,)`: one KL per example, summed over latent dimensions.

    Example:
        >>> kl = gaussian_kl(np.array([[1.0, 1.0]]), np.zeros((1, 2)))  # means 1, variances 1
        >>> round(float(kl[0]), 4)  # each dimension adds z_mean**2 / 2
        1.0
    """
    z_mean = ops.convert_to_tensor(z_mean, dtype="float32")
    z_log_var = ops.convert_to_tensor(z_log_var, dtype="float32")
    return -0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)


def _flatten(x):
    return ops.reshape(x, (ops.shape(x)[0], -1))


def bernoulli_log_likelihood(images, logits):
    """log p(x | z) of binary pixels under independent Bernoullis, summed per image (nats).

    Why logits: `-softplus(-l)` and `-softplus(l)` are log sigmoid(l) and
    log(1 - sigmoid(l)) without the overflow of taking sigmoid first.

    Args:
        images: `(batch, H, W, C)` with values in {0, 1} (or [0, 1]).
        logits: the decoder's logits, same shape.

    Returns:
        A tensor `(batch,)`.
    """
    x = _flatten(ops.convert_to_tensor(images, dtype="float32"))
    logits = _flatten(ops.convert_to_tensor(logits, dtype="float32"))
    return -ops.sum(ops.softplus(-logits) * x + ops.softplus(logits) * (1.0 - x), axis=-1)


def gaussian_log_likelihood(images, mean, sigma: float = 0.1):
    """log N(x; mean, sigma^2 I) summed per image (nats): the continuous option.

    Its negative is `sum((x - mean)^2) / (2 sigma^2)` plus a constant, so a
    Gaussian decoder is the mean squared error of notebook 01 with a weight
    `1 / (2 sigma^2)`; a smaller `sigma` weighs reconstruction more against the
    KL term, like a smaller beta. It is a density, not a probability: its values
    are not comparable with the Bernoulli nats of binarised images.

    Args:
        images: `(batch, H, W, C)` real pixels.
        mean: the decoder's means, same shape.
        sigma: the fixed standard deviation of every pixel.

    Returns:
        A tensor `(batch,)`.
    """
    x = _flatten(ops.convert_to_tensor(images, dtype="float32"))
    mean = _flatten(ops.convert_to_tensor(mean, dtype="float32"))
    num_pixels = ops.cast(ops.shape(x)[1], "float32")
    squared = ops.sum(ops.square(x - mean), axis=-1)
    return -0.5 * squared / sigma**2 - 0.5 * num_pixels * (_LOG_2PI + 2.0 * math.log(sigma))


# --------------------------------------------------------------------------- sampling


@keras.saving.register_keras_serializable(package="course_lib")
class Sampling(keras.layers.Layer):
    """Draw `z ~ N(z_mean, diag(exp(z_log_var)))` by the reparameterization trick.

    `z = z_mean + exp(z_log_var / 2) * eps` with `eps ~ N(0, I)`: the noise
    enters from outside, so gradients reach `z_mean` and `z_log_var`
    (notebook 03, section "The reparameterization trick"). The noise comes from
    the layer's own `SeedGenerator`, whose state advances on every call: each
    step sees fresh noise, yet a seeded run repeats exactly. Under a
    `tf.distribute` strategy each replica draws its own noise
    (`course_lib.distribute.ReplicaSeedGenerator`).

    Args:
        seed: an int seed for the layer's `SeedGenerator`, or None.

    Call arguments:
        inputs: a list `[z_mean, z_log_var]`, each `(batch, latent_dim)`.

    Returns:
        `z`, `(batch, latent_dim)`.

    Example:
        >>> sampling = Sampling(seed=0)
        >>> z = sampling([np.zeros((3, 2)), np.zeros((3, 2))])
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = distribute.ReplicaSeedGenerator(seed)
        # No weights, nothing to build. Saying so keeps `fit` under a strategy from
        # building the model by calling it on images alone (a ConditionalVAE needs labels).
        self.built = True

    def call(self, inputs):
        z_mean, z_log_var = inputs
        epsilon = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        config = super().get_config()
        config.update({"seed": self.seed})
        return config


# --------------------------------------------------------------------------- networks


def _check_common(latent_dim, image_shape, num_classes, architecture, filters, hidden_units):
    """The builders' shared argument checks; returns the checked values."""
    latent_dim = check_positive_int(latent_dim, "latent_dim")
    check_choice(architecture, "architecture", ARCHITECTURES)
    filters = check_units(filters, "filters")
    # Each stride-2 layer halves the image (the decoder doubles it back), so the
    # conv networks land on the image's size only if it divides by 2**len(filters).
    divisible_by = 2 ** len(filters) if architecture == "conv" else 1
    image_shape = check_image_shape_arg(image_shape, divisible_by=divisible_by)
    if num_classes is not None:
        num_classes = check_positive_int(num_classes, "num_classes")
    if hidden_units is None:
        hidden_units = (512, 256) if architecture == "dense" else (256,)
    hidden_units = check_units(hidden_units, "hidden_units")
    if not hidden_units:
        raise ValueError("Expected at least one entry in `hidden_units`. Received: hidden_units=()")
    return latent_dim, image_shape, num_classes, filters, hidden_units


def _one_hot_labels(num_classes):
    """The label input and its one-hot encoding (named, so a model can find `num_classes`)."""
    labels = keras.Input(shape=(), dtype="int32", name="labels")
    one_hot = keras.layers.CategoryEncoding(
        num_classes, output_mode="one_hot", name="label_one_hot"
    )(labels)
    return labels, one_hot


def build_encoder(
    latent_dim: int,
    *,
    image_shape=(28, 28, 1),
    num_classes: int | None = None,
    architecture: str = "conv",
    filters=(32, 64),
    hidden_units=None,
    name: str = "encoder",
) -> keras.Model:
    """The encoder q(z | x) (or q(z | x, y)): images to `[z_mean, z_log_var]`.

    Taught in notebook 03, section 3 (and notebook 04, section 1, for the label).

    Args:
        latent_dim: the size of z.
        image_shape: the shape of one image; with the conv architecture, height
            and width divisible by `2 ** len(filters)`.
        num_classes: when given, a second input takes int labels `(batch,)`,
            one-hot encoded and joined to the image features before the last
            dense layer (conditional VAE).
        architecture: `"conv"` (stride-2 3x3 convolutions, then dense layers)
            or `"dense"` (dense layers only).
        filters: the convolutions' filter counts, one stride-2 layer each (conv only).
        hidden_units: the widths of the dense layers; None gives `(256,)` for
            conv and `(512, 256)` for dense.
        name: the model's name.

    Returns:
        A functional `keras.Model` named `name` with outputs `[z_mean, z_log_var]`.

    Raises:
        ValueError: a non-positive `latent_dim` or `num_classes`, an unknown
            `architecture`, bad `filters` or `hidden_units`, or an `image_shape`
            that the convolutions cannot halve `len(filters)` times.

    Example:
        >>> build_encoder(2, filters=(16, 32, 64), image_shape=(32, 32, 1)).output_shape
        [(None, 2), (None, 2)]
    """
    latent_dim, image_shape, num_classes, filters, hidden_units = _check_common(
        latent_dim, image_shape, num_classes, architecture, filters, hidden_units
    )
    images = keras.Input(shape=image_shape, name="images")
    inputs = [images]
    x = images
    if architecture == "conv":
        for index, count in enumerate(filters):
            x = keras.layers.Conv2D(
                count, 3, strides=2, padding="same", activation="relu", name=f"conv_{index + 1}"
            )(x)
    x = keras.layers.Flatten(name="flatten")(x)
    for index, units in enumerate(hidden_units[:-1]):
        x = keras.layers.Dense(units, activation="relu", name=f"hidden_{index + 1}")(x)
    if num_classes is not None:
        labels, one_hot = _one_hot_labels(num_classes)
        inputs.append(labels)
        x = keras.layers.Concatenate(name="join_label")([x, one_hot])
    x = keras.layers.Dense(hidden_units[-1], activation="relu", name=f"hidden_{len(hidden_units)}")(
        x
    )
    z_mean = keras.layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = keras.layers.Dense(latent_dim, name="z_log_var")(x)
    return keras.Model(inputs if num_classes else images, [z_mean, z_log_var], name=name)


def build_decoder(
    latent_dim: int,
    *,
    image_shape=(28, 28, 1),
    num_classes: int | None = None,
    architecture: str = "conv",
    filters=(64, 32),
    hidden_units=None,
    name: str = "decoder",
) -> keras.Model:
    """The decoder p(x | z) (or p(x | z, y)): codes to per-pixel logits.

    The output is logits, not probabilities: the Bernoulli log-likelihood is
    computed from logits for numerical stability, and `sigmoid(logits)` gives
    the pixel probabilities (or the Gaussian means). Taught in notebook 03,
    section 3.

    Args:
        latent_dim: the size of z.
        image_shape: the shape of the images to produce; with the conv
            architecture, height and width divisible by `2 ** len(filters)`.
        num_classes: when given, a second input takes int labels `(batch,)`,
            one-hot encoded and joined to z.
        architecture: `"conv"` (dense layers, a projection to the smallest grid,
            then one stride-2 transposed convolution per entry of `filters`) or
            `"dense"` (dense layers only).
        filters: the transposed convolutions' filter counts (conv only).
        hidden_units: the widths of the dense layers; None gives `(256,)` for
            conv and `(256, 512)` for dense.
        name: the model's name.

    Returns:
        A functional `keras.Model` named `name` mapping `z` (and labels) to
        logits of shape `(batch, *image_shape)`.

    Raises:
        ValueError: as `build_encoder`.

    Example:
        >>> build_decoder(2, filters=(64, 32, 16), image_shape=(32, 32, 1)).output_shape
        (None, 32, 32, 1)
    """
    if hidden_units is None and architecture == "dense":
        hidden_units = (256, 512)
    latent_dim, image_shape, num_classes, filters, hidden_units = _check_common(
        latent_dim, image_shape, num_classes, architecture, filters, hidden_units
    )
    z = keras.Input(shape=(latent_dim,), name="z")
    inputs = [z]
    x = z
    if num_classes is not None:
        labels, one_hot = _one_hot_labels(num_classes)
        inputs.append(labels)
        x = keras.layers.Concatenate(name="join_label")([z, one_hot])
    for index, units in enumerate(hidden_units):
        x = keras.layers.Dense(units, activation="relu", name=f"hidden_{index + 1}")(x)
    height, width, channels = image_shape
    if architecture == "conv":
        factor = 2 ** len(filters)
        smallest = (height // factor, width // factor, filters[0] if filters else channels)
        x = keras.layers.Dense(int(np.prod(smallest)), activation="relu", name="project")(x)
        x = keras.layers.Reshape(smallest, name="reshape")(x)
        for index, count in enumerate(filters):
            x = keras.layers.Conv2DTranspose(
                count,
                3,
                strides=2,
                padding="same",
                activation="relu",
                name=f"upsample_{index + 1}",
            )(x)
        logits = keras.layers.Conv2D(channels, 3, padding="same", name="logits")(x)
    else:
        x = keras.layers.Dense(int(np.prod(image_shape)), name="pixel_logits")(x)
        logits = keras.layers.Reshape(image_shape, name="logits")(x)
    return keras.Model(inputs if num_classes else z, logits, name=name)


# --------------------------------------------------------------------------- the models


def _assert_unit_range(images):
    """`images`, once checked: a batch with pixels outside [0, 1] stops training with a message.

    The returned tensor depends on the check, so no update runs before it.
    """
    import tensorflow as tf

    images = tf.convert_to_tensor(images)
    low, high = tf.reduce_min(images), tf.reduce_max(images)
    check = tf.debugging.Assert(
        tf.logical_and(low >= -1e-6, high <= 1.0 + 1e-6),
        ["Expected `images` with values in [0, 1]. Received: values in [min, max] =", low, high],
    )
    with tf.control_dependencies([check]):
        return tf.identity(images)


@keras.saving.register_keras_serializable(package="course_lib")
class VAE(GenerativeModel):
    """A variational autoencoder trained by maximising the ELBO (notebook 03).

    The loss per image is `reconstruction_loss + beta * kl_loss`, where
    `reconstruction_loss = -log p(x | z)` for one `z` drawn from q(z | x) by the
    reparameterization trick and `kl_loss = KL(q(z | x) || N(0, I))` in closed
    form. With `beta = 1` the loss is the negative ELBO in nats per image;
    `beta != 1` gives the beta-VAE of notebook 04.

    Train with `vae.fit(images, ...)`; `validation_data=images` reports the
    same three numbers on held-out images (`val_loss`, ...). `sample` decodes
    codes drawn from the prior N(0, I) and returns pixel probabilities in [0, 1].

    Args:
        encoder: a model from `build_encoder` (outputs `[z_mean, z_log_var]`).
        decoder: a model from `build_decoder` (outputs logits).
        beta: the weight of the KL term (>= 0).
        likelihood: `"bernoulli"` for binarised pixels (logits) or
            `"gaussian"` (means `sigmoid(logits)`, fixed `sigma`).
        sigma: the Gaussian likelihood's standard deviation.
        seed: seed of the sampling layer's `SeedGenerator`.

    Raises:
        ValueError: a negative `beta`, an unknown `likelihood`, a non-positive
            `sigma`, or an encoder and decoder whose latent sizes disagree.
    """

    def __init__(
        self,
        encoder,
        decoder,
        beta: float = 1.0,
        likelihood: str = "bernoulli",
        sigma: float = 0.1,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_choice(likelihood, "likelihood", LIKELIHOODS)
        if not (isinstance(beta, numbers.Real) and math.isfinite(beta) and beta >= 0):
            raise ValueError(f"Expected `beta` to be a number >= 0. Received: beta={beta!r}")
        if not (isinstance(sigma, numbers.Real) and math.isfinite(sigma) and sigma > 0):
            raise ValueError(f"Expected `sigma` to be a number > 0. Received: sigma={sigma!r}")
        encoder_latent = encoder.outputs[0].shape[-1]
        decoder_latent = decoder.inputs[0].shape[-1]
        if encoder_latent != decoder_latent:
            raise ValueError(
                "Expected the encoder's and the decoder's latent sizes to agree. "
                f"Received: encoder latent_dim={encoder_latent}, "
                f"decoder latent_dim={decoder_latent}"
            )
        self.encoder = encoder
        self.decoder = decoder
        self.beta = float(beta)
        self.likelihood = likelihood
        self.sigma = float(sigma)
        self.seed = seed
        self.latent_dim = int(encoder_latent)
        self.image_shape = tuple(int(v) for v in encoder.inputs[0].shape[1:])
        self.sampling = Sampling(seed=seed, name="sampling")
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")
        # The networks are built already; saying so lets `save` run before `fit`.
        self.built = True

    @property
    def metrics(self):
        # Listed here so fit() and evaluate() reset them at each epoch.
        return [self.loss_tracker, self.reconstruction_loss_tracker, self.kl_loss_tracker]

    @property
    def seed_generator(self):
        # One noise source for the model: sample(seed=None) draws from it too.
        return self.sampling.seed_generator

    # -- the networks, with or without a label (ConditionalVAE overrides these two)
    def _encode(self, images, labels=None, training=False):
        return self.encoder(images, training=training)

    def _decode(self, z, labels=None, training=False):
        return self.decoder(z, training=training)

    def _log_likelihood(self, images, logits):
        if self.likelihood == "bernoulli":
            return bernoulli_log_likelihood(images, logits)
        return gaussian_log_likelihood(images, ops.sigmoid(logits), self.sigma)

    def _loss_terms(self, images, labels=None, training=False):
        """Per-example -log p(x | z) and KL for one reparameterized sample."""
        images = _assert_unit_range(images)
        z_mean, z_log_var = self._encode(images, labels, training=training)
        z = self.sampling([z_mean, z_log_var])
        logits = self._decode(z, labels, training=training)
        reconstruction_loss = -self._log_likelihood(images, logits)
        kl_loss = gaussian_kl(z_mean, z_log_var)
        return reconstruction_loss, kl_loss

    def _update_trackers(self, reconstruction_loss, kl_loss):
        loss = ops.mean(reconstruction_loss + self.beta * kl_loss)
        self.loss_tracker.update_state(loss)
        self.reconstruction_loss_tracker.update_state(ops.mean(reconstruction_loss))
        self.kl_loss_tracker.update_state(ops.mean(kl_loss))
        return loss

    def train_step(self, data):
        import tensorflow as tf  # the GradientTape; this class targets the TF backend

        images, labels = unpack_batch(data)
        with tf.GradientTape() as tape:
            reconstruction_loss, kl_loss = self._loss_terms(images, labels, training=True)
            # The beta-weighted loss, averaged over the batch: the negative ELBO when beta = 1.
            loss = ops.mean(reconstruction_loss + self.beta * kl_loss)
            # Under a strategy: this replica's share of the global-batch loss (see distribute).
            share = distribute.scale_loss_for_replicas(loss)
        gradients = tape.gradient(share, self.trainable_weights)
        self.optimizer.apply(gradients, self.trainable_weights)
        self._update_trackers(reconstruction_loss, kl_loss)
        return distribute.logs_for_fit({m.name: m.result() for m in self.metrics})

    def test_step(self, data):
        images, labels = unpack_batch(data)
        reconstruction_loss, kl_loss = self._loss_terms(images, labels, training=False)
        self._update_trackers(reconstruction_loss, kl_loss)
        return distribute.logs_for_fit({m.name: m.result() for m in self.metrics})

    def call(self, inputs, training=False):
        """Reconstruct: encode, sample z, decode; returns pixel probabilities (or means)."""
        images, labels = unpack_batch(inputs)
        z_mean, z_log_var = self._encode(images, labels, training=training)
        z = self.sampling([z_mean, z_log_var])
        return ops.sigmoid(self._decode(z, labels, training=training))

    def fit(self, x=None, y=None, *args, validation_data=None, **kwargs):
        """`keras.Model.fit`, after checking that NumPy images lie in [0, 1].

        Why: the likelihood treats pixels as probabilities; images in [0, 255]
        or [-1, 1] would train without complaint and mean nothing. A
        `tf.data.Dataset` is checked batch by batch inside the training step.
        """
        for name, value in (("x", x), ("validation_data", validation_data)):
            first = value[0] if isinstance(value, (tuple, list)) and value else value
            if isinstance(first, np.ndarray):
                check_value_range(first, 0.0, 1.0, name)
        return super().fit(x, y, *args, validation_data=validation_data, **kwargs)

    # -- NumPy-facing helpers for the notebooks, with argument checks
    def _check_images(self, images):
        images = np.asarray(images, dtype=np.float32)
        if images.ndim == len(self.image_shape):  # (N, H, W) for one channel
            images = images[..., np.newaxis]
        check_image_shape(images.shape, self.image_shape, "images")
        check_value_range(images, 0.0, 1.0, "images")
        return images

    @staticmethod
    def _inputs(arrays, labels):
        return arrays if labels is None else [arrays, labels]

    def encode(self, images, labels=None, batch_size: int = 500):
        """The means and log-variances of q(z | x) as NumPy arrays `(N, latent_dim)`.

        Args:
            images: `(N, H, W[, C])` in [0, 1].
            labels: int labels `(N,)` (conditional VAE only).
            batch_size: images per encoder call.

        Returns:
            A pair `(z_mean, z_log_var)`.

        Raises:
            ValueError: images of another shape than the model's, or outside [0, 1];
                missing, unexpected or out-of-range labels.
        """
        images = self._check_images(images)
        labels = self._check_labels(labels, len(images))
        z_mean, z_log_var = batched_call(self.encoder, self._inputs(images, labels), batch_size)
        return z_mean, z_log_var

    def decode(self, z, labels=None, batch_size: int = 500):
        """Pixel probabilities (Bernoulli means; Gaussian means) for codes `z`, `(N, H, W, C)`.

        Args:
            z: codes `(N, latent_dim)`.
            labels: int labels `(N,)` (conditional VAE only).
            batch_size: codes per decoder call.

        Raises:
            ValueError: codes of the wrong shape; missing, unexpected or
                out-of-range labels.
        """
        z = np.asarray(z, dtype=np.float32)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(
                f"Expected `z` of shape (batch, {self.latent_dim}). Received: z.shape={z.shape}"
            )
        labels = self._check_labels(labels, len(z))

        def probabilities(inputs, training=False):
            return ops.sigmoid(self.decoder(inputs, training=training))

        return batched_call(probabilities, self._inputs(z, labels), batch_size)

    def _sample(self, num_samples, labels, seed, batch_size):
        # Ancestral sampling: z from the prior N(0, I), then the decoder's probabilities.
        z = self._normal((num_samples, self.latent_dim), seed)
        return self.decode(z, labels, batch_size)

    def evaluate_bounds(
        self, images, labels=None, num_samples: int = 1, batch_size: int = 100, seed: int = 0
    ):
        """The ELBO and the importance-weighted (IWAE) bound of log p(x), per image, in nats.

        For each image, `num_samples` codes z_1..z_k are drawn from q(z | x) and
        `log w_i = log p(x | z_i) + log p(z_i) - log q(z_i | x)`. Then
        `elbo = mean_i log w_i` (a Monte-Carlo estimate of the ELBO) and
        `iwae = logsumexp_i log w_i - log k`. By Jensen, iwae >= elbo on the same
        samples, and iwae approaches log p(x) as k grows (Burda et al., 2016).
        Notebook 03, section 7 ("How far is the ELBO from the likelihood?").

        Args:
            images: `(N, H, W[, C])` in [0, 1] (binarised for Bernoulli nats).
            labels: int labels `(N,)` (conditional VAE only).
            num_samples: k, the number of importance samples per image.
            batch_size: images per batch (each is repeated k times).
            seed: seed of the evaluation noise (independent of training).

        Returns:
            A dict with `"elbo"` and `"iwae"`, NumPy arrays `(N,)` in nats.

        Raises:
            ValueError: bad images or a non-positive `num_samples`.
        """
        images = self._check_images(images)
        labels = self._check_labels(labels, len(images))
        k = check_positive_int(num_samples, "num_samples")
        # Each image is repeated k times: at most about 20,000 rows per step bounds the memory.
        batch_size = max(1, min(check_positive_int(batch_size, "batch_size"), 20000 // k or 1))
        generator = keras.random.SeedGenerator(seed)
        elbos, iwaes = [], []
        for start in range(0, len(images), batch_size):
            x = images[start : start + batch_size]
            n = len(x)
            y = None if labels is None else labels[start : start + batch_size]
            z_mean, z_log_var = self._encode(x, y)
            # Repeat each image k times: rows are (image, sample) pairs.
            z_mean = ops.repeat(z_mean, k, axis=0)
            z_log_var = ops.repeat(z_log_var, k, axis=0)
            eps = keras.random.normal(ops.shape(z_mean), seed=generator)
            z = z_mean + ops.exp(0.5 * z_log_var) * eps
            y_rep = None if y is None else np.repeat(y, k, axis=0)
            logits = self._decode(z, y_rep)
            log_px_z = self._log_likelihood(np.repeat(x, k, axis=0), logits)
            log_pz = -0.5 * ops.sum(ops.square(z) + _LOG_2PI, axis=-1)
            log_qz_x = -0.5 * ops.sum(ops.square(eps) + _LOG_2PI + z_log_var, axis=-1)
            log_w = ops.reshape(log_px_z + log_pz - log_qz_x, (n, k))
            elbos.append(ops.convert_to_numpy(ops.mean(log_w, axis=1)))
            iwaes.append(
                ops.convert_to_numpy(ops.logsumexp(log_w, axis=1) - math.log(k)).astype(np.float64)
            )
        return {"elbo": np.concatenate(elbos), "iwae": np.concatenate(iwaes)}

    # -- saving
    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "encoder": keras.saving.serialize_keras_object(self.encoder),
                "decoder": keras.saving.serialize_keras_object(self.decoder),
                "beta": self.beta,
                "likelihood": self.likelihood,
                "sigma": self.sigma,
                "seed": self.seed,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        config["decoder"] = keras.saving.deserialize_keras_object(config["decoder"])
        return cls(**config)


@keras.saving.register_keras_serializable(package="course_lib")
class ConditionalVAE(VAE):
    """A VAE whose encoder and decoder both see the class label (notebook 04).

    The ELBO is the same with every distribution conditioned on y:
    `E_q(z|x,y)[log p(x | z, y)] - KL(q(z | x, y) || N(0, I))`. Because the
    decoder is told the class, z is free to encode style (slant, thickness), and
    `decode(z, labels)` draws a chosen digit.

    Train with `cvae.fit(images, labels, ...)`; `call([images, labels])`.

    Args:
        encoder: from `build_encoder(..., num_classes=K)`.
        decoder: from `build_decoder(..., num_classes=K)`.
        beta, likelihood, sigma, seed: as `VAE`.

    Raises:
        ValueError: as `VAE`, or networks that do not take labels.
    """

    def __init__(self, encoder, decoder, **kwargs):
        if len(encoder.inputs) != 2 or len(decoder.inputs) != 2:
            raise ValueError(
                "Expected an encoder and a decoder built with `num_classes` (two inputs each). "
                f"Received: {len(encoder.inputs)} encoder input(s), "
                f"{len(decoder.inputs)} decoder input(s)"
            )
        super().__init__(encoder, decoder, **kwargs)
        self.num_classes = int(decoder.get_layer("label_one_hot").num_tokens)

    def _encode(self, images, labels=None, training=False):
        if labels is None:
            raise ValueError("Expected labels for a ConditionalVAE. Received: labels=None")
        # Both as tensors: Keras refuses a list that mixes tensors and NumPy arrays.
        images = ops.convert_to_tensor(images, dtype="float32")
        labels = ops.convert_to_tensor(labels, dtype="int32")
        return self.encoder([images, labels], training=training)

    def _decode(self, z, labels=None, training=False):
        if labels is None:
            raise ValueError("Expected labels for a ConditionalVAE. Received: labels=None")
        z = ops.convert_to_tensor(z, dtype="float32")
        labels = ops.convert_to_tensor(labels, dtype="int32")
        return self.decoder([z, labels], training=training)
