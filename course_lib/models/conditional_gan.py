"""A class-conditional GAN: the label goes into both the generator and the discriminator.

Taught in notebook 07, sections 1 to 3: conditional generation, where the
learner asks for a digit and gets that digit.

The generator maps `[z, label]` to an image: the label is embedded and
concatenated with the noise before the projection. The discriminator judges
`[image, label]` pairs, so "a good 3 labelled 7" is a fake it can reject, and
the generator has to honour the label to fool it (Mirza and Osindero, 2014);
it takes the label through a projection head (Miyato and Koyama, 2018). Both networks follow
the DCGAN guidelines of notebook 06 at a CPU-friendly width.

Example:
    >>> generator = build_conditional_generator(latent_dim=16, num_classes=10, base_filters=8)
    >>> discriminator = build_conditional_discriminator(num_classes=10, base_filters=8)
    >>> cgan = ConditionalGAN(generator, discriminator, seed=0)
    >>> cgan.compile(
    ...     d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
    ...     g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
    ... )
    >>> images, labels = np.zeros((32, 28, 28, 1), "float32"), np.arange(32) % 10
    >>> history = cgan.fit(images, labels, epochs=1, batch_size=16, verbose=0)
    >>> sevens = cgan.sample(8, labels=7, seed=0)  # pixels in [0, 1]
    >>> sevens.shape
    (8, 28, 28, 1)

The training step uses `tf.GradientTape`: this module needs the TensorFlow
backend of Keras (the course's backend everywhere).
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from course_lib import distribute
from course_lib._checks import (
    check_fraction,
    check_image_shape,
    check_image_shape_arg,
    check_labels,
    check_positive_int,
)
from course_lib.models._adversarial import AdversarialModel
from course_lib.models._blocks import (
    downsampling_trunk,
    label_embedding,
    projection_logit,
    upsampling_trunk,
)
from course_lib.models.gan import discriminator_loss, generator_loss

__all__ = [
    "ConditionalGAN",
    "build_conditional_discriminator",
    "build_conditional_generator",
]


def build_conditional_generator(
    latent_dim: int = 64,
    num_classes: int = 10,
    base_filters: int = 32,
    embedding_dim: int = 16,
    image_shape: tuple[int, int, int] = (28, 28, 1),
    name: str = "conditional_generator",
) -> keras.Model:
    """A DCGAN-style generator that takes a class label beside the noise.

    Taught in notebook 07, section 1. The label is looked up in a learned
    embedding (`embedding_dim` numbers per class) and concatenated with `z`;
    the rest is notebook 06's generator: a projection to 7×7, then two stride-2
    transposed convolutions with batch normalisation and ReLU, `tanh` output.

    Args:
        latent_dim: the size of the noise `z`.
        num_classes: the number of labels.
        base_filters: filters of the last hidden layer (`2 * base_filters` at 7×7).
        embedding_dim: the size of the label embedding.
        image_shape: `(height, width, channels)`, height and width divisible by 4.
        name: the model's name.

    Returns:
        A functional `keras.Model` with inputs `[z (batch, latent_dim), labels (batch,)]`
        (integer labels) and output images `(batch, *image_shape)` in `[-1, 1]`.

    Raises:
        ValueError: a non-positive `latent_dim`, `num_classes`, `base_filters` or
            `embedding_dim`, or a bad `image_shape`.

    Example:
        >>> generator = build_conditional_generator(latent_dim=8)
        >>> generator([np.zeros((2, 8)), np.array([3, 7])]).shape
        TensorShape([2, 28, 28, 1])
    """
    latent_dim = check_positive_int(latent_dim, "latent_dim")
    num_classes = check_positive_int(num_classes, "num_classes")
    base_filters = check_positive_int(base_filters, "base_filters")
    embedding_dim = check_positive_int(embedding_dim, "embedding_dim")
    image_shape = check_image_shape_arg(image_shape, divisible_by=4)

    z = keras.Input(shape=(latent_dim,), name="z")
    labels = keras.Input(shape=(), dtype="int32", name="labels")
    embedded = label_embedding(labels, num_classes, embedding_dim)
    x = layers.Concatenate(name="z_and_label")([z, embedded])
    images = upsampling_trunk(x, base_filters, image_shape)
    return keras.Model([z, labels], images, name=name)


def build_conditional_discriminator(
    num_classes: int = 10,
    base_filters: int = 32,
    image_shape: tuple[int, int, int] = (28, 28, 1),
    name: str = "conditional_discriminator",
) -> keras.Model:
    """A DCGAN-style discriminator that judges (image, label) pairs, with a projection head.

    Taught in notebook 07, section 1. Two stride-2 convolutions with leaky ReLUs
    (batch normalisation on the second) turn the image into features `phi(x)`;
    the logit is

        D(x, y) = w . phi(x) + b + embed(y) . phi(x),

    the *projection* discriminator of Miyato and Koyama (2018): the first term
    asks "is this a real digit?", the second "is it a real digit **of class y**?".
    Feeding the label in as an extra input channel also works, but learns the
    label more slowly (measured in `docs/benchmarks.md`).

    Args:
        num_classes: the number of labels.
        base_filters: filters of the first convolution (the second has `2 * base_filters`).
        image_shape: `(height, width, channels)`, height and width divisible by 4.
        name: the model's name.

    Returns:
        A functional `keras.Model` with inputs `[images, labels (batch,)]` and
        logits `(batch, 1)` (no sigmoid).

    Raises:
        ValueError: a non-positive `num_classes` or `base_filters`, or a bad `image_shape`.
    """
    num_classes = check_positive_int(num_classes, "num_classes")
    base_filters = check_positive_int(base_filters, "base_filters")
    image_shape = check_image_shape_arg(image_shape, divisible_by=4)

    images = keras.Input(shape=image_shape, name="images")
    labels = keras.Input(shape=(), dtype="int32", name="labels")
    features = downsampling_trunk(images, base_filters, name="features")
    logits = projection_logit(features, labels, num_classes)
    return keras.Model([images, labels], logits, name=name)


@keras.saving.register_keras_serializable(package="course_lib")
class ConditionalGAN(AdversarialModel):
    """A class-conditional GAN trained with alternating updates.

    Taught in notebook 07, section 2. Each `train_step` takes a batch of real
    `(images, labels)`:

    1. draws fresh noise and uniformly random labels, generates `G(z, y)`, and
       updates the discriminator on real pairs (target 1) and generated pairs
       (target 0);
    2. draws fresh noise and labels again and updates the generator through the
       discriminator with the non-saturating loss `-log D(G(z, y), y)`.

    Args:
        generator: maps `[z, labels]` to images.
        discriminator: maps `[images, labels]` to logits `(batch, 1)`.
        seed: the seed of the model's `keras.random.SeedGenerator`; all noise and
            random labels come from it, fresh at every step.
        value_range: the documented pixel range of the training images, checked
            by `fit` on arrays (default `[-1, 1]`, the range of the `tanh` output).

    Metrics (the `fit` history keys): `d_loss`, `g_loss`, `d_real` (mean
    `D(x, y)` on real pairs) and `d_fake` (mean `D(G(z, y), y)`).

    Raises:
        ValueError: networks that do not fit together.
    """

    metric_names = ("d_loss", "g_loss", "d_real", "d_fake")

    def __init__(self, generator, discriminator, seed=None, value_range=(-1.0, 1.0), **kwargs):
        if len(generator.inputs) != 2 or len(discriminator.inputs) != 2:
            raise ValueError(
                "Expected a generator taking [z, labels] and a discriminator taking "
                f"[images, labels]. Received: {len(generator.inputs)} and "
                f"{len(discriminator.inputs)} inputs"
            )
        super().__init__(generator, discriminator, seed=seed, value_range=value_range, **kwargs)
        self.num_classes = int(generator.get_layer("label_embedding").input_dim)
        self.label_smoothing = 0.0

    def compile(self, d_optimizer, g_optimizer, label_smoothing: float = 0.0, **kwargs):
        """Set both optimizers and **build** them, so a restore brings back their state.

        Args:
            d_optimizer: the discriminator's optimizer.
            g_optimizer: the generator's optimizer; a different object.
            label_smoothing: one-sided label smoothing of the real target, in [0, 0.5).

        Raises:
            ValueError: the same optimizer object twice, or a bad `label_smoothing`.
        """
        label_smoothing = check_fraction(label_smoothing, "label_smoothing", high=0.5)
        super().compile(d_optimizer, g_optimizer, **kwargs)
        self.label_smoothing = label_smoothing

    def fit(self, x=None, y=None, *args, **kwargs):
        """`keras.Model.fit` on `(images, labels)`, after checking shapes, ranges and labels.

        Args:
            x: images `(N, *image_shape)` in `value_range`, or a `tf.data.Dataset`
                of `(images, labels)` batches.
            y: integer labels `(N,)` when `x` is an array.

        Raises:
            ValueError: images of a shape the networks were not built for, pixel
                values outside `value_range`, missing or out-of-range labels.
        """
        if isinstance(x, tf.data.Dataset):
            spec = x.element_spec
            if not isinstance(spec, tuple) or len(spec) != 2:
                raise ValueError(
                    f"Expected a dataset of (images, labels) batches. Received: element_spec={spec}"
                )
        else:
            if y is None:
                raise ValueError(
                    "Expected integer labels `y` beside the images (a conditional GAN "
                    "learns p(x | y)). Received: y=None"
                )
            y = check_labels(np.reshape(y, -1), self.num_classes, count=len(x))
        return super().fit(x, y, *args, **kwargs)  # which checks the images' shape and range

    def _noise_and_labels(self, batch_size):
        z = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
        labels = keras.random.randint(
            (batch_size,), 0, self.num_classes, seed=self.seed_generator, dtype="int32"
        )
        return z, labels

    def train_step(self, data):
        images, labels = data[0], data[1]
        check_image_shape(images.shape, self.data_shape, "images")  # static: once, when traced
        labels = ops.cast(ops.reshape(labels, (-1,)), "int32")
        batch_size = ops.shape(images)[0]

        # 1. Discriminator step on real pairs and on fresh generated pairs (generator fixed).
        z, fake_labels = self._noise_and_labels(batch_size)
        fake = self.generator([z, fake_labels], training=True)
        with tf.GradientTape() as tape:
            real_logits = self.discriminator([images, labels], training=True)
            fake_logits = self.discriminator([fake, fake_labels], training=True)
            d_loss = discriminator_loss(real_logits, fake_logits, self.label_smoothing)
            # Under a strategy: this replica's share of the global-batch loss (see distribute).
            d_share = distribute.scale_loss_for_replicas(d_loss)
        grads = tape.gradient(d_share, self.discriminator.trainable_weights)
        self.d_optimizer.apply(grads, self.discriminator.trainable_weights)

        # 2. Generator step on new noise and labels, through the updated discriminator.
        z, fake_labels = self._noise_and_labels(batch_size)
        with tf.GradientTape() as tape:
            generated = self.generator([z, fake_labels], training=True)
            logits = self.discriminator([generated, fake_labels], training=True)
            g_loss = generator_loss(logits, "non_saturating")
            g_share = distribute.scale_loss_for_replicas(g_loss)
        grads = tape.gradient(g_share, self.generator.trainable_weights)
        self.g_optimizer.apply(grads, self.generator.trainable_weights)
        self._update_ema()

        return self._update_gan_metrics(d_loss, g_loss, real_logits, fake_logits)
