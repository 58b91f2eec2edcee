"""Execute every notebook in the smoke profile with papermill (marked `notebooks`).

The executed copies land in `outputs/smoke/executed/`, where the test command then
runs nbval on them (see README, "Tests").
"""

import json
import math
from pathlib import Path

import nbformat
import numpy as np
import pytest

from tests.conftest import ORIGINAL_OFFLINE
from tools.classroom import score_executed
from tools.run_notebooks import execute, notebook_paths

REPO = Path(__file__).resolve().parents[1]
SMOKE_ROOT = REPO / "outputs" / "smoke"


@pytest.mark.notebooks
@pytest.mark.parametrize("path", notebook_paths(), ids=lambda p: p.stem)
def test_notebook_runs_in_the_smoke_profile(path, monkeypatch):
    # A learner's machine may download the data; CI sets COURSE_OFFLINE itself.
    if ORIGINAL_OFFLINE is None:
        monkeypatch.delenv("COURSE_OFFLINE", raising=False)
    else:
        monkeypatch.setenv("COURSE_OFFLINE", ORIGINAL_OFFLINE)
    row = execute(path, "smoke", SMOKE_ROOT)
    assert row["status"] == "ok", f"{path.name} failed: {row['error']} (see {row['executed']})"
    # The smoke profile is the grading profile: the reference solutions score full marks.
    score, total = score_executed(nbformat.read(row["executed"], as_version=4))
    assert total >= 3 and score == total, f"the reference solutions score {score} of {total}"
    metrics = row["metrics"]
    assert metrics["profile"] == "smoke" and metrics["dataset"]
    for key, value in metrics.items():
        if isinstance(value, float):
            assert math.isfinite(value), f"{key} is not finite"
    samples = SMOKE_ROOT / path.stem / "samples.npz"
    if samples.exists():
        with np.load(samples) as saved:
            assert saved["images"].dtype == np.uint8 and saved["images"].shape[1:] == (28, 28)
    print(json.dumps(metrics))
