"""Memorisation: is a generated image new, or a copy of a training image?

A generator that reproduces its training images can score a fine FID, because the
FID compares distributions, not individual images. The check here compares each
generated image with its nearest training images, and reads the distances against
those of *held-out* real images, which are new by construction:

- `nearest_neighbours(queries, references, k)`: the distances to, and the indices
  of, the `k` nearest references of each query (Euclidean, in pixels or in any
  feature space, e.g. the digit classifier's);
- `memorisation_report(generated, train, held_out)`: for the generated and the
  held-out images, the distance to the nearest training image, the ratio of the
  nearest to the second nearest distance (a copy has a ratio near 0: it sits on one
  training image and far from the rest), and the share of near-copies, i.e. images
  closer to a training image than almost every held-out image is (below the
  held-out distances' 1st percentile by default).

Pure functions on arrays (NumPy and scikit-learn).
"""

from __future__ import annotations

import numpy as np
from sklearn.neighbors import NearestNeighbors

from course_lib._checks import check_positive_int

__all__ = ["describe_memorisation", "memorisation_report", "nearest_neighbours"]


def _as_rows(array, name: str) -> np.ndarray:
    """Images `(N, ...)` or feature vectors `(N, D)` as float64 rows `(N, D)`."""
    array = np.asarray(array, dtype=np.float64)
    if array.ndim < 2 or len(array) == 0:
        raise ValueError(
            f"Expected `{name}` to be a non-empty batch: images (N, H, W[, C]) or features "
            f"(N, D). Received: {name}.shape={array.shape}"
        )
    if not np.all(np.isfinite(array)):
        raise ValueError(f"Expected finite values in `{name}`. Received: NaN or infinity")
    return array.reshape(len(array), -1)


def nearest_neighbours(queries, references, k: int = 2):
    """The `k` nearest references of each query: Euclidean distances and indices.

    Args:
        queries: images `(N, H, W[, C])` or features `(N, D)`.
        references: the same kind of array, `(M, ...)`, with `M >= k`.
        k: how many neighbours per query.

    Returns:
        `(distances, indices)`, both `(N, k)`, nearest first.

    Raises:
        ValueError: empty or non-finite arrays, sizes that differ per item, or
            fewer than `k` references.

    Example:
        >>> references = [[0, 1], [5, 5], [9, 9]]
        >>> distances, indices = nearest_neighbours([[0.0, 0.0], [5.0, 5.0]], references)
        >>> indices[:, 0].tolist(), distances[:, 0].round(3).tolist()
        ([0, 1], [1.0, 0.0])
    """
    queries = _as_rows(queries, "queries")
    references = _as_rows(references, "references")
    k = check_positive_int(k, "k")
    if queries.shape[1] != references.shape[1]:
        raise ValueError(
            "Expected `queries` and `references` of the same size per item. "
            f"Received: {queries.shape[1]} and {references.shape[1]} values"
        )
    if len(references) < k:
        raise ValueError(
            f"Expected at least k={k} references. Received: {len(references)} references"
        )
    index = NearestNeighbors(n_neighbors=k, algorithm="brute").fit(references)
    distances, indices = index.kneighbors(queries)
    return distances, indices


def memorisation_report(generated, train, held_out, *, percentile: float = 1.0) -> dict:
    """Distances of generated and of held-out images to the training set, side by side.

    Held-out real images were never seen by the generator, so their distances to the
    training set say how close a *new* digit typically lands. Generated images much
    closer than that are near-copies.

    Args:
        generated: generated images (or their features), `(N, ...)`.
        train: the training images, `(M, ...)`, in the same space.
        held_out: real images the generator never saw, `(K, ...)`, same space.
        percentile: the held-out distances' percentile below which an image counts
            as a near-copy (default 1: closer than 99 % of new real images).

    Returns:
        A dict of NumPy arrays and floats:
        `generated_distance` and `held_out_distance` (to the nearest training
        image, one per image), `generated_ratio` and `held_out_ratio` (nearest over
        second nearest), `generated_nearest` (the index of each generated image's
        nearest training image), `threshold` (the near-copy distance),
        `near_copy_share` (the share of generated images below it) and
        `held_out_near_copy_share` (the same for held-out images: about
        `percentile` / 100 by construction, the share to compare against).

    Raises:
        ValueError: bad arrays (see `nearest_neighbours`) or a percentile outside (0, 100).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> train = rng.random((200, 16))
        >>> copies = train[:50] + 1e-6  # a "generator" that copies training points
        >>> report = memorisation_report(copies, train, rng.random((100, 16)))
        >>> report["near_copy_share"]
        1.0
    """
    if not 0.0 < float(percentile) < 100.0:
        raise ValueError(f"Expected `percentile` in (0, 100). Received: percentile={percentile!r}")
    generated_distances, generated_indices = nearest_neighbours(generated, train, k=2)
    held_out_distances, _ = nearest_neighbours(held_out, train, k=2)
    threshold = float(np.percentile(held_out_distances[:, 0], percentile))

    def ratio(distances):
        # Nearest over second nearest; 0 for an exact copy (an empty second distance is 0/0).
        return np.divide(
            distances[:, 0],
            distances[:, 1],
            out=np.zeros(len(distances)),
            where=distances[:, 1] > 0,
        )

    return {
        "generated_distance": generated_distances[:, 0],
        "held_out_distance": held_out_distances[:, 0],
        "generated_ratio": ratio(generated_distances),
        "held_out_ratio": ratio(held_out_distances),
        "generated_nearest": generated_indices[:, 0],
        "threshold": threshold,
        "near_copy_share": float(np.mean(generated_distances[:, 0] < threshold)),
        "held_out_near_copy_share": float(np.mean(held_out_distances[:, 0] < threshold)),
    }


def describe_memorisation(report: dict, name: str = "samples") -> str:
    """One computed sentence on a `memorisation_report`: the share of near-copies and a verdict.

    The share of generated near-copies is read against the held-out images'
    share, with two standard errors as the noise: of the generated share, and of
    the threshold itself, a percentile estimated from the held-out images.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> train = rng.random((200, 16))
        >>> report = memorisation_report(train[:50] + 1e-6, train, rng.random((100, 16)))
        >>> describe_memorisation(report, "copier").split("->")[1].strip()
        'many more near-copies than new images have: the model copies'
    """
    share, base = report["near_copy_share"], report["held_out_near_copy_share"]
    num_generated = len(report["generated_distance"])
    num_held_out = len(report["held_out_distance"])
    variance = max(base * (1 - base), 1e-4) * (1 / num_generated + 1 / num_held_out)
    noise = 2 * np.sqrt(variance)
    if share <= base + noise:
        verdict = "as many near-copies as new images have, within sampling noise"
    elif share <= 3 * base:
        verdict = "somewhat more near-copies than new images have: look at the pairs"
    else:
        verdict = "many more near-copies than new images have: the model copies"
    median = float(np.median(report["generated_distance"]))
    held_out_median = float(np.median(report["held_out_distance"]))
    return (
        f"{name}: near-copies {share:.1%} of {num_generated} (held-out images: {base:.1%}); "
        f"median distance to the nearest training image {median:.2f} "
        f"(held-out {held_out_median:.2f}) -> {verdict}"
    )
