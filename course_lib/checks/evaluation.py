"""Checks of the exercises of notebook 10 (evaluating and comparing).

Each function takes the learner's answer, computes the reference itself and raises
`AssertionError` with a hint that names the idea, never the expected value. The
references come from `course_lib.metrics` wherever the library has them
(`precision_recall`, `bootstrap_interval`, `memorisation_report`), so a check also
confirms that the learner's code agrees with the library the notebook uses.

Example:
    >>> import numpy as np
    >>> def best_under_budget(rows, seconds, num_images):
    ...     fast = [r for r in rows if r.get("images_per_second")
    ...             and r["images_per_second"] * seconds >= num_images]
    ...     return min(fast, key=lambda r: r["fid"])["model"] if fast else None
    >>> check_best_under_budget(best_under_budget)
    Correct: best_under_budget picks the right model in 6 cases.
"""

from __future__ import annotations

import numpy as np

from course_lib.exercises import call_answer, check_array

__all__ = [
    "check_best_under_budget",
    "check_bootstrap_mean",
    "check_knn_precision_recall",
    "check_near_copies",
]


def _require(condition: bool, name: str, hint: str) -> None:
    """Fail with `hint` unless `condition` holds (silent when it does)."""
    if not condition:
        raise AssertionError(f"Not yet: {name}. {hint}")


def _clusters(rng, centres, per_centre, spread=1.0):
    """Points around each of `centres`, `per_centre` each."""
    centres = np.asarray(centres, dtype=np.float64)
    return np.repeat(centres, per_centre, axis=0) + spread * rng.normal(
        size=(len(centres) * per_centre, centres.shape[1])
    )


def check_knn_precision_recall(knn_precision_recall) -> None:
    """Exercise 1 of notebook 10: k-NN precision and recall, against `precision_recall`.

    Cases: one where the fakes drop a cluster (recall falls, precision does not), one
    with noisy fakes (precision falls), one on a line where fakes sit exactly on ball
    boundaries (strict inequality), and each with two values of k.
    """
    from course_lib.metrics.fidelity_diversity import precision_recall

    rng = np.random.default_rng(10)
    centres = [[0.0, 0.0], [8.0, 0.0], [0.0, 8.0]]
    real = _clusters(rng, centres, 40)
    cases = [
        ("dropped cluster", real, _clusters(rng, centres[:2], 45), 3),
        ("noisy fakes", real, _clusters(rng, centres, 40, spread=2.5), 3),
        ("dropped cluster, k = 5", real, _clusters(rng, centres[:1], 60), 5),
        (
            "points on a line",
            np.arange(10.0).reshape(-1, 1),
            np.array([[0.5], [1.0], [2.0], [4.5], [7.0], [20.0]]),
            2,
        ),
        (
            "points on a line, k = 1",
            np.arange(10.0).reshape(-1, 1),
            np.array([[0.5], [3.0], [3.2], [10.0]]),
            1,
        ),
    ]
    for name, real_points, fake_points, k in cases:
        answer = call_answer(
            "knn_precision_recall",
            knn_precision_recall,
            real_points.copy(),
            fake_points.copy(),
            k,
            hint="It must work for any numbers of points, any dimension and any k.",
        )
        _require(
            np.size(answer) == 2,
            f"knn_precision_recall returns two numbers ({name})",
            "Return a pair: (precision, recall).",
        )
        check_array(
            f"(precision, recall) on the case '{name}'",
            np.ravel(np.asarray(answer, dtype=np.float64)),
            precision_recall(real_points, fake_points, k=k),
            atol=1e-9,
            hint="Precision: the share of fakes inside some real ball; recall: the share of "
            "reals inside some fake ball. A ball's radius is the distance to the k-th nearest "
            "neighbour in the same set, the point itself not counted, and 'inside' is strictly "
            "closer than the radius.",
            quiet=True,
        )
    print(f"Correct: knn_precision_recall agrees with precision_recall on {len(cases)} cases.")


def check_bootstrap_mean(bootstrap_mean) -> None:
    """Exercise 2 of notebook 10: a percentile bootstrap of a mean, against `bootstrap_interval`.

    The exercise fixes the recipe (one generator, one `rng.integers(0, n, n)` per
    resample, `np.percentile` at the two tails), so the numbers must agree exactly.
    Cases: skewed 0/1 data (where a normal approximation differs), two confidences,
    two seeds.
    """
    from course_lib.metrics.fidelity_diversity import bootstrap_interval

    rng = np.random.default_rng(20)
    cases = [
        (np.r_[np.ones(4), np.zeros(56)], 200, 0.95, 0),
        (rng.exponential(size=50), 300, 0.9, 1),
        (rng.normal(3.0, 2.0, size=80), 150, 0.8, 7),
    ]
    for number, (values, num_resamples, confidence, seed) in enumerate(cases, start=1):
        answer = call_answer(
            "bootstrap_mean",
            bootstrap_mean,
            values.copy(),
            num_resamples,
            confidence,
            seed,
            hint="It must work for any array of numbers.",
        )
        _, low, high = bootstrap_interval(
            np.mean, values, num_resamples=num_resamples, confidence=confidence, seed=seed
        )
        check_array(
            f"(low, high) on case {number}",
            np.ravel(np.asarray(answer, dtype=np.float64)),
            [low, high],
            rtol=1e-9,
            atol=1e-12,
            hint="Resample with replacement, as many values as there are, with "
            "rng.integers from one generator seeded once; take the mean of each resample; "
            "the ends are percentiles that leave (1 - confidence) / 2 in each tail.",
            quiet=True,
        )
    print(f"Correct: bootstrap_mean agrees with bootstrap_interval on {len(cases)} cases.")


def check_near_copies(near_copies) -> None:
    """Exercise 3 of notebook 10: the near-copy mask of `memorisation_report`.

    Cases: a generator that copies a third of its samples (with tiny noise) and draws
    the rest new, checked at two percentiles, and one whose samples are all new.
    """
    from course_lib.metrics.memorisation import memorisation_report

    rng = np.random.default_rng(30)
    train = rng.random((300, 12))
    held_out = rng.random((150, 12))
    copier = np.concatenate([train[:40] + 1e-3 * rng.normal(size=(40, 12)), rng.random((80, 12))])
    cases = [
        ("a partial copier", copier, 1.0),
        ("a partial copier, 5th percentile", copier, 5.0),
        ("new samples only, 30th percentile", rng.random((90, 12)), 30.0),
    ]
    for name, generated, percentile in cases:
        answer = call_answer(
            "near_copies",
            near_copies,
            generated.copy(),
            train.copy(),
            held_out.copy(),
            percentile,
            hint="It must work for any numbers of rows.",
        )
        answer = np.asarray(answer)
        _require(
            answer.shape == (len(generated),),
            f"near_copies returns one True/False per generated sample ({name})",
            "Return a boolean array with one entry per row of `generated`.",
        )
        report = memorisation_report(generated, train, held_out, percentile=percentile)
        expected = report["generated_distance"] < report["threshold"]
        check_array(
            f"near_copies on '{name}'",
            answer.astype(np.float64),
            expected.astype(np.float64),
            hint="A near-copy is closer to its nearest training row than `percentile` per cent "
            "of the held-out rows are to theirs: the threshold comes from the held-out "
            "distances, and 'closer' is strict.",
            quiet=True,
        )
    print(f"Correct: near_copies agrees with memorisation_report on {len(cases)} cases.")


def _best_under_budget(rows, seconds, num_images):
    """The reference: the lowest FID among the rows fast enough; None if none is."""
    fast = [
        row
        for row in rows
        if row.get("images_per_second") is not None
        and row.get("fid") is not None
        and row["images_per_second"] * seconds >= num_images
    ]
    return min(fast, key=lambda row: row["fid"])["model"] if fast else None


def check_best_under_budget(best_under_budget) -> None:
    """Exercise 4 of notebook 10: the best model (lowest FID) that meets a sampling budget.

    Cases: the best model too slow, one just fast enough (exactly on the budget),
    rows whose speed was not recorded, and a budget nothing meets.
    """
    rows = [
        {"model": "slow and good", "fid": 5.0, "images_per_second": 100.0},
        {"model": "fast and poor", "fid": 40.0, "images_per_second": 20000.0},
        {"model": "middling", "fid": 12.0, "images_per_second": 1000.0},
        {"model": "speed unknown", "fid": 2.0, "images_per_second": None},
    ]
    cases = [
        (1.0, 500),  # only "middling" and "fast and poor": middling
        (10.0, 1000),  # exactly the slow model's budget: it counts
        (0.5, 5000),  # only the fast one
        (0.01, 10**6),  # nothing
        (100.0, 10),  # everything with a speed
        (2.0, 2001),  # one image over middling's budget
    ]
    for seconds, num_images in cases:
        answer = call_answer(
            "best_under_budget",
            best_under_budget,
            [dict(row) for row in rows],
            seconds,
            num_images,
            hint="Skip rows without a recorded speed.",
            allow_none=True,  # no model meeting the budget is a valid answer
        )
        expected = _best_under_budget(rows, seconds, num_images)
        _require(
            answer == expected,
            f"best_under_budget for {num_images:,} images in {seconds:g} s",
            "Keep only the models that make at least `num_images` images in `seconds` "
            "(a model exactly on the budget meets it; one without a recorded speed cannot be "
            "trusted to), then take the lowest FID among them, and return its name; None "
            "when no model meets the budget.",
        )
    print(f"Correct: best_under_budget picks the right model in {len(cases)} cases.")
