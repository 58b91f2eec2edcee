"""Every check of notebook 10 rejects plausible wrong answers and accepts a right one.

For each exercise: wrong answers a learner could plausibly write (each must raise
`AssertionError`) and one correct answer written differently from the solution (it
must pass). Small synthetic arrays only.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from course_lib.checks import evaluation as checks
from tests.conftest import rejects

# --------------------------------------------------------------------------- exercise 1


def radii(points, k, skip_self=True):
    distances = np.sort(cdist(points, points), axis=1)
    return distances[:, k] if skip_self else distances[:, k - 1]


def pr_right(real, fake, k):
    real_radii, fake_radii = radii(real, k), radii(fake, k)
    between = cdist(fake, real)
    precision = np.mean((between < real_radii[None, :]).any(axis=1))
    recall = np.mean((between.T < fake_radii[None, :]).any(axis=1))
    return precision, recall


def pr_self_counted(real, fake, k):  # the point itself counted as its first neighbour
    between = cdist(fake, real)
    return (
        np.mean((between < radii(real, k, skip_self=False)).any(axis=1)),
        np.mean((between.T < radii(fake, k, skip_self=False)).any(axis=1)),
    )


def pr_swapped(real, fake, k):
    precision, recall = pr_right(real, fake, k)
    return recall, precision


def pr_non_strict(real, fake, k):  # <= instead of <: boundary points counted inside
    between = cdist(fake, real)
    return (
        np.mean((between <= radii(real, k)).any(axis=1)),
        np.mean((between.T <= radii(fake, k)).any(axis=1)),
    )


def pr_wrong_balls(real, fake, k):  # each direction with the other set's radii
    between = cdist(fake, real)
    fake_radii, real_radii = radii(fake, k), radii(real, k)
    return (
        np.mean((between < fake_radii[:, None]).any(axis=1)),
        np.mean((between.T < real_radii[:, None]).any(axis=1)),
    )


def pr_fixed_k(real, fake, k):  # ignores k
    return pr_right(real, fake, 3)


@pytest.mark.parametrize(
    "wrong", [pr_self_counted, pr_swapped, pr_non_strict, pr_wrong_balls, pr_fixed_k]
)
def test_knn_precision_recall_rejects(wrong):
    rejects(checks.check_knn_precision_recall, wrong)


def test_knn_precision_recall_rejects_a_stub():
    def stub(real, fake, k):
        pass

    assert "no answer yet" in rejects(checks.check_knn_precision_recall, stub)


def test_knn_precision_recall_accepts(capsys):
    checks.check_knn_precision_recall(pr_right)
    assert "Correct" in capsys.readouterr().out


# --------------------------------------------------------------------------- exercise 2


def boot_right(values, num_resamples, confidence, seed):
    rng = np.random.default_rng(seed)
    n = len(values)
    means = np.array([values[rng.integers(0, n, n)].mean() for _ in range(num_resamples)])
    tail = 50.0 * (1.0 - confidence)
    return tuple(np.percentile(means, [tail, 100.0 - tail]))


def boot_without_replacement(values, num_resamples, confidence, seed):
    rng = np.random.default_rng(seed)
    means = np.array([rng.permutation(values).mean() for _ in range(num_resamples)])
    tail = 50.0 * (1.0 - confidence)
    return tuple(np.percentile(means, [tail, 100.0 - tail]))


def boot_fixed_tails(values, num_resamples, confidence, seed):  # always 95 %
    return boot_right(values, num_resamples, 0.95, seed)


def boot_whole_tail(values, num_resamples, confidence, seed):  # (1 - c) in each tail
    rng = np.random.default_rng(seed)
    n = len(values)
    means = np.array([values[rng.integers(0, n, n)].mean() for _ in range(num_resamples)])
    tail = 100.0 * (1.0 - confidence)
    return tuple(np.percentile(means, [tail, 100.0 - tail]))


def boot_normal(values, num_resamples, confidence, seed):  # mean +- 1.96 standard errors
    error = values.std(ddof=1) / np.sqrt(len(values))
    return values.mean() - 1.96 * error, values.mean() + 1.96 * error


def boot_reseeded(values, num_resamples, confidence, seed):  # a new generator per resample
    n = len(values)
    means = np.array(
        [values[np.random.default_rng(seed).integers(0, n, n)].mean() for _ in range(num_resamples)]
    )
    tail = 50.0 * (1.0 - confidence)
    return tuple(np.percentile(means, [tail, 100.0 - tail]))


@pytest.mark.parametrize(
    "wrong",
    [boot_without_replacement, boot_fixed_tails, boot_whole_tail, boot_normal, boot_reseeded],
)
def test_bootstrap_mean_rejects(wrong):
    rejects(checks.check_bootstrap_mean, wrong)


def test_bootstrap_mean_accepts(capsys):
    checks.check_bootstrap_mean(boot_right)
    assert "Correct" in capsys.readouterr().out


# --------------------------------------------------------------------------- exercise 3


def nearest(queries, references):
    return cdist(queries, references).min(axis=1)


def copies_right(generated, train, held_out, percentile):
    threshold = np.percentile(nearest(held_out, train), percentile)
    return nearest(generated, train) < threshold


def copies_generated_threshold(generated, train, held_out, percentile):
    distances = nearest(generated, train)
    return distances < np.percentile(distances, percentile)


def copies_wrong_percentile(generated, train, held_out, percentile):  # 100 - p
    threshold = np.percentile(nearest(held_out, train), 100 - percentile)
    return nearest(generated, train) < threshold


def copies_to_held_out(generated, train, held_out, percentile):  # distances to held-out rows
    threshold = np.percentile(nearest(held_out, train), percentile)
    return nearest(generated, held_out) < threshold


def copies_fixed_percentile(generated, train, held_out, percentile):  # ignores the argument
    return copies_right(generated, train, held_out, 1.0)


def copies_share(generated, train, held_out, percentile):  # the share, not the mask
    return np.mean(copies_right(generated, train, held_out, percentile))


@pytest.mark.parametrize(
    "wrong",
    [
        copies_generated_threshold,
        copies_wrong_percentile,
        copies_to_held_out,
        copies_fixed_percentile,
        copies_share,
    ],
)
def test_near_copies_rejects(wrong):
    rejects(checks.check_near_copies, wrong)


def test_near_copies_accepts(capsys):
    checks.check_near_copies(copies_right)
    assert "Correct" in capsys.readouterr().out


# --------------------------------------------------------------------------- exercise 4


def budget_right(rows, seconds, num_images):
    best = None
    for row in rows:
        speed = row.get("images_per_second")
        if speed is None or speed * seconds < num_images:
            continue
        if best is None or row["fid"] < best["fid"]:
            best = row
    return None if best is None else best["model"]


def budget_ignored(rows, seconds, num_images):
    return min((r for r in rows if r["images_per_second"]), key=lambda r: r["fid"])["model"]


def budget_highest_fid(rows, seconds, num_images):
    fast = [
        r for r in rows if r["images_per_second"] and r["images_per_second"] * seconds >= num_images
    ]
    return max(fast, key=lambda r: r["fid"])["model"] if fast else None


def budget_strict(rows, seconds, num_images):  # > instead of >=
    fast = [
        r for r in rows if r["images_per_second"] and r["images_per_second"] * seconds > num_images
    ]
    return min(fast, key=lambda r: r["fid"])["model"] if fast else None


def budget_unknown_is_fast(rows, seconds, num_images):  # a missing speed counted as fast
    fast = [
        r
        for r in rows
        if r["images_per_second"] is None or r["images_per_second"] * seconds >= num_images
    ]
    return min(fast, key=lambda r: r["fid"])["model"] if fast else None


def budget_returns_row(rows, seconds, num_images):
    fast = [
        r for r in rows if r["images_per_second"] and r["images_per_second"] * seconds >= num_images
    ]
    return min(fast, key=lambda r: r["fid"]) if fast else None


def budget_crashes_on_none(rows, seconds, num_images):
    fast = [r for r in rows if r["images_per_second"] * seconds >= num_images]
    return min(fast, key=lambda r: r["fid"])["model"] if fast else None


@pytest.mark.parametrize(
    "wrong",
    [
        budget_ignored,
        budget_highest_fid,
        budget_strict,
        budget_unknown_is_fast,
        budget_returns_row,
        budget_crashes_on_none,
    ],
)
def test_best_under_budget_rejects(wrong):
    rejects(checks.check_best_under_budget, wrong)


def test_best_under_budget_rejects_a_stub():
    def stub(rows, seconds, num_images):
        pass

    rejects(checks.check_best_under_budget, stub)


def test_best_under_budget_accepts(capsys):
    checks.check_best_under_budget(budget_right)
    assert "Correct" in capsys.readouterr().out
