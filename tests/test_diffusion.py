"""Tests of course_lib.models.diffusion: schedules, the forward process, the posterior,
the DDPM and DDIM samplers, classifier-free guidance, training, saving, latent diffusion.

The samplers are checked with the exact noise predictor of a Gaussian toy: for data
x_0 ~ N(m, s^2), x_t ~ N(sqrt(ab) m, ab s^2 + 1 - ab) (ab = alpha_bar_t), and the best
possible prediction of the noise is
E[eps | x_t] = sqrt(1 - ab) (x_t - sqrt(ab) m) / (ab s^2 + 1 - ab).
"""

import keras
import numpy as np
import pytest
from keras import ops

from course_lib.models._base import GenerativeModel
from course_lib.models.autoencoder import build_dense_decoder, build_dense_encoder
from course_lib.models.diffusion import (
    DiffusionModel,
    LatentDiffusion,
    NoiseSchedule,
    SinusoidalEmbedding,
    build_mlp_denoiser,
    classifier_free_guidance,
    cosine_betas,
    count_network_evaluations,
    ddim_sample,
    ddim_timesteps,
    ddpm_sample,
    linear_betas,
    standardize_latents,
)

NUM_CLASSES = 3


def numpy(x):
    return ops.convert_to_numpy(x)


def tiny_model(num_classes=None, num_timesteps=20, data_dim=2, seed=0, schedule="cosine", **kwargs):
    # Cosine: at a T this small the linear schedule is clipped at beta = 0.999 for several
    # steps, and an untrained network's samples grow by 1 / sqrt(alpha_t) ~ 30 at each.
    keras.utils.set_random_seed(seed)
    denoiser = build_mlp_denoiser(
        data_dim, num_classes=num_classes, hidden_units=(16, 16), time_embedding_dim=8
    )
    if num_classes is not None:
        # Large label vectors, so that the label visibly changes the prediction untrained.
        embedding = denoiser.get_layer("label_embedding")
        rng = np.random.default_rng(seed)
        embedding.set_weights([rng.normal(size=embedding.get_weights()[0].shape)])
    return DiffusionModel(
        denoiser, num_timesteps=num_timesteps, schedule=schedule, seed=seed, **kwargs
    )


def tiny_latent_model(latent_dim=4, num_timesteps=10):
    keras.utils.set_random_seed(0)
    denoiser = build_mlp_denoiser(latent_dim, hidden_units=(8,), time_embedding_dim=4)
    decoder = build_dense_decoder(latent_dim, hidden_units=(8,))
    mean = np.linspace(-1.0, 1.0, latent_dim)
    std = np.linspace(0.5, 2.0, latent_dim)
    return LatentDiffusion(
        denoiser, decoder, mean, std, num_timesteps=num_timesteps, schedule="cosine", seed=0
    )


# --------------------------------------------------------------------------- schedules


@pytest.mark.parametrize("kind", ["linear", "cosine"])
@pytest.mark.parametrize("num_timesteps", [10, 100, 1000])
def test_schedule_is_monotone_finite_and_consistent(kind, num_timesteps):
    schedule = NoiseSchedule(num_timesteps, kind)
    betas, alpha_bars = schedule.betas, schedule.alpha_bars
    for array in (betas, schedule.alphas, alpha_bars, schedule.alpha_bars_prev):
        assert array.shape == (num_timesteps,) and array.dtype == np.float32
    assert np.all(betas > 0) and np.all(betas <= 0.999)
    np.testing.assert_allclose(schedule.alphas, 1.0 - betas, rtol=1e-6)
    np.testing.assert_allclose(alpha_bars, np.cumprod(1.0 - betas.astype(np.float64)), rtol=1e-5)
    # Strictly inside (0, 1) at both ends, and decreasing: each step removes signal.
    assert 0.0 < alpha_bars[-1] and alpha_bars[0] < 1.0
    assert np.all(np.diff(alpha_bars) < 0)
    assert schedule.alpha_bars_prev[0] == 1.0
    np.testing.assert_array_equal(schedule.alpha_bars_prev[1:], alpha_bars[:-1])
    snr = schedule.signal_to_noise()
    assert np.all(np.isfinite(snr)) and np.all(snr > 0) and np.all(np.diff(snr) < 0)
    variances = schedule.posterior_variances
    assert np.all(np.isfinite(variances)) and variances[0] == 0.0 and np.all(variances[1:] > 0)


def test_schedule_end_points():
    # DDPM's values at T = 1000; scaled by 1000 / T for another T; cosine clipped at the end.
    np.testing.assert_allclose(linear_betas(1000)[[0, -1]], [1e-4, 0.02], rtol=1e-5)
    np.testing.assert_allclose(linear_betas(100)[[0, -1]], [1e-3, 0.2], rtol=1e-5)
    assert cosine_betas(100)[-1] == np.float32(0.999)
    # Either way x at the last step is nearly pure noise.
    for kind in ("linear", "cosine"):
        assert NoiseSchedule(50, kind).alpha_bars[-1] < 1e-4


def test_schedule_rejects_bad_arguments():
    with pytest.raises(ValueError, match="num_timesteps"):
        NoiseSchedule(0)
    with pytest.raises(ValueError, match="kind"):
        NoiseSchedule(10, "quadratic")


# --------------------------------------------------------------------------- forward process


def test_q_sample_is_the_closed_form():
    schedule = NoiseSchedule(50, "cosine")
    rng = np.random.default_rng(0)
    x0, noise = rng.normal(size=(2, 4, 3)).astype(np.float32)
    t = np.array([0, 7, 30, 49])
    ab = schedule.alpha_bars[t][:, None]
    expected = np.sqrt(ab) * x0 + np.sqrt(1.0 - ab) * noise
    np.testing.assert_allclose(numpy(schedule.q_sample(x0, t, noise)), expected, rtol=1e-5)
    # One int timestep for the whole batch.
    expected = np.sqrt(schedule.alpha_bars[7]) * x0 + np.sqrt(1 - schedule.alpha_bars[7]) * noise
    np.testing.assert_allclose(numpy(schedule.q_sample(x0, 7, noise)), expected, rtol=1e-5)
    x0_back = numpy(schedule.predict_x0(schedule.q_sample(x0, t, noise), t, noise))
    np.testing.assert_allclose(x0_back, x0, atol=1e-4)


def test_q_sample_rejects_timesteps_out_of_range():
    schedule = NoiseSchedule(10)
    with pytest.raises(ValueError, match=r"\[0, 9\]"):
        schedule.q_sample(np.zeros((1, 2)), np.array([10]), np.zeros((1, 2)))


@pytest.mark.parametrize("kind", ["linear", "cosine"])
def test_closed_form_forward_process_matches_iterating_one_step(kind):
    # x_t = sqrt(1 - beta_t) x_{t-1} + sqrt(beta_t) eps, iterated on 4,000 chains from a
    # fixed x_0, against q(x_t | x_0) = N(sqrt(alpha_bar_t) x_0, (1 - alpha_bar_t) I).
    schedule = NoiseSchedule(50, kind)
    rng = np.random.default_rng(1)
    num_chains = 4000
    x0 = np.array([1.5, -0.5, 0.0])
    x = np.tile(x0, (num_chains, 1))
    for t in range(schedule.num_timesteps):
        beta = float(schedule.betas[t])
        x = np.sqrt(1.0 - beta) * x + np.sqrt(beta) * rng.standard_normal(x.shape)
        alpha_bar = float(schedule.alpha_bars[t])
        closed = numpy(
            schedule.q_sample(
                np.tile(x0, (num_chains, 1)), t, rng.standard_normal(x.shape).astype(np.float32)
            )
        )
        variance = 1.0 - alpha_bar
        # Five standard errors: the Monte-Carlo error of a mean and of a variance.
        mean_tol = 5 * np.sqrt(variance / num_chains)
        var_tol = 5 * np.sqrt(2.0 / num_chains) * variance
        for draws in (x, closed):
            np.testing.assert_allclose(draws.mean(0), np.sqrt(alpha_bar) * x0, atol=mean_tol)
            np.testing.assert_allclose(draws.var(0), variance, atol=var_tol)
        np.testing.assert_allclose(x.mean(0), closed.mean(0), atol=np.sqrt(2) * mean_tol)


# --------------------------------------------------------------------------- the posterior


def test_posterior_mean_and_variance_match_the_formula():
    schedule = NoiseSchedule(100, "linear")
    rng = np.random.default_rng(2)
    x0, x_t = rng.normal(size=(2, 5, 2))
    t = np.array([0, 1, 10, 50, 99])
    b = schedule.betas[t].astype(np.float64)[:, None]
    ab = schedule.alpha_bars[t].astype(np.float64)[:, None]
    ab_prev = np.concatenate([[1.0], np.cumprod(1.0 - schedule.betas.astype(np.float64))])[t]
    ab_prev = ab_prev[:, None]
    coef1 = np.sqrt(ab_prev) * b / (1.0 - ab)
    coef2 = np.sqrt(1.0 - b) * (1.0 - ab_prev) / (1.0 - ab)
    mean, variance = schedule.posterior_mean_variance(x0, x_t, t)
    np.testing.assert_allclose(numpy(mean), coef1 * x0 + coef2 * x_t, rtol=1e-4, atol=1e-6)
    expected_variance = b * (1.0 - ab_prev) / (1.0 - ab)
    np.testing.assert_allclose(numpy(variance), expected_variance, rtol=1e-4)
    assert numpy(variance).shape == (5, 1)
    # At t = 0 the posterior is the point x_0.
    np.testing.assert_allclose(numpy(mean)[0], x0[0], rtol=1e-4)


@pytest.mark.parametrize("t", [1, 25, 49])
def test_posterior_matches_bayes_rule_and_monte_carlo(t):
    schedule = NoiseSchedule(50, "cosine")
    x0 = 0.7
    ab_prev = float(schedule.alpha_bars[t - 1])
    alpha, beta = float(schedule.alphas[t]), float(schedule.betas[t])
    # Bayes for Gaussians: prior x_{t-1} ~ N(sqrt(ab_prev) x0, 1 - ab_prev), likelihood
    # x_t | x_{t-1} ~ N(sqrt(alpha) x_{t-1}, beta): precisions add, means weigh by them.
    x_t = np.array([[-1.0], [0.3], [2.0]])
    precision = 1.0 / (1.0 - ab_prev) + alpha / beta
    bayes_mean = (np.sqrt(ab_prev) * x0 / (1.0 - ab_prev) + np.sqrt(alpha) * x_t / beta) / precision
    mean, variance = schedule.posterior_mean_variance(np.full_like(x_t, x0), x_t, t)
    np.testing.assert_allclose(numpy(mean), bayes_mean, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(float(numpy(variance)), 1.0 / precision, rtol=1e-4)

    # Monte Carlo: draw (x_{t-1}, x_t) pairs; E[x_{t-1} | x_t] is linear in x_t (Gaussians),
    # so a least-squares line recovers coef2 (slope), coef1 x0 (intercept) and the variance.
    rng = np.random.default_rng(3)
    n = 200_000
    previous = np.sqrt(ab_prev) * x0 + np.sqrt(1.0 - ab_prev) * rng.standard_normal(n)
    current = np.sqrt(alpha) * previous + np.sqrt(beta) * rng.standard_normal(n)
    slope, intercept = np.polyfit(current, previous, 1)
    residual_variance = np.var(previous - (slope * current + intercept))
    grid = np.array([[-1.0], [0.0], [1.0]])
    mc_mean = slope * grid + intercept
    mean, variance = schedule.posterior_mean_variance(np.full_like(grid, x0), grid, t)
    np.testing.assert_allclose(numpy(mean), mc_mean, atol=0.01)
    np.testing.assert_allclose(residual_variance, float(numpy(variance)), rtol=0.02)


# --------------------------------------------------------------------------- samplers


def exact_noise_predictor(schedule, m, s):
    """E[eps | x_t] for data N(m, diag(s^2)): the perfect denoiser of the Gaussian toy."""

    def predict_noise(x_t, t):
        ab = schedule.alpha_bars[np.asarray(t)][:, None].astype(np.float64)
        variance = ab * s**2 + 1.0 - ab
        return np.sqrt(1.0 - ab) * (numpy(x_t) - np.sqrt(ab) * m) / variance

    return predict_noise


GAUSSIAN_MEAN = np.array([2.0, -1.0])
GAUSSIAN_STD = np.array([0.5, 1.0])


@pytest.mark.parametrize("sampler", ["ddpm", "ddim"])
def test_perfect_denoiser_samples_have_the_data_mean_and_variance(sampler):
    # T = 1000: a smaller T biases DDPM's variance (sigma_t^2 = beta_tilde_t leaves out
    # Var[x_0 | x_t]) by over 10 % at T = 100. Here the samplers' own bias is under 4 %
    # (DDIM, 100 steps) and the Monte-Carlo error about 1.4 %: the variance must be within 8 %.
    schedule = NoiseSchedule(1000, "cosine")
    predict_noise = exact_noise_predictor(schedule, GAUSSIAN_MEAN, GAUSSIAN_STD)
    x_T = np.random.default_rng(4).standard_normal((10_000, 2)).astype(np.float32)
    generator = keras.random.SeedGenerator(0)
    if sampler == "ddpm":
        samples = ddpm_sample(predict_noise, schedule, x_T, generator)
    else:
        samples = ddim_sample(predict_noise, schedule, x_T, steps=100, eta=0.0)
    np.testing.assert_allclose(samples.mean(0), GAUSSIAN_MEAN, atol=0.05)
    np.testing.assert_allclose(samples.var(0), GAUSSIAN_STD**2, rtol=0.08)


def test_ddim_with_eta_one_and_every_step_is_ddpm():
    schedule = NoiseSchedule(20, "linear")
    predict_noise = exact_noise_predictor(schedule, GAUSSIAN_MEAN, GAUSSIAN_STD)
    x_T = np.random.default_rng(5).standard_normal((50, 2)).astype(np.float32)
    ddpm = ddpm_sample(predict_noise, schedule, x_T, keras.random.SeedGenerator(7))
    ddim = ddim_sample(
        predict_noise,
        schedule,
        x_T,
        steps=20,
        eta=1.0,
        seed_generator=keras.random.SeedGenerator(7),
    )
    np.testing.assert_allclose(ddim, ddpm, atol=1e-4)


def test_ddim_with_eta_zero_is_deterministic():
    schedule = NoiseSchedule(50)
    predict_noise = exact_noise_predictor(schedule, GAUSSIAN_MEAN, GAUSSIAN_STD)
    x_T = np.random.default_rng(6).standard_normal((8, 2)).astype(np.float32)
    first = ddim_sample(
        predict_noise, schedule, x_T, 5, eta=0.0, seed_generator=keras.random.SeedGenerator(1)
    )
    second = ddim_sample(
        predict_noise, schedule, x_T, 5, eta=0.0, seed_generator=keras.random.SeedGenerator(2)
    )
    np.testing.assert_array_equal(first, second)
    noisy = ddim_sample(
        predict_noise, schedule, x_T, 5, eta=1.0, seed_generator=keras.random.SeedGenerator(1)
    )
    assert not np.allclose(noisy, first)


def test_ddim_timesteps_start_at_the_last_step():
    np.testing.assert_array_equal(ddim_timesteps(10, 10), np.arange(9, -1, -1))
    np.testing.assert_array_equal(ddim_timesteps(100, 1), [99])
    steps = ddim_timesteps(1000, 50)
    assert steps[0] == 999 and steps[-1] == 0 and len(np.unique(steps)) == 50
    with pytest.raises(ValueError, match="steps"):
        ddim_timesteps(10, 11)


def test_network_evaluations_per_sample():
    assert count_network_evaluations(1000) == 1000
    assert count_network_evaluations(1000, steps=50) == 50
    assert count_network_evaluations(1000, guidance_scale=3.0) == 2000
    assert count_network_evaluations(1000, steps=50, guidance_scale=1.0) == 100


# --------------------------------------------------------------------------- the denoiser


def test_mlp_denoiser_inputs_outputs_and_null_label():
    denoiser = build_mlp_denoiser(5, num_classes=NUM_CLASSES, hidden_units=(16, 8))
    assert [i.name for i in denoiser.inputs] == ["x_t", "t", "labels"]
    assert denoiser.output_shape == (None, 5)
    assert denoiser.get_layer("label_embedding").input_dim == NUM_CLASSES + 1
    eps = denoiser([np.zeros((2, 5), "float32"), np.array([0, 9]), np.array([0, NUM_CLASSES])])
    assert eps.shape == (2, 5)
    assert len(build_mlp_denoiser(2, hidden_units=(8,)).inputs) == 2
    with pytest.raises(ValueError, match="hidden_units"):
        build_mlp_denoiser(2, hidden_units=())
    with pytest.raises(ValueError, match="even"):
        build_mlp_denoiser(2, time_embedding_dim=7)


def test_sinusoidal_embedding_values_and_config():
    layer = SinusoidalEmbedding(4, max_period=100.0)
    out = numpy(layer(np.array([0, 1])))
    # Frequencies 1 and 1/10: [sin(t), sin(t/10), cos(t), cos(t/10)].
    np.testing.assert_allclose(out[0], [0, 0, 1, 1], atol=1e-6)
    np.testing.assert_allclose(out[1], [np.sin(1), np.sin(0.1), np.cos(1), np.cos(0.1)], 1e-6)
    clone = SinusoidalEmbedding.from_config(layer.get_config())
    assert clone.embedding_dim == 4 and clone.max_period == 100.0


# --------------------------------------------------------------------------- the model


def test_model_reads_its_networks():
    model = tiny_model(num_classes=NUM_CLASSES)
    assert isinstance(model, GenerativeModel)
    assert model.num_classes == NUM_CLASSES and model.null_label == NUM_CLASSES
    assert model.output_range is None and model.data_shape == (2,)
    assert tiny_model().num_classes is None


def test_model_rejects_networks_it_cannot_use():
    x_t = keras.Input((2,), name="x_t")
    t = keras.Input((), dtype="int32", name="t")
    labels = keras.Input((), dtype="int32", name="labels")
    # Every input must reach the output (Keras 3.13 refuses a model with a dangling input).
    t_feature = keras.layers.Embedding(10, 1, name="t_feature")(t)
    with_time = keras.layers.Concatenate()([x_t, t_feature])
    wrong_output = keras.Model([x_t, t], keras.layers.Dense(3)(with_time))
    with pytest.raises(ValueError, match="shape of its input"):
        DiffusionModel(wrong_output)
    label_feature = keras.layers.Embedding(3, 1, name="not_the_label_embedding")(labels)
    joined = keras.layers.Concatenate()([with_time, label_feature])
    no_embedding = keras.Model([x_t, t, labels], keras.layers.Dense(2)(joined))
    with pytest.raises(ValueError, match="label_embedding"):
        DiffusionModel(no_embedding)
    with pytest.raises(ValueError, match="label_dropout"):
        tiny_model(num_classes=2, label_dropout=1.0)


def test_sampling_seeds_and_trajectory():
    model = tiny_model(num_timesteps=10)
    # int seeds repeat (DDPM and DDIM), seed=None draws afresh.
    np.testing.assert_array_equal(model.sample(4, seed=3), model.sample(4, seed=3))
    first, second = model.sample(4, steps=3, seed=3), model.sample(4, steps=3, seed=3)
    np.testing.assert_array_equal(first, second)
    assert not np.allclose(model.sample(4), model.sample(4))
    assert not np.allclose(model.sample(4, steps=3, eta=1.0, seed=3), first, rtol=1e-3)
    timesteps, states = model.trajectory(4, steps=3, seed=3)
    np.testing.assert_array_equal(timesteps, [9, 4, 0, -1])
    assert states.shape == (4, 4, 2)
    np.testing.assert_allclose(states[-1], first, atol=1e-6)
    timesteps, states = model.trajectory(2, seed=0)
    assert len(timesteps) == 11 and states.shape == (11, 2, 2)


def test_guidance_scale_one_is_the_conditional_model():
    model = tiny_model(num_classes=NUM_CLASSES)
    rng = np.random.default_rng(8)
    x_t = rng.normal(size=(6, 2)).astype(np.float32)
    t = np.full(6, 12, dtype=np.int32)
    labels = np.arange(6) % NUM_CLASSES
    conditional = numpy(model.predict_noise(x_t, t, labels))
    unconditional = numpy(model.predict_noise(x_t, t, np.full(6, NUM_CLASSES)))
    guided_1 = numpy(model.predict_noise(x_t, t, labels, guidance_scale=1.0))
    guided_0 = numpy(model.predict_noise(x_t, t, labels, guidance_scale=0.0))
    guided_3 = numpy(model.predict_noise(x_t, t, labels, guidance_scale=3.0))
    assert not np.allclose(conditional, unconditional, atol=1e-3)  # the label matters
    np.testing.assert_allclose(guided_1, conditional, atol=1e-5)
    np.testing.assert_allclose(guided_0, unconditional, atol=1e-5)
    expected = classifier_free_guidance(conditional, unconditional, 3.0)
    np.testing.assert_allclose(guided_3, expected, atol=1e-4)
    # Through the samplers: w = 1 gives the unguided samples (DDIM and DDPM).
    for steps in (5, None):
        plain = model.sample(6, labels=labels, steps=steps, seed=0)
        guided = model.sample(6, labels=labels, steps=steps, seed=0, guidance_scale=1.0)
        np.testing.assert_allclose(guided, plain, rtol=1e-4, atol=1e-4)
        stronger = model.sample(6, labels=labels, steps=steps, seed=0, guidance_scale=3.0)
        assert not np.allclose(stronger, plain, rtol=1e-3)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"labels": [0, NUM_CLASSES]}, r"labels.*\[0, 2\]"),
        ({"labels": [-1, 0]}, r"labels.*\[0, 2\]"),
        ({"labels": [0.5, 1.0]}, "integers"),
        ({"steps": 21}, "steps"),
        ({"steps": 0}, "steps"),
        ({"eta": 0.5}, "eta"),
        ({"steps": 2, "eta": 1.5}, "eta"),
        ({"guidance_scale": -1.0}, "guidance_scale"),
        ({"seed": 1.5}, "seed"),
    ],
)
def test_conditional_sample_rejects_bad_arguments(kwargs, match):
    model = tiny_model(num_classes=NUM_CLASSES)
    with pytest.raises(ValueError, match=match):
        model.sample(2, **kwargs)


def test_unconditional_model_refuses_labels_and_guidance():
    model = tiny_model()
    with pytest.raises(ValueError, match="unconditional"):
        model.sample(2, labels=[0, 1])
    with pytest.raises(ValueError, match="guidance"):
        model.sample(2, guidance_scale=2.0)
    with pytest.raises(ValueError, match="unconditional"):
        model.fit(np.zeros((4, 2), "float32"), np.zeros(4, "int32"), verbose=0)


def test_fit_checks_data_and_labels():
    model = tiny_model(num_classes=NUM_CLASSES)
    model.compile(optimizer="adam")
    x = np.zeros((4, 2), "float32")
    with pytest.raises(ValueError, match=r"y.*\[0, 2\]"):
        model.fit(x, np.array([0, 1, 2, NUM_CLASSES]), verbose=0)
    with pytest.raises(ValueError, match="labels"):
        model.fit(x, verbose=0)
    with pytest.raises(ValueError, match="shape"):
        model.fit(np.zeros((4, 3), "float32"), np.zeros(4, "int32"), verbose=0)


def test_seeded_micro_fit_on_a_2d_toy_lowers_the_loss():
    # Two classes, two clusters; labels dropped to the null label 20 % of the time.
    rng = np.random.default_rng(9)
    labels = np.arange(512) % 2
    centres = np.array([[-2.0, 0.0], [2.0, 1.0]])
    x = (centres[labels] + 0.3 * rng.standard_normal((512, 2))).astype(np.float32)
    model = tiny_model(num_classes=2, num_timesteps=50, label_dropout=0.2)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    history = model.fit(
        x, labels, epochs=8, batch_size=64, validation_data=(x[:128], labels[:128]), verbose=0
    ).history
    assert sorted(history) == ["loss", "val_loss"]
    losses = history["loss"]
    assert np.all(np.isfinite(losses))
    assert losses[-1] < 0.8 * losses[0], losses


def test_save_and_load_round_trip_under_safe_mode(tmp_path):
    model = tiny_model(num_classes=NUM_CLASSES, schedule="cosine", label_dropout=0.25)
    path = tmp_path / "diffusion.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(loaded, DiffusionModel)
    assert loaded.num_classes == NUM_CLASSES and loaded.schedule.kind == "cosine"
    assert loaded.label_dropout == 0.25 and loaded.num_timesteps == 20
    options = dict(labels=[0, 1, 2, 2], steps=4, seed=0, guidance_scale=2.0)
    np.testing.assert_allclose(loaded.sample(4, **options), model.sample(4, **options), atol=1e-5)


# --------------------------------------------------------------------------- latent diffusion


def test_latent_diffusion_honours_the_sampling_contract():
    model = tiny_latent_model()
    images = model.sample(3)  # DDPM, the contract's defaults
    assert images.shape == (3, 28, 28, 1) and images.dtype == np.float32
    assert images.min() >= 0.0 and images.max() <= 1.0
    np.testing.assert_array_equal(model.sample(3, seed=1), model.sample(3, seed=1))
    assert not np.allclose(model.sample(3), model.sample(3))
    fast = model.sample(2, steps=3, seed=1)
    assert fast.shape == (2, 28, 28, 1)
    _, states = model.trajectory(2, steps=3, seed=1)
    np.testing.assert_allclose(model.decode(states[-1]), fast, atol=1e-6)


def test_latent_diffusion_save_and_load(tmp_path):
    model = tiny_latent_model()
    path = tmp_path / "latent_diffusion.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(loaded, LatentDiffusion)
    np.testing.assert_allclose(loaded.latent_mean, model.latent_mean)
    np.testing.assert_allclose(loaded.latent_std, model.latent_std)
    np.testing.assert_allclose(loaded.sample(2, seed=0), model.sample(2, seed=0), atol=1e-5)


def test_latent_diffusion_checks_its_parts():
    denoiser = build_mlp_denoiser(4, hidden_units=(8,))
    with pytest.raises(ValueError, match="latent size"):
        LatentDiffusion(denoiser, build_dense_decoder(3), np.zeros(4), np.ones(4))
    with pytest.raises(ValueError, match="positive"):
        LatentDiffusion(denoiser, build_dense_decoder(4), np.zeros(4), np.zeros(4))


def test_standardize_latents():
    keras.utils.set_random_seed(0)
    images = np.random.default_rng(10).random((40, 28, 28, 1)).astype(np.float32)
    encoder = build_dense_encoder(3, hidden_units=(8,))
    latents, mean, std = standardize_latents(encoder, images, batch_size=16)
    assert latents.shape == (40, 3) and mean.shape == std.shape == (3,)
    np.testing.assert_allclose(latents.mean(0), 0.0, atol=1e-5)
    np.testing.assert_allclose(latents.std(0), 1.0, atol=1e-4)
    codes = numpy(encoder(images))
    np.testing.assert_allclose(latents * std + mean, codes, rtol=1e-4, atol=1e-5)
    # A function (e.g. Autoencoder.encode) works too.
    again, _, _ = standardize_latents(lambda x: numpy(encoder(x)), images)
    np.testing.assert_allclose(again, latents, atol=1e-5)
