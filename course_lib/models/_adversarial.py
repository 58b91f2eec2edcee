"""What the course's GAN models share: two networks, two optimizers, one noise source.

`GAN` (notebooks 05 and 06), `ConditionalGAN` and `WGANGP` (notebook 07) differ in
their training step. Everything around it lives here once: checking that the
networks fit together, building both optimizers in `compile`, checking the
training data, drawing noise, sampling (the course's contract: `sample` returns
images in [0, 1]), and saving the two networks in the model's config.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from course_lib import distribute
from course_lib._checks import check_fraction, check_image_shape, check_value_range
from course_lib.models._base import GenerativeModel, batched_call, unpack_batch


class AdversarialModel(GenerativeModel):
    """Base of the GAN models: a generator, a discriminator (or critic) and their optimizers.

    A subclass sets `metric_names` (its `fit` history keys), implements
    `train_step` and ends it with `return self._update_metrics(name=value, ...)`.
    It checks what is particular to its networks before calling `__init__`, and
    adds its own constructor arguments to `get_config`. `sample` (from
    `GenerativeModel`) maps the generator's output from `value_range` to [0, 1].

    Args:
        generator: maps noise (and, for a conditional model, labels) to data.
        discriminator: maps data (and labels) to one score per example.
        seed: the seed of the model's `keras.random.SeedGenerator`: all noise
            comes from it, fresh at every step (and, under a `tf.distribute`
            strategy, different on each replica: `distribute.ReplicaSeedGenerator`).
        value_range: the documented range of the training data, checked by
            `fit`; `None` turns the check off (e.g. the 2-D toy of notebook 05).
        ema_decay: keep an exponential moving average of the generator's weights,
            `ema = d * ema + (1 - d) * weights` after every generator step (with
            `d = min(ema_decay, (1 + t) / (10 + t))` at step `t`, so the average
            forgets the random start), and let `sample` draw from it. The
            average smooths out the generator's step-to-step oscillation, a
            cheap and reliable gain in sample quality (Karras et al., 2018;
            Yazıcı et al., 2019). `None` (default): sample from the generator itself.

    Raises:
        ValueError: a generator whose (first) input is not a flat noise vector, a
            discriminator that does not take what the generator makes, or an
            `ema_decay` outside [0, 1).
    """

    # The fit() history keys; one keras.metrics.Mean each.
    metric_names: tuple[str, ...] = ()
    # The second network's name in messages and in the config ("critic" for WGAN-GP).
    discriminator_key = "discriminator"

    def __init__(
        self,
        generator,
        discriminator,
        seed=None,
        value_range=(-1.0, 1.0),
        ema_decay: float | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        latent_shape = tuple(generator.inputs[0].shape[1:])
        if len(latent_shape) != 1 or latent_shape[0] is None:
            raise ValueError(
                "Expected a generator whose (first) input is a flat noise vector "
                f"(batch, latent_dim). Received: input shape {tuple(generator.inputs[0].shape)}"
            )
        data_shape = tuple(generator.outputs[0].shape[1:])
        d_input_shape = tuple(discriminator.inputs[0].shape[1:])
        if data_shape != d_input_shape:
            role = self.discriminator_key
            raise ValueError(
                f"Expected the {role} to take what the generator makes. Received: "
                f"generator output {data_shape}, {role} input {d_input_shape}"
            )
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = int(generator.inputs[0].shape[-1])
        self.data_shape = data_shape
        self.seed = seed
        self.value_range = None if value_range is None else tuple(float(v) for v in value_range)
        self.seed_generator = distribute.ReplicaSeedGenerator(seed)
        self.trackers = {name: keras.metrics.Mean(name=name) for name in self.metric_names}
        self.ema_decay = None if ema_decay is None else check_fraction(ema_decay, "ema_decay")
        self.ema_generator = None
        if self.ema_decay is not None:
            # A copy of the generator whose weights follow the average; it is part of
            # the model's weights, so checkpoints keep it.
            self.ema_generator = keras.models.clone_model(generator)
            self.ema_generator.set_weights(generator.get_weights())
            self.ema_steps = keras.Variable(0, dtype="int64", trainable=False, name="ema_steps")
        # Both networks are built functional models, so this model is too; saying so
        # lets a checkpoint (training.fit_resumable) load into it before the first step.
        self.built = True

    @property
    def metrics(self):
        # Listed here so that fit() resets them at the start of every epoch.
        return list(self.trackers.values())

    @property
    def output_range(self):
        # The generator is trained to produce data in the training data's range.
        return self.value_range

    def _update_gan_metrics(self, d_loss, g_loss, real_logits, fake_logits):
        """Track both losses and the mean outputs D(x) and D(G(z)) in probability terms."""
        return self._update_metrics(
            d_loss=d_loss,
            g_loss=g_loss,
            d_real=ops.mean(ops.sigmoid(real_logits)),
            d_fake=ops.mean(ops.sigmoid(fake_logits)),
        )

    def _update_metrics(self, **values):
        """Update each named tracker with this step's value; return the running means."""
        for name, value in values.items():
            self.trackers[name].update_state(value)
        logs = {name: tracker.result() for name, tracker in self.trackers.items()}
        return distribute.logs_for_fit(logs)  # reducible by fit under every strategy

    def call(self, inputs, training=False):
        """Generate from `inputs` (so `model(z)` is `model.generator(z)`)."""
        return self.generator(inputs, training=training)

    def compile(self, d_optimizer, g_optimizer, **kwargs):
        """Set both optimizers and **build** them, so a restore brings back their state.

        Why build here: an optimizer creates its slots (Adam's moments, its
        iteration count) lazily at its first step. A checkpoint restored before
        that step would have nothing to load into, and they would start afresh.
        They are built in the scope of the strategy the model was made under, so
        under `tf.distribute` the slots are mirrored like the weights.

        Args:
            d_optimizer: the discriminator's (or critic's) optimizer.
            g_optimizer: the generator's optimizer; a different object.

        Raises:
            ValueError: the same optimizer object twice.
        """
        if d_optimizer is g_optimizer:
            raise ValueError(
                "Expected two optimizer objects, one per network (each keeps its own state). "
                "Received: the same object twice"
            )
        # No Keras optimizer of its own: the two below do all the updating.
        super().compile(optimizer=None, **kwargs)
        with distribute.model_scope(self):
            self.d_optimizer = keras.optimizers.get(d_optimizer)
            self.g_optimizer = keras.optimizers.get(g_optimizer)
            self.d_optimizer.build(self.discriminator.trainable_variables)
            self.g_optimizer.build(self.generator.trainable_variables)

    def _check_training_data(self, x):
        """Check the shape and value range of training data: an array or a dataset."""
        if isinstance(x, tf.data.Dataset):
            spec = x.element_spec
            spec = spec[0] if isinstance(spec, tuple) else spec
            check_image_shape(spec.shape, self.data_shape, "images")
            if self.value_range is not None:
                for batch in x.take(1):  # the first batch stands for the rest
                    batch = unpack_batch(batch)[0]
                    check_value_range(batch.numpy(), *self.value_range, name="images")
        elif x is not None:
            check_image_shape(np.shape(x), self.data_shape, "images")
            if self.value_range is not None:
                check_value_range(x, *self.value_range, name="images")

    def fit(self, x=None, *args, **kwargs):
        """`keras.Model.fit`, after checking the data's shape and value range.

        Raises:
            ValueError: data of a shape the networks were not built for, or values
                outside `value_range`.
        """
        self._check_training_data(x)
        if isinstance(x, tf.data.Dataset):
            # A dataset shuffles itself (make_tf_dataset does); Keras warns otherwise.
            kwargs.setdefault("shuffle", False)
        return super().fit(x, *args, **kwargs)

    def _update_ema(self):
        """After a generator step: move the averaged weights towards the current ones."""
        if self.ema_generator is None:
            return
        self.ema_steps.assign_add(1)
        steps = ops.cast(self.ema_steps, "float32")
        decay = ops.minimum(self.ema_decay, (1.0 + steps) / (10.0 + steps))
        # All weights, batch-norm statistics included, in the same order in both copies.
        pairs = zip(self.ema_generator.weights, self.generator.weights, strict=True)
        for average, current in pairs:
            average.assign(decay * average + (1.0 - decay) * current)

    @property
    def sampling_generator(self):
        """The network `sample` draws from: the weight average when there is one."""
        return self.generator if self.ema_generator is None else self.ema_generator

    def _noise(self, num_samples: int, seed: int | None) -> np.ndarray:
        """`num_samples` noise vectors: from NumPy with `seed`, else from the SeedGenerator."""
        return self._normal((num_samples, self.latent_dim), seed)

    def _sample(self, num_samples, labels, seed, batch_size):
        # The generator in inference mode (batch norm uses its moving statistics).
        z = self._noise(num_samples, seed)
        inputs = z if labels is None else [z, labels]
        return batched_call(self.sampling_generator, inputs, batch_size)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "generator": keras.saving.serialize_keras_object(self.generator),
                self.discriminator_key: keras.saving.serialize_keras_object(self.discriminator),
                "seed": self.seed,
                "value_range": self.value_range,
                "ema_decay": self.ema_decay,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("generator", cls.discriminator_key):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)
