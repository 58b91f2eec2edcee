"""Tests of course_lib.corruption: statistics of each corruption, tf.data use, bad arguments."""

import numpy as np
import pytest
import tensorflow as tf

from course_lib.corruption import (
    add_gaussian_noise,
    add_salt_and_pepper,
    occlude_squares,
    square_masks,
    with_clean_targets,
)

GREY = np.full((64, 28, 28, 1), 0.5, dtype=np.float32)


def test_gaussian_noise_has_the_asked_sigma_and_mean():
    noisy = add_gaussian_noise(GREY, stddev=0.1, seed=0)
    assert isinstance(noisy, np.ndarray) and noisy.shape == GREY.shape
    # 50,176 draws: the sample std is within 1 % of sigma with overwhelming probability.
    assert abs(np.std(noisy - GREY) - 0.1) < 0.001
    assert abs(np.mean(noisy - GREY)) < 0.002


def test_gaussian_noise_is_clipped_to_the_range_unless_asked_not_to():
    clipped = add_gaussian_noise(GREY, stddev=1.0, seed=0)
    assert clipped.min() >= 0.0 and clipped.max() <= 1.0
    raw = add_gaussian_noise(GREY, stddev=1.0, seed=0, clip=False)
    assert raw.min() < 0.0 and raw.max() > 1.0
    assert abs(np.std(raw - GREY) - 1.0) < 0.01


def test_integer_seed_repeats_and_none_draws_fresh_noise():
    a = add_gaussian_noise(GREY, stddev=0.2, seed=3)
    b = add_gaussian_noise(GREY, stddev=0.2, seed=3)
    c = add_gaussian_noise(GREY, stddev=0.2, seed=4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    d = add_gaussian_noise(GREY, stddev=0.2)
    e = add_gaussian_noise(GREY, stddev=0.2)
    assert not np.array_equal(d, e)


def test_zero_noise_is_the_identity():
    np.testing.assert_allclose(add_gaussian_noise(GREY, stddev=0.0, seed=0), GREY)


def test_salt_and_pepper_hits_the_asked_fraction_half_each():
    out = add_salt_and_pepper(GREY, fraction=0.2, seed=1)
    pepper, salt = np.mean(out == 0.0), np.mean(out == 1.0)
    assert abs(pepper - 0.1) < 0.005 and abs(salt - 0.1) < 0.005
    untouched = (out != 0.0) & (out != 1.0)
    np.testing.assert_array_equal(out[untouched], 0.5)


def test_square_masks_hide_exactly_one_square_inside_each_image():
    masks = square_masks(GREY, size=12, seed=2)
    hidden = 1.0 - masks[..., 0]
    assert set(np.unique(masks).tolist()) == {0.0, 1.0}
    np.testing.assert_array_equal(hidden.sum(axis=(1, 2)), 144)
    for image in hidden:
        rows, cols = np.nonzero(image)
        assert rows.max() - rows.min() == 11 and cols.max() - cols.min() == 11
    # The corners vary from image to image.
    corners = {(np.nonzero(h)[0].min(), np.nonzero(h)[1].min()) for h in hidden}
    assert len(corners) > 10


def test_occlusion_fills_the_masked_fraction_and_keeps_the_rest():
    occluded, masks = occlude_squares(GREY, size=14, fill_value=0.0, seed=5, return_mask=True)
    assert abs(np.mean(masks == 0.0) - 196 / 784) < 1e-9
    np.testing.assert_array_equal(occluded[masks == 0.0], 0.0)
    np.testing.assert_array_equal(occluded[masks == 1.0], 0.5)


def test_one_image_works_as_well_as_a_batch():
    assert add_gaussian_noise(GREY[0], stddev=0.1, seed=0).shape == (28, 28, 1)
    assert occlude_squares(GREY[0], size=5, seed=0).shape == (28, 28, 1)


def test_corruptions_run_inside_a_tf_data_pipeline():
    dataset = tf.data.Dataset.from_tensor_slices(GREY).batch(16)
    noisy = dataset.map(with_clean_targets(add_gaussian_noise, stddev=0.3))
    inputs, targets = next(iter(noisy))
    assert tf.is_tensor(inputs) and inputs.shape == (16, 28, 28, 1)
    np.testing.assert_allclose(targets.numpy(), GREY[:16])
    assert 0.2 < float(tf.math.reduce_std(inputs - targets)) < 0.35  # clipped sigma 0.3
    masked = dataset.map(with_clean_targets(occlude_squares, size=7))
    inputs, _ = next(iter(masked))
    np.testing.assert_allclose(np.mean(inputs.numpy() == 0.0), 49 / 784, atol=1e-6)
    # Fresh noise in each epoch: two passes over the same batch differ.
    first = next(iter(noisy))[0].numpy()
    second = next(iter(noisy))[0].numpy()
    assert not np.array_equal(first, second)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: add_gaussian_noise(GREY, stddev=-0.1), r"stddev.*>= 0.*Received: stddev=-0.1"),
        (lambda: add_salt_and_pepper(GREY, fraction=1.5), r"fraction.*\[0, 1\].*fraction=1.5"),
        (lambda: occlude_squares(GREY, size=0), r"positive integer.*Received: size=0"),
        (lambda: occlude_squares(GREY, size=29), r"size` <= 28.*Received: size=29"),
        (lambda: add_gaussian_noise(GREY * 255, stddev=0.1), r"\[0, 1\].*Received.*127.5"),
        (lambda: add_gaussian_noise(GREY, stddev=0.1, seed=1.5), r"seed.*Received: seed=1.5"),
        (lambda: add_gaussian_noise(GREY[0, 0], stddev=0.1), r"shape.*Received: shape=\(28, 1\)"),
    ],
)
def test_bad_arguments_say_what_was_expected_and_received(call, match):
    with pytest.raises(ValueError, match=match):
        call()
