"""WGAN-GP: a Wasserstein GAN whose critic is kept 1-Lipschitz by a gradient penalty.

Taught in notebook 07, sections 4 and 5: the Wasserstein distance, the
critic, the gradient penalty, and a comparison of stability with DCGAN.

The critic `f` outputs an unbounded score, not a probability. By the
Kantorovich-Rubinstein duality, `max over 1-Lipschitz f of E_data[f(x)] - E_g[f(x)]`
is the Wasserstein-1 distance between the data and the generator. Gulrajani et
al. (2017) enforce the Lipschitz constraint softly: they penalise
`(||grad f(x_hat)||_2 - 1)^2` at random points `x_hat` on lines between real and
generated images. The critic is trained `num_critic_steps` times per generator
step, so that its score stays a good estimate of the distance the generator
then descends.

Example:
    >>> import numpy as np
    >>> from course_lib.models.gan import build_dcgan_generator
    >>> generator = build_dcgan_generator(latent_dim=16, base_filters=8)
    >>> critic = build_critic(base_filters=8)
    >>> wgan = WGANGP(generator, critic, num_critic_steps=5, gp_weight=10.0, seed=0)
    >>> wgan.compile(  # the paper's optimizers
    ...     d_optimizer=keras.optimizers.Adam(1e-4, beta_1=0.0, beta_2=0.9),
    ...     g_optimizer=keras.optimizers.Adam(1e-4, beta_1=0.0, beta_2=0.9),
    ... )
    >>> images = np.zeros((40, 28, 28, 1), "float32")
    >>> history = wgan.fit(images, epochs=1, batch_size=20, verbose=0)  # 5 chunks of 4
    >>> sorted(history.history)
    ['d_loss', 'g_loss', 'gradient_penalty', 'w_distance']

The training step uses `tf.GradientTape`: this module needs the TensorFlow
backend of Keras (the course's backend everywhere).
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers, ops

from course_lib import distribute
from course_lib._checks import check_image_shape, check_image_shape_arg, check_positive_int
from course_lib.models._adversarial import AdversarialModel
from course_lib.models._base import unpack_batch
from course_lib.models._blocks import downsampling_trunk

__all__ = ["WGANGP", "build_critic", "gradient_norms", "gradient_penalty"]

# Inside the square root of the gradient norm: the derivative of sqrt(s) is
# infinite at s = 0, so a critic with a zero gradient somewhere would give NaN
# gradients without it. 1e-12 changes a norm near 1 by about 5e-13.
NORM_EPSILON = 1e-12


def build_critic(
    image_shape: tuple[int, int, int] = (28, 28, 1),
    base_filters: int = 32,
    name: str = "critic",
) -> keras.Model:
    """The WGAN-GP critic: notebook 06's discriminator without batch normalisation.

    Taught in notebook 07, section 4 ("The critic: the dual form"). Why no batch
    normalisation: the gradient penalty constrains the gradient of the critic
    with respect to *each* input image, but batch normalisation makes each
    output depend on the whole batch, so that per-image gradient no longer means
    what the penalty assumes (Gulrajani et al. 2017, section 4). The output is a
    raw score (no sigmoid).

    Args:
        image_shape: `(height, width, channels)`, height and width divisible by 4.
        base_filters: filters of the first convolution (the second has `2 * base_filters`).
        name: the model's name.

    Returns:
        A functional `keras.Model` mapping images to scores `(batch, 1)`.

    Raises:
        ValueError: a non-positive `base_filters` or a bad `image_shape`.

    Example:
        >>> build_critic(base_filters=8).output_shape
        (None, 1)
    """
    base_filters = check_positive_int(base_filters, "base_filters")
    image_shape = check_image_shape_arg(image_shape, divisible_by=4)
    images = keras.Input(shape=image_shape, name="images")
    features = downsampling_trunk(images, base_filters, batch_norm=False)
    scores = layers.Dense(1, name="score")(features)
    return keras.Model(images, scores, name=name)


def gradient_norms(critic, images):
    """The norm `||grad_x f(x)||_2` of the critic's gradient at each image, shape `(batch,)`.

    Computed as `sqrt(sum of squares + NORM_EPSILON)`, so that it and its own
    gradient stay finite where the critic's gradient is exactly zero.

    Args:
        critic: a model mapping images to scores `(batch, 1)`.
        images: a float tensor of images.
    """
    images = ops.convert_to_tensor(images, dtype="float32")
    with tf.GradientTape() as tape:
        tape.watch(images)
        # Each score depends only on its own image (no batch normalisation), so
        # the gradient of the sum is the per-image gradient, image by image.
        scores = critic(images, training=True)
    grads = tape.gradient(scores, images)
    axes = list(range(1, len(images.shape)))
    return ops.sqrt(ops.sum(ops.square(grads), axis=axes) + NORM_EPSILON)


def gradient_penalty(critic, real_images, fake_images, epsilon=None, seed=None):
    """The WGAN-GP penalty `mean((||grad f(x_hat)||_2 - 1)^2)` on random interpolates.

    Taught in notebook 07, section 4 ("The gradient penalty").
    `x_hat = epsilon * real + (1 - epsilon) * fake` with one `epsilon ~ U[0, 1]`
    per image: the optimal critic has gradient norm 1 almost everywhere on such
    lines (Gulrajani et al. 2017, proposition 1).

    Args:
        critic: a model mapping images to scores `(batch, 1)`.
        real_images: a batch of real images.
        fake_images: a batch of generated images, the same shape.
        epsilon: optional interpolation weights `(batch, 1, 1, 1)` (for tests);
            drawn uniformly when None.
        seed: a `keras.random.SeedGenerator` (or int) for `epsilon`.

    Returns:
        A scalar tensor.
    """
    real_images = ops.convert_to_tensor(real_images, dtype="float32")
    fake_images = ops.convert_to_tensor(fake_images, dtype="float32")
    if epsilon is None:
        shape = (ops.shape(real_images)[0],) + (1,) * (len(real_images.shape) - 1)
        epsilon = keras.random.uniform(shape, 0.0, 1.0, seed=seed)
    interpolates = epsilon * real_images + (1.0 - epsilon) * fake_images
    return ops.mean(ops.square(gradient_norms(critic, interpolates) - 1.0))


@keras.saving.register_keras_serializable(package="course_lib")
class WGANGP(AdversarialModel):
    """A Wasserstein GAN with gradient penalty: `num_critic_steps` critic steps per generator step.

    Taught in notebook 07, sections 4 ("The gradient penalty") and 5. Each
    `train_step` takes a batch of real images and splits it into
    `num_critic_steps` chunks (so feed batches of `num_critic_steps * m`); for
    each chunk, on fresh noise, it minimises the critic loss

        d_loss = E[f(G(z))] - E[f(x)] + gp_weight * gradient_penalty,

    then it makes one generator step with `g_loss = -E[f(G(z))]` on `m` fresh
    noise vectors. A fresh real chunk per critic step is the algorithm of the
    paper; every real image is used once per epoch.

    Args:
        generator: maps `(batch, latent_dim)` noise to images.
        critic: maps images to scores `(batch, 1)`; no batch normalisation.
        num_critic_steps: critic updates per generator update (5 in the paper).
        gp_weight: the penalty's weight lambda (10 in the paper).
        seed: the seed of the model's `keras.random.SeedGenerator` (noise and
            interpolation weights, fresh at every step).
        value_range: the documented pixel range, checked by `fit` on arrays.

    Metrics (the `fit` history keys): `d_loss` (the critic loss), `g_loss`,
    `gradient_penalty`, and `w_distance`, the critic's estimate
    `E[f(x)] - E[f(G(z))]` of the Wasserstein distance (before the penalty).

    Raises:
        ValueError: a non-positive `num_critic_steps`, a negative `gp_weight`,
            or networks that do not fit together.
    """

    metric_names = ("d_loss", "g_loss", "gradient_penalty", "w_distance")
    discriminator_key = "critic"

    def __init__(
        self,
        generator,
        critic,
        num_critic_steps: int = 5,
        gp_weight: float = 10.0,
        seed=None,
        value_range=(-1.0, 1.0),
        **kwargs,
    ):
        num_critic_steps = check_positive_int(num_critic_steps, "num_critic_steps")
        if not float(gp_weight) >= 0.0:
            raise ValueError(
                "Expected `gp_weight` to be a non-negative number. "
                f"Received: gp_weight={gp_weight!r}"
            )
        if len(generator.inputs) != 1:
            raise ValueError(
                "Expected a generator whose one input is a flat noise vector (batch, latent_dim). "
                f"Received: inputs {[tuple(i.shape) for i in generator.inputs]}"
            )
        super().__init__(generator, critic, seed=seed, value_range=value_range, **kwargs)
        self.num_critic_steps = num_critic_steps
        self.gp_weight = float(gp_weight)

    @property
    def critic(self):
        """The critic f, stored as `discriminator`, the name the other GAN models use."""
        return self.discriminator

    def train_step(self, data):
        images, _ = unpack_batch(data)
        check_image_shape(images.shape, self.data_shape, "images")  # static: once, when traced
        batch_size = ops.shape(images)[0]
        # A chunk per critic step; a batch smaller than num_critic_steps reuses images.
        chunk = ops.maximum(batch_size // self.num_critic_steps, 1)

        for step in range(self.num_critic_steps):
            indices = (step * chunk + ops.arange(chunk)) % batch_size
            real = ops.take(images, indices, axis=0)
            z = keras.random.normal((chunk, self.latent_dim), seed=self.seed_generator)
            fake = self.generator(z, training=True)
            with tf.GradientTape() as tape:
                real_scores = self.critic(real, training=True)
                fake_scores = self.critic(fake, training=True)
                w_distance = ops.mean(real_scores) - ops.mean(fake_scores)
                penalty = gradient_penalty(self.critic, real, fake, seed=self.seed_generator)
                d_loss = -w_distance + self.gp_weight * penalty
                # Under a strategy, each replica's share of the global-batch loss; the
                # penalty is per image, so a replica computes it on its own chunk.
                d_share = distribute.scale_loss_for_replicas(d_loss)
            grads = tape.gradient(d_share, self.critic.trainable_weights)
            self.d_optimizer.apply(grads, self.critic.trainable_weights)

        z = keras.random.normal((chunk, self.latent_dim), seed=self.seed_generator)
        with tf.GradientTape() as tape:
            g_loss = -ops.mean(self.critic(self.generator(z, training=True), training=True))
            g_share = distribute.scale_loss_for_replicas(g_loss)
        grads = tape.gradient(g_share, self.generator.trainable_weights)
        self.g_optimizer.apply(grads, self.generator.trainable_weights)
        self._update_ema()

        # The last critic step's values: the critic at its freshest.
        return self._update_metrics(
            d_loss=d_loss, g_loss=g_loss, gradient_penalty=penalty, w_distance=w_distance
        )

    def get_config(self):
        config = super().get_config()
        config.update({"num_critic_steps": self.num_critic_steps, "gp_weight": self.gp_weight})
        return config
