"""Tests of course_lib.metrics.reconstruction against hand-computed cases."""

import numpy as np
import pytest

from course_lib.metrics import reconstruction as rec

ZEROS = np.zeros((3, 28, 28, 1), dtype=np.float32)


def test_mse_by_hand_per_image_and_mean():
    x = np.zeros((2, 2, 2))
    y = np.array([[[0.0, 0.5], [0.0, 0.0]], [[1.0, 1.0], [1.0, 1.0]]])
    np.testing.assert_allclose(rec.mse(x, y, per_image=True), [0.0625, 1.0])
    assert rec.mse(x, y) == pytest.approx(0.53125)


def test_bce_by_hand_and_its_minimum_is_the_entropy_for_grey_targets():
    x = np.array([[1.0, 0.0]])
    y = np.array([[0.5, 0.5]])
    assert rec.bce(x, y) == pytest.approx(np.log(2.0))
    grey = np.full((1, 4), 0.5)
    assert rec.bce(grey, grey) == pytest.approx(np.log(2.0))  # not zero: the entropy
    assert rec.bce(x, x) == pytest.approx(0.0, abs=1e-6)


def test_psnr_matches_the_formula():
    # MSE 0.01 with max 1 -> 10 log10(1 / 0.01) = 20 dB.
    assert rec.psnr(ZEROS, ZEROS + 0.1) == pytest.approx(20.0, abs=1e-4)
    # MSE 0.0001 -> 40 dB; per-image values are averaged.
    y = ZEROS.copy()
    y[0] += 0.01
    y[1:] += 0.1
    np.testing.assert_allclose(rec.psnr(ZEROS, y, per_image=True), [40.0, 20.0, 20.0], atol=1e-3)
    assert rec.psnr(ZEROS, y) == pytest.approx(80 / 3, abs=1e-3)
    assert rec.psnr(ZEROS[..., 0], ZEROS[..., 0] + 0.1) == pytest.approx(20.0, abs=1e-4)


def test_ssim_is_one_for_identical_images_and_falls_with_noise():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(4, 28, 28, 1)).astype(np.float32)
    assert rec.ssim(x, x) == pytest.approx(1.0, abs=1e-5)
    slightly = np.clip(x + rng.normal(0, 0.05, x.shape), 0, 1)
    badly = np.clip(x + rng.normal(0, 0.3, x.shape), 0, 1)
    assert 1.0 > rec.ssim(x, slightly) > rec.ssim(x, badly)
    # A constant shift of the mean only: SSIM's luminance term, by hand, for flat images.
    a, b = np.full((1, 28, 28, 1), 0.2), np.full((1, 28, 28, 1), 0.4)
    c1 = (0.01 * 1.0) ** 2
    expected = (2 * 0.2 * 0.4 + c1) / (0.2**2 + 0.4**2 + c1)
    assert rec.ssim(a, b) == pytest.approx(expected, abs=1e-4)


def test_roc_auc_by_hand():
    assert rec.roc_auc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert rec.roc_auc([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1]) == 0.0
    # Pairs (anomaly, normal): (0.3 > 0.1) yes, (0.3 > 0.4) no, (0.5 > both) yes yes: 3/4.
    assert rec.roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.3, 0.5]) == pytest.approx(0.75)
    fpr, tpr, _ = rec.roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.3, 0.5])
    assert fpr[0] == 0.0 and tpr[-1] == 1.0 and fpr[-1] == 1.0


def test_compression_ratio_and_bits():
    assert rec.compression_ratio(784, 32) == 24.5
    assert rec.compression_ratio(784, 32, code_bits=32) == pytest.approx(6.125)
    assert rec.bits_per_image(32, 4) == 128


def test_quantize_codes_rounds_to_evenly_spaced_levels():
    codes = np.array([[-1.0, 0.1, 0.4, 0.6, 2.0]])
    np.testing.assert_allclose(rec.quantize_codes(codes, 1, low=0, high=1), [[0, 0, 0, 1, 1]])
    # 2 bits: levels 0, 1/3, 2/3, 1.
    np.testing.assert_allclose(
        rec.quantize_codes(codes, 2, low=0, high=1), [[0, 0, 1 / 3, 2 / 3, 1]], atol=1e-6
    )
    # More bits, smaller error; per-dimension ranges broadcast.
    rng = np.random.default_rng(0)
    z = rng.normal(size=(100, 3))
    low, high = z.min(axis=0), z.max(axis=0)
    errors = [np.abs(rec.quantize_codes(z, b, low=low, high=high) - z).max() for b in (2, 4, 8)]
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] <= ((high - low) / 255 / 2).max() + 1e-6


def test_jpeg_roundtrip_quality_trades_size_for_error():
    rng = np.random.default_rng(0)
    images = np.clip(rng.normal(0.5, 0.2, (4, 28, 28, 1)), 0, 1).astype(np.float32)
    low_q, low_bits = rec.jpeg_roundtrip(images, 10)
    high_q, high_bits = rec.jpeg_roundtrip(images, 90)
    assert low_q.shape == images.shape and low_bits.shape == (4,)
    assert np.all(high_bits > low_bits)
    assert rec.mse(images, high_q) < rec.mse(images, low_q)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: rec.mse(ZEROS, ZEROS[:2]), r"one shape.*Received: \(3, 28, 28, 1\) and \(2,"),
        (lambda: rec.psnr(ZEROS, ZEROS + 2.0), r"\[0, 1\]\. Received: values in \[2, 2\]"),
        (lambda: rec.bce(ZEROS, ZEROS - 1.0), r"values in \[0, 1\]. Received"),
        (lambda: rec.ssim(ZEROS[:, :8, :8], ZEROS[:, :8, :8]), r"at least 11 pixels.*Received"),
        (lambda: rec.roc_auc([0, 0], [0.1, 0.2]), r"both classes.*Received: labels with"),
        (lambda: rec.roc_auc([0, 1], [0.1]), r"one score per label. Received: 2 labels"),
        (lambda: rec.compression_ratio(784, 0), r"positive integer. Received: code_size=0"),
        (lambda: rec.quantize_codes(np.zeros((1, 2)), 17, low=0, high=1), r"num_bits=17"),
        (lambda: rec.quantize_codes(np.zeros((1, 2)), 4, low=1, high=1), r"low` < `high"),
        (lambda: rec.jpeg_roundtrip(ZEROS, 100), r"between 1 and 95. Received: quality=100"),
    ],
)
def test_bad_arguments_say_what_was_expected_and_received(call, match):
    with pytest.raises(ValueError, match=match):
        call()
