"""Every check of notebooks 06, 07 and 08 rejects plausible wrong answers and accepts a right one.

For each exercise: at least three wrong answers a learner could plausibly write (each
must raise `AssertionError`) and one correct answer written differently from the
solution (it must pass). Small synthetic inputs and tiny models only.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_lib.checks import autoregressive as ar
from course_lib.checks import gans
from tests.conftest import rejects

keras.config.disable_interactive_logging()


# --------------------------------------------------------------------------- 06, exercise 1


def size_right(n, k, s, padding):
    if padding == "same":
        return s * n
    return n * s + max(k - s, 0)  # the kernel overhangs the last stride by k - s


@pytest.mark.parametrize(
    "wrong",
    [
        lambda n, k, s, p: n * s if p == "same" else (n - 1) * s + k,  # no pad-up
        lambda n, k, s, p: n * s,  # ignores the padding
        lambda n, k, s, p: (n - 1) * s + k - 2 * (k // 2) if p == "same" else (n - 1) * s + k,
        lambda n, k, s, p: (n - k) // s + 1 if p == "valid" else n,  # a convolution's size
        lambda n, k, s, p: n * k if p == "same" else (n - 1) * k + max(k, s),  # swapped k, s
    ],
)
def test_transposed_size_rejects(wrong):
    rejects(gans.check_transposed_output_size, wrong)


def test_transposed_size_accepts(capsys):
    gans.check_transposed_output_size(size_right)
    assert "Correct" in capsys.readouterr().out


# --------------------------------------------------------------------------- 06, exercise 2


def slerp_right(z0, z1, t):
    u0, u1 = z0 / np.linalg.norm(z0), z1 / np.linalg.norm(z1)
    theta = np.arctan2(np.linalg.norm(u0 - u1 * np.dot(u0, u1)), np.dot(u0, u1))
    return (np.sin((1 - t) * theta) * z0 + np.sin(t * theta) * z1) / np.sin(theta)


def _theta(z0, z1):
    return np.arccos(np.dot(z0, z1) / (np.linalg.norm(z0) * np.linalg.norm(z1)))


@pytest.mark.parametrize(
    "wrong",
    [
        lambda z0, z1, t: (1 - t) * z0 + t * z1,  # linear
        lambda z0, z1, t: (
            (np.sin(t * _theta(z0, z1)) * z0 + np.sin((1 - t) * _theta(z0, z1)) * z1)
            / np.sin(_theta(z0, z1))
        ),  # swapped weights
        lambda z0, z1, t: np.sin((1 - t) * _theta(z0, z1)) * z0 + np.sin(t * _theta(z0, z1)) * z1,
        lambda z0, z1, t: slerp_right(z0 / np.linalg.norm(z0), z1 / np.linalg.norm(z1), t),
        lambda z0, z1, t: (
            (
                np.sin((1 - t) * np.arccos(np.clip(z0 @ z1, -1, 1))) * z0
                + np.sin(t * np.arccos(np.clip(z0 @ z1, -1, 1))) * z1
            )
            / np.sin(np.arccos(np.clip(z0 @ z1, -1, 1)))
        ),  # angle without normalising
    ],
)
def test_slerp_rejects(wrong):
    rejects(gans.check_slerp, wrong)


def test_slerp_accepts(capsys):
    gans.check_slerp(slerp_right)
    assert "Correct" in capsys.readouterr().out


# --------------------------------------------------------------------------- 06, exercise 3


def count_right(latent_dim, base_filters, refine):
    w = base_filters
    batch_norm = lambda channels: 4 * channels  # noqa: E731
    total = latent_dim * 49 * 2 * w + batch_norm(49 * 2 * w)
    total += 16 * 2 * w * w + batch_norm(w) + 16 * w + 1
    if refine:
        total += 9 * (2 * w) ** 2 + batch_norm(2 * w) + 9 * w * w + batch_norm(w)
    return total


@pytest.mark.parametrize(
    "wrong",
    [
        lambda d, w, r: count_right(d, w, r) - 4 * 49 * 2 * w + 4 * 2 * w,  # BN per channel
        lambda d, w, r: count_right(d, w, r) - 2 * (49 * 2 * w + w + (3 * w if r else 0)),  # 2/BN
        lambda d, w, r: count_right(d, w, False),  # ignores refine
        lambda d, w, r: count_right(d, w, r) + w + (3 * w if r else 0),  # biases everywhere
        lambda d, w, r: 293_121,  # the number for the notebook's sizes, copied
    ],
)
def test_generator_parameters_rejects(wrong):
    rejects(gans.check_generator_parameters, wrong)


def test_generator_parameters_accepts(capsys):
    gans.check_generator_parameters(count_right)
    assert "Correct" in capsys.readouterr().out


# --------------------------------------------------------------------------- 06, exercise 4


def _tiny_gan(d_rate, g_rate=2e-4):
    from course_lib.models.gan import GAN

    model = GAN(
        keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)]),
        keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]),
        seed=0,
    )
    model.compile(
        d_optimizer=keras.optimizers.Adam(d_rate, beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(g_rate, beta_1=0.5),
    )
    return model


NORMAL = {"d_real": [0.6, 0.7, 0.72], "d_fake": [0.55, 0.45, 0.4], "d_loss": [1, 1, 1]}
STRONG = {"d_real": [0.9, 0.98], "d_fake": [0.2, 0.04], "d_loss": [0.5, 0.1]}


@pytest.fixture(scope="module")
def strong_gan():
    return _tiny_gan(2e-3)


def test_discriminator_wins_accepts(strong_gan, capsys):
    history = keras.callbacks.History()
    history.history = dict(NORMAL)
    gans.check_discriminator_wins(
        strong_gan, STRONG, history, float(np.mean(STRONG["d_fake"])), sum(NORMAL["d_fake"][:2]) / 2
    )
    assert "Correct: the stronger discriminator" in capsys.readouterr().out


def test_discriminator_wins_rejects(strong_gan):
    strong_mean, normal_mean = np.mean(STRONG["d_fake"]), np.mean(NORMAL["d_fake"][:2])
    check = gans.check_discriminator_wins
    # the learning rate unchanged, or the generator's raised instead
    rejects(check, _tiny_gan(2e-4), STRONG, NORMAL, strong_mean, normal_mean)
    rejects(check, _tiny_gan(2e-4, 2e-3), STRONG, NORMAL, strong_mean, normal_mean)
    # D(x) read instead of D(G(z))
    rejects(check, strong_gan, STRONG, NORMAL, np.mean(STRONG["d_real"]), normal_mean)
    # the normal run averaged over all its epochs, or only its last one
    rejects(check, strong_gan, STRONG, NORMAL, strong_mean, np.mean(NORMAL["d_fake"]))
    rejects(check, strong_gan, STRONG, NORMAL, strong_mean, NORMAL["d_fake"][-1])
    # the two numbers swapped; the normal history passed as the experiment's
    rejects(check, strong_gan, STRONG, NORMAL, normal_mean, strong_mean)
    rejects(check, strong_gan, NORMAL, NORMAL, np.mean(NORMAL["d_fake"]), np.mean(NORMAL["d_fake"]))
    # no symptom: the run did not show the discriminator winning
    calm = {"d_real": [0.6, 0.7], "d_fake": [0.6, 0.5]}
    rejects(check, strong_gan, calm, NORMAL, 0.55, normal_mean)
    rejects(check, None, STRONG, NORMAL, strong_mean, normal_mean)


# --------------------------------------------------------------------------- 07, exercise 1


@pytest.mark.parametrize(
    "wrong",
    [
        lambda a, b: np.mean(np.abs(np.asarray(a) - np.asarray(b))),  # unsorted
        lambda a, b: abs(np.mean(a) - np.mean(b)),  # difference of the means
        lambda a, b: np.sqrt(np.mean((np.sort(a) - np.sort(b)) ** 2)),  # W2
        lambda a, b: np.mean(np.abs(np.sort(a) - np.asarray(b))),  # one side sorted
        lambda a, b: np.median(np.abs(np.sort(a) - np.sort(b))),  # median gap
    ],
)
def test_wasserstein_rejects(wrong):
    rejects(gans.check_wasserstein_1d, wrong)


def test_wasserstein_accepts(capsys):
    def by_quantiles(a, b):
        gaps = [abs(x - y) for x, y in zip(sorted(a), sorted(b), strict=True)]
        return sum(gaps) / len(gaps)

    gans.check_wasserstein_1d(by_quantiles)
    assert "Correct" in capsys.readouterr().out


# --------------------------------------------------------------------------- 07, exercise 2

W = np.random.default_rng(2).normal(0.0, 0.05, 784)


@pytest.mark.parametrize(
    "wrong",
    [
        (np.sum(W**2) - 1.0) ** 2,  # squared norm
        np.linalg.norm(W) - 1.0,  # no square
        10.0 * (np.linalg.norm(W) - 1.0) ** 2,  # times lambda
        (np.linalg.norm(W, 1) - 1.0) ** 2,  # L1 norm
        None,
    ],
)
def test_linear_penalty_rejects(wrong):
    rejects(gans.check_linear_penalty, wrong, W)


def test_linear_penalty_accepts(capsys):
    gans.check_linear_penalty(1.0 - 2.0 * np.sqrt(W @ W) + W @ W, W)
    assert "Correct" in capsys.readouterr().out


# --------------------------------------------------------------------------- 07, exercise 3


def penalty_factory(norm="right", square=True, interpolate="per_image", wrt="inputs"):
    """A gradient penalty with one deliberate mistake (or none)."""

    def penalty(critic, real_images, fake_images, epsilon):
        real = tf.convert_to_tensor(real_images, tf.float32)
        fake = tf.convert_to_tensor(fake_images, tf.float32)
        if interpolate == "per_pixel":
            epsilon = tf.random.stateless_uniform(tf.shape(real), seed=(1, 2))
        if interpolate == "swapped":
            points = epsilon * fake + (1.0 - epsilon) * real
        else:
            points = epsilon * real + (1.0 - epsilon) * fake
        with tf.GradientTape() as tape:
            tape.watch(points)
            scores = critic(points, training=True)
        if wrt == "weights":
            grads = tape.gradient(scores, critic.trainable_weights)
            flat = tf.concat([tf.reshape(g, [-1]) for g in grads], axis=0)
            norms = tf.sqrt(tf.reduce_sum(flat**2) + 1e-12)[None]
        else:
            grads = tape.gradient(scores, points)
            squares = tf.reduce_sum(tf.square(grads), axis=[1, 2, 3])
            if norm == "right":
                norms = tf.sqrt(squares + 1e-12)
            elif norm == "squared":
                norms = squares
            elif norm == "outside":
                norms = tf.sqrt(squares) + 1e-12
            elif norm == "numpy":
                norms = tf.constant(np.sqrt(squares.numpy() + 1e-12))
        return tf.reduce_mean(tf.square(norms - 1.0) if square else norms - 1.0)

    return penalty


@pytest.mark.parametrize(
    "wrong",
    [
        {"norm": "squared"},
        {"square": False},
        {"interpolate": "per_pixel"},
        {"interpolate": "swapped"},
        {"wrt": "weights"},
        {"norm": "outside"},
        {"norm": "numpy"},
    ],
)
def test_gradient_penalty_rejects(wrong):
    rejects(gans.check_gradient_penalty, penalty_factory(**wrong))


def test_gradient_penalty_rejects_stub():
    rejects(gans.check_gradient_penalty, lambda critic, real, fake, epsilon: None)


def test_gradient_penalty_accepts(capsys):
    def written_differently(critic, real_images, fake_images, epsilon):
        points = fake_images + epsilon * (real_images - fake_images)
        points = keras.ops.convert_to_tensor(points, "float32")
        with tf.GradientTape() as tape:
            tape.watch(points)
            total = keras.ops.sum(critic(points))
        grads = keras.ops.reshape(tape.gradient(total, points), (points.shape[0], -1))
        norms = keras.ops.sqrt(keras.ops.sum(grads * grads, axis=1) + 1e-10)
        return keras.ops.mean((1.0 - norms) ** 2)

    gans.check_gradient_penalty(written_differently)
    assert "Correct" in capsys.readouterr().out


# --------------------------------------------------------------------------- 07, exercise 4


@pytest.fixture(scope="module")
def conditional_generator():
    from course_lib.models.conditional_gan import build_conditional_generator

    keras.utils.set_random_seed(0)
    generator = build_conditional_generator(latent_dim=8, base_filters=4, embedding_dim=4)
    embeddings = generator.get_layer("label_embedding").embeddings
    embeddings.assign(embeddings * 30.0)  # make the label matter in an untrained network
    return generator


Z_STYLE = np.random.default_rng(3).standard_normal((1, 8)).astype("float32")


def test_style_row_accepts(conditional_generator, capsys):
    answer = np.concatenate(
        [conditional_generator.predict([Z_STYLE, np.array([k])], verbose=0) for k in range(10)]
    )
    gans.check_style_row(answer, conditional_generator, Z_STYLE)
    assert "Correct" in capsys.readouterr().out


def test_style_row_rejects(conditional_generator):
    g = conditional_generator
    z10 = np.repeat(Z_STYLE, 10, axis=0)
    fresh = np.random.default_rng(9).standard_normal((10, 8)).astype("float32")
    weights = g.get_weights()
    training_mode = g([z10, np.arange(10)], training=True)  # also moves the batch-norm averages
    g.set_weights(weights)
    wrong = {
        "a fresh z per image": g.predict([fresh, np.arange(10)], verbose=0),
        "labels reversed": g.predict([z10, np.arange(10)[::-1]], verbose=0),
        "training mode": training_mode,
        "one label ten times": g.predict([z10, np.full(10, 3)], verbose=0),
        "repeat without axis": np.repeat(Z_STYLE, 10),
    }
    for answer in wrong.values():
        rejects(gans.check_style_row, answer, g, Z_STYLE)
    message = rejects(gans.check_style_row, wrong["labels reversed"], g, Z_STYLE)
    assert "order" in message


# --------------------------------------------------------------------------- 08, exercise 1

TEST_NLL, BASELINE_NLL, PIXELS = 70.0, 210.0, 784


@pytest.mark.parametrize(
    "probability, ratio",
    [
        (np.exp(-TEST_NLL), (BASELINE_NLL - TEST_NLL) / np.log(10)),  # not per pixel
        (TEST_NLL / PIXELS, (BASELINE_NLL - TEST_NLL) / np.log(10)),  # a NLL, not a probability
        (1 - TEST_NLL / PIXELS, (BASELINE_NLL - TEST_NLL) / np.log(10)),  # linearised
        (np.exp(-TEST_NLL / PIXELS), np.log10(BASELINE_NLL - TEST_NLL)),  # log of the difference
        (np.exp(-TEST_NLL / PIXELS), BASELINE_NLL - TEST_NLL),  # natural log
        (np.exp(-TEST_NLL / PIXELS), (TEST_NLL - BASELINE_NLL) / np.log(10)),  # sign
    ],
)
def test_nats_and_ratio_rejects(probability, ratio):
    message = rejects(ar.check_nats_and_ratio, probability, ratio, TEST_NLL, BASELINE_NLL, PIXELS)
    assert "largest difference" not in message  # with a scalar, the difference would give it away
    assert f"{np.exp(-TEST_NLL / PIXELS):.3f}" not in message


def test_nats_and_ratio_accepts(capsys):
    bits = TEST_NLL / (PIXELS * np.log(2))
    ar.check_nats_and_ratio(
        2.0**-bits, np.log10(np.exp(BASELINE_NLL - TEST_NLL)), TEST_NLL, BASELINE_NLL, PIXELS
    )
    assert "Correct: log10_ratio" in capsys.readouterr().out


# --------------------------------------------------------------------------- 08, exercises 2, 4


@pytest.fixture(scope="module")
def tiny_autoregressive():
    from course_lib.models.autoregressive import AutoregressiveImageModel, build_row_rnn

    keras.utils.set_random_seed(0)
    network = build_row_rnn(image_shape=(6, 6, 1), units=8, num_layers=1, head_units=8)
    model = AutoregressiveImageModel(network, seed=0)
    images = (np.random.default_rng(0).random((5, 6, 6, 1)) > 0.6).astype("float32")
    return network, model, images


@pytest.mark.parametrize(
    "wrong",
    [
        lambda x, lg: -(x * lg - np.logaddexp(0, lg)).reshape(len(x), -1).sum(1),  # sign
        lambda x, lg: (x * lg - np.logaddexp(0, lg)).reshape(len(x), -1).mean(1),  # mean
        lambda x, lg: (x * lg - np.logaddexp(0, lg)).sum(axis=(1, 2)),  # channel axis kept
        lambda x, lg: (x * lg - np.logaddexp(0, lg)).reshape(len(x), 784).sum(1),  # 28x28 only
        lambda x, lg: (x * -np.logaddexp(0, -lg)).reshape(len(x), -1).sum(1),  # only the x=1 term
        lambda x, lg: (x * lg - np.log1p(lg)).reshape(len(x), -1).sum(1),  # softplus wrong
    ],
)
def test_log_prob_rejects(tiny_autoregressive, wrong):
    network, model, images = tiny_autoregressive
    rejects(ar.check_log_prob_from_logits, wrong, network, model, images)


def test_log_prob_accepts(tiny_autoregressive, capsys):
    network, model, images = tiny_autoregressive

    def by_cases(x, logits):
        p_on = -np.logaddexp(0.0, -logits)  # log sigmoid
        p_off = -np.logaddexp(0.0, logits)
        return np.where(x > 0.5, p_on, p_off).sum(axis=tuple(range(1, x.ndim)))

    ar.check_log_prob_from_logits(by_cases, network, model, images)
    assert "Correct" in capsys.readouterr().out


def leaks_factory(mode="right", flip=True):
    def future_leaks(network, image, row, column):
        changed = np.array(image, copy=True)
        changed[row, column, 0] = 1.0 - changed[row, column, 0] if flip else 1.0
        logits = keras.ops.convert_to_numpy(network(np.stack([image, changed])))[..., 0]
        moved = np.abs(logits[0] - logits[1]) > 1e-6
        height, width = moved.shape
        position = np.arange(height * width).reshape(height, width)
        here = row * width + column
        if mode == "right":
            before = position <= here
        elif mode == "strict":
            before = position < here
        elif mode == "same_row":
            before = (position <= here) & (position >= row * width)
        elif mode == "after":
            before = position >= here
        elif mode == "rectangle":
            before = np.zeros_like(moved)
            before[: row + 1, : column + 1] = True
        return int(np.sum(moved & before))

    return future_leaks


@pytest.mark.parametrize(
    "wrong",
    [
        leaks_factory("strict"),  # the pixel itself not counted
        leaks_factory("same_row"),  # only its own row
        leaks_factory("after"),  # the future, not the past
        leaks_factory("rectangle"),  # rows above only left of the column
        leaks_factory(flip=False),  # sets the pixel to 1 instead of flipping it
        lambda network, image, row, column: 0,  # never finds anything
    ],
)
def test_causality_rejects(tiny_autoregressive, wrong):
    network, _, images = tiny_autoregressive
    rejects(ar.check_causality_test, wrong, network, images[0])


def test_causality_accepts(tiny_autoregressive, capsys):
    network, _, images = tiny_autoregressive

    def by_loops(network, image, row, column):
        other = image.copy()
        other[row, column] = 1 - other[row, column]
        a = np.asarray(network(image[None]))[0, ..., 0]
        b = np.asarray(network(other[None]))[0, ..., 0]
        count = 0
        for i in range(row + 1):
            for j in range(image.shape[1] if i < row else column + 1):
                count += bool(abs(a[i, j] - b[i, j]) > 1e-5)
        return count

    ar.check_causality_test(by_loops, network, images[0])
    assert "Correct" in capsys.readouterr().out


# --------------------------------------------------------------------------- 08, exercise 3


@pytest.fixture(scope="module")
def binary_digits():
    rng = np.random.default_rng(0)
    centre = np.zeros((8, 8))
    centre[2:6, 2:6] = 0.7
    x_train = (rng.random((60, 8, 8, 1)) < 0.15 + centre[..., None]).astype("float64")
    x_test = (rng.random((20, 8, 8, 1)) < 0.15 + centre[..., None]).astype("float64")
    return x_train, x_test


def _baseline(x_train, x_test, numerator=1.0, denominator=2.0, average_over="test"):
    pi = (x_train.sum(axis=0) + numerator) / (len(x_train) + denominator)
    data = x_test if average_over == "test" else x_train
    per_pixel = -(data * np.log(pi) + (1 - data) * np.log(1 - pi))
    nll = per_pixel.reshape(len(data), -1).sum(axis=1).mean()
    return pi, nll, per_pixel.mean(axis=0)[:, :, 0]


def test_baseline_accepts(binary_digits, capsys):
    x_train, x_test = binary_digits
    ones = np.mean(x_train[..., 0], axis=0) * len(x_train)
    pi = (ones + 1) / (len(x_train) + 2)  # (8, 8), no channel axis: accepted
    cost = np.where(x_test[..., 0] == 1, -np.log(pi), -np.log1p(-pi))
    ar.check_baseline_by_hand(pi, float(cost.sum(axis=(1, 2)).mean()), cost.mean(0), *binary_digits)
    assert "Correct: pixel_nll" in capsys.readouterr().out


def test_baseline_rejects(binary_digits):
    x_train, x_test = binary_digits
    pi, nll, pixel = _baseline(x_train, x_test)
    check = ar.check_baseline_by_hand
    off_by_one = _baseline(x_train, x_test, denominator=1.0)
    rejects(check, off_by_one[0], off_by_one[1], off_by_one[2], x_train, x_test)
    no_smoothing = _baseline(x_train, x_test, numerator=0.0, denominator=0.0)
    rejects(check, no_smoothing[0], nll, pixel, x_train, x_test)
    rejects(check, pi, nll, np.full(pixel.shape, nll / pixel.size), x_train, x_test)  # uniform
    on_train = _baseline(x_train, x_test, average_over="train")
    rejects(check, pi, nll, on_train[2], x_train, x_test)  # averaged over the training images
    rejects(check, pi, nll, pixel * len(x_test), x_train, x_test)  # summed, not averaged
    rejects(check, pi, nll, pixel[..., None], x_train, x_test)  # channel axis kept
    rejects(check, pi, nll / pixel.size, pixel, x_train, x_test)  # mean over pixels
