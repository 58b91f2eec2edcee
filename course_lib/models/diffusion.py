"""Denoising diffusion: noise schedules, the forward process, DDPM and DDIM sampling, guidance.

Taught in notebook 09, sections 1 to 4 (a 2-D toy, then the mathematics), and used
on digits in notebook 09, section 6 ("Latent diffusion with classifier-free guidance").
The mathematics lives there; this module is the code the notebook imports, with the
symbols of Ho et al. (2020):

- the forward process adds Gaussian noise in `T` steps,
  `x_t = sqrt(alpha_t) x_{t-1} + sqrt(beta_t) eps` with `alpha_t = 1 - beta_t`, so that
  `q(x_t | x_0) = N(sqrt(alpha_bar_t) x_0, (1 - alpha_bar_t) I)` with
  `alpha_bar_t = alpha_1 alpha_2 ... alpha_t` (`NoiseSchedule.q_sample`);
- a network `epsilon_theta(x_t, t)` learns to predict the noise `eps` from `x_t`
  (the *simple* loss, `DiffusionModel.train_step`);
- sampling runs the process backwards from `x_T ~ N(0, I)`: the DDPM ancestral
  sampler (`ddpm_sample`, `T` steps) or the DDIM sampler (`ddim_sample`, a few
  steps, deterministic when `eta = 0`);
- classifier-free guidance (`classifier_free_guidance`) steers a class-conditional
  model towards its class.

**Timesteps are array indices, `t = 0, 1, ..., T - 1`** (the convention of the
reference implementations): `schedule.betas[t]` is the paper's `beta_{t+1}`, `x_t`
is the data after `t + 1` noising steps, and `alpha_bar_{t-1}` at `t = 0` means 1
(no noise: the clean data `x_0` of the paper). A network is given `t` as an int.

`DiffusionModel` trains and samples vectors (2-D toy points, or latent codes);
`LatentDiffusion` adds a frozen decoder, so that it samples images from a diffusion
model of an autoencoder's standardised latents.

Example:
    >>> keras.utils.set_random_seed(0)
    >>> points = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    >>> model = DiffusionModel(
    ...     build_mlp_denoiser(2, hidden_units=(16, 16)), num_timesteps=20, seed=0
    ... )
    >>> model.compile(optimizer="adam")
    >>> sorted(model.fit(points, epochs=1, batch_size=32, verbose=0).history)
    ['loss']
    >>> model.sample(5, steps=4, seed=0).shape  # 4 deterministic DDIM steps
    (5, 2)
"""

from __future__ import annotations

import math
import numbers

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from course_lib import distribute
from course_lib._checks import (
    check_choice,
    check_fraction,
    check_labels,
    check_positive_int,
    check_units,
)
from course_lib.models._base import GenerativeModel, batched_call, to_unit_interval, unpack_batch

__all__ = [
    "SCHEDULES",
    "DiffusionModel",
    "LatentDiffusion",
    "NoiseSchedule",
    "SinusoidalEmbedding",
    "build_mlp_denoiser",
    "classifier_free_guidance",
    "cosine_betas",
    "count_network_evaluations",
    "ddim_sample",
    "ddim_timesteps",
    "ddpm_sample",
    "linear_betas",
    "standardize_latents",
]

SCHEDULES = ("linear", "cosine")
# The largest beta: beta = 1 would erase x_{t-1} entirely, and 1 / sqrt(alpha_t) divide by 0.
MAX_BETA = 0.999


# --------------------------------------------------------------------------- schedules


def linear_betas(num_timesteps: int) -> np.ndarray:
    """DDPM's linear schedule: `beta_t` rises evenly, from 1e-4 to 0.02 when T = 1000.

    For another `T` both ends are scaled by `1000 / T` (as Nichol and Dhariwal
    2021 do), so that `alpha_bar` at the last step is as small (x nearly pure
    noise) whatever `T`; then clipped to at most 0.999. Below T = 50 the top end
    (`0.02 * 1000 / T`) passes 0.4 and, below T = 21, is clipped over several
    steps: prefer the cosine schedule for so few steps.

    Args:
        num_timesteps: T, the number of noising steps.

    Returns:
        Float32 `betas`, shape `(T,)`, in (0, 0.999].

    Example:
        >>> [round(float(beta), 6) for beta in linear_betas(1000)[[0, -1]]]
        [0.0001, 0.02]
    """
    num_timesteps = check_positive_int(num_timesteps, "num_timesteps")
    scale = 1000.0 / num_timesteps
    betas = np.linspace(1e-4 * scale, 0.02 * scale, num_timesteps, dtype=np.float64)
    return np.clip(betas, 0.0, MAX_BETA).astype(np.float32)


def cosine_betas(num_timesteps: int, offset: float = 0.008) -> np.ndarray:
    """The cosine schedule of Nichol and Dhariwal (2021).

    `alpha_bar(t) = f(t) / f(0)` with `f(t) = cos^2(pi/2 * (t / T + offset) / (1 + offset))`
    falls slowly at both ends, where the linear schedule wastes steps on nearly
    clean or nearly pure-noise data; `beta_t = 1 - alpha_bar(t) / alpha_bar(t - 1)`,
    clipped to at most 0.999 (at the last step `f` reaches 0 and `beta` would be 1).

    Args:
        num_timesteps: T, the number of noising steps.
        offset: the small `s` that keeps `beta` at the first step from being tiny.

    Returns:
        Float32 `betas`, shape `(T,)`, in (0, 0.999].

    Example:
        >>> round(float(cosine_betas(1000)[-1]), 6)  # clipped
        0.999
    """
    num_timesteps = check_positive_int(num_timesteps, "num_timesteps")
    steps = np.arange(num_timesteps + 1, dtype=np.float64) / num_timesteps
    f = np.cos((steps + offset) / (1.0 + offset) * math.pi / 2.0) ** 2
    betas = 1.0 - f[1:] / f[:-1]
    return np.clip(betas, 0.0, MAX_BETA).astype(np.float32)


def _as_tensor(x):
    return ops.convert_to_tensor(x, dtype="float32")


class NoiseSchedule:
    """The numbers of a diffusion process of `T` steps, and the formulas that use them.

    The arrays (float32, shape `(T,)`, indexed by the timestep `t = 0 .. T - 1`):

    - `betas`: the variance `beta_t` of the noise added at step `t`, in (0, 0.999];
    - `alphas`: `alpha_t = 1 - beta_t`;
    - `alpha_bars`: `alpha_bar_t = alpha_0 alpha_1 ... alpha_t`, strictly in (0, 1)
      and decreasing: how much of `x_0` is left in `x_t`;
    - `alpha_bars_prev`: `alpha_bar_{t-1}`, with 1 at `t = 0` (the clean data);
    - `posterior_variances`: `beta_tilde_t = beta_t (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t)`.

    `q_sample`, `posterior_mean_variance` and `predict_x0` take NumPy arrays or
    tensors and return tensors (`keras.ops`), so `train_step` uses them too.
    Taught in notebook 09, section 2 ("The forward process in closed form").

    Args:
        num_timesteps: T, the number of noising steps.
        kind: `"linear"` (`linear_betas`) or `"cosine"` (`cosine_betas`).

    Raises:
        ValueError: a non-positive `num_timesteps` or an unknown `kind`.

    Example:
        >>> schedule = NoiseSchedule(100, "cosine")
        >>> schedule.alpha_bars.shape, bool(np.all(np.diff(schedule.alpha_bars) < 0))
        ((100,), True)
    """

    def __init__(self, num_timesteps: int = 1000, kind: str = "linear"):
        self.num_timesteps = check_positive_int(num_timesteps, "num_timesteps")
        self.kind = check_choice(kind, "kind", SCHEDULES)
        betas = linear_betas(num_timesteps) if kind == "linear" else cosine_betas(num_timesteps)
        # The products in float64, then stored as float32: the network works in float32.
        betas64 = betas.astype(np.float64)
        alpha_bars = np.cumprod(1.0 - betas64)
        alpha_bars_prev = np.concatenate([[1.0], alpha_bars[:-1]])
        self.betas = betas
        self.alphas = (1.0 - betas64).astype(np.float32)
        self.alpha_bars = alpha_bars.astype(np.float32)
        self.alpha_bars_prev = alpha_bars_prev.astype(np.float32)
        self.posterior_variances = (betas64 * (1.0 - alpha_bars_prev) / (1.0 - alpha_bars)).astype(
            np.float32
        )

    def __repr__(self):
        return f"NoiseSchedule(num_timesteps={self.num_timesteps}, kind={self.kind!r})"

    def signal_to_noise(self) -> np.ndarray:
        """`SNR_t = alpha_bar_t / (1 - alpha_bar_t)`, shape `(T,)`: decreasing in `t`."""
        alpha_bars = self.alpha_bars.astype(np.float64)
        return alpha_bars / (1.0 - alpha_bars)

    def _check_timesteps(self, t):
        """Refuse timesteps outside 0 .. T - 1 where they are known (not symbolic)."""
        if isinstance(t, (numbers.Integral, np.ndarray, list, tuple)):
            values = np.asarray(t)
            if values.size and (
                not np.issubdtype(values.dtype, np.integer)
                or values.min() < 0
                or values.max() >= self.num_timesteps
            ):
                raise ValueError(
                    f"Expected timesteps `t` as integers in [0, {self.num_timesteps - 1}]. "
                    f"Received: t={t!r}"
                )

    def _at(self, values, t, x):
        """`values[t]`, shaped to broadcast against `x`: one number per example."""
        self._check_timesteps(t)
        t = ops.convert_to_tensor(t, dtype="int32")
        picked = ops.take(ops.convert_to_tensor(values), t)
        if len(t.shape) == 0:  # one timestep for the whole batch
            return picked
        return ops.reshape(picked, (-1,) + (1,) * (len(x.shape) - 1))

    def q_sample(self, x0, t, noise):
        """`x_t ~ q(x_t | x_0)` in one step: `sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps`.

        Args:
            x0: clean data `(batch, ...)`.
            t: the timestep of each example, ints `(batch,)` in `0 .. T - 1` (or one int).
            noise: `eps ~ N(0, I)`, the shape of `x0`.

        Returns:
            `x_t`, a float32 tensor of the shape of `x0`.

        Raises:
            ValueError: timesteps outside `0 .. T - 1`.

        Example:
            >>> schedule = NoiseSchedule(10)
            >>> x_t = schedule.q_sample(np.ones((2, 3)), np.array([0, 9]), np.zeros((2, 3)))
            >>> x_t.shape
            TensorShape([2, 3])
        """
        x0, noise = _as_tensor(x0), _as_tensor(noise)
        alpha_bar = self._at(self.alpha_bars, t, x0)
        return ops.sqrt(alpha_bar) * x0 + ops.sqrt(1.0 - alpha_bar) * noise

    def predict_x0(self, x_t, t, epsilon):
        """The clean data implied by a noise prediction (`q_sample` solved for `x_0`).

        `x0_hat = (x_t - sqrt(1 - alpha_bar_t) eps) / sqrt(alpha_bar_t)`, a float32
        tensor of the shape of `x_t`.
        """
        x_t, epsilon = _as_tensor(x_t), _as_tensor(epsilon)
        alpha_bar = self._at(self.alpha_bars, t, x_t)
        return (x_t - ops.sqrt(1.0 - alpha_bar) * epsilon) / ops.sqrt(alpha_bar)

    def posterior_mean_variance(self, x0, x_t, t):
        """The DDPM posterior `q(x_{t-1} | x_t, x_0) = N(mu_tilde, beta_tilde_t I)`.

        `mu_tilde = coef1 x_0 + coef2 x_t`, with
        `coef1 = sqrt(alpha_bar_{t-1}) beta_t / (1 - alpha_bar_t)` and
        `coef2 = sqrt(alpha_t) (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t)`, and
        `beta_tilde_t = beta_t (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t)`
        (Ho et al. 2020, eq. 6-7). At `t = 0` the posterior is the point `x_0`.

        Args:
            x0: clean data `(batch, ...)`.
            x_t: the noised data, same shape.
            t: ints `(batch,)` in `0 .. T - 1` (or one int).

        Returns:
            `(mean, variance)`: the mean, shaped as `x_t`, and the variance, one
            per example shaped `(batch, 1, ...)` to broadcast against it (a scalar
            for one int `t`).

        Raises:
            ValueError: timesteps outside `0 .. T - 1`.

        Example:
            >>> schedule = NoiseSchedule(10)
            >>> x0, x_t = np.ones((1, 2)), np.zeros((1, 2))
            >>> mean, variance = schedule.posterior_mean_variance(x0, x_t, 0)
            >>> float(variance)  # at t = 0 nothing is left to guess
            0.0
        """
        x0, x_t = _as_tensor(x0), _as_tensor(x_t)
        beta = self._at(self.betas, t, x_t)
        alpha = self._at(self.alphas, t, x_t)
        alpha_bar = self._at(self.alpha_bars, t, x_t)
        alpha_bar_prev = self._at(self.alpha_bars_prev, t, x_t)
        coef1 = ops.sqrt(alpha_bar_prev) * beta / (1.0 - alpha_bar)
        coef2 = ops.sqrt(alpha) * (1.0 - alpha_bar_prev) / (1.0 - alpha_bar)
        return coef1 * x0 + coef2 * x_t, self._at(self.posterior_variances, t, x_t)


# --------------------------------------------------------------------------- samplers


def ddim_timesteps(num_timesteps: int, steps: int) -> np.ndarray:
    """The timesteps a sampler of `steps` steps visits, from `T - 1` down to 0, evenly spaced.

    Starting at `T - 1` matters: that is where `x_t` is (nearly) pure noise, as the
    sampler's start `x_T ~ N(0, I)` assumes. With `steps = T` every timestep is visited.

    Example:
        >>> ddim_timesteps(100, 5)
        array([99, 74, 50, 25,  0])
    """
    num_timesteps = check_positive_int(num_timesteps, "num_timesteps")
    steps = check_positive_int(steps, "steps")
    if steps > num_timesteps:
        raise ValueError(
            f"Expected `steps` in [1, {num_timesteps}] (the model's T). Received: steps={steps}"
        )
    return np.round(np.linspace(num_timesteps - 1, 0, steps)).astype(np.int64)


def _noise_like(x, seed_generator):
    return keras.random.normal(ops.shape(x), seed=seed_generator)


def _timestep_vector(t, x):
    """The same timestep `t` for every example of the batch `x`, as the network takes it."""
    return np.full((int(ops.shape(x)[0]),), t, dtype=np.int32)


def ddpm_sample(predict_noise, schedule, x_T, seed_generator, *, return_trajectory=False):
    """DDPM ancestral sampling (Ho et al. 2020, Algorithm 2): T steps from `x_T` to `x_0`.

    At each `t = T - 1, ..., 0`,

        x_{t-1} = (x_t - beta_t / sqrt(1 - alpha_bar_t) eps_theta(x_t, t)) / sqrt(alpha_t)
                  + sigma_t z,

    with `z ~ N(0, I)` and `sigma_t^2 = beta_tilde_t` (`schedule.posterior_variances`):
    the posterior `q(x_{t-1} | x_t, x_0)` with `x_0` replaced by the network's guess
    (`schedule.predict_x0`). `sigma_0 = 0`, so the last step adds no noise. Taught in
    notebook 09, section 4 ("DDPM: ancestral sampling").

    Args:
        predict_noise: a function `(x_t, t) -> eps` with `t` ints `(batch,)`, e.g.
            a trained network (`DiffusionModel.predict_noise`) or the exact answer
            of a toy problem.
        schedule: a `NoiseSchedule`.
        x_T: the start, `N(0, I)` noise `(batch, ...)`.
        seed_generator: a `keras.random.SeedGenerator` for the noise `z` (one draw per step).
        return_trajectory: return every state, not only the last.

    Returns:
        A NumPy array: the samples `x_0`, shaped as `x_T`; with `return_trajectory`,
        the states `(T + 1, batch, ...)` from `x_T` to `x_0`.

    Example:
        >>> schedule = NoiseSchedule(10)
        >>> x_T = np.zeros((3, 2), "float32")
        >>> samples = ddpm_sample(lambda x, t: x, schedule, x_T, keras.random.SeedGenerator(0))
        >>> samples.shape
        (3, 2)
    """
    x = _as_tensor(x_T)
    states = [x]
    for t in range(schedule.num_timesteps - 1, -1, -1):
        epsilon = predict_noise(x, _timestep_vector(t, x))
        beta, alpha = float(schedule.betas[t]), float(schedule.alphas[t])
        alpha_bar = float(schedule.alpha_bars[t])
        mean = (x - beta / math.sqrt(1.0 - alpha_bar) * epsilon) / math.sqrt(alpha)
        sigma = math.sqrt(float(schedule.posterior_variances[t]))
        x = mean + sigma * _noise_like(x, seed_generator)
        states.append(x)
    return _finish_trajectory(states, return_trajectory)


def ddim_sample(
    predict_noise, schedule, x_T, steps, *, eta=0.0, seed_generator=None, return_trajectory=False
):
    """DDIM sampling (Song et al. 2021): a few steps, deterministic when `eta = 0`.

    Visits the timesteps `ddim_timesteps(T, steps)`, `tau_S > ... > tau_1`. From
    `t` to the next `s` (with `alpha_bar_s = 1` after the last step):

    - `x0_hat = (x_t - sqrt(1 - alpha_bar_t) eps) / sqrt(alpha_bar_t)` (the guess of `x_0`),
    - `sigma = eta sqrt((1 - alpha_bar_s) / (1 - alpha_bar_t)) sqrt(1 - alpha_bar_t / alpha_bar_s)`,
    - `x_s = sqrt(alpha_bar_s) x0_hat + sqrt(1 - alpha_bar_s - sigma^2) eps + sigma z`.

    `eta = 0` adds no noise: the same `x_T` always gives the same `x_0`. `eta = 1`
    with `steps = T` is DDPM's ancestral sampler (the same `sigma`, the same mean).
    Taught in notebook 09, section 4 ("DDIM: the same network, a deterministic sampler
    with fewer steps").

    Args:
        predict_noise: a function `(x_t, t) -> eps`, as for `ddpm_sample`.
        schedule: a `NoiseSchedule`.
        x_T: the start, `N(0, I)` noise `(batch, ...)`.
        steps: the number of steps (network evaluations), 1 .. T.
        eta: in [0, 1]: 0 deterministic, 1 as much noise as DDPM.
        seed_generator: a `keras.random.SeedGenerator` for `z`; needed when `eta > 0`.
        return_trajectory: return every state, not only the last.

    Returns:
        A NumPy array: the samples, shaped as `x_T`; with `return_trajectory`, the
        states `(steps + 1, batch, ...)` from `x_T` to `x_0`.

    Raises:
        ValueError: `steps` outside 1 .. T, `eta` outside [0, 1], or `eta > 0`
            without a seed generator.

    Example:
        >>> schedule = NoiseSchedule(100)
        >>> ddim_sample(lambda x, t: x, schedule, np.ones((2, 1), "float32"), steps=5).shape
        (2, 1)
    """
    timesteps = ddim_timesteps(schedule.num_timesteps, steps)
    eta = _check_eta(eta)
    if eta > 0 and seed_generator is None:
        raise ValueError("Expected a `seed_generator` for eta > 0. Received: seed_generator=None")
    x = _as_tensor(x_T)
    states = [x]
    for index, t in enumerate(timesteps):
        epsilon = predict_noise(x, _timestep_vector(t, x))
        alpha_bar = float(schedule.alpha_bars[t])
        is_last = index == len(timesteps) - 1
        alpha_bar_next = 1.0 if is_last else float(schedule.alpha_bars[timesteps[index + 1]])
        x0_hat = (x - math.sqrt(1.0 - alpha_bar) * epsilon) / math.sqrt(alpha_bar)
        sigma = eta * math.sqrt(
            (1.0 - alpha_bar_next) / (1.0 - alpha_bar) * (1.0 - alpha_bar / alpha_bar_next)
        )
        # max(..., 0): rounding must not take the square root of a tiny negative number.
        direction = math.sqrt(max(1.0 - alpha_bar_next - sigma**2, 0.0)) * epsilon
        x = math.sqrt(alpha_bar_next) * x0_hat + direction
        if eta > 0:
            x = x + sigma * _noise_like(x, seed_generator)
        states.append(x)
    return _finish_trajectory(states, return_trajectory)


def _finish_trajectory(states, return_trajectory):
    if return_trajectory:
        return np.stack([ops.convert_to_numpy(state) for state in states])
    return ops.convert_to_numpy(states[-1])


def _check_eta(eta) -> float:
    if isinstance(eta, bool) or not isinstance(eta, numbers.Real) or not 0.0 <= float(eta) <= 1.0:
        raise ValueError(f"Expected `eta` in [0, 1]. Received: eta={eta!r}")
    return float(eta)


def classifier_free_guidance(eps_cond, eps_uncond, guidance_scale: float):
    """Classifier-free guidance (Ho and Salimans 2022): `eps_uncond + w (eps_cond - eps_uncond)`.

    With `w = guidance_scale`: `w = 1` is the conditional model's prediction,
    `w = 0` the unconditional one, `w > 1` pushes further in the direction that
    makes the sample look like its class (sharper, less varied samples). Ho and
    Salimans write `(1 + w') eps_cond - w' eps_uncond`: their `w'` is `w - 1`. Taught
    in notebook 09, section 6 ("Guidance").

    Example:
        >>> classifier_free_guidance(np.array([1.0]), np.array([0.0]), 3.0)
        array([3.])
    """
    return eps_uncond + guidance_scale * (eps_cond - eps_uncond)


def count_network_evaluations(
    num_timesteps: int, *, steps: int | None = None, guidance_scale: float | None = None
) -> int:
    """The number of function evaluations (NFE) of `epsilon_theta` per sample.

    One per step (`steps`, or `T` for DDPM); two per step with classifier-free
    guidance, which needs `eps_cond` and `eps_uncond`. `DiffusionModel` computes
    the two in **one** network call on a doubled batch, so the number of calls
    equals the steps, but the work (and, on a busy processor, the time) per sample
    is that of two evaluations: the count here.

    Args:
        num_timesteps: T.
        steps: DDIM steps; None for DDPM's T steps.
        guidance_scale: None without guidance; a number with guidance.

    Example:
        >>> count_network_evaluations(1000), count_network_evaluations(1000, steps=50)
        (1000, 50)
        >>> count_network_evaluations(1000, steps=50, guidance_scale=3.0)
        100
    """
    num_timesteps = check_positive_int(num_timesteps, "num_timesteps")
    num_steps = num_timesteps if steps is None else len(ddim_timesteps(num_timesteps, steps))
    return num_steps * (1 if guidance_scale is None else 2)


# --------------------------------------------------------------------------- the denoiser


@keras.saving.register_keras_serializable(package="course_lib")
class SinusoidalEmbedding(layers.Layer):
    """The transformer's sinusoidal position embedding, applied to the timestep `t`.

    `[sin(t w_0), ..., sin(t w_{k-1}), cos(t w_0), ..., cos(t w_{k-1})]` with
    `k = embedding_dim / 2` frequencies `w_i = max_period^(-i / k)` from 1 down to
    nearly `1 / max_period`: nearby timesteps get similar vectors, distant ones
    different vectors, which a network reads far more easily than the bare
    number `t`. A registered layer rather than a `Lambda`, so safe loading works.

    Args:
        embedding_dim: the size of the embedding (even).
        max_period: the longest period.

    Call arguments:
        t: timesteps `(batch,)`, ints or floats.

    Returns:
        `(batch, embedding_dim)`.

    Example:
        >>> SinusoidalEmbedding(4)(np.array([0, 1])).shape
        TensorShape([2, 4])
    """

    def __init__(self, embedding_dim: int, max_period: float = 10000.0, **kwargs):
        super().__init__(**kwargs)
        embedding_dim = check_positive_int(embedding_dim, "embedding_dim")
        if embedding_dim % 2:
            raise ValueError(
                f"Expected an even `embedding_dim` (sines and cosines). "
                f"Received: embedding_dim={embedding_dim}"
            )
        self.embedding_dim = embedding_dim
        self.max_period = float(max_period)

    def call(self, t):
        half = self.embedding_dim // 2
        frequencies = ops.exp(-math.log(self.max_period) * ops.arange(half, dtype="float32") / half)
        angles = ops.cast(ops.reshape(t, (-1, 1)), "float32") * frequencies[None, :]
        return ops.concatenate([ops.sin(angles), ops.cos(angles)], axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.embedding_dim)

    def get_config(self):
        config = super().get_config()
        config.update({"embedding_dim": self.embedding_dim, "max_period": self.max_period})
        return config


def _residual_block(x, condition, units: int, name: str):
    """LayerNorm, SiLU, Dense, + condition, SiLU, Dense, plus a skip connection."""
    skip = x if x.shape[-1] == units else layers.Dense(units, name=f"{name}_skip")(x)
    h = layers.LayerNormalization(name=f"{name}_norm")(x)
    h = layers.Activation("silu", name=f"{name}_silu_1")(h)
    h = layers.Dense(units, name=f"{name}_dense_1")(h)
    # The time (and label) enter every block: the noise to predict depends on them.
    h = layers.Add(name=f"{name}_condition")(
        [h, layers.Dense(units, name=f"{name}_time")(condition)]
    )
    h = layers.Activation("silu", name=f"{name}_silu_2")(h)
    h = layers.Dense(units, name=f"{name}_dense_2")(h)
    return layers.Add(name=f"{name}_add")([skip, h])


def build_mlp_denoiser(
    data_dim: int,
    *,
    num_classes: int | None = None,
    hidden_units=(256, 256, 256),
    time_embedding_dim: int = 64,
    name: str = "mlp_denoiser",
) -> keras.Model:
    """The noise predictor `epsilon_theta(x_t, t)` (or `epsilon_theta(x_t, t, y)`) for vectors.

    For 2-D toy points or an autoencoder's latent codes. The timestep goes through a
    `SinusoidalEmbedding` and a small MLP; a class label (when `num_classes` is
    given) through a learned `label_embedding` with `num_classes + 1` entries, the
    last one (index `num_classes`) the *null* label of classifier-free guidance.
    Their sum conditions each residual block (LayerNorm, SiLU, Dense, with a skip
    connection, one per entry of `hidden_units`); a linear layer gives the
    predicted noise. Taught in notebook 09, section 3 ("The network and the training
    step").

    Args:
        data_dim: the size of one data vector.
        num_classes: the number of classes of a class-conditional denoiser; None
            for an unconditional one.
        hidden_units: the width of each residual block.
        time_embedding_dim: the size of the sinusoidal time embedding (even).
        name: the model's name.

    Returns:
        A functional `keras.Model` with inputs `[x_t (batch, data_dim), t (batch,)]`
        (plus `labels (batch,)` when conditional; ints) and output the predicted
        noise `(batch, data_dim)`.

    Raises:
        ValueError: a non-positive size, no hidden block, or an odd `time_embedding_dim`.

    Example:
        >>> denoiser = build_mlp_denoiser(2, num_classes=3, hidden_units=(16,))
        >>> denoiser([np.zeros((4, 2)), np.arange(4), np.array([0, 1, 2, 3])]).shape
        TensorShape([4, 2])
    """
    data_dim = check_positive_int(data_dim, "data_dim")
    hidden_units = check_units(hidden_units, "hidden_units")
    if not hidden_units:
        raise ValueError("Expected at least one entry in `hidden_units`. Received: hidden_units=()")
    time_embedding_dim = check_positive_int(time_embedding_dim, "time_embedding_dim")
    if num_classes is not None:
        num_classes = check_positive_int(num_classes, "num_classes")
    width = hidden_units[0]

    x_t = keras.Input(shape=(data_dim,), name="x_t")
    t = keras.Input(shape=(), dtype="int32", name="t")
    inputs = [x_t, t]
    condition = SinusoidalEmbedding(time_embedding_dim, name="time_embedding")(t)
    condition = layers.Dense(width, activation="silu", name="time_dense_1")(condition)
    condition = layers.Dense(width, name="time_dense_2")(condition)
    if num_classes is not None:
        labels = keras.Input(shape=(), dtype="int32", name="labels")
        inputs.append(labels)
        # num_classes + 1 entries: the last is the null label ("no class").
        embedded = layers.Embedding(num_classes + 1, width, name="label_embedding")(labels)
        condition = layers.Add(name="time_and_label")([condition, embedded])
    h = layers.Dense(width, name="input_projection")(x_t)
    for index, units in enumerate(hidden_units):
        h = _residual_block(h, condition, units, name=f"block_{index + 1}")
    h = layers.LayerNormalization(name="output_norm")(h)
    h = layers.Activation("silu", name="output_silu")(h)
    epsilon = layers.Dense(data_dim, name="epsilon")(h)
    return keras.Model(inputs, epsilon, name=name)


# --------------------------------------------------------------------------- the models


def _check_data_shape(shape, expected, name):
    if len(shape) < 1 or tuple(shape[1:]) != tuple(expected):
        raise ValueError(
            f"Expected `{name}` of shape (batch, {', '.join(map(str, expected))}), what the "
            f"denoiser takes. Received: {name}.shape={tuple(shape)}"
        )


def _check_guidance_scale(guidance_scale):
    if guidance_scale is None:
        return None
    if (
        isinstance(guidance_scale, bool)
        or not isinstance(guidance_scale, numbers.Real)
        or not math.isfinite(guidance_scale)
        or guidance_scale < 0
    ):
        raise ValueError(
            "Expected `guidance_scale` to be None or a number >= 0. "
            f"Received: guidance_scale={guidance_scale!r}"
        )
    return float(guidance_scale)


@keras.saving.register_keras_serializable(package="course_lib")
class DiffusionModel(GenerativeModel):
    """A denoising diffusion model: a noise-predicting network and its noise schedule.

    Each `train_step` takes a batch of clean data `x_0`, draws for each example a
    timestep `t` uniformly in `0 .. T - 1` and noise `eps ~ N(0, I)`, forms `x_t`
    with `q_sample`, and minimises the *simple* loss of Ho et al. (2020),
    `mean((eps - epsilon_theta(x_t, t))^2)`. For a class-conditional denoiser
    (`build_mlp_denoiser(..., num_classes=K)`) each label is replaced by the null
    label `K` with probability `label_dropout`, so the one network also learns the
    unconditional model that classifier-free guidance needs. All noise (`t`, `eps`,
    the dropped labels, and `sample(seed=None)`) comes from the model's
    `keras.random.SeedGenerator`, fresh at every step.

    `fit(x)` (or `fit(x, labels)` when conditional) reports `loss`. `sample`
    returns vectors as drawn (`output_range` is None); `LatentDiffusion` decodes
    them into images. Taught in notebook 09, sections 1 to 4 and 6.

    Args:
        denoiser: a network `[x_t, t] -> eps` (or `[x_t, t, labels] -> eps`), e.g.
            from `build_mlp_denoiser`.
        num_timesteps: T, the number of noising steps.
        schedule: `"linear"` or `"cosine"` (see `NoiseSchedule`).
        label_dropout: the probability, in [0, 1), of training on the null label
            instead of the true one (conditional models only).
        seed: the seed of the model's `SeedGenerator`.

    Raises:
        ValueError: a bad `num_timesteps`, `schedule` or `label_dropout`, or a
            denoiser whose output is not the shape of its input `x_t`.

    Example:
        >>> model = DiffusionModel(build_mlp_denoiser(2, num_classes=3, hidden_units=(8,)),
        ...                        num_timesteps=10, seed=0)
        >>> model.sample(6, steps=2, guidance_scale=2.0, seed=0).shape  # classes 0, 1, 2, 0, ...
        (6, 2)
    """

    output_range = None

    def __init__(
        self,
        denoiser,
        num_timesteps: int = 1000,
        schedule: str = "linear",
        label_dropout: float = 0.1,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.schedule = NoiseSchedule(num_timesteps, schedule)
        self.label_dropout = check_fraction(label_dropout, "label_dropout")
        data_shape = tuple(denoiser.inputs[0].shape[1:])
        if tuple(denoiser.outputs[0].shape[1:]) != data_shape:
            raise ValueError(
                "Expected a denoiser whose output (the predicted noise) has the shape of its "
                f"input x_t {data_shape}. Received: output shape "
                f"{tuple(denoiser.outputs[0].shape[1:])}"
            )
        self.denoiser = denoiser
        self.data_shape = data_shape
        self.num_timesteps = self.schedule.num_timesteps
        self.schedule_kind = schedule
        self.seed = seed
        # Under a strategy, each replica draws its own timesteps and noise.
        self.seed_generator = distribute.ReplicaSeedGenerator(seed)
        self.num_classes = None
        if len(denoiser.inputs) > 2:  # [x_t, t, labels]
            names = [layer.name for layer in denoiser.layers]
            if "label_embedding" not in names:
                raise ValueError(
                    "Expected a conditional denoiser with a layer named `label_embedding` "
                    "(num_classes + 1 entries, the last the null label), as "
                    f"`build_mlp_denoiser` makes. Received: layers {names}"
                )
            self.num_classes = int(denoiser.get_layer("label_embedding").input_dim) - 1
        self.loss_tracker = keras.metrics.Mean(name="loss")
        # The denoiser is a built functional model: saying so lets `save` run before `fit`.
        self.built = True

    @property
    def metrics(self):
        # Listed here so fit() and evaluate() reset it at each epoch.
        return [self.loss_tracker]

    @property
    def null_label(self) -> int | None:
        """The index of the "no class" label, `num_classes` (None when unconditional)."""
        return self.num_classes

    def call(self, inputs, training=False):
        """The denoiser: `model([x_t, t])` (or `[x_t, t, labels]`) is the predicted noise."""
        return self.denoiser(inputs, training=training)

    # -- training
    def _network_inputs(self, x_t, t, labels):
        return [x_t, t] if self.num_classes is None else [x_t, t, labels]

    def _loss(self, data, training):
        x0, labels = unpack_batch(data)
        x0 = ops.convert_to_tensor(x0, dtype="float32")
        batch_size = ops.shape(x0)[0]
        # t uniform in 0 .. T - 1 and fresh noise for every example, from the SeedGenerator.
        t = keras.random.randint(
            (batch_size,), 0, self.num_timesteps, seed=self.seed_generator, dtype="int32"
        )
        noise = keras.random.normal(ops.shape(x0), seed=self.seed_generator)
        x_t = self.schedule.q_sample(x0, t, noise)
        if self.num_classes is not None:
            labels = ops.cast(ops.reshape(labels, (-1,)), "int32")
            if training and self.label_dropout > 0:
                # Classifier-free guidance: sometimes train on "no class" instead.
                drop = keras.random.uniform((batch_size,), seed=self.seed_generator)
                labels = ops.where(drop < self.label_dropout, self.num_classes, labels)
        predicted = self.denoiser(self._network_inputs(x_t, t, labels), training=training)
        # The simple loss: mean squared error between the true and the predicted noise.
        return ops.mean(ops.square(noise - predicted))

    def train_step(self, data):
        with tf.GradientTape() as tape:
            loss = self._loss(data, training=True)
            # Under a strategy: this replica's share of the global-batch loss (see distribute).
            share = distribute.scale_loss_for_replicas(loss)
        # Only the denoiser learns (LatentDiffusion's decoder stays as trained).
        variables = self.denoiser.trainable_weights
        self.optimizer.apply(tape.gradient(share, variables), variables)
        self.loss_tracker.update_state(loss)
        return distribute.logs_for_fit({m.name: m.result() for m in self.metrics})

    def test_step(self, data):
        self.loss_tracker.update_state(self._loss(data, training=False))
        return distribute.logs_for_fit({m.name: m.result() for m in self.metrics})

    def fit(self, x=None, y=None, *args, **kwargs):
        """`keras.Model.fit` on data `x` (and `y`, the labels, when conditional), checked first.

        Args:
            x: data `(N, *data_shape)`, or a `tf.data.Dataset` of batches (of
                `(x, labels)` pairs when conditional).
            y: int labels `(N,)` in `0 .. num_classes - 1`, for a conditional model only.

        Raises:
            ValueError: data of another shape than the denoiser's input, missing,
                unexpected or out-of-range labels.
        """
        if isinstance(x, tf.data.Dataset):
            spec = x.element_spec
            has_labels = isinstance(spec, tuple) and len(spec) > 1
            if has_labels != (self.num_classes is not None):
                raise ValueError(
                    "Expected a dataset of (x, labels) batches for a conditional model and "
                    f"of x batches for an unconditional one. Received: element_spec={spec}"
                )
            kwargs.setdefault("shuffle", False)  # a dataset shuffles itself
        else:
            _check_data_shape(np.shape(x), self.data_shape, "x")
            if self.num_classes is None and y is not None:
                raise ValueError(
                    "Expected no labels `y`: this model is unconditional. "
                    f"Received: y of shape {np.shape(y)}"
                )
            if self.num_classes is not None:
                if y is None:
                    raise ValueError(
                        "Expected integer labels `y` for this class-conditional model. "
                        "Received: y=None"
                    )
                y = check_labels(np.reshape(y, -1), self.num_classes, count=len(x), name="y")
        return super().fit(x, y, *args, **kwargs)

    # -- sampling
    def predict_noise(self, x_t, t, labels=None, guidance_scale=None):
        """The noise prediction used for sampling, with classifier-free guidance if asked.

        Args:
            x_t: noised data `(batch, *data_shape)`.
            t: ints `(batch,)` in `0 .. T - 1`.
            labels: ints `(batch,)` in `0 .. num_classes` (`num_classes` is the null
                label) for a conditional model; None for an unconditional one.
            guidance_scale: None for the plain (conditional) network; a number `w`
                for `classifier_free_guidance(eps_cond, eps_uncond, w)`, where both
                predictions come from one network call on a doubled batch.

        Returns:
            A float32 tensor shaped as `x_t`.
        """
        x_t = _as_tensor(x_t)
        t = ops.convert_to_tensor(t, dtype="int32")
        if self.num_classes is not None:
            if labels is None:
                raise ValueError(
                    "Expected `labels` for this class-conditional model. Received: labels=None"
                )
            labels = ops.convert_to_tensor(labels, dtype="int32")
        if guidance_scale is not None:
            # A tensor, so that a new scale reuses the compiled graph.
            guidance_scale = ops.convert_to_tensor(guidance_scale, dtype="float32")
        return self._predict_noise_graph(x_t, t, labels, guidance_scale)

    @tf.function(reduce_retracing=True)
    def _predict_noise_graph(self, x_t, t, labels, guidance_scale):
        # Compiled: the sampler calls the network hundreds of times, ~10x faster than eager.
        if self.num_classes is None:
            return self.denoiser([x_t, t], training=False)
        if guidance_scale is None:
            return self.denoiser([x_t, t, labels], training=False)
        # eps_cond and eps_uncond in one call: the batch twice, with true and with null labels.
        null = ops.full_like(labels, self.num_classes)
        both = self.denoiser(
            [
                ops.concatenate([x_t, x_t], axis=0),
                ops.concatenate([t, t], axis=0),
                ops.concatenate([labels, null], axis=0),
            ],
            training=False,
        )
        eps_cond, eps_uncond = ops.split(both, 2, axis=0)
        return classifier_free_guidance(eps_cond, eps_uncond, guidance_scale)

    def _seed_generator(self, seed):
        """The model's own generator for seed=None; a new one (same draws each call) for an int."""
        if seed is None:
            return self.seed_generator
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
            raise ValueError(f"Expected `seed` to be None or an int. Received: seed={seed!r}")
        return keras.random.SeedGenerator(int(seed))

    def _check_sampler_options(self, steps, eta, guidance_scale):
        if steps is not None:
            steps = check_positive_int(steps, "steps")
            ddim_timesteps(self.num_timesteps, steps)  # checks steps <= T
        if eta is not None:
            if steps is None:
                raise ValueError(
                    "Expected `steps` with `eta`: eta sets the noise of the DDIM sampler, "
                    "and steps=None asks for DDPM. Received: steps=None, "
                    f"eta={eta!r}"
                )
            eta = _check_eta(eta)
        guidance_scale = _check_guidance_scale(guidance_scale)
        if guidance_scale is not None and self.num_classes is None:
            raise ValueError(
                "Expected `guidance_scale=None`: guidance needs a class-conditional model. "
                f"Received: guidance_scale={guidance_scale!r}"
            )
        return steps, (0.0 if eta is None else eta), guidance_scale

    def _run_sampler(self, num_samples, labels, seed, batch_size, options, return_trajectory):
        """Draw `x_T` and run DDPM (steps=None) or DDIM, in chunks of `batch_size`."""
        steps, eta, guidance_scale = options
        generator = self._seed_generator(seed)
        results = []
        for start in range(0, num_samples, batch_size):
            count = min(batch_size, num_samples - start)
            chunk_labels = None if labels is None else labels[start : start + count]

            def predict_noise(x_t, t, chunk_labels=chunk_labels):
                return self.predict_noise(x_t, t, chunk_labels, guidance_scale)

            x_T = keras.random.normal((count, *self.data_shape), seed=generator)
            if steps is None:
                result = ddpm_sample(
                    predict_noise,
                    self.schedule,
                    x_T,
                    generator,
                    return_trajectory=return_trajectory,
                )
            else:
                result = ddim_sample(
                    predict_noise,
                    self.schedule,
                    x_T,
                    steps,
                    eta=eta,
                    seed_generator=generator,
                    return_trajectory=return_trajectory,
                )
            results.append(result)
        return np.concatenate(results, axis=1 if return_trajectory else 0)

    def sample(
        self,
        num_samples: int,
        *,
        labels=None,
        seed=None,
        steps: int | None = None,
        eta: float | None = None,
        guidance_scale: float | None = None,
        batch_size: int = 1000,
    ):
        """Draw `num_samples` samples by running the diffusion backwards from `N(0, I)` noise.

        The course's sampling contract (`GenerativeModel.sample`), with the
        options of this family.

        Args:
            num_samples: how many samples (positive).
            labels: for a conditional model, one class per sample (or one int for
                all); None gives the classes in turn `0, 1, ..., num_classes - 1, 0, ...`.
            seed: None draws fresh samples from the model's `SeedGenerator`; an int
                gives the same samples on every call.
            steps: None for DDPM's ancestral sampler (T network evaluations); an
                int for DDIM with that many steps.
            eta: DDIM's noise, in [0, 1] (default 0: deterministic); only with `steps`.
            guidance_scale: None for the plain model; a number `w >= 0` for
                classifier-free guidance, `eps_uncond + w (eps_cond - eps_uncond)`:
                1 is the conditional model again (at twice the cost), 0 the
                unconditional one, larger values follow the class more strongly.
                Conditional models only.
            batch_size: samples per chunk (each chunk runs the whole sampler).

        Returns:
            Float32 samples `(num_samples, *data_shape)` as drawn (`LatentDiffusion`:
            decoded images in [0, 1]).

        Raises:
            ValueError: a non-positive count, labels for an unconditional model or
                labels outside `[0, num_classes)`, `steps` outside 1 .. T, `eta`
                without `steps` or outside [0, 1], a negative `guidance_scale` or one
                for an unconditional model, or a bad seed.
        """
        num_samples = check_positive_int(num_samples, "num_samples")
        batch_size = check_positive_int(batch_size, "batch_size")
        options = self._check_sampler_options(steps, eta, guidance_scale)
        labels = self._sample_labels(labels, num_samples)
        raw = self._run_sampler(num_samples, labels, seed, batch_size, options, False)
        return self._finish(raw)

    def _sample(self, num_samples, labels, seed, batch_size):
        # The contract's defaults: DDPM, no guidance.
        raw = self._run_sampler(num_samples, labels, seed, batch_size, (None, 0.0, None), False)
        return self._finish(raw)

    def _finish(self, raw):
        """Map raw samples to what `sample` returns: here, as drawn."""
        return raw

    def trajectory(
        self,
        num_samples: int,
        *,
        labels=None,
        seed=None,
        steps: int | None = None,
        eta: float | None = None,
        guidance_scale: float | None = None,
    ):
        """Every intermediate `x_t` of the sampler, from `x_T` to `x_0`, for plotting.

        Takes the arguments of `sample` (the same seed gives the same final samples).

        Returns:
            `(timesteps, states)`: `states`, float32 `(num_steps + 1, num_samples,
            *data_shape)`, starts with the noise `x_T` and ends with the samples;
            `timesteps`, ints `(num_steps + 1,)`, gives the `t` of each state, the
            noise being at `T - 1` and the final samples marked `-1` (the clean
            data, before step 0). For `LatentDiffusion` the states are standardised
            latents (`decode` turns them into images).

        Raises:
            ValueError: as `sample`.
        """
        num_samples = check_positive_int(num_samples, "num_samples")
        options = self._check_sampler_options(steps, eta, guidance_scale)
        labels = self._sample_labels(labels, num_samples)
        states = self._run_sampler(num_samples, labels, seed, num_samples, options, True)
        visited = (
            np.arange(self.num_timesteps - 1, -1, -1)
            if options[0] is None
            else ddim_timesteps(self.num_timesteps, options[0])
        )
        return np.concatenate([visited, [-1]]).astype(np.int64), states

    # -- saving
    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "denoiser": keras.saving.serialize_keras_object(self.denoiser),
                "num_timesteps": self.num_timesteps,
                "schedule": self.schedule_kind,
                "label_dropout": self.label_dropout,
                "seed": self.seed,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["denoiser"] = keras.saving.deserialize_keras_object(config["denoiser"])
        return cls(**config)


# --------------------------------------------------------------------------- latent diffusion


def standardize_latents(encoder, images, batch_size: int = 500):
    """Encode images and standardise each latent dimension to mean 0 and variance 1.

    Why: the diffusion starts from `N(0, I)` and its schedule assumes data of
    about unit scale; an autoencoder's codes have any scale, and a dimension ten
    times wider than the noise would still be visible at `t = T - 1`. Taught in
    notebook 09, section 5.

    Args:
        encoder: a Keras model from images to codes (e.g. `autoencoder.encoder`; a
            VAE encoder's `z_mean` is used), or a function returning codes (e.g.
            `autoencoder.encode`).
        images: `(N, H, W, C)` images as the encoder takes them.
        batch_size: images per encoder call (Keras models only).

    Returns:
        `(latents, mean, std)`: the standardised codes `(N, latent_dim)` and the
        per-dimension mean and standard deviation, float32 `(latent_dim,)`, for
        `LatentDiffusion`.

    Example:
        >>> from course_lib.models.autoencoder import build_dense_encoder
        >>> latents, mean, std = standardize_latents(
        ...     build_dense_encoder(3), np.random.default_rng(0).random((10, 28, 28, 1))
        ... )
        >>> latents.shape, bool(np.allclose(latents.std(axis=0), 1.0, atol=1e-3))
        ((10, 3), True)
    """
    images = np.asarray(images, dtype=np.float32)
    if isinstance(encoder, (keras.Model, keras.layers.Layer)):
        codes = batched_call(encoder, images, check_positive_int(batch_size, "batch_size"))
    else:
        codes = encoder(images)
    if isinstance(codes, (list, tuple)):  # a VAE encoder: [z_mean, z_log_var]
        codes = codes[0]
    codes = np.asarray(codes, dtype=np.float64)
    if codes.ndim != 2:
        raise ValueError(
            f"Expected the encoder to return codes (N, latent_dim). Received: shape {codes.shape}"
        )
    mean = codes.mean(axis=0)
    # A floor keeps a constant (unused) dimension from dividing by zero.
    std = np.maximum(codes.std(axis=0), 1e-6)
    latents = (codes - mean) / std
    return latents.astype(np.float32), mean.astype(np.float32), std.astype(np.float32)


@keras.saving.register_keras_serializable(package="course_lib")
class LatentDiffusion(DiffusionModel):
    """Diffusion in an autoencoder's latent space: sample codes, then decode them into images.

    A `DiffusionModel` trained on standardised codes (`standardize_latents`), plus
    the autoencoder's decoder, which stays as trained (`train_step` updates the
    denoiser only). `sample` draws standardised codes, maps them back with the
    stored `latent_mean` and `latent_std` and decodes them: images in [0, 1]
    (Rombach et al. 2022, at the scale of a CPU). Taught in notebook 09, sections 5 and 6.

    Args:
        denoiser: a network `[x_t, t] -> eps` (or with labels) on codes of the
            decoder's input size, e.g. `build_mlp_denoiser(latent_dim)`.
        decoder: a Keras model from codes `(latent_dim,)` to images in [0, 1]
            (e.g. `autoencoder.decoder`, sigmoid output).
        latent_mean: the per-dimension mean of the codes, `(latent_dim,)`.
        latent_std: their per-dimension standard deviation, positive.
        **kwargs: `num_timesteps`, `schedule`, `label_dropout`, `seed`: as `DiffusionModel`.

    Raises:
        ValueError: as `DiffusionModel`, or a denoiser, decoder, mean and std whose
            latent sizes disagree, or a non-positive std.

    Example:
        >>> from course_lib.models.autoencoder import build_dense_decoder
        >>> model = LatentDiffusion(build_mlp_denoiser(4, hidden_units=(8,)),
        ...                         build_dense_decoder(4), np.zeros(4), np.ones(4),
        ...                         num_timesteps=10, seed=0)
        >>> model.sample(2, steps=2, seed=0).shape
        (2, 28, 28, 1)
    """

    output_range = (0.0, 1.0)

    def __init__(self, denoiser, decoder, latent_mean, latent_std, **kwargs):
        super().__init__(denoiser, **kwargs)
        latent_dim = int(decoder.inputs[0].shape[-1])
        mean = np.asarray(latent_mean, dtype=np.float32).reshape(-1)
        std = np.asarray(latent_std, dtype=np.float32).reshape(-1)
        if (
            self.data_shape != (latent_dim,)
            or mean.shape != (latent_dim,)
            or std.shape != (latent_dim,)
        ):
            raise ValueError(
                f"Expected the denoiser's data, the decoder's input, `latent_mean` and "
                f"`latent_std` to share one latent size. Received: denoiser {self.data_shape}, "
                f"decoder ({latent_dim},), latent_mean {mean.shape}, latent_std {std.shape}"
            )
        if not np.all(std > 0):
            raise ValueError(
                f"Expected a positive `latent_std`. Received: minimum {float(std.min())!r}"
            )
        self.decoder = decoder
        self.latent_mean = mean
        self.latent_std = std
        self.image_shape = tuple(int(d) for d in decoder.outputs[0].shape[1:])

    def decode(self, latents, batch_size: int = 500) -> np.ndarray:
        """Images in [0, 1] from standardised codes `(N, latent_dim)`.

        Raises:
            ValueError: codes of the wrong size.
        """
        latents = np.asarray(latents, dtype=np.float32)
        _check_data_shape(latents.shape, self.data_shape, "latents")
        codes = latents * self.latent_std + self.latent_mean
        return to_unit_interval(batched_call(self.decoder, codes, batch_size), (0.0, 1.0))

    def _finish(self, raw):
        return self.decode(raw)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "decoder": keras.saving.serialize_keras_object(self.decoder),
                "latent_mean": self.latent_mean.tolist(),
                "latent_std": self.latent_std.tolist(),
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("denoiser", "decoder"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)
