"""The two profiles every notebook runs in, and the smoke overrides of each notebook.

- full: the literal defaults of each notebook's `parameters` cell, what a learner
  runs. Budget: <= 10 minutes per notebook on a 2-core CPU.
- smoke: the overrides below, which papermill injects in CI: tiny data and one
  or two epochs. Budget: <= 90 seconds per notebook on a 2-core CPU (aim for 30).
  It proves the notebook runs top to bottom; it makes no claim about quality.

Every override must name a parameter that exists in the notebook's `parameters`
cell (a test checks it), and every notebook needs an entry here.
"""

PROFILES = ("full", "smoke")

SMOKE = {
    "00_setup_and_tour": {"PROFILE": "smoke", "NUM_EXAMPLES": 512},
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
