"""An autoregressive RNN over binarised images: a row GRU with a masked within-row head.

Taught in notebook 08, sections 2 to 7. The image is read in
raster order, row by row and, inside a row, left to right. A GRU runs down the
rows: its state after reading rows `0 .. r-1` summarises everything above row
`r`. A small masked network (a MADE over one row) then turns that summary and
the pixels already known in row `r` into the logit of each pixel of row `r`,
so pixel `(r, c)` is conditioned on every row above and on the pixels to its
left, and on nothing else. Training is teacher forcing: every conditional is
computed in one parallel pass from the true image; the log-likelihood of an
image is the exact sum of the log-probabilities of its pixels. Sampling has to
go pixel by pixel, because each pixel's distribution depends on the ones drawn
before it.

Example:
    >>> network = build_row_rnn(image_shape=(28, 28, 1), units=64, head_units=64)
    >>> model = AutoregressiveImageModel(network)
    >>> model.compile(optimizer="adam")
    >>> # model.fit(binary_images, epochs=10, batch_size=64)
    >>> samples = model.sample(16, temperature=1.0, seed=0)
    >>> samples.shape
    (16, 28, 28, 1)
"""

from __future__ import annotations

import numbers

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from course_lib import distribute
from course_lib._checks import check_image_shape, check_positive_int
from course_lib.models._base import GenerativeModel, unpack_batch
from course_lib.models._blocks import label_embedding

__all__ = [
    "AutoregressiveImageModel",
    "MaskedRowHead",
    "build_row_rnn",
    "check_binary_images",
]


def check_binary_images(images, expected_shape, name: str = "images") -> np.ndarray:
    """Return `images` as float32 after checking their shape and that every pixel is 0 or 1.

    Why: the model is a distribution over binary images; a likelihood of a
    grey-level or [0, 255] image is not defined, and silently scoring one gives
    a meaningless number.

    Args:
        images: a batch, shape `(N, *expected_shape)`.
        expected_shape: the shape of one image the model was built for, e.g. `(28, 28, 1)`.
        name: the argument's name, for the messages.

    Returns:
        The images as a float32 NumPy array.

    Raises:
        ValueError: a wrong shape, or a pixel that is neither 0 nor 1.
    """
    images = np.asarray(images, dtype=np.float32)
    check_image_shape(images.shape, tuple(expected_shape), name)
    if images.size and not np.all((images == 0.0) | (images == 1.0)):
        finite = images[np.isfinite(images)]
        low = float(finite.min()) if finite.size else float("nan")
        high = float(finite.max()) if finite.size else float("nan")
        raise ValueError(
            f"Expected `{name}` with binary pixels, every value 0 or 1 (load the data with "
            f"binarize=True). Received: values in [{low:g}, {high:g}], "
            f"{int(np.sum((images != 0.0) & (images != 1.0)))} of them neither 0 nor 1"
        )
    return images


def _check_temperature(temperature) -> float:
    if (
        isinstance(temperature, bool)
        or not isinstance(temperature, numbers.Real)
        or not np.isfinite(temperature)
        or temperature <= 0
    ):
        raise ValueError(
            "Expected `temperature` to be a positive number (1.0 samples the model as "
            f"trained). Received: temperature={temperature!r}"
        )
    return float(temperature)


@keras.saving.register_keras_serializable(package="course_lib")
class MaskedRowHead(layers.Layer):
    """The logits of one row's pixels from a context vector and that row's earlier pixels.

    A MADE (masked autoencoder for distribution estimation) over the `width`
    pixels of a row: each weight matrix is multiplied by a fixed 0/1 mask so
    that the logit of pixel `c` depends on the context and on pixels `0 .. c-1`
    of the row only. The context (the row GRU's state) reaches every unit.

    Args:
        units: the number of masked hidden units (positive).

    Call arguments:
        inputs: a list `[context, rows]`, `context` of shape `(..., context_dim)`
            and `rows` of shape `(..., width)` with the row's pixels in {0, 1}.

    Returns:
        Logits of shape `(..., width)`.

    Raises:
        ValueError: a non-positive `units`.

    Taught in notebook 08, section 2 ("The model").
    """

    def __init__(self, units: int = 256, **kwargs):
        super().__init__(**kwargs)
        self.units = check_positive_int(units, "units")

    def build(self, input_shape):
        context_shape, rows_shape = input_shape
        context_dim, width = int(context_shape[-1]), int(rows_shape[-1])
        self.width = width
        # Degrees as in MADE: input pixel j has degree j + 1, hidden unit k a degree
        # in 1 .. width - 1; a hidden unit sees the inputs whose degree is <= its own,
        # and output c sees the hidden units whose degree is <= c, so output c
        # depends on pixels 0 .. c-1 only.
        input_degrees = np.arange(1, width + 1)
        hidden_degrees = np.arange(self.units) % max(width - 1, 1) + 1
        self.input_mask = (input_degrees[:, None] <= hidden_degrees[None, :]).astype("float32")
        self.output_mask = (hidden_degrees[:, None] <= np.arange(width)[None, :]).astype("float32")
        self.direct_mask = np.triu(np.ones((width, width), dtype="float32"), k=1)

        def weight(name, shape, initializer="glorot_uniform"):
            return self.add_weight(name=name, shape=shape, initializer=initializer)

        self.context_to_hidden = weight("context_to_hidden", (context_dim, self.units))
        self.input_to_hidden = weight("input_to_hidden", (width, self.units))
        self.hidden_bias = weight("hidden_bias", (self.units,), "zeros")
        self.hidden_to_output = weight("hidden_to_output", (self.units, width))
        self.context_to_output = weight("context_to_output", (context_dim, width))
        self.input_to_output = weight("input_to_output", (width, width))
        self.output_bias = weight("output_bias", (width,), "zeros")

    def context_terms(self, context):
        """The parts of the hidden units and logits that depend on the context alone.

        Sampling computes them once per row and reuses them for every pixel.
        """
        hidden = ops.matmul(context, self.context_to_hidden) + self.hidden_bias
        output = ops.matmul(context, self.context_to_output) + self.output_bias
        return hidden, output

    def logits_from_terms(self, context_hidden, context_output, rows):
        """The logits, given `context_terms(context)` and the (partly known) rows."""
        masked_input = self.input_to_hidden * self.input_mask
        hidden = ops.relu(context_hidden + ops.matmul(rows, masked_input))
        return (
            context_output
            + ops.matmul(hidden, self.hidden_to_output * self.output_mask)
            + ops.matmul(rows, self.input_to_output * self.direct_mask)
        )

    def call(self, inputs):
        context, rows = inputs
        context_hidden, context_output = self.context_terms(context)
        return self.logits_from_terms(context_hidden, context_output, rows)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[1])

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units})
        return config


def build_row_rnn(
    image_shape=(28, 28, 1),
    units: int = 256,
    num_layers: int = 2,
    head_units: int = 256,
    num_classes: int | None = None,
    embedding_dim: int = 16,
    name: str = "row_rnn",
) -> keras.Model:
    """Build the teacher-forced network: binary images in, one logit per pixel out.

    Row `r` of the output is computed from rows `0 .. r-1` (through the GRU, fed
    each row shifted down by one, so that step `r` reads row `r-1`) and from the
    pixels left of each position in row `r` (through `MaskedRowHead`).

    Args:
        image_shape: `(height, width, 1)` of one image.
        units: the GRU's state size (positive).
        num_layers: how many stacked GRU layers run down the rows (positive).
        head_units: the masked head's hidden units (positive).
        num_classes: `None` for an unconditional model, or the number of classes;
            then a second input `labels` (int, shape `(batch,)`) is embedded and
            fed to the GRU at every row.
        embedding_dim: the size of the label embedding (positive).
        name: the model's name.

    Returns:
        A functional `keras.Model` with inputs `images` (and `labels`) and output
        `logits` of shape `(batch, *image_shape)`.

    Raises:
        ValueError: a non-positive size, or an image shape other than `(H, W, 1)`.

    Example:
        >>> network = build_row_rnn((28, 28, 1), units=32, num_layers=1, head_units=32)
        >>> network.output_shape
        (None, 28, 28, 1)

    Taught in notebook 08, section 2 ("The model").
    """
    image_shape = tuple(image_shape)
    if len(image_shape) != 3 or image_shape[-1] != 1:
        raise ValueError(
            "Expected `image_shape` to be (height, width, 1), one channel of binary pixels. "
            f"Received: image_shape={image_shape}"
        )
    height = check_positive_int(image_shape[0], "height")
    width = check_positive_int(image_shape[1], "width")
    units = check_positive_int(units, "units")
    num_layers = check_positive_int(num_layers, "num_layers")
    head_units = check_positive_int(head_units, "head_units")
    embedding_dim = check_positive_int(embedding_dim, "embedding_dim")
    if num_classes is not None:
        num_classes = check_positive_int(num_classes, "num_classes")

    images = keras.Input(shape=image_shape, name="images")
    rows = layers.Reshape((height, width), name="rows")(images)
    # Shift the rows down by one (a zero row on top, the last row dropped): step r
    # of the GRU then reads row r - 1, so its state never sees row r itself.
    previous_rows = layers.ZeroPadding1D((1, 0), name="pad_top")(rows)
    previous_rows = layers.Cropping1D((0, 1), name="previous_rows")(previous_rows)
    inputs = [images]
    x = previous_rows
    if num_classes is not None:
        labels = keras.Input(shape=(), dtype="int32", name="labels")
        inputs.append(labels)
        embedded = label_embedding(labels, num_classes, embedding_dim)
        repeated = layers.RepeatVector(height, name="label_per_row")(embedded)
        x = layers.Concatenate(name="gru_input")([previous_rows, repeated])
    for index in range(num_layers):
        x = layers.GRU(units, return_sequences=True, name=f"row_gru_{index + 1}")(x)
    logits = MaskedRowHead(head_units, name="row_head")([x, rows])
    logits = layers.Reshape(image_shape, name="logits")(logits)
    # A single input is passed as a tensor, not a one-element list, so that calling
    # the network on a batch of images matches its input structure.
    return keras.Model(inputs if num_classes is not None else images, logits, name=name)


@keras.saving.register_keras_serializable(package="course_lib")
class AutoregressiveImageModel(GenerativeModel):
    """Train, score, sample and complete binary images with a `build_row_rnn` network.

    `fit(images)` (or `fit(images, labels)` for a class-conditional network)
    minimises the mean negative log-likelihood in nats per image, by teacher
    forcing. `fit` reports `loss` (nats per image) and `bits_per_dim`.

    Args:
        network: a model from `build_row_rnn`.
        seed: the seed of the model's own `SeedGenerator`, used by `sample` and
            `complete` when they are not given a seed.

    Example:
        >>> model = AutoregressiveImageModel(build_row_rnn(units=32, head_units=32))
        >>> log_p = model.log_likelihood(np.zeros((2, 28, 28, 1), "float32"))
        >>> log_p.shape
        (2,)

    Taught in notebook 08, sections 2 ("The model") to 7.
    """

    def __init__(self, network: keras.Model, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.network = network
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.image_shape = tuple(int(d) for d in network.inputs[0].shape[1:])
        self.num_pixels = int(np.prod(self.image_shape))
        self.conditional = len(network.inputs) > 1
        self.num_classes = (
            int(network.get_layer("label_embedding").input_dim) if self.conditional else None
        )
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.bits_tracker = keras.metrics.Mean(name="bits_per_dim")
        # The functional network already owns every weight: nothing is left to build,
        # so the model can be saved (or scored) before any call to fit.
        self.built = True

    @property
    def metrics(self):
        return [self.loss_tracker, self.bits_tracker]

    def call(self, inputs, training=False):
        return self.network(inputs, training=training)

    # --- the objective -----------------------------------------------------------
    def _split(self, data):
        x, y = unpack_batch(data)
        # fit(x=[images, labels]) passes the labels inside x.
        if isinstance(x, (tuple, list)):
            x, y = x[0], (x[1] if len(x) > 1 else y)
        return x, y

    def _network_inputs(self, images, labels):
        if self.conditional:
            if labels is None:
                raise ValueError(
                    "Expected `labels` for this class-conditional model. Received: labels=None"
                )
            return [images, ops.cast(labels, "int32")]
        return images

    def log_prob(self, images, labels=None, training=False):
        """log p(x) in nats of each image, as a tensor of shape `(batch,)` (graph-friendly).

        With logit `l` of a pixel, `log p(x_i = 1) = -softplus(-l)` and
        `log p(x_i = 0) = -softplus(l)`, i.e. `x * l - softplus(l)`; the chain
        rule makes the image's log-probability the sum over its pixels.
        """
        images = ops.cast(images, "float32")
        logits = self.network(self._network_inputs(images, labels), training=training)
        per_pixel = images * logits - ops.softplus(logits)
        return ops.sum(ops.reshape(per_pixel, (ops.shape(per_pixel)[0], -1)), axis=1)

    def _update_trackers(self, nll):
        self.loss_tracker.update_state(nll)
        self.bits_tracker.update_state(nll / (self.num_pixels * np.log(2.0)))
        return distribute.logs_for_fit({m.name: m.result() for m in self.metrics})

    def train_step(self, data):
        images, labels = self._split(data)
        with tf.GradientTape() as tape:
            nll = -self.log_prob(images, labels, training=True)
            loss = ops.mean(nll)
            # Under a strategy: this replica's share of the global-batch loss (see distribute).
            share = distribute.scale_loss_for_replicas(loss)
        gradients = tape.gradient(share, self.trainable_weights)
        self.optimizer.apply(gradients, self.trainable_weights)
        return self._update_trackers(nll)

    def test_step(self, data):
        images, labels = self._split(data)
        return self._update_trackers(-self.log_prob(images, labels))

    # --- scoring -----------------------------------------------------------------
    def log_likelihood(self, images, labels=None, batch_size: int = 500) -> np.ndarray:
        """The exact log-likelihood log p(x) in nats of each binary image.

        Args:
            images: binary images (every pixel 0 or 1), shape `(N, *image_shape)`.
            labels: class labels, shape `(N,)`, for a class-conditional model only.
            batch_size: images per forward pass (positive).

        Returns:
            A float64 array of shape `(N,)`; `-mean` of it is the NLL in nats per image.

        Raises:
            ValueError: a wrong shape, a pixel that is neither 0 nor 1, missing or
                unexpected labels, or a non-positive `batch_size`.
        """
        images = check_binary_images(images, self.image_shape)
        labels = self._check_labels(labels, len(images))
        batch_size = check_positive_int(batch_size, "batch_size")
        scores = []
        for start in range(0, len(images), batch_size):
            batch = images[start : start + batch_size]
            batch_labels = None if labels is None else labels[start : start + batch_size]
            scores.append(ops.convert_to_numpy(self._log_prob_graph(batch, batch_labels)))
        return np.concatenate(scores).astype(np.float64) if scores else np.zeros(0)

    @tf.function(reduce_retracing=True)
    def _log_prob_graph(self, images, labels):
        return self.log_prob(images, labels)

    # --- sampling ----------------------------------------------------------------
    def _seed_generator(self, seed):
        if seed is None:
            return self.seed_generator
        if isinstance(seed, keras.random.SeedGenerator):
            return seed
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
            raise ValueError(
                "Expected `seed` to be None, an int or a keras.random.SeedGenerator. "
                f"Received: seed={seed!r}"
            )
        return keras.random.SeedGenerator(int(seed))

    def _gru_cells(self):
        num_layers = sum(layer.name.startswith("row_gru_") for layer in self.network.layers)
        return [self.network.get_layer(f"row_gru_{i + 1}").cell for i in range(num_layers)]

    @tf.function(reduce_retracing=True)
    def _advance(self, previous, states, embedded):
        """One step of every GRU layer: read row r - 1, return the context of row r."""
        x = ops.concatenate([previous, embedded], axis=1) if self.conditional else previous
        new_states = []
        for cell, state in zip(self._gru_cells(), states, strict=True):
            x, _ = cell(x, [state])
            new_states.append(x)
        return x, new_states

    @tf.function(reduce_retracing=True)
    def _draw_row(self, context, temperature, uniform):
        """Draw one row's pixels left to right, each given the context and those before it.

        `uniform` holds one U(0, 1) number per pixel, drawn outside so that a new
        `SeedGenerator` (a new seed) does not force a new trace of this graph.
        """
        head = self.network.get_layer("row_head")
        num_images = ops.shape(context)[0]
        context_hidden, context_output = head.context_terms(context)
        columns = ops.arange(head.width)
        current = ops.zeros((num_images, head.width))
        for column in range(head.width):
            # Pixels right of `column` are still 0; the masks make them irrelevant.
            logits = head.logits_from_terms(context_hidden, context_output, current)[:, column]
            probability = ops.sigmoid(logits / temperature)
            pixel = ops.cast(uniform[:, column] < probability, "float32")
            current = ops.where(columns[None, :] == column, pixel[:, None], current)
        return current

    def _generate(self, given, num_given_rows, num_rows, labels, temperature, seed_generator):
        """Draw rows `num_given_rows .. num_rows-1` pixel by pixel; keep the given rows.

        Mirrors `build_row_rnn` one step at a time: the GRU cells advance one row,
        then the head draws the row's pixels left to right, because pixel `c`'s
        distribution needs the pixels `0 .. c-1` just drawn. Both steps are
        compiled graphs (`tf.function`): eager, the thousands of tiny operations
        of one image would cost more than the arithmetic.
        """
        height, width = self.image_shape[:2]
        num_images = given.shape[0]
        states = [ops.zeros((num_images, cell.units)) for cell in self._gru_cells()]
        embedded = (
            self.network.get_layer("label_embedding")(ops.convert_to_tensor(labels))
            if self.conditional
            else ops.zeros((num_images, 0))
        )
        temperature = ops.convert_to_tensor(temperature, "float32")
        output = np.zeros((num_images, height, width), dtype=np.float32)
        output[:, :num_given_rows] = given[:, :num_given_rows, :, 0]
        previous = ops.zeros((num_images, width))
        for row in range(num_rows):
            context, states = self._advance(previous, states, embedded)
            if row < num_given_rows:
                previous = ops.convert_to_tensor(output[:, row])
            else:
                uniform = keras.random.uniform((num_images, width), seed=seed_generator)
                previous = self._draw_row(context, temperature, uniform)
                output[:, row] = ops.convert_to_numpy(previous)
        return output[..., np.newaxis]

    def sample(
        self,
        num_samples: int,
        *,
        labels=None,
        seed=None,
        temperature: float = 1.0,
        num_rows: int | None = None,
    ) -> np.ndarray:
        """Draw new binary images pixel by pixel, in raster order.

        The course's sampling contract (`GenerativeModel.sample`), with two more
        options of this family: the temperature and the number of rows drawn.

        Args:
            num_samples: how many images (positive).
            labels: for a class-conditional model, the class of each sample, shape
                `(num_samples,)`; None gives the classes in turn (0, 1, 2, ...).
            temperature: divides the logits; below 1 sharpens each pixel's
                distribution (cleaner, less varied), above 1 flattens it.
            seed: None (the model's own `SeedGenerator`, a new draw each call), an
                int (the same images on every call) or a `keras.random.SeedGenerator`.
            num_rows: draw only the first `num_rows` rows and leave the rest 0 (to
                time sampling against the number of pixels); all rows when None.

        Returns:
            Float32 images in {0, 1}, shape `(num_samples, *image_shape)`.

        Raises:
            ValueError: a non-positive count or temperature, a bad `num_rows`,
                missing or unexpected labels, or a seed of the wrong type.

        Taught in notebook 08, section 5 ("Sampling and temperature").
        """
        num_samples = check_positive_int(num_samples, "num_samples")
        temperature = _check_temperature(temperature)
        height = self.image_shape[0]
        num_rows = height if num_rows is None else check_positive_int(num_rows, "num_rows")
        if num_rows > height:
            raise ValueError(
                f"Expected `num_rows` <= {height}, the image height. Received: num_rows={num_rows}"
            )
        labels = self._sample_labels(labels, num_samples)
        given = np.zeros((num_samples, *self.image_shape), dtype=np.float32)
        return self._generate(given, 0, num_rows, labels, temperature, self._seed_generator(seed))

    def complete(
        self, images, num_given_rows: int, labels=None, temperature: float = 1.0, seed=None
    ) -> np.ndarray:
        """Keep the top `num_given_rows` rows of each image and draw the rest.

        The given rows are copied unchanged; the GRU reads them (teacher forcing)
        and the remaining rows are sampled conditioned on them.

        Args:
            images: binary images, shape `(N, *image_shape)`; only their top rows are used.
            num_given_rows: how many top rows to keep, 1 .. height (with `height`
                nothing is left to draw).
            labels: class labels for a class-conditional model.
            temperature: as in `sample`.
            seed: as in `sample`.

        Returns:
            Float32 images in {0, 1}, shape `(N, *image_shape)`.

        Raises:
            ValueError: a wrong image shape or non-binary pixels, a bad
                `num_given_rows`, temperature, labels or seed.

        Taught in notebook 08, section 6 ("Completing a digit").
        """
        images = check_binary_images(images, self.image_shape)
        height = self.image_shape[0]
        num_given_rows = check_positive_int(num_given_rows, "num_given_rows")
        if num_given_rows > height:
            raise ValueError(
                f"Expected `num_given_rows` <= {height}, the image height. "
                f"Received: num_given_rows={num_given_rows}"
            )
        temperature = _check_temperature(temperature)
        labels = self._check_labels(labels, len(images))
        return self._generate(
            images, num_given_rows, height, labels, temperature, self._seed_generator(seed)
        )

    # --- saving ------------------------------------------------------------------
    def get_config(self):
        config = super().get_config()
        config.update(
            {"network": keras.saving.serialize_keras_object(self.network), "seed": self.seed}
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["network"] = keras.saving.deserialize_keras_object(config["network"])
        return cls(**config)
