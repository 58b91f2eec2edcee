"""Tests of course_lib.metrics.likelihood: unit conversions and the per-pixel Bernoulli baseline."""

import math

import numpy as np
import pytest

from course_lib.metrics import likelihood


def test_nats_to_bits_per_dim_hand_values():
    # 784 * ln 2 nats per 28 x 28 image is one bit per pixel.
    assert likelihood.nats_to_bits_per_dim(784 * math.log(2.0)) == pytest.approx(1.0)
    assert likelihood.nats_to_bits_per_dim(80.0) == pytest.approx(80.0 / (784 * math.log(2.0)))
    assert likelihood.nats_to_bits_per_dim(4 * math.log(2.0), num_dims=4) == pytest.approx(1.0)


def test_conversions_are_inverse_and_take_arrays():
    nats = np.array([50.0, 85.0, 215.0])
    bits = likelihood.nats_to_bits_per_dim(nats)
    assert isinstance(bits, np.ndarray) and bits.shape == (3,)
    np.testing.assert_allclose(likelihood.bits_per_dim_to_nats(bits), nats)
    assert isinstance(likelihood.bits_per_dim_to_nats(0.2), float)


@pytest.mark.parametrize("num_dims", [0, -3, 2.5])
def test_conversions_refuse_bad_num_dims(num_dims):
    with pytest.raises(ValueError, match=r"positive integer.*Received: num_dims="):
        likelihood.nats_to_bits_per_dim(80.0, num_dims=num_dims)
    with pytest.raises(ValueError, match=r"positive integer.*Received: num_dims="):
        likelihood.bits_per_dim_to_nats(0.2, num_dims=num_dims)


def test_fit_bernoulli_baseline_counts_with_smoothing():
    # Four 1 x 2 images: pixel 0 is on in 3 of them, pixel 1 never.
    train = np.array([[[1, 0]], [[1, 0]], [[1, 0]], [[0, 0]]], dtype="float32")
    probabilities = likelihood.fit_bernoulli_baseline(train, smoothing=1.0)
    assert probabilities.shape == (1, 2)
    np.testing.assert_allclose(probabilities, [[4 / 6, 1 / 6]])
    raw = likelihood.fit_bernoulli_baseline(train, smoothing=0.0)
    np.testing.assert_allclose(raw, [[0.75, 0.0]])


def test_bernoulli_nll_hand_value_and_zero_probability():
    probabilities = np.array([[0.75, 0.25]])
    images = np.array([[[1, 0]], [[0, 1]]], dtype="float32")
    nll = likelihood.bernoulli_nll(images, probabilities)
    np.testing.assert_allclose(nll, [-2 * math.log(0.75), -2 * math.log(0.25)])
    # A pixel the model says is surely off costs nothing when off, infinitely much when on.
    certain = np.array([[1.0, 0.0]])
    nll = likelihood.bernoulli_nll(images, certain)
    assert nll[0] == 0.0 and math.isinf(nll[1])


def test_smoothing_keeps_the_baseline_finite_on_unseen_pixels():
    train = np.zeros((10, 28, 28, 1), dtype="float32")
    test = np.ones((2, 28, 28, 1), dtype="float32")
    nll = likelihood.bernoulli_baseline_nll(train, test, smoothing=1.0)
    assert nll == pytest.approx(784 * math.log(12.0))


def test_baseline_on_real_digits_is_near_the_known_value(shared_mnist_dir):
    from course_lib.data import load_dataset

    train = load_dataset("mnist", "train", binarize=True, data_dir=shared_mnist_dir)
    test = load_dataset("mnist", "test", binarize=True, data_dir=shared_mnist_dir)
    nll = likelihood.bernoulli_baseline_nll(train.images, test.images)
    assert 200.0 < nll < 230.0  # about 215 nats on the offline split


def test_bad_arguments_say_expected_and_received():
    with pytest.raises(ValueError, match=r"values in \[0, 1\]\. Received: values in \[255, 255\]"):
        likelihood.fit_bernoulli_baseline(np.full((2, 28, 28, 1), 255.0))
    with pytest.raises(ValueError, match=r"smoothing.*>= 0\. Received: smoothing=-1"):
        likelihood.fit_bernoulli_baseline(np.zeros((2, 4)), smoothing=-1)
    with pytest.raises(ValueError, match=r"784 values.*Received: probabilities.shape=\(10,\)"):
        likelihood.bernoulli_nll(np.zeros((2, 28, 28)), np.full(10, 0.5))
    with pytest.raises(ValueError, match=r"`probabilities` with values in \[0, 1\]"):
        likelihood.bernoulli_nll(np.zeros((1, 2)), np.array([0.5, 1.5]))
    with pytest.raises(ValueError, match=r"batch of images.*Received: images.shape=\(4,\)"):
        likelihood.bernoulli_nll(np.zeros(4), np.full(4, 0.5))
    with pytest.raises(ValueError, match=r"at least one training image"):
        likelihood.fit_bernoulli_baseline(np.zeros((0, 4)))
