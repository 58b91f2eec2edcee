"""Checks of the exercises of notebook 09 (diffusion models).

Each function takes the learner's answer (and, where the reference depends on the run,
the learner's own objects), computes the reference itself, and raises `AssertionError`
with a hint that names the idea, never the expected value. The references come from
`course_lib.models.diffusion` wherever the library has them (`NoiseSchedule.q_sample`,
the loss `DiffusionModel` reports, `ddim_sample`, `count_network_evaluations`), so a
check also confirms that the learner's formula is the library's.

Example:
    >>> import numpy as np
    >>> def cosine(num_timesteps, offset=0.008):
    ...     tau = np.linspace(0.0, 1.0, num_timesteps + 1)
    ...     f = np.cos((tau + offset) / (1 + offset) * np.pi / 2) ** 2
    ...     return np.cumprod(1 - np.minimum(1 - f[1:] / f[:-1], 0.999))
    >>> check_cosine_alpha_bars(cosine)
    Correct: cosine_alpha_bars agrees with NoiseSchedule(T, "cosine") for T = 10, 100 and 1000.
"""

from __future__ import annotations

import numpy as np

from course_lib.exercises import (
    as_float_array,
    call_answer,
    check_answered,
    check_array,
    check_true,
)

__all__ = [
    "check_cosine_alpha_bars",
    "check_ddim_step",
    "check_forward_noising",
    "check_guidance_reading",
    "check_network_evaluations",
    "check_simple_loss",
]


def _call(name: str, function, *args):
    """Call the learner's function; an error inside it becomes a hint, a stub a reminder."""
    return call_answer(
        name,
        function,
        *args,
        hint="It must work for any batch size and any number of coordinates "
        "(the check uses small arrays).",
    )


_numpy = as_float_array


def check_forward_noising(forward_noising) -> None:
    """Exercise 1 (a) of notebook 09: `x_t` from `q(x_t | x_0)`, against `NoiseSchedule.q_sample`.

    Cases with timesteps spread over the whole range (where `alpha_bar` and `alpha` differ),
    with repeated timesteps, and with as many coordinates as examples (so that an
    `alpha_bar` broadcast along the wrong axis gives wrong numbers rather than an error).
    """
    from course_lib.models.diffusion import NoiseSchedule

    schedule = NoiseSchedule(100, "linear")
    rng = np.random.default_rng(11)
    cases = [
        ([0, 7, 42, 99], 3),
        ([3, 3, 60, 80], 2),
        ([5, 20, 50, 95], 4),  # square: (4, 4)
    ]
    for number, (timesteps, dim) in enumerate(cases, start=1):
        t = np.array(timesteps)
        x0 = rng.standard_normal((len(t), dim))
        noise = rng.standard_normal((len(t), dim))
        answer = _call("forward_noising", forward_noising, x0, t, noise, schedule.alpha_bars)
        check_array(
            f"forward_noising on case {number}",
            answer,
            _numpy(schedule.q_sample(x0, t, noise)),
            rtol=1e-5,
            atol=1e-6,
            hint="Compare with the closed form of q(x_t | x_0): which array of the schedule, read "
            "at each example's own t, and which factors are square roots? Each example's "
            "factor must multiply all of its coordinates.",
            quiet=True,
        )
    print("Correct: forward_noising agrees with NoiseSchedule.q_sample on 3 cases.")


def check_simple_loss(
    simple_loss, denoiser, data, num_timesteps: int, schedule: str = "linear", seed: int = 123
) -> None:
    """Exercise 1 (b) of notebook 09: the simple loss, against the loss `DiffusionModel` reports.

    A `DiffusionModel` around the learner's trained `denoiser` (unconditional, data
    `(N, d)`), seeded with `seed`, evaluates its loss on `data`; a `SeedGenerator(seed)`
    replays its draws of `t` and of the noise, in the same order, and the learner's
    `simple_loss` must give the same number on them. Then two predictors with known
    losses: one that knows `x_0` (loss 0) and one that always predicts 0.
    """
    import keras

    from course_lib.models.diffusion import DiffusionModel

    data = np.asarray(data, dtype=np.float32)
    referee = DiffusionModel(denoiser, num_timesteps=num_timesteps, schedule=schedule, seed=seed)
    referee.compile(optimizer="adam")
    library_loss = referee.evaluate(data, batch_size=len(data), verbose=0, return_dict=True)["loss"]
    replay = keras.random.SeedGenerator(seed)
    t = _numpy(keras.random.randint((len(data),), 0, num_timesteps, seed=replay, dtype="int32"))
    t = t.astype(np.int64)
    noise = _numpy(keras.random.normal(data.shape, seed=replay))
    alpha_bars = referee.schedule.alpha_bars

    def network(x_t, timesteps):
        inputs = [np.asarray(x_t, np.float32), np.asarray(timesteps, np.int32)]
        return _numpy(denoiser(inputs, training=False))

    def knows_x0(x_t, timesteps):
        alpha_bar = alpha_bars[np.asarray(timesteps)].astype(np.float64)[:, None]
        return (np.asarray(x_t, np.float64) - np.sqrt(alpha_bar) * data) / np.sqrt(1 - alpha_bar)

    def zero(x_t, timesteps):
        return np.zeros(np.shape(x_t))

    hint = (
        "The simple loss: noise x0 to x_t (part a), ask the network, and compare "
        "its prediction with the right target, averaged over the examples and the coordinates."
    )
    cases = [
        ("the trained toy denoiser (the library's own loss)", network, library_loss, 1e-4),
        ("a predictor that knows x0", knows_x0, 0.0, 0.0),
        ("a predictor that always says 0", zero, float(np.mean(noise**2)), 1e-6),
    ]
    for description, predictor, expected, rtol in cases:
        answer = _call("simple_loss", simple_loss, predictor, data, t, noise, alpha_bars)
        check_array(
            f"simple_loss with {description}",
            answer,
            expected,
            rtol=rtol,
            atol=1e-5,
            hint=hint,
            quiet=True,
        )
    print("Correct: simple_loss equals DiffusionModel's loss on the same draws of t and noise.")


def _stand_in(x_t, t):
    """A stand-in network for the sampler checks: any function of (x_t, t) will do."""
    return 0.5 * _numpy(x_t) + 0.01 * np.asarray(t, np.float64)[:, None]


def check_ddim_step(ddim_step) -> None:
    """Exercise 2 of notebook 09: the deterministic DDIM update, alone and inside a sampler.

    First single steps between random noise levels; then a sampler made of the learner's
    step, visiting the timesteps of `ddim_timesteps` on a 100-step schedule, against the
    library's `ddim_sample` with 1, 4 and 10 steps.
    """
    from course_lib.models.diffusion import NoiseSchedule, ddim_sample, ddim_timesteps

    hint = (
        "Two lines: the guess of x0 from x_t at level alpha_bar_t, then that guess noised "
        "again to level alpha_bar_s, with the predicted noise as the noise. Which level goes "
        "with which square root?"
    )
    rng = np.random.default_rng(12)
    for number in range(1, 4):
        x_t, epsilon = rng.standard_normal((2, 5, 3))
        alpha_bar_t, alpha_bar_s = np.sort(rng.uniform(0.05, 0.95, 2))
        x0_hat = (x_t - np.sqrt(1 - alpha_bar_t) * epsilon) / np.sqrt(alpha_bar_t)
        expected = np.sqrt(alpha_bar_s) * x0_hat + np.sqrt(1 - alpha_bar_s) * epsilon
        answer = _call("ddim_step", ddim_step, x_t, epsilon, alpha_bar_t, alpha_bar_s)
        check_array(f"ddim_step on case {number}", answer, expected, hint=hint, quiet=True)

    schedule = NoiseSchedule(100, "linear")
    x_T = rng.standard_normal((5, 3)).astype(np.float32)
    for steps in (1, 4, 10):
        visited = ddim_timesteps(schedule.num_timesteps, steps)
        x = x_T.astype(np.float64)
        for index, t in enumerate(visited):
            last = index == len(visited) - 1
            alpha_bar_s = 1.0 if last else float(schedule.alpha_bars[visited[index + 1]])
            epsilon = _stand_in(x, np.full(len(x), t))
            x = _call(
                "ddim_step", ddim_step, x, epsilon, float(schedule.alpha_bars[t]), alpha_bar_s
            )
        check_array(
            f"a {steps}-step DDIM sampler made of your ddim_step",
            x,
            ddim_sample(_stand_in, schedule, x_T, steps),
            rtol=1e-3,
            atol=1e-4,
            hint=hint,
            quiet=True,
        )
    print("Correct: ddim_step, and a sampler made of it agrees with ddim_sample.")


def check_cosine_alpha_bars(cosine_alpha_bars) -> None:
    """Exercise 3 of notebook 09: `alpha_bar` of the cosine schedule, for T = 10, 100 and 1000."""
    from course_lib.models.diffusion import NoiseSchedule

    for num_timesteps in (10, 100, 1000):
        answer = _call("cosine_alpha_bars", cosine_alpha_bars, num_timesteps)
        check_array(
            f"cosine_alpha_bars({num_timesteps})",
            answer,
            NoiseSchedule(num_timesteps, "cosine").alpha_bars,
            rtol=1e-5,
            atol=1e-10,
            hint="T + 1 values of f (with the offset), one beta per step from the ratio of "
            "neighbouring values, each clipped at 0.999, then a running product: T values "
            "in all, the first just below 1. Look at the last ones: what does f(T) do?",
            quiet=True,
        )
    print(
        'Correct: cosine_alpha_bars agrees with NoiseSchedule(T, "cosine") for T = 10, 100 '
        "and 1000."
    )


def check_network_evaluations(
    nfe, sweep_evaluations, num_timesteps: int, ddim_steps: int, num_scales: int, num_samples: int
) -> None:
    """Exercise 4 of notebook 09: network evaluations per sample, and those of the sweep.

    Args:
        nfe: the learner's dict with `"ddpm"`, `"ddim_null_label"` and `"ddim_guided"`.
        sweep_evaluations: the learner's total for the guidance sweep.
        num_timesteps: T of the model.
        ddim_steps: the DDIM steps of every digit sample.
        num_scales: the number of guidance scales of the sweep.
        num_samples: the samples drawn at each scale.
    """
    from course_lib.models.diffusion import count_network_evaluations

    check_answered("nfe", nfe)
    check_true(
        "nfe is a dict with the keys 'ddpm', 'ddim_null_label' and 'ddim_guided'",
        isinstance(nfe, dict) and {"ddpm", "ddim_null_label", "ddim_guided"} <= set(nfe),
        "Fill the dict with one number per sampler.",
    )
    expected = {
        "ddpm": count_network_evaluations(num_timesteps),
        "ddim_null_label": count_network_evaluations(num_timesteps, steps=ddim_steps),
        "ddim_guided": count_network_evaluations(
            num_timesteps, steps=ddim_steps, guidance_scale=1.0
        ),
    }
    hints = {
        "ddpm": "Ancestral sampling visits every timestep once, one evaluation each.",
        "ddim_null_label": "One prediction per visited timestep: the null label is just a label.",
        "ddim_guided": "Guidance combines two predictions at every visited timestep.",
    }
    for key, value in expected.items():
        check_answered(f"nfe[{key!r}]", nfe[key])
        check_array(f"nfe[{key!r}]", nfe[key], value, hint=hints[key], quiet=True)
    check_answered("sweep_evaluations", sweep_evaluations)
    per_sample = count_network_evaluations(num_timesteps, steps=ddim_steps, guidance_scale=0.0)
    check_array(
        "sweep_evaluations",
        sweep_evaluations,
        num_scales * num_samples * per_sample,
        hint="Every scale of the sweep, every sample drawn at it, and what one guided sample "
        "costs: w = 0 goes through the guided path too.",
        quiet=True,
    )
    print("Correct: nfe and sweep_evaluations.")


def check_guidance_reading(
    best_fid_scale, fid_cost, spread_lost, sweep, guidance_scale, real_spread
) -> None:
    """Exercise 5 of notebook 09: three numbers read off the learner's own guidance sweep.

    Args:
        best_fid_scale, fid_cost, spread_lost: the learner's answers.
        sweep: `{scale: {"fid": ..., "accuracy": ..., "spread": ...}}` from the notebook.
        guidance_scale: the scale the notebook chose.
        real_spread: the within-class spread of real validation digits.
    """
    check_answered("best_fid_scale", best_fid_scale)
    best = min(sweep, key=lambda w: sweep[w]["fid"])
    check_true(
        "best_fid_scale is the scale of the sweep with the lowest FID",
        best_fid_scale in sweep and sweep[best_fid_scale]["fid"] <= sweep[best]["fid"],
        "Compare the 'fid' entry of every scale and keep the key (the scale), not the FID; "
        "lowest FID, not highest accuracy.",
    )
    check_answered("fid_cost", fid_cost)
    check_array(
        "fid_cost",
        fid_cost,
        sweep[guidance_scale]["fid"] - sweep[best]["fid"],
        rtol=1e-6,
        hint="A difference of two validation FIDs, the chosen scale's and the best one's: "
        "how much higher, so which comes first?",
        quiet=True,
    )
    check_answered("spread_lost", spread_lost)
    check_array(
        "spread_lost",
        spread_lost,
        1.0 - sweep[max(sweep)]["spread"] / real_spread,
        rtol=1e-6,
        hint="A share of the real digits' spread, at the largest scale of the sweep: one minus "
        "a ratio of two spreads.",
        quiet=True,
    )
    print("Correct: best_fid_scale, fid_cost and spread_lost.")
