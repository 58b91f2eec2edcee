"""Checks of the exercises of notebook 00 (setup and tour).

Every check computes its reference from the learner's own data (the training and
validation images the notebook loaded), so it holds in the full and the smoke profile,
and its failure messages name the idea to look at, never the value.

Example:
    >>> import numpy as np
    >>> check_exercise_2(lambda images: (images - 0.5) / 0.5)
    Correct: to_symmetric agrees with the reference on 4 inputs.
"""

from __future__ import annotations

import numpy as np

from course_lib.exercises import check_answered, check_array, check_function, check_true

__all__ = [
    "check_exercise_1",
    "check_exercise_2",
    "check_exercise_3",
    "check_exercise_4",
]


def _require(name: str, condition, hint: str) -> None:
    """Fail with `hint` unless `condition` holds (a step of a check: silent when right)."""
    if not bool(condition):
        raise AssertionError(f"Not yet: {name}. {hint}")


def check_exercise_1(class_means, images, labels) -> None:
    """Exercise 1: the mean training image of each class, shape `(10, *image_shape)`."""
    images = np.asarray(images, dtype=np.float64)
    labels = np.asarray(labels)
    reference = np.stack([images[labels == k].mean(axis=0) for k in range(10)])
    check_array(
        "class_means",
        class_means,
        reference,
        hint="Average the training images of one class at a time over the image axis "
        "(axis 0), class 0 first, keeping each image's shape.",
    )


def check_exercise_2(to_symmetric) -> None:
    """Exercise 2: the linear map from [0, 1] to [-1, 1]."""
    rng = np.random.default_rng(0)
    check_function(
        "to_symmetric",
        to_symmetric,
        lambda x: 2.0 * x - 1.0,
        [
            (np.zeros((2, 28, 28, 1)),),
            (np.ones((3, 28, 28, 1)),),
            (np.array([0.25, 0.5, 0.75]),),
            (rng.random((4, 28, 28, 1)),),
        ],
        hint="The map is a straight line through (0, -1) and (1, 1): find its slope and "
        "its intercept.",
    )


# The principal directions of a training set, kept between exercises 3 and 4.
_PCA_CACHE: dict = {}


def _principal_directions(flat_train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The training mean and the principal directions (columns, largest variance first)."""
    key = (flat_train.shape, hash(flat_train.tobytes()))
    if key not in _PCA_CACHE:
        _PCA_CACHE.clear()
        mean = flat_train.mean(axis=0)
        centred = flat_train - mean
        # The eigenvectors of the scatter matrix are PCA's directions: one
        # decomposition serves every code size.
        _, vectors = np.linalg.eigh(centred.T @ centred)
        _PCA_CACHE[key] = (mean, vectors[:, ::-1])
    return _PCA_CACHE[key]


def _pca_reconstructions(flat_train, images, num_components: int) -> np.ndarray:
    mean, directions = _principal_directions(flat_train)
    basis = directions[:, :num_components]
    return (images - mean) @ basis @ basis.T + mean


def _flat(images) -> np.ndarray:
    images = np.asarray(images, dtype=np.float64)
    return images.reshape(len(images), -1)


def check_exercise_3(
    components_for_mse, validation_mse_by_k, candidates, flat_train, flat_validation, *, target=0.02
) -> None:
    """Exercise 3: the validation MSE of PCA at each candidate size, and the smallest good enough.

    A code size is a setting, so it is chosen on the validation images, never on
    the test images. The method is checked, not only the number: each reported
    MSE must be the per-pixel validation error of a PCA fitted on the training
    images, recomputed here from the learner's own arrays; the answer must be the
    first candidate whose reported error reaches `target`.
    """
    check_answered("validation_mse_by_k", validation_mse_by_k)
    check_answered("components_for_mse", components_for_mse)
    candidates = [int(k) for k in candidates]
    _require(
        "validation_mse_by_k has one error for each candidate",
        isinstance(validation_mse_by_k, dict)
        and sorted(int(k) for k in validation_mse_by_k) == sorted(candidates),
        "Make validation_mse_by_k a dict from each value of `candidates` to its validation MSE.",
    )
    flat_train, flat_validation = _flat(flat_train), _flat(flat_validation)
    for k in candidates:
        reference = float(
            np.mean((_pca_reconstructions(flat_train, flat_validation, k) - flat_validation) ** 2)
        )
        check_array(
            f"validation_mse_by_k[{k}]",
            validation_mse_by_k[k],
            reference,
            rtol=2e-2,
            atol=0.0,
            quiet=True,
            hint="Fit each PCA on the training images, reconstruct the *validation* images "
            "(transform, then inverse_transform) and average the squared error over "
            "images and pixels.",
        )
    reached = [k for k in sorted(candidates) if validation_mse_by_k[k] <= target]
    expected = reached[0] if reached else None
    assert components_for_mse in candidates or expected is None, (
        "Answer with one of the values in `candidates` (an int)."
    )
    check_true(
        "components_for_mse is the smallest code that reaches the target",
        components_for_mse == expected,
        "Go through the candidates from the smallest and stop at the first whose validation "
        "MSE is at most the target.",
    )


def check_exercise_4(figure, num_components, images, flat_train, *, num_images=8) -> None:
    """Exercise 4: `reconstruction_rows` of the first validation digits and their PCA codes.

    The figure's images are read back: the top row must hold the first
    `num_images` of `images` (the validation digits in the notebook), the bottom
    row their reconstructions from a PCA with `num_components` components fitted
    on the training images (clipped to [0, 1] or not).
    """
    from matplotlib.figure import Figure

    check_answered("figure", figure)
    check_answered("components_for_mse (exercise 3)", num_components)
    _require(
        "the answer is a matplotlib Figure",
        isinstance(figure, Figure),
        "Keep what `reconstruction_rows(...)` returns: it gives back the Figure.",
    )
    rows = {}
    for ax in figure.axes:
        if ax.images:
            spec = ax.get_subplotspec()
            rows.setdefault(spec.rowspan.start, []).append(
                (spec.colspan.start, np.asarray(ax.images[0].get_array(), dtype=np.float64))
            )
    _require(
        f"the figure shows {num_images} columns of images in rows",
        len(rows) >= 2 and all(len(row) == num_images for row in rows.values()),
        f"Pass num_images={num_images} and give two image rows: originals and reconstructions.",
    )
    ordered = [
        np.stack([image for _, image in sorted(rows[r], key=lambda item: item[0])])
        for r in sorted(rows)
    ]
    top, bottom = ordered[0], ordered[-1]
    images = np.asarray(images, dtype=np.float64)[:num_images]
    originals = images.reshape(top.shape) if images.size == top.size else None
    _require(
        "the top row shows the first validation digits",
        originals is not None and np.allclose(top, originals, atol=1e-5),
        "The originals are the first validation images, in order, as the first argument.",
    )
    reference = _pca_reconstructions(_flat(flat_train), _flat(images), int(num_components))
    reference = np.clip(reference.reshape(bottom.shape), 0.0, 1.0)
    check_true(
        "the bottom row shows their PCA reconstructions with your number of components",
        float(np.mean(np.abs(np.clip(bottom, 0.0, 1.0) - reference))) < 5e-3,
        "Fit a PCA with components_for_mse components on the training images and pass "
        "the reconstructions of the same validation digits, reshaped to images, as the second "
        "argument.",
    )
