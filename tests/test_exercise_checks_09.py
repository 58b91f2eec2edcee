"""Every check of notebook 09 rejects plausible wrong answers and accepts a right one.

For each exercise: at least three wrong answers a learner could plausibly write (each
must raise `AssertionError`) and one correct answer written differently from the
solution (it must pass). Small synthetic inputs and a tiny untrained denoiser only.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from course_lib.checks import diffusion as checks
from course_lib.models.diffusion import build_mlp_denoiser
from tests.conftest import rejects

keras.config.disable_interactive_logging()


# --------------------------------------------------------------------------- exercise 1 (a)


def noising_right(x0, t, noise, alpha_bars):
    alpha_bar = np.take(alpha_bars, t).reshape(-1, 1).astype(np.float64)
    return alpha_bar**0.5 * x0 + (1.0 - alpha_bar) ** 0.5 * noise


@pytest.mark.parametrize(
    "wrong",
    [
        lambda x0, t, e, ab: ab[t][:, None] * x0 + (1 - ab[t][:, None]) * e,  # no square roots
        lambda x0, t, e, ab: (
            np.sqrt(ab[t - 1])[:, None] * x0 + np.sqrt(1 - ab[t - 1])[:, None] * e
        ),  # off by one step
        lambda x0, t, e, ab: np.sqrt(ab[t])[None, :] * x0 + np.sqrt(1 - ab[t])[None, :] * e,
        lambda x0, t, e, ab: np.sqrt(ab[t])[:, None] * x0 + (1 - ab[t])[:, None] * e,  # var as std
        lambda x0, t, e, ab: np.sqrt(1 - ab[t])[:, None] * x0 + np.sqrt(ab[t])[:, None] * e,
        lambda x0, t, e, ab: (
            np.sqrt(np.cumprod(ab)[t])[:, None] * x0 + np.sqrt(1 - np.cumprod(ab)[t])[:, None] * e
        ),  # the product taken twice
    ],
)
def test_forward_noising_rejects(wrong):
    rejects(checks.check_forward_noising, wrong)


def test_forward_noising_accepts(capsys):
    checks.check_forward_noising(noising_right)
    assert "Correct" in capsys.readouterr().out


def test_forward_noising_stub_gets_a_reminder():
    def stub(x0, t, noise, alpha_bars):
        pass

    assert "no answer yet" in rejects(checks.check_forward_noising, stub)


# --------------------------------------------------------------------------- exercise 1 (b)


@pytest.fixture(scope="module")
def toy():
    keras.utils.set_random_seed(0)
    denoiser = build_mlp_denoiser(2, hidden_units=(16, 16), time_embedding_dim=8)
    data = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
    return denoiser, data


def loss_right(predict_noise, x0, t, noise, alpha_bars):
    x_t = noising_right(x0, t, noise, alpha_bars)
    residual = np.asarray(predict_noise(x_t, t)) - noise
    return float(np.square(residual).sum() / residual.size)


def _x_t(x0, t, noise, alpha_bars):
    return noising_right(x0, t, noise, alpha_bars)


@pytest.mark.parametrize(
    "wrong",
    [
        lambda f, x0, t, e, ab: float(np.mean((x0 - f(_x_t(x0, t, e, ab), t)) ** 2)),  # x0 target
        lambda f, x0, t, e, ab: float(np.sum((e - f(_x_t(x0, t, e, ab), t)) ** 2)),  # a sum
        lambda f, x0, t, e, ab: float(
            np.mean(np.sum((e - f(_x_t(x0, t, e, ab), t)) ** 2, axis=1))
        ),  # summed over the coordinates
        lambda f, x0, t, e, ab: float(np.mean(np.abs(e - f(_x_t(x0, t, e, ab), t)))),
        lambda f, x0, t, e, ab: float(np.mean((e - f(x0, t)) ** 2)),  # the clean data as input
        lambda f, x0, t, e, ab: float(np.sqrt(np.mean((e - f(_x_t(x0, t, e, ab), t)) ** 2))),
        lambda f, x0, t, e, ab: float(
            np.mean((e - f(_x_t(x0, t, e, ab), np.minimum(t + 1, len(ab) - 1))) ** 2)
        ),  # the network told the wrong step
    ],
)
def test_simple_loss_rejects(wrong, toy):
    denoiser, data = toy
    rejects(checks.check_simple_loss, wrong, denoiser, data, 50)


def test_simple_loss_accepts(toy, capsys):
    denoiser, data = toy
    checks.check_simple_loss(loss_right, denoiser, data, 50)
    assert "Correct" in capsys.readouterr().out


# --------------------------------------------------------------------------- exercise 2


def step_right(x_t, epsilon, alpha_bar_t, alpha_bar_s):
    scale = np.sqrt(alpha_bar_s / alpha_bar_t)
    return scale * x_t + (np.sqrt(1 - alpha_bar_s) - scale * np.sqrt(1 - alpha_bar_t)) * epsilon


def _x0_hat(x, e, a):
    return (x - np.sqrt(1 - a) * e) / np.sqrt(a)


@pytest.mark.parametrize(
    "wrong",
    [
        lambda x, e, a, s: np.sqrt(a) * _x0_hat(x, e, s) + np.sqrt(1 - a) * e,  # levels swapped
        lambda x, e, a, s: s * _x0_hat(x, e, a) + (1 - s) * e,  # no square roots
        lambda x, e, a, s: np.sqrt(s) * (x - np.sqrt(1 - a) * e) + np.sqrt(1 - s) * e,
        lambda x, e, a, s: _x0_hat(x, e, a),  # jumps straight to the guess
        lambda x, e, a, s: np.sqrt(s / a) * x,  # rescales, forgets the noise
        lambda x, e, a, s: np.sqrt(s) * _x0_hat(x, e, a) + np.sqrt(1 - a) * e,  # old noise level
    ],
)
def test_ddim_step_rejects(wrong):
    rejects(checks.check_ddim_step, wrong)


def test_ddim_step_accepts(capsys):
    checks.check_ddim_step(step_right)
    assert "Correct" in capsys.readouterr().out


# --------------------------------------------------------------------------- exercise 3


def cosine_right(num_timesteps, offset=0.008):
    tau = np.linspace(0.0, 1.0, num_timesteps + 1)
    f = np.cos((tau + offset) / (1 + offset) * np.pi / 2) ** 2
    betas = np.minimum(1 - f[1:] / f[:-1], 0.999)
    return np.exp(np.cumsum(np.log1p(-betas)))


def _f(num_timesteps, offset=0.008):
    tau = np.arange(num_timesteps + 1) / num_timesteps
    return np.cos((tau + offset) / (1 + offset) * np.pi / 2) ** 2


@pytest.mark.parametrize(
    "wrong",
    [
        lambda n: np.cumprod(_f(n)[1:] / _f(n)[:-1]),  # no clipping
        lambda n: _f(n)[1:] / _f(n)[0],  # f(t) / f(0): the same without the clip
        lambda n: np.cumprod(1 - np.minimum(1 - _f(n, 0.0)[1:] / _f(n, 0.0)[:-1], 0.999)),
        lambda n: np.cumprod(np.concatenate([[1.0], _f(n)[1:] / _f(n)[:-1]])),  # T + 1 values
        lambda n: _f(n)[:-1] / _f(n)[0],  # shifted by one step
    ],
)
def test_cosine_rejects(wrong):
    rejects(checks.check_cosine_alpha_bars, wrong)


def test_cosine_accepts(capsys):
    checks.check_cosine_alpha_bars(cosine_right)
    assert "Correct" in capsys.readouterr().out


# --------------------------------------------------------------------------- exercise 4

T, STEPS, SCALES, SAMPLES = 1000, 50, 6, 1000
NFE_RIGHT = {"ddim_guided": STEPS + STEPS, "ddpm": T, "ddim_null_label": STEPS}
SWEEP_RIGHT = SAMPLES * SCALES * STEPS * 2


@pytest.mark.parametrize(
    "nfe, sweep",
    [
        ({**NFE_RIGHT, "ddim_guided": STEPS}, SWEEP_RIGHT),  # guidance for free
        ({**NFE_RIGHT, "ddpm": 2 * T}, SWEEP_RIGHT),
        ({**NFE_RIGHT, "ddim_null_label": 2 * STEPS}, SWEEP_RIGHT),  # null label as guidance
        (NFE_RIGHT, SAMPLES * SCALES * STEPS),  # the sweep without guidance's factor 2
        (NFE_RIGHT, SAMPLES * STEPS * (2 * (SCALES - 1) + 1)),  # w = 0 counted once
        (NFE_RIGHT, SCALES * STEPS * 2),  # one sample per scale
        (NFE_RIGHT, None),
    ],
)
def test_network_evaluations_rejects(nfe, sweep):
    rejects(checks.check_network_evaluations, nfe, sweep, T, STEPS, SCALES, SAMPLES)


def test_network_evaluations_accepts(capsys):
    checks.check_network_evaluations(dict(NFE_RIGHT), float(SWEEP_RIGHT), T, STEPS, SCALES, SAMPLES)
    assert "Correct" in capsys.readouterr().out


# --------------------------------------------------------------------------- exercise 5

SWEEP = {
    0.0: {"fid": 5.1, "accuracy": 0.10, "spread": 9.0},
    1.0: {"fid": 3.2, "accuracy": 0.88, "spread": 8.0},
    2.0: {"fid": 6.4, "accuracy": 0.97, "spread": 6.0},
    5.0: {"fid": 15.0, "accuracy": 0.99, "spread": 4.0},
}
CHOSEN, REAL_SPREAD = 2.0, 9.5
RIGHT = (1.0, 6.4 - 3.2, (REAL_SPREAD - 4.0) / REAL_SPREAD)


@pytest.mark.parametrize(
    "answers",
    [
        (5.0, RIGHT[1], RIGHT[2]),  # the most accurate scale
        (3.2, RIGHT[1], RIGHT[2]),  # the FID, not the scale
        (0.0, RIGHT[1], RIGHT[2]),  # the first scale
        (RIGHT[0], -RIGHT[1], RIGHT[2]),  # the difference the wrong way round
        (RIGHT[0], 6.4 / 3.2, RIGHT[2]),  # a ratio
        (RIGHT[0], RIGHT[1], 4.0 / REAL_SPREAD),  # the share kept, not lost
        (RIGHT[0], RIGHT[1], 1 - 6.0 / REAL_SPREAD),  # at the chosen scale, not the largest
        (RIGHT[0], RIGHT[1], None),
    ],
)
def test_guidance_reading_rejects(answers):
    rejects(checks.check_guidance_reading, *answers, SWEEP, CHOSEN, REAL_SPREAD)


def test_guidance_reading_accepts(capsys):
    best = sorted(SWEEP.items(), key=lambda item: item[1]["fid"])[0][0]
    cost = SWEEP[CHOSEN]["fid"] - SWEEP[best]["fid"]
    lost = (REAL_SPREAD - SWEEP[max(SWEEP)]["spread"]) / REAL_SPREAD
    checks.check_guidance_reading(best, cost, lost, SWEEP, CHOSEN, REAL_SPREAD)
    assert "Correct" in capsys.readouterr().out
