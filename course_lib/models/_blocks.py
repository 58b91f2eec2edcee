"""Building blocks of the DCGAN-style networks, shared by `gan`, `conditional_gan`, `wgan_gp`.

Each function takes a symbolic tensor and returns one, naming every layer, so a
generator, a discriminator or a critic is a short composition of them (keras-io's
WGAN-GP example factors `conv_block` and `upsample_block` the same way). Taught in
notebook 06, sections "The DCGAN guidelines" and 1, and in notebook 07 (the
conditional networks and the critic).

Batch normalisation built inside the scope of a `tf.distribute` strategy with
several replicas is synchronised across them (`_batch_norm`).
"""

from __future__ import annotations

from keras import layers

from course_lib.distribute import num_replicas

__all__ = ["downsampling_trunk", "label_embedding", "projection_logit", "upsampling_trunk"]


def _batch_norm(name: str):
    """A `BatchNormalization` layer, synchronised when built for several replicas.

    Why: under a strategy each replica sees only its share of the batch. Synchronised,
    the mean and variance are those of the global batch, as on one device, and every
    replica's moving averages stay equal (unsynchronised, each would keep its own).
    Built for one device it is the plain layer.
    """
    return layers.BatchNormalization(synchronized=num_replicas() > 1, name=name)


def upsampling_trunk(x, base_filters: int, image_shape, refine: bool = False):
    """From a flat vector to an image in [-1, 1]: project to a quarter size, upsample twice.

    Dense projection to `(height/4, width/4, 2 * base_filters)`, then two stride-2
    transposed convolutions (`base_filters` filters, then the image's channels).
    Batch normalisation and ReLU follow every layer but the output, which is
    `tanh` (Radford et al. 2016). With `refine`, a stride-1 3x3 convolution follows
    the projection and the first upsampling.

    Args:
        x: a `(batch, features)` tensor (noise, or noise joined with a label embedding).
        base_filters: filters of the last hidden layer (`2 * base_filters` before it).
        image_shape: `(height, width, channels)` of the output, height and width
            divisible by 4 (checked by the builders).
        refine: add the two stride-1 3x3 convolutions.

    Returns:
        Images `(batch, *image_shape)` in [-1, 1].
    """
    height, width, channels = image_shape
    units = (height // 4) * (width // 4) * 2 * base_filters
    # Bias is redundant before batch normalisation (its beta plays that role).
    x = layers.Dense(units, use_bias=False, name="project")(x)
    x = _batch_norm("project_bn")(x)
    x = layers.ReLU(name="project_relu")(x)
    x = layers.Reshape((height // 4, width // 4, 2 * base_filters), name="reshape")(x)
    if refine:
        x = _refine_block(x, 2 * base_filters, "refine_1")
    x = layers.Conv2DTranspose(
        base_filters, 4, strides=2, padding="same", use_bias=False, name="upsample_1"
    )(x)
    x = _batch_norm("upsample_1_bn")(x)
    x = layers.ReLU(name="upsample_1_relu")(x)
    if refine:
        x = _refine_block(x, base_filters, "refine_2")
    return layers.Conv2DTranspose(
        channels, 4, strides=2, padding="same", activation="tanh", name="upsample_2"
    )(x)


def _refine_block(x, filters: int, name: str):
    """A stride-1 3x3 convolution, batch normalisation and ReLU (same size in and out)."""
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=name)(x)
    x = _batch_norm(f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def downsampling_trunk(
    images,
    base_filters: int,
    batch_norm: bool = True,
    dropout_rate: float = 0.0,
    name: str = "flatten",
):
    """From images to a flat feature vector: two stride-2 4x4 convolutions, leaky ReLUs.

    The first convolution has `base_filters` filters and no normalisation (the
    DCGAN paper keeps it off the input layer); the second has `2 * base_filters`
    and, with `batch_norm`, batch normalisation (then it needs no bias). The
    WGAN-GP critic passes `batch_norm=False`: its gradient penalty is per image.

    Args:
        images: an image tensor `(batch, height, width, channels)`.
        base_filters: filters of the first convolution.
        batch_norm: batch-normalise the second convolution.
        dropout_rate: dropout after each convolution (0 for none).
        name: the name of the final `Flatten` layer (the features).

    Returns:
        Features `(batch, height/4 * width/4 * 2 * base_filters)`.
    """
    x = layers.Conv2D(base_filters, 4, strides=2, padding="same", name="conv_1")(images)
    x = layers.LeakyReLU(0.2, name="conv_1_leaky_relu")(x)
    if dropout_rate > 0:
        x = layers.Dropout(dropout_rate, name="conv_1_dropout")(x)
    x = layers.Conv2D(
        2 * base_filters, 4, strides=2, padding="same", use_bias=not batch_norm, name="conv_2"
    )(x)
    if batch_norm:
        x = _batch_norm("conv_2_bn")(x)
    x = layers.LeakyReLU(0.2, name="conv_2_leaky_relu")(x)
    if dropout_rate > 0:
        x = layers.Dropout(dropout_rate, name="conv_2_dropout")(x)
    return layers.Flatten(name=name)(x)


def label_embedding(labels, num_classes: int, embedding_dim: int):
    """A learned vector of `embedding_dim` numbers per class, looked up for each label.

    The layer is always named `label_embedding`, so a model can read its number of
    classes back (`network.get_layer("label_embedding").input_dim`).
    """
    return layers.Embedding(num_classes, embedding_dim, name="label_embedding")(labels)


def projection_logit(features, labels, num_classes: int):
    """The projection discriminator's logit `w . phi(x) + b + embed(y) . phi(x)`.

    Miyato and Koyama (2018): the first term asks "is this a real digit?", the
    second "is it a real digit of class y?". Taught in notebook 07, section 1.
    """
    unconditional = layers.Dense(1, name="logit")(features)
    # One learned vector per class, compared with the features by a dot product.
    class_vectors = label_embedding(labels, num_classes, features.shape[-1])
    projection = layers.Dot(axes=1, name="projection")([class_vectors, features])
    return layers.Add(name="conditional_logit")([unconditional, projection])
