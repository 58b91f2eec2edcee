"""Tests of course_lib.models.autoregressive: the row GRU with a masked within-row head."""

import keras
import numpy as np
import pytest

from course_lib.models.autoregressive import (
    AutoregressiveImageModel,
    MaskedRowHead,
    build_row_rnn,
    check_binary_images,
)

SMALL = (6, 5, 1)  # a tiny image keeps the per-pixel loops below cheap


def _small_model(num_classes=None, seed=0):
    keras.utils.set_random_seed(seed)
    network = build_row_rnn(
        SMALL, units=8, num_layers=2, head_units=12, num_classes=num_classes, embedding_dim=3
    )
    return AutoregressiveImageModel(network, seed=seed)


def _binary(shape, seed=0):
    return (np.random.default_rng(seed).random(shape) > 0.5).astype("float32")


def _log_bernoulli(x, logit):
    p = 1.0 / (1.0 + np.exp(-logit.astype(np.float64)))
    return x * np.log(p) + (1 - x) * np.log1p(-p)


def test_network_shapes_and_layer_names():
    network = build_row_rnn((28, 28, 1), units=16, num_layers=2, head_units=20)
    assert network.name == "row_rnn"
    assert network.output_shape == (None, 28, 28, 1)
    names = [layer.name for layer in network.layers]
    assert {"row_gru_1", "row_gru_2", "row_head", "previous_rows"} <= set(names)
    # The head: context->hidden, input->hidden, hidden bias, hidden->out, context->out,
    # input->out (direct), output bias.
    head = network.get_layer("row_head")
    assert head.count_params() == 16 * 20 + 28 * 20 + 20 + 20 * 28 + 16 * 28 + 28 * 28 + 28


def test_likelihood_equals_sum_of_per_step_log_probabilities_by_hand():
    model = _small_model()
    images = _binary((3, *SMALL))
    height, width = SMALL[:2]
    rng = np.random.default_rng(1)
    by_hand = np.zeros(3)
    for index in range(height * width):
        row, column = divmod(index, width)
        # Scramble pixel `index` and every later one: p(x_index | x_<index) must not change.
        scrambled = images.reshape(3, -1).copy()
        scrambled[:, index:] = rng.random((3, height * width - index)) > 0.5
        logits = keras.ops.convert_to_numpy(model.network(scrambled.reshape(3, *SMALL)))
        by_hand += _log_bernoulli(images[:, row, column, 0], logits[:, row, column, 0])
    np.testing.assert_allclose(model.log_likelihood(images), by_hand, rtol=1e-5, atol=1e-4)


def test_near_zero_temperature_sampling_follows_the_teacher_forced_logits():
    # Almost greedy: each drawn pixel is 1 exactly where its conditional logit is > 0.
    # The sampler runs the GRU cells step by step; teacher forcing runs the layers
    # on the whole image: the two must agree.
    model = _small_model()
    samples = model.sample(8, temperature=1e-4, seed=3)
    logits = keras.ops.convert_to_numpy(model.network(samples))
    # Where |logit| > 2e-3, |logit / T| > 20: the draw is 0 or 1 with certainty 1 - 2e-9.
    clear = np.abs(logits) > 2e-3
    assert clear.mean() > 0.5
    np.testing.assert_array_equal(samples[clear], (logits[clear] > 0).astype("float32"))


def test_sampling_with_a_fixed_seed_is_reproducible():
    model = _small_model()
    first = model.sample(6, seed=7)
    again = model.sample(6, seed=7)
    other = model.sample(6, seed=8)
    assert first.shape == (6, *SMALL) and first.dtype == np.float32
    assert set(np.unique(first)) <= {0.0, 1.0}
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    # Without a seed the model's own SeedGenerator moves on: two calls differ.
    assert not np.array_equal(model.sample(6), model.sample(6))


def test_num_rows_leaves_the_rows_below_empty():
    model = _small_model()
    samples = model.sample(4, seed=0, num_rows=2)
    np.testing.assert_array_equal(samples[:, 2:], 0.0)
    np.testing.assert_array_equal(samples[:, :2], model.sample(4, seed=0)[:, :2])


def test_completion_keeps_the_given_rows_untouched():
    model = _small_model()
    images = _binary((5, *SMALL), seed=2)
    completed = model.complete(images, num_given_rows=3, seed=0, temperature=1.0)
    assert completed.shape == images.shape
    np.testing.assert_array_equal(completed[:, :3], images[:, :3])
    assert set(np.unique(completed)) <= {0.0, 1.0}
    np.testing.assert_array_equal(completed, model.complete(images, 3, seed=0))
    np.testing.assert_array_equal(model.complete(images, SMALL[0]), images)


def test_seeded_micro_fit_lowers_the_nll(tiny_digits):
    images = (tiny_digits[0] > 0.5).astype("float32")
    keras.utils.set_random_seed(0)
    model = AutoregressiveImageModel(build_row_rnn(units=16, num_layers=1, head_units=16))
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    before = -model.log_likelihood(images).mean()
    history = model.fit(images, epochs=4, batch_size=16, verbose=0)
    after = -model.log_likelihood(images).mean()
    assert set(history.history) == {"loss", "bits_per_dim"}
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]
    assert after < before - 50.0  # from about 540 nats (all pixels near 1/2) downwards
    np.testing.assert_allclose(
        history.history["bits_per_dim"][-1], losses[-1] / (784 * np.log(2.0)), rtol=1e-5
    )


def test_class_conditional_model_trains_and_samples_the_asked_classes():
    model = _small_model(num_classes=3)
    images = _binary((12, *SMALL))
    labels = np.arange(12) % 3
    model.compile(optimizer="adam")
    history = model.fit(images, labels, epochs=1, batch_size=6, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert model.log_likelihood(images, labels).shape == (12,)
    samples = model.sample(3, labels=[0, 1, 2], seed=0)
    assert samples.shape == (3, *SMALL)
    # The label changes the distribution: scores of the same image differ by class.
    image = np.repeat(images[:1], 3, axis=0)
    scores = model.log_likelihood(image, np.array([0, 1, 2]))
    assert len(set(np.round(scores, 5))) > 1
    completed = model.complete(images[:3], 2, labels=np.array([2, 1, 0]), seed=1)
    np.testing.assert_array_equal(completed[:, :2], images[:3, :2])


def test_keras_file_round_trip(tmp_path):
    model = _small_model(num_classes=2)
    images = _binary((4, *SMALL))
    labels = np.array([0, 1, 1, 0])
    path = tmp_path / "autoregressive.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)  # safe_mode=True: no Lambda layers
    assert isinstance(loaded, AutoregressiveImageModel)
    assert isinstance(loaded.network.get_layer("row_head"), MaskedRowHead)
    np.testing.assert_allclose(
        loaded.log_likelihood(images, labels), model.log_likelihood(images, labels), rtol=1e-6
    )
    np.testing.assert_array_equal(
        loaded.sample(2, labels=[0, 1], seed=4), model.sample(2, labels=[0, 1], seed=4)
    )
    config = model.network.get_layer("row_head").get_config()
    assert config["units"] == 12


@pytest.mark.parametrize("argument", ["units", "num_layers", "head_units", "num_classes"])
def test_non_positive_sizes_are_refused(argument):
    with pytest.raises(ValueError, match=rf"`{argument}` to be a positive integer.*{argument}=0"):
        build_row_rnn(**{argument: 0})


def test_bad_image_shape_and_pixels_are_refused():
    with pytest.raises(
        ValueError, match=r"\(height, width, 1\).*Received: image_shape=\(28, 28, 3\)"
    ):
        build_row_rnn(image_shape=(28, 28, 3))
    model = _small_model()
    with pytest.raises(ValueError, match=r"shape \(batch, 6, 5, 1\).*Received: images.shape="):
        model.log_likelihood(np.zeros((2, 28, 28, 1), "float32"))
    grey = np.full((2, *SMALL), 0.5, "float32")
    with pytest.raises(ValueError, match=r"every value 0 or 1.*Received: values in \[0.5, 0.5\]"):
        model.log_likelihood(grey)
    with pytest.raises(ValueError, match=r"binary pixels.*Received: values in \[0, 255\]"):
        model.complete(np.where(_binary((2, *SMALL)) > 0, 255.0, 0.0), 2)
    with pytest.raises(ValueError, match=r"binary pixels"):
        check_binary_images(np.full((1, *SMALL), -1.0), SMALL)


def test_bad_sampling_arguments_are_refused():
    model = _small_model()
    with pytest.raises(ValueError, match=r"`temperature` to be a positive number.*temperature=0"):
        model.sample(2, temperature=0)
    with pytest.raises(ValueError, match=r"`num_samples` to be a positive integer.*=-1"):
        model.sample(-1)
    with pytest.raises(ValueError, match=r"`num_rows` <= 6.*Received: num_rows=7"):
        model.sample(2, num_rows=7)
    with pytest.raises(ValueError, match=r"`num_given_rows` <= 6.*Received: num_given_rows=9"):
        model.complete(_binary((1, *SMALL)), 9)
    with pytest.raises(ValueError, match=r"`seed` to be None, an int.*Received: seed='a'"):
        model.sample(1, seed="a")
    with pytest.raises(ValueError, match=r"no `labels`.*unconditional"):
        model.sample(1, labels=[0])
    conditional = _small_model(num_classes=3)
    with pytest.raises(ValueError, match=r"Expected `labels`.*Received: labels=None"):
        conditional.log_likelihood(np.zeros((2, *SMALL), "float32"))
    with pytest.raises(ValueError, match=r"`labels` in \[0, 2\]\. Received: values in \[0, 5\]"):
        conditional.sample(2, labels=[0, 5])
    with pytest.raises(ValueError, match=r"Expected 2 `labels`, one per item. Received: 3"):
        conditional.sample(2, labels=[0, 1, 2])
