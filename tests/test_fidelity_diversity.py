"""Tests of course_lib.metrics.fidelity_diversity: fidelity and diversity are told apart."""

import numpy as np
import pytest

from course_lib.metrics.fidelity_diversity import (
    bootstrap_interval,
    density_coverage,
    precision_recall,
)

NUM_CLUSTERS = 10
NUM_FEATURES = 2  # few dimensions: two samples of one distribution then score near 1


# Centres on a circle of radius 30, about 19 apart: unit Gaussians around them never touch.
_ANGLES = 2 * np.pi * np.arange(NUM_CLUSTERS) / NUM_CLUSTERS
CENTRES = 30.0 * np.stack([np.cos(_ANGLES), np.sin(_ANGLES)], axis=1)


def mixture(num_examples, clusters, seed):
    """`num_examples` draws from unit Gaussians around the given clusters' centres, in turn."""
    labels = np.resize(np.asarray(clusters), num_examples)
    return CENTRES[labels] + np.random.default_rng(seed).normal(size=(num_examples, NUM_FEATURES))


@pytest.fixture(scope="module")
def real():
    return mixture(1000, range(NUM_CLUSTERS), seed=0)


@pytest.fixture(scope="module")
def same_distribution():
    return mixture(1000, range(NUM_CLUSTERS), seed=1)


@pytest.fixture(scope="module")
def dropped_modes():
    """A generator that draws only 5 of the 10 clusters, each as well as the real data."""
    return mixture(1000, range(5), seed=2)


# ----------------------------------------------------------- precision and recall


def test_identical_sets_score_one(real):
    assert precision_recall(real, real) == (1.0, 1.0)
    assert precision_recall(real, real.copy(), k=1) == (1.0, 1.0)


def test_disjoint_far_sets_score_zero(real):
    assert precision_recall(real, real + 1000.0) == (0.0, 0.0)


def test_two_samples_of_one_distribution_score_high(real, same_distribution):
    precision, recall = precision_recall(real, same_distribution)
    assert precision > 0.8 and recall > 0.8


def test_dropped_modes_keep_precision_and_lose_recall(real, dropped_modes):
    precision, recall = precision_recall(real, dropped_modes)
    assert precision > 0.9
    assert 0.45 < recall < 0.55  # half the clusters


def test_noise_on_the_fakes_lowers_precision_not_recall(real, same_distribution):
    noise = np.random.default_rng(3).normal(size=same_distribution.shape)
    scores = [precision_recall(real, same_distribution + scale * noise) for scale in (0, 1, 2, 4)]
    precisions, recalls = np.array(scores).T
    assert np.all(np.diff(precisions) < -0.05)  # blurrier samples, less realistic
    assert precisions[-1] < 0.4
    assert np.all(recalls > 0.9)  # the noisy fakes still spread over every cluster


def test_precision_recall_by_hand():
    real = np.arange(10.0).reshape(-1, 1)  # radii at k=2: 1, and 2 at both ends
    # 9.9 is inside the ball of 9 only; 12 is in none. The fakes' radii at k=1
    # are 0.4, 0.4, 2.1: together they cover (-0.4, 0.8) and (7.8, 14.1).
    fake = np.array([[0.0], [0.4], [9.9], [12.0]])
    assert precision_recall(real, fake[:3], k=2)[0] == 1.0
    precision, recall = precision_recall(real, fake, k=1)
    assert precision == 0.75  # 12 is farther than 1 from 9
    assert recall == 0.3  # reals 0, 8 and 9


# ----------------------------------------------------------- density and coverage


def test_identical_sets_have_full_coverage_and_density_one(real):
    # Strictly inside: each ball holds its centre and k - 1 neighbours, k in all.
    assert density_coverage(real, real) == (1.0, 1.0)


def test_disjoint_sets_have_no_density_or_coverage(real):
    assert density_coverage(real, real + 1000.0) == (0.0, 0.0)


def test_two_samples_of_one_distribution_have_density_about_one(real, same_distribution):
    density, coverage = density_coverage(real, same_distribution)
    assert 0.9 < density < 1.1
    assert coverage > 0.9


def test_dropped_modes_halve_coverage_and_keep_density(real, dropped_modes):
    density, coverage = density_coverage(real, dropped_modes)
    assert 0.45 < coverage < 0.55
    assert 0.85 < density < 1.15


def test_noise_on_the_fakes_lowers_density(real, same_distribution):
    noise = np.random.default_rng(3).normal(size=same_distribution.shape)
    densities = [
        density_coverage(real, same_distribution + scale * noise)[0] for scale in (0, 1, 2)
    ]
    assert np.all(np.diff(densities) < -0.1)


def test_fakes_crowded_into_overlapping_balls_have_density_above_one():
    real = np.arange(10.0).reshape(-1, 1)  # radii at k=2: 1, and 2 at both ends
    # 1.5 lies in the balls of 0, 1 and 2: 3 balls per fake over k = 2.
    assert density_coverage(real, np.full((4, 1), 1.5), k=2) == (1.5, 0.3)


def test_density_coverage_by_hand():
    real = np.arange(10.0).reshape(-1, 1)  # radii at k=2: 1, and 2 at both ends
    fake = np.array([[0.5], [1.5], [4.5], [5.5], [20.0]])
    # Balls holding each fake: 2, 3, 2, 2, 0; covered reals: 0, 1, 2, 4, 5, 6.
    assert density_coverage(real, fake, k=2) == (0.9, 0.6)


def test_distances_are_computed_in_blocks_the_same_way(real, dropped_modes, monkeypatch):
    import course_lib.metrics.fidelity_diversity as module

    whole = precision_recall(real, dropped_modes), density_coverage(real, dropped_modes)
    monkeypatch.setattr(module, "_BLOCK_SIZE", 7 * 1000)  # blocks of 7 rows
    assert (precision_recall(real, dropped_modes), density_coverage(real, dropped_modes)) == whole


# ----------------------------------------------------------------- bootstrap


def test_bootstrap_interval_contains_the_value_and_shrinks_with_n():
    rng = np.random.default_rng(4)
    widths = {}
    for num_examples in (100, 10_000):
        sample = rng.normal(loc=3.0, size=num_examples)
        value, low, high = bootstrap_interval(np.mean, sample)
        assert value == np.mean(sample)
        assert low < value < high
        assert low < 3.0 < high  # the true mean too, for this seed
        widths[num_examples] = high - low
    # A 95 % interval of a mean is about 2 x 1.96 / sqrt(n) wide: 0.39, then 0.039.
    assert widths[100] == pytest.approx(2 * 1.96 / 10, rel=0.25)
    assert 5 < widths[100] / widths[10_000] < 20


def test_bootstrap_resamples_each_array_independently_and_reproducibly():
    first, second = np.arange(5.0), np.arange(100.0, 300.0)
    seen = []

    def statistic(a, b):
        seen.append((len(a), len(b)))
        assert set(a) <= set(first) and set(b) <= set(second)
        return [a.mean(), b.mean()]

    value, low, high = bootstrap_interval(statistic, first, second, num_resamples=50, seed=1)
    assert seen == [(5, 200)] * 51  # the full data, then 50 resamples of the same sizes
    np.testing.assert_allclose(value, [2.0, 199.5])
    assert value.shape == low.shape == high.shape == (2,)
    assert np.all(low <= value) and np.all(value <= high)
    again = bootstrap_interval(statistic, first, second, num_resamples=50, seed=1)
    np.testing.assert_array_equal(np.stack(again), np.stack((value, low, high)))
    other = bootstrap_interval(statistic, first, second, num_resamples=50, seed=2)
    assert not np.array_equal(np.stack(other[1:]), np.stack((low, high)))


def test_bootstrap_wider_confidence_gives_a_wider_interval():
    sample = np.random.default_rng(5).normal(size=200)
    _, low_90, high_90 = bootstrap_interval(np.mean, sample, confidence=0.9)
    _, low_99, high_99 = bootstrap_interval(np.mean, sample, confidence=0.99)
    assert low_99 < low_90 and high_90 < high_99


def test_bootstrap_over_the_fakes_brackets_precision_and_density(real, same_distribution):
    # The documented recipe: the real balls fixed, only the fakes resampled.
    real, fake = real[::4], same_distribution[::4]
    value, low, high = bootstrap_interval(
        lambda fake: [precision_recall(real, fake)[0], density_coverage(real, fake)[0]],
        fake,
        num_resamples=40,
    )
    assert np.all(low < value) and np.all(value < high)


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize("metric", [precision_recall, density_coverage])
def test_bad_features_say_what_was_expected(metric):
    good = np.zeros((10, 3))
    with pytest.raises(
        ValueError, match=r"`real_features` of shape \(num_examples, num_fe.*\(10,\)"
    ):
        metric(np.zeros(10), good)
    with pytest.raises(ValueError, match=r"`fake_features` of shape.*\(2, 3, 4\)"):
        metric(good, np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match=r"`fake_features` to be finite.*NaN or infinite"):
        metric(good, np.full((10, 3), np.nan))
    with pytest.raises(ValueError, match=r"same number of features\. Received: 3 and 4"):
        metric(good, np.zeros((10, 4)))
    with pytest.raises(ValueError, match=r"at least 4 examples in `real_features` for k=3.*: 3 "):
        metric(good[:3], good, k=3)
    for k in (0, -1, 2.5, True, "3"):
        with pytest.raises(ValueError, match=r"`k` to be a positive integer\. Received: k="):
            metric(good, good, k=k)


def test_only_recall_needs_k_plus_one_fakes():
    good = np.random.default_rng(6).normal(size=(10, 3))
    with pytest.raises(ValueError, match=r"at least 4 examples in `fake_features`.*: 1 examples"):
        precision_recall(good, good[:1], k=3)
    density_coverage(good, good[:1], k=3)  # fakes are only queries here


def test_bad_bootstrap_arguments_say_what_was_expected():
    sample = np.zeros(10)
    with pytest.raises(ValueError, match=r"`statistic` to be a function.*Received: 3"):
        bootstrap_interval(3, sample)
    with pytest.raises(ValueError, match=r"at least one array.*no arrays"):
        bootstrap_interval(np.mean)
    with pytest.raises(ValueError, match=r"at least one row.*array 1 with shape \(0,\)"):
        bootstrap_interval(np.mean, sample, np.zeros(0))
    with pytest.raises(ValueError, match=r"`num_resamples` to be a positive integer"):
        bootstrap_interval(np.mean, sample, num_resamples=0)
    for confidence in (0, 1, 1.5, -0.1, "0.9", True):
        with pytest.raises(ValueError, match=r"`confidence` in \(0, 1\)\. Received: confidence="):
            bootstrap_interval(np.mean, sample, confidence=confidence)
    with pytest.raises(ValueError, match=r"return a number or an array of numbers.*'high'"):
        bootstrap_interval(lambda x: "high", sample)
