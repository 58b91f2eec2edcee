"""The exercise checks of notebooks 00, 01 and 02 reject plausible wrong answers.

For every exercise: at least three wrong answers a learner would plausibly write,
each of which the check must reject with an `AssertionError`, and one correct
answer written differently from the notebook's solution, which it must accept.
Synthetic data and tiny models keep the whole file at unit-test speed.
"""

import keras
import matplotlib
import numpy as np
import pytest
import tensorflow as tf
from sklearn.decomposition import PCA
from sklearn.metrics import roc_auc_score

from course_lib.checks import autoencoders as ae_checks
from course_lib.checks import tour
from course_lib.metrics import reconstruction
from course_lib.models.autoencoder import (
    Autoencoder,
    build_conv_decoder,
    build_conv_encoder,
    build_dense_decoder,
    build_dense_encoder,
)
from course_lib.plotting import reconstruction_rows

matplotlib.use("Agg")


def _rejects(check, *args, **kwargs):
    with pytest.raises(AssertionError):
        check(*args, **kwargs)


# =========================================================================== notebook 00


@pytest.fixture(scope="module")
def digits():
    """Structured 8x8 'images': a few strong directions plus noise, with labels."""
    rng = np.random.default_rng(0)
    basis = rng.normal(size=(16, 64))
    weights = rng.normal(size=(300, 16)) * np.geomspace(1.0, 0.05, 16)
    flat = 0.5 + 0.1 * weights @ basis + 0.01 * rng.normal(size=(300, 64))
    images = np.clip(flat, 0, 1).reshape(300, 8, 8, 1).astype("float32")
    labels = np.arange(300) % 10
    return images[:200], labels[:200], images[200:]


def test_00_exercise_1(digits):
    images, labels, other = digits
    right = np.stack([images[labels == k].mean(axis=0) for k in range(10)])
    _rejects(
        tour.check_exercise_1,
        np.stack([np.median(images[labels == k], 0) for k in range(10)]),
        images,
        labels,
    )
    _rejects(tour.check_exercise_1, right[..., 0], images, labels)  # dropped the channel axis
    _rejects(tour.check_exercise_1, np.repeat(images.mean(0)[None], 10, 0), images, labels)
    _rejects(
        tour.check_exercise_1,
        np.stack([other[labels[:100] == k].mean(0) for k in range(10)]),
        images,
        labels,
    )
    _rejects(tour.check_exercise_1, None, images, labels)
    sums = np.zeros((10, 8, 8, 1))
    np.add.at(sums, labels, images)
    tour.check_exercise_1(sums / np.bincount(labels)[:, None, None, None], images, labels)


def test_00_exercise_2():
    for wrong in (lambda x: x - 0.5, lambda x: 2 * x, lambda x: 1 - 2 * x, lambda x: 2 * x - 0.5):
        _rejects(tour.check_exercise_2, wrong)
    tour.check_exercise_2(lambda x: (x - 0.5) / 0.5)


def _pca_errors(train, validation, candidates, measure_on=None):
    measure_on = validation if measure_on is None else measure_on
    errors = {}
    for k in candidates:
        model = PCA(n_components=k, random_state=0).fit(train)
        errors[k] = float(
            np.mean((model.inverse_transform(model.transform(measure_on)) - measure_on) ** 2)
        )
    return errors


def test_00_exercise_3(digits):
    images, _, other = digits
    train, validation = images.reshape(200, -1), other[:60].reshape(60, -1)
    test = other[60:].reshape(40, -1)  # the split the exercise must not choose on
    candidates = [2, 4, 8, 16]
    errors = _pca_errors(train, validation, candidates)
    target = (errors[4] + errors[8]) / 2  # the answer is 8
    check = tour.check_exercise_3
    args = (candidates, train, validation)
    _rejects(check, 8, None, *args, target=target)  # a guess, no method
    train_errors = _pca_errors(train, validation, candidates, measure_on=train)
    _rejects(check, 8, train_errors, *args, target=target)  # measured on train
    test_errors = _pca_errors(train, validation, candidates, measure_on=test)
    _rejects(check, 8, test_errors, *args, target=target)  # measured on the test split
    _rejects(check, 8, {k: v * 64 for k, v in errors.items()}, *args, target=target)
    _rejects(check, 4, errors, *args, target=target)  # off by one candidate
    _rejects(check, 16, errors, *args, target=target)  # the last, not the first
    # Another correct way: the SVD by hand, and the first k found by a loop.
    mean = train.mean(0)
    _, _, vt = np.linalg.svd(train - mean, full_matrices=False)
    by_hand = {}
    for k in candidates:
        restored = (validation - mean) @ vt[:k].T @ vt[:k] + mean
        by_hand[k] = float(((restored - validation) ** 2).mean())
    answer = None
    for k in sorted(candidates):
        if by_hand[k] <= target:
            answer = k
            break
    check(answer, by_hand, *args, target=target)


def test_00_exercise_4(digits):
    images, _, other = digits
    train = images.reshape(200, -1)
    right_k = 8

    def figure(k=right_k, originals=other, swap=False, num_images=8, clip=False):
        model = PCA(n_components=k, random_state=0).fit(train)
        restored = model.inverse_transform(
            model.transform(originals[:num_images].reshape(num_images, -1))
        )
        restored = np.clip(restored, 0, 1) if clip else restored
        restored = restored.reshape(-1, 8, 8, 1)
        rows = (restored, originals[:num_images]) if swap else (originals[:num_images], restored)
        return reconstruction_rows(*rows, num_images=num_images)

    check = tour.check_exercise_4
    _rejects(check, None, right_k, other, train)  # plt.show() returns None
    _rejects(check, figure(k=4), right_k, other, train)  # the section's k, not the answer's
    _rejects(check, figure(swap=True), right_k, other, train)  # rows swapped
    _rejects(check, figure(originals=images), right_k, other, train)  # training digits
    _rejects(check, figure(num_images=10), right_k, other, train)
    check(figure(clip=True), right_k, other, train)


# =========================================================================== notebook 01


def test_01_exercise_1():
    check = ae_checks.check_01_exercise_1
    _rejects(check, lambda k, b: 784 / k)  # ignores code_bits
    _rejects(check, lambda k, b: (784 * 8) // (k * b))  # integer division
    _rejects(check, lambda k, b: (k * b) / (784 * 8))  # the inverse
    _rejects(check, lambda k, b: (784 * 32) / (k * b))  # 32-bit pixels
    check(lambda latent_dim, code_bits: 6272.0 / latent_dim / code_bits)


def _bce(x, y, clip=True, log=np.log, reduce=np.mean):
    p = np.clip(y, 1e-7, 1 - 1e-7) if clip else y
    with np.errstate(all="ignore"):
        per_pixel = -(x * log(p) + (1 - x) * log(1 - p))
    return reduce(per_pixel.reshape(len(x), -1), axis=1)


def test_01_exercise_2():
    rng = np.random.default_rng(3)
    x = rng.random((4, 28, 28, 1))
    x_hat = rng.random((4, 28, 28, 1))
    check = ae_checks.check_01_exercise_2
    _rejects(check, lambda a, b: _bce(a, b, clip=False), x, x_hat)
    _rejects(check, lambda a, b: _bce(a, b, reduce=np.sum), x, x_hat)
    _rejects(check, lambda a, b: _bce(a, b, log=np.log2), x, x_hat)
    _rejects(check, lambda a, b: _bce(b, a), x, x_hat)  # arguments swapped
    _rejects(check, lambda a, b: float(_bce(a, b).mean()), x, x_hat)  # one number, not per image

    def other_way(a, b):
        p = np.minimum(np.maximum(b, 1e-7), 1 - 1e-7)
        return np.mean(-(a * np.log(p) + (1 - a) * np.log1p(-p)), axis=(1, 2, 3))

    check(other_way, x, x_hat)


def test_01_exercise_3():
    rng = np.random.default_rng(4)
    data = rng.normal(size=(40, 20)) @ rng.normal(size=(20, 20)) + 3.0
    pca = PCA(n_components=5, random_state=0).fit(data)
    check = ae_checks.check_01_exercise_3
    _rejects(check, lambda p, x: x @ p.components_.T @ p.components_ + p.mean_, pca, data)
    _rejects(check, lambda p, x: (x - p.mean_) @ p.components_.T @ p.components_, pca, data)
    _rejects(check, lambda p, x: (x - p.mean_) @ p.components_ @ p.components_.T, pca, data)
    _rejects(check, lambda p, x: x, pca, data)  # no code at all
    check(
        lambda p, x: p.mean_ + np.dot(p.components_.T, p.components_ @ (x - p.mean_).T).T, pca, data
    )


def test_01_exercise_4():
    check = ae_checks.check_01_exercise_4
    _rejects(check, lambda a, b, n: np.linspace(a, b, n, endpoint=False))
    _rejects(check, lambda a, b, n: np.linspace(b, a, n))  # ends swapped
    _rejects(check, lambda a, b, n: np.linspace(a, b, n + 1)[1:])  # off by one
    _rejects(check, lambda a, b, n: np.linspace(0.0, 1.0, n)[:, None] * b)  # forgets z_a
    check(lambda a, b, n: a + np.arange(n)[:, None] / (n - 1) * (b - a))


# --- exercise 5: networks and a train_step


def _encoder(latent_dim, hidden_units, code_activation=None, hidden_activation="relu"):
    images = keras.Input(shape=(28, 28, 1))
    x = keras.layers.Flatten()(images)
    for units in hidden_units:
        x = keras.layers.Dense(units, activation=hidden_activation)(x)
    return keras.Model(images, keras.layers.Dense(latent_dim, activation=code_activation)(x))


def _decoder(latent_dim, hidden_units, output_activation="sigmoid"):
    codes = keras.Input(shape=(latent_dim,))
    x = codes
    for units in hidden_units:
        x = keras.layers.Dense(units, activation="relu")(x)
    x = keras.layers.Dense(784, activation=output_activation)(x)
    return keras.Model(codes, keras.layers.Reshape((28, 28, 1))(x))


class _Base(keras.Model):
    def __init__(self, encoder, decoder, loss="mse", **kwargs):
        super().__init__(**kwargs)
        self.encoder, self.decoder, self.loss_name = encoder, decoder, loss
        self.loss_tracker = keras.metrics.Mean(name="loss")

    @property
    def metrics(self):
        return [self.loss_tracker]

    def call(self, images, training=False):
        return self.decoder(self.encoder(images, training=training), training=training)

    def reconstruction_loss(self, images, reconstructions):
        if self.loss_name == "bce":
            p = keras.ops.clip(reconstructions, 1e-7, 1 - 1e-7)
            per_pixel = -(images * keras.ops.log(p) + (1 - images) * keras.ops.log(1 - p))
        else:
            per_pixel = keras.ops.square(images - reconstructions)
        return keras.ops.mean(per_pixel)

    def _images(self, data):
        return keras.utils.unpack_x_y_sample_weight(data)[0]


class _Joint(_Base):
    """The notebook's solution."""

    def train_step(self, data):
        images = self._images(data)
        with tf.GradientTape() as tape:
            loss = self.reconstruction_loss(images, self(images, training=True))
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply(gradients, self.trainable_variables)
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}


class _JointOtherWay(_Base):
    """Correct, written differently: explicit halves, apply_gradients, Keras's own MSE."""

    def train_step(self, data):
        images = self._images(data)
        variables = self.encoder.trainable_variables + self.decoder.trainable_variables
        with tf.GradientTape() as tape:
            codes = self.encoder(images, training=True)
            restored = self.decoder(codes, training=True)
            if self.loss_name == "mse":
                loss = tf.reduce_mean(tf.square(restored - images))
            else:
                loss = self.reconstruction_loss(images, restored)
        self.optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=False))
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}


class _EncoderOnly(_Base):
    def train_step(self, data):
        images = self._images(data)
        with tf.GradientTape() as tape:
            loss = self.reconstruction_loss(images, self(images, training=True))
        variables = self.encoder.trainable_variables
        self.optimizer.apply(tape.gradient(loss, variables), variables)
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}


class _SeparateHalves(_Base):
    """Two tapes and two optimizers: each half trained in its own pass."""

    def train_step(self, data):
        images = self._images(data)
        if not hasattr(self, "_second"):
            self._second = keras.optimizers.SGD(10.0)
        with tf.GradientTape() as tape:
            codes = tf.stop_gradient(self.encoder(images, training=True))
            loss = self.reconstruction_loss(images, self.decoder(codes, training=True))
        variables = self.decoder.trainable_variables
        self.optimizer.apply(tape.gradient(loss, variables), variables)
        with tf.GradientTape() as tape:
            second = self.reconstruction_loss(images, self(images, training=True))
        variables = self.encoder.trainable_variables
        self._second.apply(tape.gradient(second, variables), variables)
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}


class _LossOnCode(_Base):
    def train_step(self, data):
        images = self._images(data)
        with tf.GradientTape() as tape:
            loss = keras.ops.mean(keras.ops.square(self.encoder(images, training=True)))
        gradients = tape.gradient(loss, self.trainable_variables)
        gradients = [
            tf.zeros_like(v) if g is None else g
            for g, v in zip(gradients, self.trainable_variables, strict=False)
        ]
        self.optimizer.apply(gradients, self.trainable_variables)
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}


class _NoUpdate(_Base):
    def train_step(self, data):
        images = self._images(data)
        self.loss_tracker.update_state(self.reconstruction_loss(images, self(images)))
        return {"loss": self.loss_tracker.result()}


class _SummedLoss(_Joint):
    def reconstruction_loss(self, images, reconstructions):
        return super().reconstruction_loss(images, reconstructions) * 784


@pytest.fixture(scope="module")
def small_batch():
    return np.random.default_rng(5).random((8, 28, 28, 1)).astype("float32")


def test_01_exercise_5(small_batch):
    check = ae_checks.check_01_exercise_5
    no_sigmoid = lambda k, h: _decoder(k, h, output_activation="linear")  # noqa: E731
    relu_code = lambda k, h: _encoder(k, h, code_activation="relu")  # noqa: E731
    _rejects(check, _encoder, no_sigmoid, _Joint, small_batch)  # no sigmoid for BCE
    _rejects(check, relu_code, _decoder, _Joint, small_batch)  # a ReLU on the code
    _rejects(check, lambda k, h: _encoder(k, (*h, 8)), _decoder, _Joint, small_batch)
    _rejects(check, lambda k, h: None, _decoder, _Joint, small_batch)  # the stub
    for wrong in (_EncoderOnly, _SeparateHalves, _LossOnCode, _NoUpdate, _SummedLoss):
        _rejects(check, _encoder, _decoder, wrong, small_batch)

    def sequential_encoder(latent_dim, hidden_units):
        layers = [keras.Input((28, 28, 1)), keras.layers.Flatten()]
        layers += [keras.layers.Dense(u, activation="relu") for u in hidden_units]
        return keras.Sequential([*layers, keras.layers.Dense(latent_dim)])

    check(sequential_encoder, _decoder, _JointOtherWay, small_batch)


def _tiny_autoencoder(loss, seed=0):
    keras.utils.set_random_seed(seed)
    model = Autoencoder(
        build_dense_encoder(3, image_shape=(8, 8, 1), hidden_units=(8,)),
        build_dense_decoder(3, image_shape=(8, 8, 1), hidden_units=(8,)),
        loss=loss,
    )
    model.compile(optimizer=keras.optimizers.Adam(0.01))
    return model


def test_01_exercise_6(digits):
    images, _, other = digits
    validation_images, test_images = other[:60], other[60:]
    models = {}
    for loss in ("mse", "bce"):
        models[loss] = _tiny_autoencoder(loss)
        models[loss].fit(images, epochs=1, batch_size=100, verbose=0)
    right = {
        k: reconstruction.mse(validation_images, m.reconstruct(validation_images))
        for k, m in models.items()
    }
    best = min(right, key=right.get)
    worst = max(right, key=right.get)
    check = ae_checks.check_01_exercise_6
    on_train = {k: reconstruction.mse(images, m.reconstruct(images)) for k, m in models.items()}
    _rejects(check, on_train, best, models, validation_images)
    on_test = {
        k: reconstruction.mse(test_images, m.reconstruct(test_images)) for k, m in models.items()
    }
    _rejects(check, on_test, best, models, validation_images)  # chosen on the test split
    own_loss = {
        "mse": right["mse"],
        "bce": reconstruction.bce(validation_images, models["bce"].reconstruct(validation_images)),
    }
    _rejects(check, own_loss, best, models, validation_images)  # each model on its own loss
    _rejects(check, right, worst, models, validation_images)  # the direction of the comparison
    _rejects(check, right, best, {"mse": models["bce"], "bce": models["mse"]}, validation_images)
    _rejects(check, {k: v * 64 for k, v in right.items()}, best, models, validation_images)
    per_image = {
        k: float(
            np.mean(
                np.mean((m.reconstruct(validation_images) - validation_images) ** 2, axis=(1, 2, 3))
            )
        )
        for k, m in models.items()
    }
    check(
        per_image,
        "mse" if per_image["mse"] < per_image["bce"] else "bce",
        models,
        validation_images,
    )


# =========================================================================== notebook 02


def test_02_exercise_1(small_batch):
    check = ae_checks.check_02_exercise_1
    _rejects(check, lambda m, top=1.0: 10 * np.log10(top / m), small_batch)  # MAX not squared
    _rejects(check, lambda m, top=1.0: 20 * np.log10(top**2 / m), small_batch)
    _rejects(check, lambda m, top=1.0: 10 * np.log10(1.0 / m), small_batch)  # ignores max_value
    _rejects(check, lambda m, top=1.0: 10 * np.log(top**2 / m), small_batch)  # natural log
    check(lambda m, top=1.0: 20 * np.log10(top / np.sqrt(m)), small_batch)


def test_02_exercise_2():
    rng = np.random.default_rng(6)
    originals = rng.random((5, 6, 6, 1))
    restored = rng.random((5, 6, 6, 1))
    masks = np.ones((5, 6, 6, 1))
    for n in range(5):
        masks[n, n : n + 2, 1 : 2 + n] = 0  # holes of different sizes
    check = ae_checks.check_02_exercise_2

    def pooled(x, y, m, hidden_value=0):
        hidden = m == hidden_value
        return float(np.mean((x[hidden] - y[hidden]) ** 2))

    _rejects(check, lambda x, y, m: pooled(x, y, m, 1), originals, restored, masks)
    _rejects(
        check,
        lambda x, y, m: float(np.sum(((x - y) ** 2)[m == 0]) / x.size),
        originals,
        restored,
        masks,
    )

    def per_image(x, y, m):
        return float(np.mean([pooled(a, b, c) for a, b, c in zip(x, y, m, strict=True)]))

    _rejects(check, per_image, originals, restored, masks)
    _rejects(check, lambda x, y, m: np.sqrt(pooled(x, y, m)), originals, restored, masks)
    weighted = lambda x, y, m: float(np.sum((1 - m) * (x - y) ** 2) / np.sum(1 - m))  # noqa: E731
    check(weighted, originals, restored, masks)


def test_02_exercise_3():
    rng = np.random.default_rng(7)
    validation = rng.gamma(2.0, 1.0, size=200)
    test_scores = np.concatenate([rng.gamma(2.2, 1.0, size=300), rng.gamma(4.0, 1.0, size=60)])
    is_anomaly = np.r_[np.zeros(300, int), np.ones(60, int)]
    normal, anomalous = test_scores[is_anomaly == 0], test_scores[is_anomaly == 1]

    def rates(threshold):
        return float(np.mean(normal > threshold)), float(np.mean(anomalous > threshold))

    check = ae_checks.check_02_exercise_3
    args = (validation, test_scores, is_anomaly)
    on_test = np.percentile(normal, 95)  # set on the test normals
    _rejects(check, on_test, *rates(on_test), *args)
    on_all = np.percentile(test_scores, 95)
    _rejects(check, on_all, *rates(on_all), *args)
    fifth = np.percentile(validation, 5)  # the wrong tail
    _rejects(check, fifth, *rates(fifth), *args)
    right = np.percentile(validation, 95)
    false_alarms, detected = rates(right)
    _rejects(check, right, false_alarms, float(np.mean(test_scores > right)), *args)
    _rejects(check, right, detected, false_alarms, *args)  # the two rates swapped
    _rejects(check, right, false_alarms, float(np.mean(anomalous < right)), *args)
    # Other percentile conventions are correct too (the N02-3 fix).
    by_index = np.sort(validation)[int(0.95 * len(validation))]
    check(by_index, *rates(by_index), *args)
    higher = np.percentile(validation, 95, method="higher")
    check(higher, float(np.mean(normal >= higher)), float(np.mean(anomalous >= higher)), *args)


def test_02_exercise_4():
    codes = np.random.default_rng(8).normal(size=(5, 4))
    low, high = codes.min(0), codes.max(0)
    check = ae_checks.check_02_exercise_4

    def quantize(z, b, lo, hi, levels=None, clip=True, rounding=np.round, index=False):
        levels = 2**b - 1 if levels is None else levels(b)
        unit = ((np.clip(z, lo, hi) if clip else z) - lo) / (hi - lo)
        steps = rounding(unit * levels)
        return steps if index else steps / levels * (hi - lo) + lo

    _rejects(check, lambda *a: quantize(*a, levels=lambda b: 2**b), codes, low, high)
    _rejects(check, lambda *a: quantize(*a, clip=False), codes, low, high)
    _rejects(check, lambda *a: quantize(*a, rounding=np.floor), codes, low, high)
    _rejects(check, lambda *a: quantize(*a, index=True), codes, low, high)

    def nearest_level(z, b, lo, hi):
        z = np.clip(z, lo, hi)
        grid = np.linspace(0.0, 1.0, 2**b)
        unit = (z - lo) / (hi - lo)
        return grid[np.abs(unit[..., None] - grid).argmin(-1)] * (hi - lo) + lo

    check(nearest_level, codes, low, high)


@pytest.fixture(scope="module")
def anomaly_setup():
    rng = np.random.default_rng(9)
    y_train = np.arange(60) % 3
    is_anomaly = (np.arange(30) % 3 == 0).astype(int)
    # Class 0, the anomaly, is bright noise; the normal classes are dim.
    x_train = rng.random((60, 8, 8, 1)) * np.where(y_train == 0, 1.0, 0.3)[:, None, None, None]
    x_test = rng.random((30, 8, 8, 1)) * np.where(is_anomaly == 1, 1.0, 0.3)[:, None, None, None]
    x_train, x_test = x_train.astype("float32"), x_test.astype("float32")
    return x_train, y_train, x_test, is_anomaly


def _conv_detector(images, trained=True):
    keras.utils.set_random_seed(0)
    model = Autoencoder(
        build_conv_encoder(3, image_shape=(8, 8, 1), filters=(4,)),
        build_conv_decoder(3, image_shape=(8, 8, 1), filters=(4,)),
    )
    model.compile(optimizer=keras.optimizers.Adam(0.01))
    if trained:
        model.fit(images, epochs=1, batch_size=32, verbose=0)
    return model


def test_02_exercise_5(anomaly_setup):
    x_train, y_train, x_test, is_anomaly = anomaly_setup
    held_out = 0
    normal = x_train[y_train != held_out]
    model = _conv_detector(normal)
    scores = reconstruction.mse(x_test, model.reconstruct(x_test), per_image=True)
    auc = reconstruction.roc_auc(is_anomaly, scores)
    check = ae_checks.check_02_exercise_5
    data = (x_train, y_train, x_test, is_anomaly, held_out)
    _rejects(check, model, x_train, scores, auc, *data)  # trained on every class
    _rejects(check, model, np.concatenate([normal, x_test[:5]]), scores, auc, *data)
    train_scores = reconstruction.mse(normal, model.reconstruct(normal), per_image=True)
    _rejects(check, model, normal, train_scores, auc, *data)  # scored the training images
    assert abs(auc - 0.5) > 0.1  # the tiny case must tell the two directions apart
    _rejects(check, model, normal, scores, 1 - auc, *data)  # the score direction reversed
    _rejects(check, model, normal, scores * 64, auc, *data)  # summed over pixels
    _rejects(
        check,
        model,
        normal,
        scores,
        float(np.mean((scores > np.median(scores)) == is_anomaly)),
        *data,
    )
    dense = _tiny_autoencoder("mse")
    dense.fit(normal, epochs=1, batch_size=32, verbose=0)
    dense_scores = reconstruction.mse(x_test, dense.reconstruct(x_test), per_image=True)
    _rejects(
        check, dense, normal, dense_scores, reconstruction.roc_auc(is_anomaly, dense_scores), *data
    )
    untrained = _conv_detector(normal, trained=False)
    untrained_scores = reconstruction.mse(x_test, untrained.reconstruct(x_test), per_image=True)
    _rejects(
        check,
        untrained,
        normal,
        untrained_scores,
        reconstruction.roc_auc(is_anomaly, untrained_scores),
        *data,
    )
    # Correct, written differently: scores by hand, sklearn's AUC.
    by_hand = np.mean((model.reconstruct(x_test) - x_test) ** 2, axis=(1, 2, 3))
    check(model, normal, by_hand, roc_auc_score(is_anomaly, by_hand), *data)
