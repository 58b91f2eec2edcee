"""Tests of course_lib.metrics.memorisation: copies are flagged, new images are not."""

import numpy as np
import pytest

from course_lib.metrics.memorisation import (
    describe_memorisation,
    memorisation_report,
    nearest_neighbours,
)


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits

    images = load_digits().images.astype("float64") / 16.0  # 1,797 real 8x8 digits
    order = np.random.default_rng(0).permutation(len(images))
    return images[order[:1200]], images[order[1200:1500]], images[order[1500:]]


def test_nearest_neighbours_against_brute_force():
    rng = np.random.default_rng(1)
    queries, references = rng.random((20, 5)), rng.random((50, 5))
    distances, indices = nearest_neighbours(queries, references, k=3)
    brute = np.linalg.norm(queries[:, None] - references[None], axis=-1)
    np.testing.assert_array_equal(indices, np.argsort(brute, axis=1)[:, :3])
    np.testing.assert_allclose(distances, np.sort(brute, axis=1)[:, :3])


def test_exact_copies_of_training_digits_are_flagged(digits):
    train, held_out, _ = digits
    report = memorisation_report(train[:100], train, held_out)
    assert report["near_copy_share"] == 1.0
    np.testing.assert_array_equal(report["generated_nearest"], np.arange(100))
    np.testing.assert_allclose(report["generated_distance"], 0.0)
    np.testing.assert_allclose(report["generated_ratio"], 0.0)


def test_copies_with_a_little_noise_are_still_flagged(digits):
    train, held_out, _ = digits
    noisy = train[:100] + np.random.default_rng(2).normal(0, 0.01, train[:100].shape)
    assert memorisation_report(noisy, train, held_out)["near_copy_share"] > 0.95


def test_new_real_digits_are_not_flagged(digits):
    train, held_out, new = digits
    report = memorisation_report(new, train, held_out)
    # New digits behave like held-out ones: about 1 % below the 1st percentile.
    assert report["near_copy_share"] < 0.05
    assert report["held_out_near_copy_share"] <= 0.02
    assert np.median(report["generated_ratio"]) > 0.5


def test_the_verdict_separates_copiers_from_new_digits(digits):
    train, held_out, new = digits
    copier = describe_memorisation(memorisation_report(train[:200], train, held_out), "copier")
    assert copier.endswith("the model copies") and "100.0% of 200" in copier
    # Half copies, half new digits: flagged too.
    mixed = np.concatenate([train[:50], new[:150]])
    assert "more near-copies" in describe_memorisation(memorisation_report(mixed, train, held_out))
    # (With 300 held-out digits a 1st percentile rests on 3 of them: use the 5th.)
    honest = memorisation_report(new, train, held_out, percentile=5.0)
    honest = describe_memorisation(honest, "new digits")
    assert "within sampling noise" in honest


def test_bad_input_says_what_was_expected():
    with pytest.raises(ValueError, match=r"non-empty batch.*Received: queries.shape=\(3,\)"):
        nearest_neighbours(np.zeros(3), np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"same size per item.*4 and 3"):
        nearest_neighbours(np.zeros((2, 4)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"at least k=2 references.*1 references"):
        nearest_neighbours(np.zeros((2, 3)), np.zeros((1, 3)))
    with pytest.raises(ValueError, match=r"percentile.*Received: percentile=0"):
        memorisation_report(np.zeros((2, 3)), np.zeros((4, 3)), np.zeros((4, 3)), percentile=0)
