"""Tests of course_lib.metrics.fid: the Fréchet distance, KID, and FID/KID on images.

The metrics take any extractor; here a fixed linear map of the pixels stands in
for the digit classifier (whose own tests are in tests/test_digit_classifier.py).
"""

import subprocess
import sys

import numpy as np
import pytest
from scipy import linalg

from course_lib.data import load_dataset
from course_lib.metrics.fid import (
    corrupt,
    fid,
    fid_floor,
    fid_report,
    format_fid_report,
    frechet_distance,
    kid,
    kid_from_features,
)


class _PixelProjection:
    """A stand-in extractor: a fixed random linear map of the pixels to 16 features."""

    def __init__(self):
        self.weights = np.random.default_rng(5).normal(size=(28 * 28, 16))
        self.calls = 0

    def predict(self, images, verbose=0):
        self.calls += 1
        return np.asarray(images).reshape(len(images), -1) @ self.weights


@pytest.fixture
def extractor():
    return _PixelProjection()


def _reference_frechet(a, b):
    """The textbook formula with scipy's general matrix square root."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = linalg.sqrtm(cov_a @ cov_b).real
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a + cov_b - 2 * covmean))


def test_frechet_of_a_set_with_itself_is_zero():
    a = np.random.default_rng(0).normal(size=(300, 8))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)


def test_frechet_matches_textbook_formula():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(400, 6)) @ rng.normal(size=(6, 6))
    b = rng.normal(size=(500, 6)) @ rng.normal(size=(6, 6)) + 0.5
    assert frechet_distance(a, b) == pytest.approx(_reference_frechet(a, b), rel=1e-6)


def test_frechet_closed_form_for_gaussians_with_diagonal_covariance():
    # For diagonal covariances the trace term is sum (sigma_a - sigma_b)^2.
    rng = np.random.default_rng(2)
    a = rng.normal(size=(200_000, 2)) * np.array([1.0, 2.0])
    b = rng.normal(size=(200_000, 2)) * np.array([3.0, 2.0]) + np.array([1.0, 0.0])
    expected = 1.0 + (1.0 - 3.0) ** 2 + 0.0
    assert frechet_distance(a, b) == pytest.approx(expected, rel=0.02)


def test_frechet_grows_with_a_shift_and_is_finite_for_singular_covariance():
    a = np.random.default_rng(3).normal(size=(100, 5))
    a[:, 0] = 0.0  # a dead feature: singular covariance
    shifts = [frechet_distance(a, a + s) for s in (0.0, 0.5, 1.0, 2.0)]
    assert all(np.isfinite(shifts))
    assert shifts == sorted(shifts) and shifts[-1] == pytest.approx(5 * 4.0)


def test_kid_matches_brute_force_and_is_near_zero_for_one_distribution():
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(12, 3)), rng.normal(size=(12, 3)) + 0.3
    k = lambda u, v: (u @ v / 3 + 1) ** 3  # noqa: E731
    m = 12
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / m**2
    value = kid_from_features(x, y, num_subsets=1, subset_size=m)
    assert value == pytest.approx(xx + yy - 2 * xy, rel=1e-9)

    same = kid_from_features(rng.normal(size=(1000, 8)), rng.normal(size=(1000, 8)))
    shifted = kid_from_features(rng.normal(size=(1000, 8)), rng.normal(size=(1000, 8)) + 0.5)
    assert abs(same) < 0.05 * shifted


def test_fid_of_images_with_themselves_is_zero_and_grows_with_a_shift(extractor, tiny_digits):
    images, _ = tiny_digits
    assert fid(images, images, extractor) == pytest.approx(0.0, abs=1e-6)
    darker = [fid(images, images * factor, extractor) for factor in (0.9, 0.6, 0.3)]
    assert darker[0] > 0 and darker == sorted(darker)


def test_fid_floor_and_kid_on_images(extractor, tiny_digits):
    images, _ = tiny_digits
    floor = fid_floor(images, extractor, seed=0)
    assert np.isfinite(floor) and floor >= 0
    assert fid_floor(images, extractor, num_examples=16) >= 0
    same = kid(images[:32], images[32:], extractor, subset_size=32)
    shifted = kid(images[:32], images[32:] * 0.3, extractor, subset_size=32)
    assert shifted > same


def test_fid_accepts_a_plain_callable(extractor, tiny_digits):
    images, _ = tiny_digits
    via_callable = fid(images[:32], images[32:], lambda batch: extractor.predict(batch))
    assert via_callable == pytest.approx(fid(images[:32], images[32:], extractor), rel=1e-12)
    # (N, H, W) images get their channel axis before the extractor sees them.
    assert fid(images[:32, ..., 0], images[32:], extractor) == pytest.approx(via_callable)


def test_bad_arguments_say_what_was_expected_and_received(extractor, tiny_digits):
    images, _ = tiny_digits
    with pytest.raises(ValueError, match=r"values in \[0, 1\]\. Received: values in \[-1"):
        fid(images * 2 - 1, images, extractor)
    with pytest.raises(ValueError, match=r"same image shape \(28, 28, 1\)\. Received: images_b"):
        fid(images, np.zeros((4, 32, 32, 1), np.float32), extractor)
    with pytest.raises(ValueError, match=r"same image shape.*Received: images_b"):
        kid(images, np.zeros((4, 32, 32, 1), np.float32), extractor)
    with pytest.raises(ValueError, match=r"Expected `images_a` of shape \(batch, height, width"):
        fid(images[0, ..., 0], images, extractor)
    with pytest.raises(ValueError, match=r"at least one image. Received: 0 images"):
        fid(images[:0], images, extractor)
    assert extractor.calls == 0, "images are checked before any features are computed"
    with pytest.raises(ValueError, match="same number of features. Received: 3 and 4"):
        frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="num_examples >= 2"):
        frechet_distance(np.zeros((1, 3)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="between 2 and half the real images \\(32\\)"):
        fid_floor(images, extractor, num_examples=40)


def test_the_metrics_are_pure_and_load_no_network_library():
    code = (
        "import sys, course_lib.metrics.fid; "
        "loaded = {'keras', 'tensorflow', 'course_lib.data'} & set(sys.modules); "
        "assert not loaded, loaded"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.fixture(scope="module")
def stand_in_splits():
    """The stand-in digits' train and held-out (validation + test) images."""
    train = load_dataset("digits", "train").images
    held_out = np.concatenate(
        [load_dataset("digits", split).images for split in ("validation", "test")]
    )
    return train, held_out


def test_kid_reports_its_spread_and_is_unbiased_for_one_distribution():
    rng = np.random.default_rng(7)
    values = [
        kid_from_features(rng.normal(size=(200, 8)), rng.normal(size=(200, 8)), seed=s)
        for s in range(20)
    ]
    # Unbiased: over many draws the mean sits within its standard error of 0.
    assert abs(np.mean(values)) < 3 * np.std(values) / np.sqrt(len(values))
    value, spread = kid_from_features(
        rng.normal(size=(400, 8)),
        rng.normal(size=(400, 8)) + 0.5,
        subset_size=100,
        return_std=True,
    )
    assert value > 0 and 0 < spread < value
    report = fid_report(
        held_out_a := rng.uniform(size=(40, 28, 28, 1)),
        held_out_a,
        held_out_a,
        lambda x: x.reshape(len(x), -1)[:, :8],
        calibration=(),
    )
    assert report["kid_std"] > 0  # subsets of half the images differ


def test_the_floor_sits_below_a_shifted_set_and_the_ladder_rises(extractor, stand_in_splits):
    train, held_out = stand_in_splits
    report = fid_report(held_out[::-1], train, held_out, extractor, seed=1)
    assert report["num_examples"] == len(held_out)
    darker = fid_report(held_out * 0.7, train, held_out, extractor)
    assert report["floor"] < darker["fid"]
    ladder = report["calibration"]
    assert ladder["noise 0.1"] < ladder["noise 0.3"]
    assert ladder["blur 0.5"] < ladder["blur 1"]
    assert min(ladder.values()) > report["floor"]


def test_the_report_flags_copied_training_images_and_not_held_out_ones(extractor, stand_in_splits):
    train, held_out = stand_in_splits
    n = len(held_out)
    train_sample = train[np.random.default_rng(0).choice(len(train), n, replace=False)]
    # A "generator" that returns exactly the training images the report compares with.
    copied = fid_report(train_sample, train_sample, held_out, extractor, calibration=())
    assert copied["fid_train"] == pytest.approx(0.0, abs=1e-6)
    assert "check for copying" in format_fid_report(copied)
    fresh = fid_report(held_out, train, held_out, extractor, calibration=())
    text = format_fid_report(fresh, name="held-out digits")
    assert "no sign of copying" in text and "held-out digits" in text


def test_the_report_refuses_bad_sizes_and_corrupt_refuses_bad_kinds(extractor, tiny_digits):
    images, _ = tiny_digits
    with pytest.raises(ValueError, match=r"between 2 and the smallest set's size \(64\)"):
        fid_report(images, images, images, extractor, num_examples=65)
    with pytest.raises(ValueError, match=r"Received: kind='swirl'"):
        corrupt(images, "swirl", 1.0)
    with pytest.raises(ValueError, match=r"Received: strength=0"):
        corrupt(images, "noise", 0)
    with pytest.raises(ValueError, match=r"values in \[0, 1\]"):
        fid_report(images * 2 - 1, images, images, extractor)
