"""Generative adversarial networks: MLP and DCGAN networks and the GAN training algorithm.

Taught in notebook 05 (GAN fundamentals: the minimax game, the optimal
discriminator, the non-saturating loss, the MLP GAN) and notebook 06 (DCGAN).

The networks are plain named functional models built by `build_*` functions.
The discriminator returns a *logit* (no sigmoid): the losses are computed from
logits with `softplus`, which stays finite where `log(sigmoid(x))` underflows.
The algorithm lives in the thin `GAN` model, whose `train_step` makes one
discriminator update and then one generator update on fresh noise: the
alternating updates of Goodfellow et al. (2014).

Example:
    >>> generator = build_dcgan_generator(latent_dim=64, base_filters=8)
    >>> discriminator = build_dcgan_discriminator(base_filters=8)
    >>> gan = GAN(generator, discriminator, seed=0)
    >>> gan.compile(
    ...     d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
    ...     g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
    ... )
    >>> images = np.zeros((64, 28, 28, 1), "float32")  # pixels in [-1, 1]
    >>> history = gan.fit(images, epochs=1, batch_size=32, verbose=0)
    >>> sorted(history.history)
    ['d_fake', 'd_loss', 'd_real', 'g_loss']
    >>> gan.sample(4, seed=0).shape  # pixels in [0, 1]
    (4, 28, 28, 1)

The training step uses `tf.GradientTape`, so this module needs the TensorFlow
backend of Keras (the course's backend everywhere).
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from course_lib import distribute
from course_lib._checks import (
    check_choice,
    check_fraction,
    check_image_shape,
    check_image_shape_arg,
    check_positive_int,
    check_shape_arg,
    check_units,
)
from course_lib.models._adversarial import AdversarialModel
from course_lib.models._base import unpack_batch
from course_lib.models._blocks import downsampling_trunk, upsampling_trunk

__all__ = [
    "GAN",
    "GENERATOR_LOSSES",
    "build_dcgan_discriminator",
    "build_dcgan_generator",
    "build_mlp_discriminator",
    "build_mlp_generator",
    "discriminator_loss",
    "generator_loss",
    "jensen_shannon_divergence",
    "optimal_discriminator",
    "value_function",
]

GENERATOR_LOSSES = ("non_saturating", "saturating")


# --------------------------------------------------------------------------- theory helpers


def optimal_discriminator(p_data, p_g):
    """The best possible discriminator for a fixed generator: `p_data / (p_data + p_g)`.

    Taught in notebook 05, section 1. Where both densities are zero the
    discriminator is irrelevant; we return 0.5 there rather than NaN.

    Args:
        p_data: densities (or histogram probabilities) of the data at some points.
        p_g: densities of the generator's distribution at the same points.

    Returns:
        A NumPy array of `D*(x)` in `[0, 1]`.

    Raises:
        ValueError: shapes differ or a density is negative.

    Example:
        >>> optimal_discriminator([0.2, 0.0], [0.2, 0.1])
        array([0.5, 0. ])
    """
    p_data = np.asarray(p_data, dtype=np.float64)
    p_g = np.asarray(p_g, dtype=np.float64)
    if p_data.shape != p_g.shape:
        raise ValueError(
            "Expected `p_data` and `p_g` of one shape. "
            f"Received: p_data.shape={p_data.shape}, p_g.shape={p_g.shape}"
        )
    if np.any(p_data < 0) or np.any(p_g < 0):
        raise ValueError("Expected non-negative densities. Received: a negative value")
    total = p_data + p_g
    return np.divide(p_data, total, out=np.full_like(total, 0.5), where=total > 0)


def value_function(p_data, p_g, d):
    """The GAN value `V(D, G) = E_data[log D(x)] + E_g[log(1 - D(x))]` on a discrete grid.

    `p_data` and `p_g` are probabilities of the grid's cells (each sums to 1);
    `d` is the discriminator's output in each cell. Taught in notebook 05, section 1.

    Returns:
        The value, a float (terms with zero probability contribute nothing).
    """
    p_data, p_g, d = (np.asarray(a, dtype=np.float64) for a in (p_data, p_g, d))
    with np.errstate(divide="ignore"):
        real = np.where(p_data > 0, p_data * np.log(np.where(p_data > 0, d, 1.0)), 0.0)
        fake = np.where(p_g > 0, p_g * np.log(np.where(p_g > 0, 1.0 - d, 1.0)), 0.0)
    return float(np.sum(real) + np.sum(fake))


def jensen_shannon_divergence(p, q):
    """The Jensen-Shannon divergence (in nats) between two discrete distributions.

    `JS(p, q) = KL(p || m) / 2 + KL(q || m) / 2` with `m = (p + q) / 2`; it lies
    in `[0, log 2]`. Taught in notebook 05, section 1, where
    `V(D*, G) = -log 4 + 2 JS(p_data, p_g)` is checked numerically.
    """
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2

    def kl(a, b):
        mask = a > 0
        return float(np.sum(a[mask] * np.log(a[mask] / b[mask])))

    return 0.5 * kl(p, m) + 0.5 * kl(q, m)


# --------------------------------------------------------------------------- losses


def discriminator_loss(real_logits, fake_logits, label_smoothing: float = 0.0):
    """Binary cross-entropy of the discriminator: real images are 1, generated ones 0.

    `-log D(x) - log(1 - D(G(z)))` written with logits:
    `softplus(-real) + softplus(fake)`. With `label_smoothing = s` the real
    target is `1 - s` (one-sided label smoothing, Salimans et al. 2016).

    Returns:
        A scalar tensor: the sum of the real and the fake terms, each averaged
        over the batch (`2 log 2 ~ 1.386` when `D` outputs 0.5 everywhere).
    """
    target = 1.0 - label_smoothing
    real_term = target * ops.softplus(-real_logits) + (1.0 - target) * ops.softplus(real_logits)
    fake_term = ops.softplus(fake_logits)
    return ops.mean(real_term) + ops.mean(fake_term)


def generator_loss(fake_logits, kind: str = "non_saturating"):
    """The generator's loss from the discriminator's logits on generated images.

    - `"non_saturating"`: `-log D(G(z)) = softplus(-logit)`, whose gradient is
      large when the discriminator rejects the samples (early in training);
    - `"saturating"`: the minimax loss `log(1 - D(G(z))) = -softplus(logit)`,
      whose gradient vanishes exactly then. Notebook 05, section 2, plots both.

    Returns:
        A scalar tensor, averaged over the batch.
    """
    check_choice(kind, "kind", GENERATOR_LOSSES)
    if kind == "non_saturating":
        return ops.mean(ops.softplus(-fake_logits))
    return -ops.mean(ops.softplus(fake_logits))


# --------------------------------------------------------------------------- networks


def build_mlp_generator(
    latent_dim: int = 64,
    data_shape: tuple[int, ...] = (28, 28, 1),
    hidden_units: tuple[int, ...] = (256, 512),
    output_activation: str | None = "tanh",
    name: str = "mlp_generator",
) -> keras.Model:
    """The original GAN's generator: fully connected layers from `z` to a data point.

    Taught in notebook 05, sections 3 and 4. Leaky ReLUs keep gradients alive in
    every unit; `tanh` maps images to `[-1, 1]`, the range of the training data.

    Args:
        latent_dim: the size of the noise vector `z`.
        data_shape: the shape of one output, `(28, 28, 1)` for digits or `(2,)`
            for the 2-D toy.
        hidden_units: widths of the hidden layers.
        output_activation: `"tanh"` for images in `[-1, 1]`, `None` for
            unbounded data such as the 2-D toy.
        name: the model's name.

    Returns:
        A functional `keras.Model` mapping `(batch, latent_dim)` to `(batch, *data_shape)`.

    Raises:
        ValueError: a non-positive `latent_dim` or a bad shape or width.
    """
    check_positive_int(latent_dim, "latent_dim")
    data_shape = check_shape_arg(data_shape, "data_shape")
    hidden_units = check_units(hidden_units, "hidden_units")
    z = keras.Input(shape=(latent_dim,), name="z")
    x = z
    for index, units in enumerate(hidden_units):
        x = layers.Dense(units, name=f"dense_{index}")(x)
        x = layers.LeakyReLU(0.2, name=f"leaky_relu_{index}")(x)
    x = layers.Dense(math.prod(data_shape), activation=output_activation, name="output")(x)
    x = layers.Reshape(data_shape, name="reshape")(x)
    return keras.Model(z, x, name=name)


def build_mlp_discriminator(
    data_shape: tuple[int, ...] = (28, 28, 1),
    hidden_units: tuple[int, ...] = (512, 256),
    dropout_rate: float = 0.3,
    name: str = "mlp_discriminator",
) -> keras.Model:
    """The original GAN's discriminator: fully connected layers to one logit.

    Taught in notebook 05, sections 3 and 4. Dropout slows the discriminator
    down a little, so it does not win the game before the generator learns.

    Args:
        data_shape: the shape of one input, `(28, 28, 1)` or `(2,)`.
        hidden_units: widths of the hidden layers.
        dropout_rate: dropout after each hidden layer (0 for none).
        name: the model's name.

    Returns:
        A functional `keras.Model` mapping `(batch, *data_shape)` to logits `(batch, 1)`.
    """
    data_shape = check_shape_arg(data_shape, "data_shape")
    hidden_units = check_units(hidden_units, "hidden_units")
    dropout_rate = check_fraction(dropout_rate, "dropout_rate")
    inputs = keras.Input(shape=data_shape, name="x")
    x = layers.Flatten(name="flatten")(inputs) if len(data_shape) > 1 else inputs
    for index, units in enumerate(hidden_units):
        x = layers.Dense(units, name=f"dense_{index}")(x)
        x = layers.LeakyReLU(0.2, name=f"leaky_relu_{index}")(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate, name=f"dropout_{index}")(x)
    logits = layers.Dense(1, name="logit")(x)
    return keras.Model(inputs, logits, name=name)


def build_dcgan_generator(
    latent_dim: int = 64,
    base_filters: int = 32,
    image_shape: tuple[int, int, int] = (28, 28, 1),
    refine: bool = False,
    name: str = "dcgan_generator",
) -> keras.Model:
    """A DCGAN generator: project `z`, then two stride-2 transposed convolutions.

    Taught in notebook 06, section 1. Follows Radford et al. (2016): no pooling
    (strided transposed convolutions upsample), batch normalisation in every
    layer but the output, ReLU inside and `tanh` at the output. `base_filters`
    sets the width (`2 * base_filters` filters at 7x7, `base_filters` at 14x14);
    a small width is what makes a CPU run of minutes possible.

    With `refine=True` a stride-1 3x3 convolution (batch-normalised, ReLU) follows
    the projection and the first upsampling: two more layers in which neighbouring
    positions agree on a stroke before it is upsampled, for about a third more
    time per step (measured in `docs/benchmarks.md`).

    Args:
        latent_dim: the size of `z`.
        base_filters: filters of the last hidden layer.
        image_shape: `(height, width, channels)` with height and width divisible by 4.
        refine: add the two stride-1 3x3 convolutions described above.
        name: the model's name.

    Returns:
        A functional `keras.Model` mapping `(batch, latent_dim)` to images in `[-1, 1]`.

    Raises:
        ValueError: a non-positive `latent_dim` or `base_filters`, or a bad `image_shape`.

    Example:
        >>> build_dcgan_generator(latent_dim=16, base_filters=8).output_shape
        (None, 28, 28, 1)
    """
    check_positive_int(latent_dim, "latent_dim")
    check_positive_int(base_filters, "base_filters")
    image_shape = check_image_shape_arg(image_shape, divisible_by=4)
    z = keras.Input(shape=(latent_dim,), name="z")
    images = upsampling_trunk(z, base_filters, image_shape, refine=refine)
    return keras.Model(z, images, name=name)


def build_dcgan_discriminator(
    image_shape: tuple[int, int, int] = (28, 28, 1),
    base_filters: int = 32,
    dropout_rate: float = 0.0,
    name: str = "dcgan_discriminator",
) -> keras.Model:
    """A DCGAN discriminator: two stride-2 convolutions with leaky ReLUs, then one logit.

    Taught in notebook 06, section 1. Strided convolutions downsample (no
    pooling); leaky ReLU (slope 0.2) everywhere; batch normalisation on the
    second layer but not on the input layer, as the DCGAN paper advises.

    Args:
        image_shape: `(height, width, channels)` with height and width divisible by 4.
        base_filters: filters of the first layer (the second has `2 * base_filters`).
        dropout_rate: dropout after each convolution, in [0, 1) (0 for none).
        name: the model's name.

    Returns:
        A functional `keras.Model` mapping images to logits `(batch, 1)`.

    Raises:
        ValueError: a non-positive `base_filters`, a bad `image_shape` or `dropout_rate`.

    Example:
        >>> build_dcgan_discriminator(base_filters=8).output_shape
        (None, 1)
    """
    check_positive_int(base_filters, "base_filters")
    image_shape = check_image_shape_arg(image_shape, divisible_by=4)
    dropout_rate = check_fraction(dropout_rate, "dropout_rate")
    images = keras.Input(shape=image_shape, name="images")
    features = downsampling_trunk(images, base_filters, dropout_rate=dropout_rate)
    logits = layers.Dense(1, name="logit")(features)
    return keras.Model(images, logits, name=name)


# --------------------------------------------------------------------------- the algorithm


@keras.saving.register_keras_serializable(package="course_lib")
class GAN(AdversarialModel):
    """A GAN trained with alternating updates: one discriminator step, then one generator step.

    Taught in notebook 05, sections 3 and 4, and notebook 06, section 2. Each `train_step`:

    1. draws fresh noise `z`, generates `G(z)`, and updates the discriminator on
       the real batch (target 1) and the generated batch (target 0);
    2. draws fresh noise again and updates the generator, through the
       discriminator, with the non-saturating loss `-log D(G(z))` (or the
       saturating minimax loss, for comparison).

    Only the network being updated changes in each step: the discriminator's
    gradients are applied to its own weights, the generator's to its own.

    Args:
        generator: maps `(batch, latent_dim)` noise to data.
        discriminator: maps data to logits `(batch, 1)`.
        seed: the seed of the model's `keras.random.SeedGenerator` (all noise
            comes from it, fresh at every step).
        value_range: the documented pixel range of the training data, checked by
            `fit` on arrays (and on the first batch of a dataset); `None` turns
            the check off (e.g. the 2-D toy).

    Metrics (the `fit` history keys): `d_loss`, `g_loss`, `d_real` (mean
    `D(x)` on real data) and `d_fake` (mean `D(G(z))`).

    Raises:
        ValueError: networks whose shapes do not fit together.
    """

    metric_names = ("d_loss", "g_loss", "d_real", "d_fake")

    def __init__(self, generator, discriminator, seed=None, value_range=(-1.0, 1.0), **kwargs):
        super().__init__(generator, discriminator, seed=seed, value_range=value_range, **kwargs)
        self.g_loss_kind = "non_saturating"
        self.label_smoothing = 0.0

    def compile(
        self,
        d_optimizer,
        g_optimizer,
        g_loss_kind: str = "non_saturating",
        label_smoothing: float = 0.0,
        **kwargs,
    ):
        """Set both optimizers (and build them, see `AdversarialModel.compile`) and the G loss.

        Args:
            d_optimizer: the discriminator's optimizer (e.g. Adam(2e-4, beta_1=0.5)).
            g_optimizer: the generator's optimizer; must be a different object.
            g_loss_kind: which generator loss, `"non_saturating"` (default) or
                `"saturating"` (the minimax loss, to compare in notebook 05).
            label_smoothing: one-sided label smoothing of the real target, in
                [0, 0.5); one of the tricks of notebook 06's failure-modes table.

        Raises:
            ValueError: the same optimizer object twice, an unknown `g_loss_kind`,
                or a `label_smoothing` outside [0, 0.5).
        """
        check_choice(g_loss_kind, "g_loss_kind", GENERATOR_LOSSES)
        label_smoothing = check_fraction(label_smoothing, "label_smoothing", high=0.5)
        super().compile(d_optimizer, g_optimizer, **kwargs)
        self.g_loss_kind = g_loss_kind
        self.label_smoothing = label_smoothing

    def train_step(self, data):
        images, _ = unpack_batch(data)
        check_image_shape(images.shape, self.data_shape, "images")  # static: once, when traced
        batch_size = ops.shape(images)[0]

        # 1. Discriminator step on real data and on fresh samples (generator fixed).
        z = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
        fake = self.generator(z, training=True)
        with tf.GradientTape() as tape:
            real_logits = self.discriminator(images, training=True)
            fake_logits = self.discriminator(fake, training=True)
            d_loss = discriminator_loss(real_logits, fake_logits, self.label_smoothing)
            # Under a strategy: this replica's share of the global-batch loss (see distribute).
            d_share = distribute.scale_loss_for_replicas(d_loss)
        grads = tape.gradient(d_share, self.discriminator.trainable_weights)
        self.d_optimizer.apply(grads, self.discriminator.trainable_weights)

        # 2. Generator step on new noise, through the just-updated discriminator.
        z = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
        with tf.GradientTape() as tape:
            logits = self.discriminator(self.generator(z, training=True), training=True)
            g_loss = generator_loss(logits, self.g_loss_kind)
            g_share = distribute.scale_loss_for_replicas(g_loss)
        grads = tape.gradient(g_share, self.generator.trainable_weights)
        self.g_optimizer.apply(grads, self.generator.trainable_weights)
        self._update_ema()

        return self._update_gan_metrics(d_loss, g_loss, real_logits, fake_logits)
