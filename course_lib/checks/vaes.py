"""Checks of the exercises of notebooks 03 (VAEs) and 04 (conditional and β-VAEs).

Every check computes its reference from the library (`course_lib.models.vae`) or
from the learner's own trained models, so it holds in both profiles and on any
data split, and its failure messages name the idea to look at, never the value.

Example:
    >>> import numpy as np
    >>> def kl_divergence(z_mean, z_log_var):
    ...     return 0.5 * np.sum(np.exp(z_log_var) + z_mean**2 - 1 - z_log_var, axis=-1)
    >>> check_03_exercise_1(kl_divergence)
    Correct: kl_divergence agrees with the reference on 5 inputs.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from course_lib.exercises import check_answered, check_array, check_function, check_true
from course_lib.models.vae import VAE, Sampling, gaussian_kl

__all__ = [
    "check_04_exercise_1",
    "check_04_exercise_2",
    "check_04_exercise_3",
    "check_04_exercise_4",
    "check_03_exercise_1",
    "check_03_exercise_2",
    "check_03_exercise_3",
    "check_03_exercise_4",
]


def _require(name, condition, hint):
    """`check_true` without its confirmation: one step of a longer check."""
    if not bool(condition):
        raise AssertionError(f"Not yet: {name}. {hint}")


def _numpy(value):
    return np.asarray(ops.convert_to_numpy(value), dtype=np.float64)


def _shifted_log_var_encoder(encoder, offset: float):
    """The same encoder (shared weights) with `offset` added to its `z_log_var` output.

    Why: a trained encoder's variances can sit near 1 (log-variance near 0), where
    `exp(z_log_var)` and `exp(z_log_var / 2)` agree; a shifted copy tells them apart.
    """
    z_mean, z_log_var = encoder.outputs
    shifted = keras.layers.Rescaling(1.0, offset=offset, name="shift_log_var")(z_log_var)
    inputs = encoder.inputs[0] if len(encoder.inputs) == 1 else encoder.inputs
    return keras.Model(inputs, [z_mean, shifted], name=f"{encoder.name}_shifted")


class _GivenNoise(Sampling):
    """The `Sampling` layer with its noise given instead of drawn (for a fixed-noise check)."""

    def __init__(self, epsilon, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = ops.convert_to_tensor(np.asarray(epsilon, dtype=np.float32))

    def call(self, inputs):
        z_mean, z_log_var = inputs
        return z_mean + ops.exp(0.5 * z_log_var) * self.epsilon


def _library_terms(model, images, epsilon):
    """The library's per-image `reconstruction_loss` and `kl_loss` of `model` for noise `epsilon`.

    A `VAE` on the same networks (same beta, likelihood and sigma) computes its
    loss terms (`VAE._loss_terms`: encode, sample, decode, -log p(x|z), KL) with
    the given noise in place of a random draw.
    """
    reference = VAE(
        model.encoder,
        model.decoder,
        beta=model.beta,
        likelihood=model.likelihood,
        sigma=model.sigma,
    )
    reference.sampling = _GivenNoise(epsilon)
    reconstruction_loss, kl_loss = reference._loss_terms(np.asarray(images, dtype=np.float32))
    return _numpy(reconstruction_loss), _numpy(kl_loss)


# --------------------------------------------------------------------------- notebook 03


def check_03_exercise_1(kl_divergence):
    """Notebook 03, exercise 1: `kl_divergence(z_mean, z_log_var)`, one KL per row."""
    rng = np.random.default_rng(0)
    cases = [(rng.normal(size=(4, 3)), rng.normal(size=(4, 3))) for _ in range(3)]
    cases.append((np.zeros((2, 5)), np.zeros((2, 5))))
    cases.append((np.ones((1, 1)), np.zeros((1, 1))))  # KL(N(1, 1) || N(0, 1)): only the mean
    check_function(
        "kl_divergence",
        kl_divergence,
        lambda m, v: _numpy(gaussian_kl(m, v)),
        cases,
        hint="Sum over the latent dimensions (one value per row), keep the factor 1/2 and "
        "the sign that makes a KL non-negative, and remember exp(z_log_var) is the variance.",
    )


def check_03_exercise_2(reparameterize, codes, sample_std, z_mean, z_log_var):
    """Notebook 03, exercise 2: `reparameterize`, then 10,000 codes for one digit and their spread.

    Args:
        reparameterize: the learner's function `(z_mean, z_log_var, epsilon) -> z`.
        codes: the learner's codes for the digit, `(10000, latent_dim)`.
        sample_std: the learner's per-dimension standard deviation of `codes`.
        z_mean, z_log_var: the encoder's outputs for that digit, `(latent_dim,)`.
    """
    rng = np.random.default_rng(1)
    check_function(
        "reparameterize",
        reparameterize,
        lambda m, v, e: m + np.exp(0.5 * v) * e,
        [tuple(rng.normal(size=(3, 4)) for _ in range(3)) for _ in range(3)],
        hint="z = z_mean + sigma * epsilon, and sigma is exp(z_log_var / 2), not exp(z_log_var).",
    )
    check_answered("codes", codes)
    z_mean = np.asarray(z_mean, dtype=np.float64)
    sigma = np.exp(0.5 * np.asarray(z_log_var, dtype=np.float64))
    codes = np.asarray(codes, dtype=np.float64)
    _require(
        "codes holds 10,000 codes of the digit",
        codes.shape == (10_000, z_mean.shape[-1]),
        "Draw epsilon of shape (10_000, latent_dim) and pass it through reparameterize.",
    )
    # A sample mean is within 5 standard errors of the true mean (sigma / 100) but for
    # 1 case in 3 million.
    _require(
        "the codes are centred on the digit's z_mean",
        np.all(np.abs(codes.mean(axis=0) - z_mean) < 5 * sigma / np.sqrt(len(codes))),
        "Use the first test digit's z_mean and z_log_var, and fresh standard-normal noise.",
    )
    check_array(
        "sample_std",
        sample_std,
        codes.std(axis=0),
        rtol=1e-3,
        hint="sample_std is the standard deviation of your codes over the draws (axis 0).",
        quiet=True,
    )
    check_array(
        "the spread of your codes",
        np.asarray(sample_std, dtype=np.float64),
        sigma,
        rtol=0.05,
        hint="The codes must spread like sigma = exp(z_log_var / 2) of that digit.",
    )


def check_03_exercise_3(negative_elbo, vae, images, seed: int = 0):
    """Notebook 03, exercise 3: `negative_elbo(encoder, decoder, images, epsilon)`, one batch.

    Checked against the library's `VAE` on the learner's trained networks and on
    two copies whose variances are moved away from 1, each with fixed noise: the
    noise is the first draw of the library's own `Sampling(seed)`, handed to the
    learner's function as `epsilon`.

    Args:
        negative_elbo: the learner's function.
        vae: a trained (unconditional) `VAE`.
        images: a small batch, `(N, H, W, C)` in {0, 1}.
        seed: the seed of the fixed noise.
    """
    check_answered("negative_elbo", negative_elbo)
    images = np.asarray(images, dtype=np.float32)
    cases = [
        ("your trained networks", vae.encoder),
        (
            "the same networks with variances e times larger",
            _shifted_log_var_encoder(vae.encoder, 1.0),
        ),
        (
            "the same networks with variances e^2 times smaller",
            _shifted_log_var_encoder(vae.encoder, -2.0),
        ),
    ]
    for number, (description, encoder) in enumerate(cases, start=1):
        # The library's VAE draws its noise from Sampling(seed); a SeedGenerator with the
        # same seed draws the same numbers, which the learner's function receives.
        library = VAE(encoder, vae.decoder, seed=seed + number)
        shape = (len(images), vae.latent_dim)
        epsilon = keras.random.normal(shape, seed=keras.random.SeedGenerator(seed + number))
        epsilon = ops.convert_to_numpy(epsilon)
        reconstruction_loss, kl_loss = library._loss_terms(images)
        expected = float(np.mean(_numpy(reconstruction_loss) + _numpy(kl_loss)))
        try:
            answer = negative_elbo(encoder, vae.decoder, images, epsilon)
        except NotImplementedError as error:
            raise AssertionError("`negative_elbo` is not implemented yet.") from error
        check_answered("negative_elbo(...)", answer)
        check_array(
            f"negative_elbo on {description}",
            answer,
            expected,
            rtol=1e-4,
            atol=1e-3,
            quiet=True,
            hint="Check each part: z = z_mean + exp(z_log_var / 2) * epsilon (a sampled code, "
            "not z_mean); -log p(x|z) summed over all pixels of an image (not averaged); the "
            "KL -1/2 * sum(1 + z_log_var - z_mean**2 - exp(z_log_var)), which is >= 0; then "
            "the mean over the images of the batch.",
        )
    print(
        f"Correct: negative_elbo agrees with the library's VAE on {len(cases)} fixed-noise cases."
    )


def check_03_exercise_4(
    bits_per_pixel, iwae_20, elbo_20, test_elbo_latent2, vae, images, seed: int = 0
):
    """Notebook 03, exercise 4: bits per pixel, and the IWAE bound with k = 20 on 100 images.

    The reference for part (b) is the library's `evaluate_bounds` with the same
    seed, which is deterministic: the same call gives the same numbers. `images`
    are the validation images: the test images are kept for the headline figures.
    """
    num_pixels = int(np.prod(np.shape(images)[1:]))
    check_array(
        "bits_per_pixel",
        bits_per_pixel,
        -float(test_elbo_latent2) / num_pixels / np.log(2),
        hint="A nat is 1/ln 2 bits (divide by ln 2), per pixel means divide by the number of "
        "pixels of an image, and a cost is positive.",
    )
    check_answered("iwae_20", iwae_20)
    check_answered("elbo_20", elbo_20)
    bounds = vae.evaluate_bounds(images[:100], num_samples=20, seed=seed)
    hint = (
        "Call vae.evaluate_bounds once, on the first 100 validation images (x_val[:100], not "
        "the test images), with num_samples=20 and seed=SEED, and take the mean of each array."
    )
    check_array("elbo_20", elbo_20, bounds["elbo"].mean(), rtol=1e-4, hint=hint, quiet=True)
    check_array("iwae_20", iwae_20, bounds["iwae"].mean(), rtol=1e-4, hint=hint, quiet=True)
    check_true(
        "iwae_20 is a tighter bound than elbo_20",
        float(iwae_20) > float(elbo_20),
        "The IWAE bound of the same samples lies above their ELBO.",
    )


# --------------------------------------------------------------------------- notebook 04


def check_04_exercise_1(one_hot):
    """Notebook 04, exercise 1: `one_hot(labels, num_classes)`."""
    check_function(
        "one_hot",
        one_hot,
        lambda y, k: np.eye(k)[np.asarray(y)],
        [([0, 3, 9], 10), ([2, 0, 1, 1], 3), ([4], 5), ([1, 0], 6)],
        hint="Row i must be all zeros except a 1 in column labels[i]; there is one row per "
        "label and num_classes columns, whatever the largest label.",
    )


def check_04_exercise_2(elbos, best_beta, sweep, betas):
    """Notebook 04, exercise 2: the ELBO of each β-VAE of the sweep, and the best β."""
    expected = [-(sweep[b]["distortion"] + sweep[b]["rate"]) for b in betas]
    check_array(
        "elbos",
        elbos,
        expected,
        hint="The ELBO is minus the sum of distortion and rate, for every beta (beta weighs "
        "only the training loss); keep the order of BETAS.",
    )
    check_true(
        "best_beta",
        best_beta == betas[int(np.argmax(expected))],
        "Pick the beta whose ELBO (not loss) is highest.",
    )


def check_04_exercise_3(model, images, epsilon, rate, distortion, beta_loss, negative_elbo):
    """Notebook 04, exercise 3: one point of the β sweep, measured by hand with fixed noise.

    The reference runs the library's `VAE` loss terms on the learner's own
    trained `model` with the learner's `epsilon`, so it holds for any training
    run and any split.
    """
    for name, value in (
        ("rate", rate),
        ("distortion", distortion),
        ("beta_loss", beta_loss),
        ("negative_elbo", negative_elbo),
    ):
        check_answered(name, value)
    reconstruction_loss, kl_loss = _library_terms(model, images, epsilon)
    expected_rate, expected_distortion = kl_loss.mean(), reconstruction_loss.mean()
    check_array(
        "rate",
        rate,
        expected_rate,
        rtol=1e-4,
        hint="R is the closed-form KL of each image (summed over latent dimensions, with its "
        "factor 1/2), averaged over the images.",
        quiet=True,
    )
    check_array(
        "distortion",
        distortion,
        expected_distortion,
        rtol=1e-4,
        atol=1e-3,
        hint="D is -log p(x|z) summed over the pixels of each image, for the sampled code "
        "z = z_mean + exp(z_log_var / 2) * epsilon, averaged over the images.",
        quiet=True,
    )
    check_array(
        "negative_elbo",
        negative_elbo,
        expected_distortion + expected_rate,
        rtol=1e-4,
        atol=1e-3,
        hint="The ELBO does not depend on the beta a model was trained with.",
        quiet=True,
    )
    check_array(
        "beta_loss",
        beta_loss,
        expected_distortion + model.beta * expected_rate,
        rtol=1e-4,
        atol=1e-3,
        hint="The training loss weighs one of the two terms by this model's beta.",
        quiet=True,
    )
    print("Correct: rate, distortion, beta_loss and negative_elbo.")


def check_04_exercise_4(cvae_kl_per_dim, num_active, cvae, images, labels):
    """Notebook 04, exercise 4: the CVAE's mean KL per latent dimension, and its active units."""
    z_mean, z_log_var = cvae.encode(images, labels)
    reference = _numpy(gaussian_kl(z_mean[:, :, None], z_log_var[:, :, None])).mean(axis=0)
    check_array(
        "cvae_kl_per_dim",
        cvae_kl_per_dim,
        reference,
        rtol=1e-3,
        hint="One closed-form KL per image and dimension (with its 1/2), averaged over the "
        "given images (axis 0), not summed over the dimensions.",
    )
    check_true(
        "num_active",
        num_active == int((reference > 0.1).sum()),
        "Count the dimensions whose mean KL is above 0.1 nats.",
    )
