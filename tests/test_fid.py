"""Tests of course_lib.metrics.fid: the Fréchet distance, KID, and the cached digit classifier."""

import numpy as np
import pytest
from scipy import linalg

from course_lib.metrics import fid as fid_module
from course_lib.metrics.fid import (
    FeatureExtractor,
    build_digit_classifier,
    fid,
    fid_floor,
    frechet_distance,
    get_feature_extractor,
    kid,
    kid_from_features,
)


@pytest.fixture(scope="module")
def extractor(tmp_path_factory):
    """A classifier trained for one epoch on 64 stand-in digits (seconds), cached in a tmp dir."""
    from course_lib.data import load_dataset

    data = load_dataset("digits", "train", num_examples=64)
    cache = tmp_path_factory.mktemp("classifier_cache")
    return get_feature_extractor(
        data.images, data.labels, cache_dir=cache, epochs=1, seed=0, verbose=False
    )


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


def test_extractor_features_shape_and_accuracy(extractor, tiny_digits):
    images, labels = tiny_digits
    assert isinstance(extractor, FeatureExtractor)
    features = extractor(images[:10])
    assert features.shape == (10, 128) and features.dtype == np.float64
    assert extractor(images[:10, ..., 0]).shape == (10, 128)  # (N, 28, 28) is accepted too
    assert 0.0 <= extractor.validation_accuracy <= 1.0
    assert 0.0 <= extractor.evaluate(images, labels) <= 1.0
    assert extractor.cache_path is not None and extractor.cache_path.exists()


def test_extractor_is_cached_by_data_hash(extractor, tiny_digits, capsys):
    images, labels = tiny_digits
    again = get_feature_extractor(
        images, labels, cache_dir=extractor.cache_path.parent, epochs=1, seed=0
    )
    assert "loaded from the cache" in capsys.readouterr().out
    assert again.cache_path == extractor.cache_path
    np.testing.assert_allclose(again(images[:5]), extractor(images[:5]), rtol=1e-5, atol=1e-5)
    # Other settings hash to another file.
    key_a = fid_module._cache_key(images, labels, {"epochs": 1})
    key_b = fid_module._cache_key(images, labels, {"epochs": 2})
    key_c = fid_module._cache_key(images[::-1].copy(), labels, {"epochs": 1})
    assert len({key_a, key_b, key_c}) == 3


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


def test_fid_accepts_a_plain_keras_model(extractor, tiny_digits):
    images, _ = tiny_digits
    via_model = fid(images[:32], images[32:], extractor.model)
    assert via_model == pytest.approx(fid(images[:32], images[32:], extractor), rel=1e-4)


def test_bad_arguments_say_what_was_expected_and_received(extractor, tiny_digits):
    images, labels = tiny_digits
    with pytest.raises(ValueError, match=r"values in \[0, 1\]\. Received: values in \[-1"):
        fid(images * 2 - 1, images, extractor)
    with pytest.raises(ValueError, match=r"shape \(batch, 28, 28, 1\).*Received: images_b.shape"):
        fid(images, np.zeros((4, 32, 32, 1), np.float32), extractor)
    with pytest.raises(ValueError, match="Expected one label per image.*Received: 3 labels"):
        get_feature_extractor(images, labels[:3], cache_dir=False)
    with pytest.raises(ValueError, match="Expected `epochs` to be a positive integer"):
        get_feature_extractor(images, labels, cache_dir=False, epochs=0)
    with pytest.raises(ValueError, match="same number of features. Received: 3 and 4"):
        frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="num_examples >= 2"):
        frechet_distance(np.zeros((1, 3)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="between 2 and half the real images \\(32\\)"):
        fid_floor(images, extractor, num_examples=40)
    with pytest.raises(ValueError, match="Expected `num_classes` to be a positive integer"):
        build_digit_classifier(num_classes=0)
