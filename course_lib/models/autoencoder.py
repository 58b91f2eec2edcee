"""Autoencoders: dense and convolutional encoder/decoder builders and the model that joins them.

Taught in notebook 01, sections 1-5: the dense autoencoder, its joint training, the
mistake of training its halves apart, the latent-size sweep beside PCA, 2-D codes.
Notebook 02, section 1, adds the convolutional autoencoder, and notebook 02,
sections 2-5, reuse it for restoration, anomaly detection, features and compression.

An encoder `f` maps an image `x` to a code `z = f(x)` with `latent_dim`
numbers; a decoder `g` maps a code back to an image `x_hat = g(z)`. The
`Autoencoder` trains both **jointly**, end to end, on one reconstruction loss,
so the code is whatever the decoder can best use.

Example:
    >>> encoder = build_dense_encoder(latent_dim=32)
    >>> decoder = build_dense_decoder(latent_dim=32)
    >>> autoencoder = Autoencoder(encoder, decoder, loss="mse")
    >>> autoencoder.compile(optimizer="adam")
    >>> # autoencoder.fit(images, epochs=10)  # images only: the target is the input
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from course_lib import distribute
from course_lib._checks import (
    check_choice,
    check_image_shape,
    check_image_shape_arg,
    check_positive_int,
    check_units,
    check_value_range,
)
from course_lib.models._base import batched_call, unpack_batch

__all__ = [
    "Autoencoder",
    "build_conv_decoder",
    "build_conv_encoder",
    "build_dense_decoder",
    "build_dense_encoder",
]

LOSSES = ("mse", "bce")
OUTPUT_ACTIVATIONS = ("sigmoid", "linear")


def build_dense_encoder(
    latent_dim: int,
    *,
    image_shape=(28, 28, 1),
    hidden_units=(64, 32),
    activation: str | None = "relu",
    name: str = "dense_encoder",
) -> keras.Model:
    """An MLP encoder: flatten, hidden `Dense` layers, then a linear code of `latent_dim`.

    The code layer is linear (no activation) so codes may take any real value;
    `hidden_units=()` with `activation=None` gives the linear encoder of the
    PCA comparison (notebook 01, section 4.1).

    Args:
        latent_dim: the size of the code, the bottleneck.
        image_shape: `(height, width, channels)` of one input image.
        hidden_units: widths of the hidden layers, from the input inward.
        activation: the hidden layers' activation (`None` for linear).
        name: the model's name.

    Returns:
        A functional `keras.Model` from images `image_shape` to codes `(latent_dim,)`.

    Raises:
        ValueError: a non-positive `latent_dim` or width, or a malformed `image_shape`.

    Example:
        >>> build_dense_encoder(32).output_shape
        (None, 32)
    """
    latent_dim = check_positive_int(latent_dim, "latent_dim")
    image_shape = check_image_shape_arg(image_shape)
    hidden_units = check_units(hidden_units, "hidden_units")
    inputs = keras.Input(shape=image_shape, name="images")
    x = layers.Flatten(name="flatten")(inputs)
    for index, units in enumerate(hidden_units):
        x = layers.Dense(units, activation=activation, name=f"hidden_{index}")(x)
    z = layers.Dense(latent_dim, name="z")(x)
    return keras.Model(inputs, z, name=name)


def build_dense_decoder(
    latent_dim: int,
    *,
    image_shape=(28, 28, 1),
    hidden_units=(32, 64),
    activation: str | None = "relu",
    output_activation: str = "sigmoid",
    name: str = "dense_decoder",
) -> keras.Model:
    """An MLP decoder, the mirror of `build_dense_encoder`.

    Why a sigmoid output by default: pixels live in [0, 1], and the sigmoid
    keeps the reconstruction there and pairs naturally with the BCE loss.
    `output_activation="linear"` gives the linear decoder of the PCA comparison.

    Args:
        latent_dim: the size of the code.
        image_shape: `(height, width, channels)` of one output image.
        hidden_units: widths of the hidden layers, from the code outward.
        activation: the hidden layers' activation (`None` for linear).
        output_activation: `"sigmoid"` or `"linear"`.
        name: the model's name.

    Returns:
        A functional `keras.Model` from codes `(latent_dim,)` to images `image_shape`.

    Raises:
        ValueError: a non-positive `latent_dim` or width, a malformed
            `image_shape` or an unknown `output_activation`.

    Example:
        >>> build_dense_decoder(32).output_shape
        (None, 28, 28, 1)
    """
    latent_dim = check_positive_int(latent_dim, "latent_dim")
    image_shape = check_image_shape_arg(image_shape)
    hidden_units = check_units(hidden_units, "hidden_units")
    check_choice(output_activation, "output_activation", OUTPUT_ACTIVATIONS)
    codes = keras.Input(shape=(latent_dim,), name="z")
    x = codes
    for index, units in enumerate(hidden_units):
        x = layers.Dense(units, activation=activation, name=f"hidden_{index}")(x)
    x = layers.Dense(int(np.prod(image_shape)), activation=output_activation, name="pixels")(x)
    outputs = layers.Reshape(image_shape, name="images")(x)
    return keras.Model(codes, outputs, name=name)


def build_conv_encoder(
    latent_dim: int,
    *,
    image_shape=(28, 28, 1),
    filters=(32, 64),
    name: str = "conv_encoder",
) -> keras.Model:
    """A convolutional encoder: stride-2 3x3 convolutions, then a linear code.

    Why convolutions: the same small filter is applied everywhere, so the
    network knows that nearby pixels belong together and that a stroke is a
    stroke wherever it is; it needs far fewer weights than a dense layer.

    Args:
        latent_dim: the size of the code.
        image_shape: `(height, width, channels)`; height and width must be
            divisible by `2 ** len(filters)`.
        filters: channels of each stride-2 convolution.
        name: the model's name.

    Returns:
        A functional `keras.Model` from images to codes `(latent_dim,)`.

    Raises:
        ValueError: a non-positive `latent_dim` or filter count, or an image
            shape the strides do not divide.

    Example:
        >>> build_conv_encoder(32).output_shape
        (None, 32)
    """
    latent_dim = check_positive_int(latent_dim, "latent_dim")
    filters = check_units(filters, "filters")
    # Each stride-2 convolution halves the size; the decoder must land back on it exactly.
    image_shape = check_image_shape_arg(image_shape, divisible_by=2 ** len(filters))
    inputs = keras.Input(shape=image_shape, name="images")
    x = inputs
    for index, channels in enumerate(filters):
        x = layers.Conv2D(
            channels, 3, strides=2, padding="same", activation="relu", name=f"conv_{index}"
        )(x)
    x = layers.Flatten(name="flatten")(x)
    z = layers.Dense(latent_dim, name="z")(x)
    return keras.Model(inputs, z, name=name)


def build_conv_decoder(
    latent_dim: int,
    *,
    image_shape=(28, 28, 1),
    filters=(64, 32),
    output_activation: str = "sigmoid",
    name: str = "conv_decoder",
) -> keras.Model:
    """A convolutional decoder, the mirror of `build_conv_encoder`.

    A `Dense` layer lifts the code to a small feature map; stride-2 transposed
    convolutions double it back to the image size; a 3x3 convolution gives
    the pixels.

    Args:
        latent_dim: the size of the code.
        image_shape: `(height, width, channels)` of one output image.
        filters: channels of each stride-2 transposed convolution, from the code outward.
        output_activation: `"sigmoid"` or `"linear"`.
        name: the model's name.

    Returns:
        A functional `keras.Model` from codes `(latent_dim,)` to images `image_shape`.

    Raises:
        ValueError: as `build_conv_encoder`, or an unknown `output_activation`.

    Example:
        >>> build_conv_decoder(32).output_shape
        (None, 28, 28, 1)
    """
    latent_dim = check_positive_int(latent_dim, "latent_dim")
    filters = check_units(filters, "filters")
    image_shape = check_image_shape_arg(image_shape, divisible_by=2 ** len(filters))
    check_choice(output_activation, "output_activation", OUTPUT_ACTIVATIONS)
    factor = 2 ** len(filters)
    height, width, channels = image_shape
    start = (height // factor, width // factor, filters[0])
    codes = keras.Input(shape=(latent_dim,), name="z")
    x = layers.Dense(int(np.prod(start)), activation="relu", name="lift")(codes)
    x = layers.Reshape(start, name="feature_map")(x)
    for index, channels_out in enumerate(filters):
        x = layers.Conv2DTranspose(
            channels_out, 3, strides=2, padding="same", activation="relu", name=f"deconv_{index}"
        )(x)
    outputs = layers.Conv2D(
        channels, 3, padding="same", activation=output_activation, name="images"
    )(x)
    return keras.Model(codes, outputs, name=name)


@keras.saving.register_keras_serializable(package="course_lib")
class Autoencoder(keras.Model):
    """An encoder and a decoder trained jointly on one reconstruction loss.

    `fit` accepts either images alone (the target is the input: plain
    autoencoding) or pairs `(inputs, targets)` (e.g. `(noisy, clean)` for
    denoising or `(masked, clean)` for inpainting, made with
    `course_lib.corruption` in a `tf.data` pipeline). One gradient step
    updates the encoder's and the decoder's weights together: that is what
    makes the code useful to the decoder.

    Args:
        encoder: a model from images to codes `(latent_dim,)`.
        decoder: a model from codes back to images of the same shape.
        loss: `"mse"` (pixels as Gaussians with a fixed variance) or `"bce"`
            (pixels as Bernoulli probabilities; needs a sigmoid decoder).
        **kwargs: passed to `keras.Model` (e.g. `name`).

    Call arguments:
        images: a batch `(batch, *image_shape)`; returns its reconstruction.

    Raises:
        ValueError: an unknown loss, or an encoder and decoder that disagree on
            the code size or the image shape.

    Metrics (the `fit` history keys): `loss` (the chosen loss, per pixel) and
    `mse` (the per-pixel squared error, reported whatever the loss, so runs
    with different losses compare).

    Example:
        >>> ae = Autoencoder(build_dense_encoder(8), build_dense_decoder(8))
        >>> ae.compile(optimizer="adam")
        >>> ae(np.zeros((2, 28, 28, 1), "float32")).shape
        TensorShape([2, 28, 28, 1])
    """

    def __init__(self, encoder, decoder, loss: str = "mse", **kwargs):
        super().__init__(**kwargs)
        check_choice(loss, "loss", LOSSES)
        code_in = tuple(decoder.input_shape[1:])
        code_out = tuple(encoder.output_shape[1:])
        if code_in != code_out:
            raise ValueError(
                f"Expected the decoder to take codes of the encoder's shape {code_out}. "
                f"Received: decoder input shape {code_in}"
            )
        if tuple(encoder.input_shape[1:]) != tuple(decoder.output_shape[1:]):
            raise ValueError(
                f"Expected the decoder to output images of the encoder's input shape "
                f"{tuple(encoder.input_shape[1:])}. Received: {tuple(decoder.output_shape[1:])}"
            )
        self.encoder = encoder
        self.decoder = decoder
        self.loss_name = loss
        self.image_shape = tuple(encoder.input_shape[1:])
        self.latent_dim = int(code_out[0])
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.mse_tracker = keras.metrics.Mean(name="mse")

    @property
    def metrics(self):
        # Listed here so that fit() resets them at the start of every epoch.
        return [self.loss_tracker, self.mse_tracker]

    def call(self, images, training=False):
        check_image_shape(images.shape, self.image_shape)
        return self.decoder(self.encoder(images, training=training), training=training)

    def reconstruction_loss(self, targets, reconstructions):
        """The chosen loss, averaged over pixels and the batch (a scalar)."""
        if self.loss_name == "bce":
            # Clipping keeps log() finite when the sigmoid saturates at 0 or 1.
            p = ops.clip(reconstructions, 1e-7, 1.0 - 1e-7)
            per_pixel = -(targets * ops.log(p) + (1.0 - targets) * ops.log(1.0 - p))
        else:
            per_pixel = ops.square(targets - reconstructions)
        return ops.mean(per_pixel)

    @staticmethod
    def _inputs_and_targets(data):
        # fit(images) gives images; fit((inputs, targets)) or a dataset of pairs gives both.
        inputs, targets = unpack_batch(data)
        return inputs, inputs if targets is None else targets

    def train_step(self, data):
        import tensorflow as tf

        inputs, targets = self._inputs_and_targets(data)
        with tf.GradientTape() as tape:
            reconstructions = self(inputs, training=True)
            loss = self.reconstruction_loss(targets, reconstructions)
            # Under a strategy: this replica's share of the global-batch loss (see distribute).
            share = distribute.scale_loss_for_replicas(loss)
        # One gradient for encoder and decoder together: joint, end-to-end training.
        variables = self.trainable_variables
        gradients = tape.gradient(share, variables)
        self.optimizer.apply(gradients, variables)
        self.loss_tracker.update_state(loss)
        self.mse_tracker.update_state(ops.mean(ops.square(targets - reconstructions)))
        return distribute.logs_for_fit({m.name: m.result() for m in self.metrics})

    def test_step(self, data):
        inputs, targets = self._inputs_and_targets(data)
        reconstructions = self(inputs, training=False)
        self.loss_tracker.update_state(self.reconstruction_loss(targets, reconstructions))
        self.mse_tracker.update_state(ops.mean(ops.square(targets - reconstructions)))
        return distribute.logs_for_fit({m.name: m.result() for m in self.metrics})

    # NumPy helpers for the notebooks: they validate what the model was built for.
    def _check_images(self, images) -> np.ndarray:
        images = np.asarray(images, dtype=np.float32)
        check_image_shape(images.shape, self.image_shape)
        check_value_range(images, 0.0, 1.0)
        return images

    def encode(self, images, batch_size: int = 512) -> np.ndarray:
        """Codes `(N, latent_dim)` of images in [0, 1].

        Raises:
            ValueError: images of a shape the model was not built for, or
                pixel values outside [0, 1].
        """
        images = self._check_images(images)
        return batched_call(self.encoder, images, batch_size)

    def decode(self, codes, batch_size: int = 512) -> np.ndarray:
        """Images from codes `(N, latent_dim)`.

        Raises:
            ValueError: codes of the wrong size.
        """
        codes = np.asarray(codes, dtype=np.float32)
        if codes.ndim != 2 or codes.shape[1] != self.latent_dim:
            raise ValueError(
                f"Expected codes of shape (N, {self.latent_dim}). Received: shape={codes.shape}"
            )
        return batched_call(self.decoder, codes, batch_size)

    def reconstruct(self, images, batch_size: int = 512) -> np.ndarray:
        """Reconstructions of images in [0, 1] (`decode(encode(images))`).

        Raises:
            ValueError: images of a shape the model was not built for, or
                pixel values outside [0, 1].
        """
        images = self._check_images(images)
        return batched_call(self, images, batch_size)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "encoder": keras.saving.serialize_keras_object(self.encoder),
                "decoder": keras.saving.serialize_keras_object(self.decoder),
                "loss": self.loss_name,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        encoder = keras.saving.deserialize_keras_object(config.pop("encoder"))
        decoder = keras.saving.deserialize_keras_object(config.pop("decoder"))
        return cls(encoder, decoder, **config)
