"""The two profiles every notebook runs in, and the smoke overrides of each notebook.

- full: the literal defaults of each notebook's `parameters` cell, what a learner
  runs. Budget: <= 10 minutes per notebook on a 2-core CPU.
- smoke: the overrides below, which papermill injects in CI: tiny data and one
  or two epochs. Budget: <= 90 seconds per notebook on a 2-core CPU (aim for 30).
  It proves the notebook runs top to bottom; it makes no claim about quality.

Every override must name a parameter that exists in the notebook's `parameters`
cell (a test checks it), and every notebook needs an entry here.

The smoke profile is also the grading profile: `tools/classroom.py autograde`
reruns each submission with these overrides. That is fair because every graded
answer is code that reads the run's own objects, and every check recomputes
what it expects from the same objects: an answer right on the full data is
right on less. A parameter that an exercise names therefore keeps its full value
here, unless `SHRUNK_IN_EXERCISES` says why the check does not depend on it
(tests/test_classroom.py checks both ways).
"""

PROFILES = ("full", "smoke")

SMOKE = {
    "00_setup_and_tour": {"PROFILE": "smoke", "NUM_EXAMPLES": 512, "NUM_VALIDATION": 256},
    "01_autoencoders": {
        "PROFILE": "smoke",
        "NUM_TRAIN": 512,
        "NUM_VALIDATION": 256,
        "NUM_TEST": 256,
        "EPOCHS": 2,
        "SEPARATE_EPOCHS": 1,
        "SWEEP_LATENT_DIMS": [2],
        "SWEEP_EPOCHS": 1,
        "LINEAR_EPOCHS": 2,
    },
    "02_autoencoder_applications": {
        "PROFILE": "smoke",
        "NUM_TRAIN": 512,
        "NUM_VALIDATION": 256,
        "NUM_TEST": 256,
        "DENSE_EPOCHS": 1,
        "CONV_EPOCHS": 1,
        "DENOISE_EPOCHS": 1,
        "NOISE_LEVELS": [0.5],
        "DENOISE_PCA_SIZES": [16, 32],
        "INPAINT_EPOCHS": 1,
        "ANOMALY_CLASSES": [0, 1],
        "ANOMALY_EPOCHS": 1,
        "PROBE_DRAWS": 1,
        "QUANT_BITS": [2, 8],
        "JPEG_QUALITIES": [5, 50],
    },
    "05_gan_fundamentals": {
        "PROFILE": "smoke",
        "NUM_TRAIN": 512,
        "TOY_NUM_POINTS": 1024,
        "TOY_EPOCHS": 2,
        "EPOCHS": 2,
        "MISTAKE_EPOCHS": 1,
    },
    "06_dcgan": {
        "PROFILE": "smoke",
        "NUM_TRAIN": 512,
        "NUM_VALIDATION": 200,
        "FID_EVERY": 1,
        "BASE_FILTERS": 8,
        "EPOCHS": 2,
        "INTERRUPT_AFTER": 1,
        "NUM_SAMPLES": 200,
    },
    "03_variational_autoencoders": {
        "PROFILE": "smoke",
        "NUM_TRAIN": 640,
        "NUM_VALIDATION": 128,
        "NUM_TEST": 256,
        "AE_EPOCHS": 2,
        "LATENT2_EPOCHS": 2,
        "LARGE_EPOCHS": 2,
        "ELBO_SAMPLES": 2,
        "IWAE_SAMPLES": 8,
        "NUM_GENERATED": 100,
    },
    "04_conditional_and_beta_vaes": {
        "PROFILE": "smoke",
        "NUM_TRAIN": 640,
        "NUM_VALIDATION": 128,
        "NUM_TEST": 256,
        "CVAE_EPOCHS": 2,
        "BETAS": [0.5, 4.0],
        "BETA_EPOCHS": 1,
        "ELBO_SAMPLES": 2,
        "NUM_GENERATED": 100,
    },
    "07_conditional_gan_and_wgan_gp": {
        "PROFILE": "smoke",
        "NUM_TRAIN": 512,
        "NUM_VALIDATION": 200,
        "CGAN_BASE_FILTERS": 8,
        "CGAN_EPOCHS": 2,
        "COMPARE_BASE_FILTERS": 8,
        "COMPARE_EPOCHS": 2,
        "FID_EVERY": 1,
        "NUM_CRITIC_STEPS": 2,
        "NUM_FID_IMAGES": 256,
        "NUM_SAMPLES": 200,
    },
    "08_autoregressive_models": {
        "PROFILE": "smoke",
        "NUM_TRAIN": 512,
        "NUM_VALIDATION": 128,
        "NUM_TEST": 256,
        "UNITS": 32,
        "NUM_LAYERS": 1,
        "HEAD_UNITS": 32,
        "EPOCHS": 2,
        "BATCH_SIZE": 32,
        "LEARNING_RATE": 0.01,
        "NUM_SAMPLES": 64,
        "NUM_COMPLETIONS": 2,
        "TIMING_SAMPLES": 16,
    },
    "09_diffusion_models": {
        "PROFILE": "smoke",
        "NUM_TRAIN": 600,
        "NUM_VALIDATION": 100,
        "NUM_TEST": 200,
        "TOY_NUM_POINTS": 1024,
        "TOY_TIMESTEPS": 50,
        "TOY_EPOCHS": 2,
        "TOY_NUM_SAMPLES": 200,
        "TOY_DDIM_STEPS": 5,
        "AE_EPOCHS": 2,
        "DENOISER_UNITS": 64,
        "DENOISER_BLOCKS": 2,
        "EPOCHS": 2,
        "DDIM_STEPS": 10,
        "GUIDANCE_SCALES": [0.0, 2.0],
        "NUM_SAMPLES": 200,
        "TRAJECTORY_SAMPLES": 4,
    },
    "10_evaluating_and_comparing": {
        "PROFILE": "smoke",
        "NUM_TRAIN": 600,
        "NUM_VALIDATION": 100,
        "NUM_TEST": 300,
        "NUM_EVAL": 200,
        "NUM_COMPARE": 300,
        "NOISE_LEVELS": [0.3],
        "BLUR_LEVELS": [1.0],
        "DROPPED_CLASSES": [5],
        "NUM_BOOTSTRAP": 50,
        "SAMPLE_SIZES": [100, 300],
        "NUM_REPEATS": 2,
    },
}

# Parameters that an exercise names (in its text, answer or check) and that the smoke
# profile shrinks, with why no answer's rightness depends on their value.
SHRUNK_IN_EXERCISES = {
    "01_autoencoders": {
        "EPOCHS": "exercise 6 trains its two models for EPOCHS // 6 epochs; the check "
        "recomputes both errors from those models",
    },
    "02_autoencoder_applications": {
        "ANOMALY_CLASSES": "exercise 3 uses the first class, 0 in both profiles; the check "
        "recomputes the rates from the scores",
        "ANOMALY_EPOCHS": "exercise 5 trains for this many epochs; the check recomputes the "
        "scores and the AUC from the learner's model",
    },
    "04_conditional_and_beta_vaes": {
        "BETAS": "exercise 2 reads the sweep over BETAS; the check recomputes the ELBOs and "
        "the best beta from that sweep",
    },
    "06_dcgan": {
        "BASE_FILTERS": "exercise 4 builds its model with it; the check reads the learner's "
        "run and the notebook's normal run, which share it",
    },
    "09_diffusion_models": {
        "TOY_TIMESTEPS": "exercise 1's check compares with the library on the toy model "
        "built with it",
        "DDIM_STEPS": "exercise 4 counts evaluations from the parameters; the check "
        "recomputes the counts from the same parameters",
        "GUIDANCE_SCALES": "exercise 4 counts the sweep's evaluations; the check recomputes "
        "them from len(GUIDANCE_SCALES)",
    },
}


def parameters_for(notebook_stem: str, profile: str) -> dict:
    """The papermill parameters of one notebook in one profile."""
    if profile not in PROFILES:
        raise ValueError(f"Expected profile in {PROFILES}. Received: profile={profile!r}")
    if profile == "full":
        return {"PROFILE": "full"}
    if notebook_stem not in SMOKE:
        raise KeyError(
            f"Expected smoke overrides for {notebook_stem!r} in tools/profiles.py. "
            "Received: none (add an entry to SMOKE)"
        )
    return dict(SMOKE[notebook_stem])
