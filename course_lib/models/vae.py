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
    >>> history = vae.fit(train_images, epochs=10, batch_size=128, verbose=0)
    >>> bounds = vae.evaluate_bounds(test_images, num_samples=100)
    >>> float(bounds["elbo"].mean())  # nats per image
"""

from __future__ import annotations

import math
import numbers

import keras
import numpy as np
from keras import ops

from course_lib._checks import (
    check_choice,
    check_image_shape,
    check_positive_int,
    check_value_range,
)

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

    The closed form derived in notebook 03 (section "The KL term in closed
    form"): `-1/2 * sum(1 + z_log_var - z_mean**2 - exp(z_log_var))`.

    Args:
        z_mean: `(batch, latent_dim)` means of q(z | x).
        z_log_var: `(batch, latent_dim)` log-variances of q(z | x).

    Returns:
        A tensor `(batch,)`: one KL per example, summed over latent dimensions.

    Example:
        >>> float(gaussian_kl(np.zeros((1, 4)), np.zeros((1, 4)))[0])
        0.0
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
    step sees fresh noise, yet a seeded run repeats exactly.

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
        self.seed_generator = keras.random.SeedGenerator(seed)

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


def _check_common(latent_dim, image_shape, num_classes, architecture):
    latent_dim = check_positive_int(latent_dim, "latent_dim")
    image_shape = tuple(int(v) for v in image_shape)
    if len(image_shape) != 3 or min(image_shape) <= 0:
        raise ValueError(
            "Expected `image_shape` to be (height, width, channels). "
            f"Received: image_shape={image_shape}"
        )
    if architecture == "conv" and (image_shape[0] % 4 or image_shape[1] % 4):
        raise ValueError(
            "Expected `image_shape` with height and width divisible by 4 for the conv "
            f"architecture (two stride-2 layers). Received: image_shape={image_shape}"
        )
    if num_classes is not None:
        num_classes = check_positive_int(num_classes, "num_classes")
    check_choice(architecture, "architecture", ARCHITECTURES)
    return latent_dim, image_shape, num_classes


def build_encoder(
    latent_dim: int,
    *,
    image_shape=(28, 28, 1),
    num_classes: int | None = None,
    architecture: str = "conv",
    filters=(32, 64),
    hidden_units: int = 256,
    name: str = "encoder",
) -> keras.Model:
    """The encoder q(z | x) (or q(z | x, y)): images to `[z_mean, z_log_var]`.

    Args:
        latent_dim: the size of z.
        image_shape: the shape of one image.
        num_classes: when given, a second input takes int labels `(batch,)`,
            one-hot encoded and joined to the image features (conditional VAE).
        architecture: `"conv"` (two stride-2 convolutions, then a dense layer)
            or `"dense"` (two dense layers).
        filters: the two convolutions' filter counts (conv only).
        hidden_units: the width of the dense layer(s).
        name: the model's name.

    Returns:
        A functional `keras.Model` named `name` with outputs `[z_mean, z_log_var]`.

    Raises:
        ValueError: a non-positive `latent_dim` or `num_classes`, an unknown
            `architecture`, a bad `image_shape`.
    """
    latent_dim, image_shape, num_classes = _check_common(
        latent_dim, image_shape, num_classes, architecture
    )
    images = keras.Input(shape=image_shape, name="images")
    inputs = [images]
    if architecture == "conv":
        x = images
        for count in filters:
            x = keras.layers.Conv2D(count, 3, strides=2, padding="same", activation="relu")(x)
        x = keras.layers.Flatten()(x)
    else:
        x = keras.layers.Flatten()(images)
        x = keras.layers.Dense(2 * hidden_units, activation="relu")(x)
    if num_classes is not None:
        labels = keras.Input(shape=(), dtype="int32", name="labels")
        inputs.append(labels)
        one_hot = keras.layers.CategoryEncoding(num_classes, output_mode="one_hot")(labels)
        x = keras.layers.Concatenate()([x, one_hot])
    x = keras.layers.Dense(hidden_units, activation="relu")(x)
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
    hidden_units: int = 256,
    name: str = "decoder",
) -> keras.Model:
    """The decoder p(x | z) (or p(x | z, y)): codes to per-pixel logits.

    The output is logits, not probabilities: the Bernoulli log-likelihood is
    computed from logits for numerical stability, and `sigmoid(logits)` gives
    the pixel probabilities (or the Gaussian means).

    Args:
        latent_dim: the size of z.
        image_shape: the shape of the images to produce.
        num_classes: when given, a second input takes int labels `(batch,)`.
        architecture: `"conv"` (a dense layer, then two stride-2 transposed
            convolutions) or `"dense"` (two dense layers).
        filters: the two transposed convolutions' filter counts (conv only).
        hidden_units: the width of the dense layer(s).
        name: the model's name.

    Returns:
        A functional `keras.Model` named `name` mapping `z` (and labels) to
        logits of shape `(batch, *image_shape)`.

    Raises:
        ValueError: as `build_encoder`.
    """
    latent_dim, image_shape, num_classes = _check_common(
        latent_dim, image_shape, num_classes, architecture
    )
    z = keras.Input(shape=(latent_dim,), name="z")
    inputs = [z]
    x = z
    if num_classes is not None:
        labels = keras.Input(shape=(), dtype="int32", name="labels")
        inputs.append(labels)
        one_hot = keras.layers.CategoryEncoding(num_classes, output_mode="one_hot")(labels)
        x = keras.layers.Concatenate()([z, one_hot])
    x = keras.layers.Dense(hidden_units, activation="relu")(x)
    height, width, channels = image_shape
    if architecture == "conv":
        small = (height // 4, width // 4, filters[0])
        x = keras.layers.Dense(int(np.prod(small)), activation="relu")(x)
        x = keras.layers.Reshape(small)(x)
        for count in filters:
            x = keras.layers.Conv2DTranspose(
                count, 3, strides=2, padding="same", activation="relu"
            )(x)
        logits = keras.layers.Conv2D(channels, 3, padding="same", name="logits")(x)
    else:
        x = keras.layers.Dense(2 * hidden_units, activation="relu")(x)
        x = keras.layers.Dense(int(np.prod(image_shape)), name="logits")(x)
        logits = keras.layers.Reshape(image_shape)(x)
    return keras.Model(inputs if num_classes else z, logits, name=name)


# --------------------------------------------------------------------------- the models


def _split_data(data):
    """(images, labels) from what `fit` passes: `x`, `(x,)`, `(x, y)` or `(x, y, w)`."""
    if isinstance(data, (tuple, list)):
        images = data[0]
        labels = data[1] if len(data) > 1 else None
        return images, labels
    return data, None


@keras.saving.register_keras_serializable(package="course_lib")
class VAE(keras.Model):
    """A variational autoencoder trained by maximising the ELBO (notebook 03).

    The loss per image is `reconstruction_loss + beta * kl_loss`, where
    `reconstruction_loss = -log p(x | z)` for one `z` drawn from q(z | x) by the
    reparameterization trick and `kl_loss = KL(q(z | x) || N(0, I))` in closed
    form. With `beta = 1` the loss is the negative ELBO in nats per image;
    `beta != 1` gives the beta-VAE of notebook 04.

    Train with `vae.fit(images, ...)`; `validation_data=images` reports the
    same three numbers on held-out images (`val_loss`, ...).

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

    conditional = False

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

        images, labels = _split_data(data)
        with tf.GradientTape() as tape:
            reconstruction_loss, kl_loss = self._loss_terms(images, labels, training=True)
            # The negative ELBO (beta = 1), averaged over the batch.
            loss = ops.mean(reconstruction_loss + self.beta * kl_loss)
        gradients = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_weights, strict=True))
        self._update_trackers(reconstruction_loss, kl_loss)
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        images, labels = _split_data(data)
        reconstruction_loss, kl_loss = self._loss_terms(images, labels, training=False)
        self._update_trackers(reconstruction_loss, kl_loss)
        return {m.name: m.result() for m in self.metrics}

    def call(self, inputs, training=False):
        """Reconstruct: encode, sample z, decode; returns pixel probabilities (or means)."""
        images, labels = _split_data(inputs)
        z_mean, z_log_var = self._encode(images, labels, training=training)
        z = self.sampling([z_mean, z_log_var])
        return ops.sigmoid(self._decode(z, labels, training=training))

    # -- NumPy-facing helpers for the notebooks, with argument checks
    def _check_images(self, images):
        images = np.asarray(images, dtype=np.float32)
        if images.ndim == len(self.image_shape):  # (N, H, W) for one channel
            images = images[..., np.newaxis]
        check_image_shape(images.shape, self.image_shape, "images")
        check_value_range(images, 0.0, 1.0, "images")
        return images

    def _check_labels(self, labels, count):
        return None

    def encode(self, images, labels=None, batch_size: int = 500):
        """The means and log-variances of q(z | x) as NumPy arrays `(N, latent_dim)`.

        Raises:
            ValueError: images of another shape than the model's, or outside [0, 1].
        """
        images = self._check_images(images)
        labels = self._check_labels(labels, len(images))
        means, log_vars = [], []
        for start in range(0, len(images), batch_size):
            batch_labels = None if labels is None else labels[start : start + batch_size]
            m, v = self._encode(images[start : start + batch_size], batch_labels)
            means.append(ops.convert_to_numpy(m))
            log_vars.append(ops.convert_to_numpy(v))
        return np.concatenate(means), np.concatenate(log_vars)

    def decode(self, z, labels=None, batch_size: int = 500):
        """Pixel probabilities (Bernoulli means; Gaussian means) for codes `z`, `(N, H, W, C)`."""
        z = np.asarray(z, dtype=np.float32)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(
                f"Expected `z` of shape (batch, {self.latent_dim}). Received: z.shape={z.shape}"
            )
        labels = self._check_labels(labels, len(z))
        out = []
        for start in range(0, len(z), batch_size):
            batch_labels = None if labels is None else labels[start : start + batch_size]
            logits = self._decode(z[start : start + batch_size], batch_labels)
            out.append(ops.convert_to_numpy(ops.sigmoid(logits)))
        return np.concatenate(out)

    def sample(self, num_samples: int, labels=None, seed: int = 0):
        """Decode `num_samples` codes drawn from the prior N(0, I); returns probabilities."""
        num_samples = check_positive_int(num_samples, "num_samples")
        z = np.random.default_rng(seed).standard_normal((num_samples, self.latent_dim))
        return self.decode(z.astype(np.float32), labels)

    def evaluate_bounds(
        self, images, labels=None, num_samples: int = 1, batch_size: int = 100, seed: int = 0
    ):
        """The ELBO and the importance-weighted (IWAE) bound of log p(x), per image, in nats.

        For each image, `num_samples` codes z_1..z_k are drawn from q(z | x) and
        `log w_i = log p(x | z_i) + log p(z_i) - log q(z_i | x)`. Then
        `elbo = mean_i log w_i` (a Monte-Carlo estimate of the ELBO) and
        `iwae = logsumexp_i log w_i - log k`. By Jensen, iwae >= elbo on the same
        samples, and iwae approaches log p(x) as k grows (Burda et al., 2016).
        Notebook 03, section "How far is the ELBO from the likelihood?".

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

    conditional = True

    def __init__(self, encoder, decoder, **kwargs):
        if len(encoder.inputs) != 2 or len(decoder.inputs) != 2:
            raise ValueError(
                "Expected an encoder and a decoder built with `num_classes` (two inputs each). "
                f"Received: {len(encoder.inputs)} encoder input(s), "
                f"{len(decoder.inputs)} decoder input(s)"
            )
        super().__init__(encoder, decoder, **kwargs)
        encoding = [layer for layer in decoder.layers if layer.name.startswith("category")]
        self.num_classes = int(encoding[0].num_tokens) if encoding else None

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

    def _check_labels(self, labels, count):
        if labels is None:
            raise ValueError("Expected labels for a ConditionalVAE. Received: labels=None")
        labels = np.asarray(labels)
        if labels.ndim == 0:
            labels = np.full(count, int(labels))
        if labels.shape != (count,) or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(
                f"Expected `labels` to be {count} integers (one per item). "
                f"Received: labels with shape {labels.shape} and dtype {labels.dtype}"
            )
        if self.num_classes is not None and (labels.min() < 0 or labels.max() >= self.num_classes):
            raise ValueError(
                f"Expected `labels` in [0, {self.num_classes - 1}]. "
                f"Received: labels in [{labels.min()}, {labels.max()}]"
            )
        return labels.astype(np.int32)
