"""Write `<output root>/report.md`: one Markdown page on every notebook's last run.

    python tools/course_report.py                    # reads outputs/ (or COURSE_OUTPUT_DIR)
    python tools/course_report.py --output-dir DIR   # another output root

For each notebook of `notebooks/` the report gives the profile, wall time and dataset
recorded in its `metrics.json`, its headline figures and the sample files it left;
notebooks without a `metrics.json` are listed as missing, each with the command that
makes it. A `metrics.json` that cannot be read is reported, not fatal: the report is
always written, so that it can follow a run in which some notebooks failed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
STANDARD_KEYS = ("notebook", "profile", "wall_seconds", "dataset")
# The figures each notebook's readers look for first; the rest are counted, not shown.
HEADLINE_KEYS = (
    "pca_test_mse",
    "linear_classifier_test_accuracy",
    "ae32_test_mse",
    "conv_ae32_test_mse",
    "denoise_psnr_restored",
    "test_elbo_nats",
    "iwae_nll_nats",
    "cvae_test_elbo_nats",
    "toy_modes_covered",
    "fid",
    "fid_floor",
    "fid_num_images",
    "kid",
    "conditional_accuracy",
    "near_copy_share_pixels",
    "test_nll_nats",
    "bits_per_dim",
    "bernoulli_baseline_nll_nats",
    "fid_conditional",
    "images_per_second",
    "training_seconds",
    "binarization",
    "notebooks_found",
    "notebooks_missing",
    "models_measured",
)
MAX_OTHER_FIGURES = 4


def notebook_stems(notebooks: Path = NOTEBOOKS) -> list[str]:
    """The stems of the course's notebooks, in order."""
    return sorted(path.stem for path in notebooks.glob("[0-9][0-9]_*.ipynb"))


def default_output_root() -> Path:
    env = os.environ.get("COURSE_OUTPUT_DIR")
    return Path(env) if env else REPO / "outputs"


def _format(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value).replace("|", "\\|")


def headline(metrics: dict) -> str:
    """The headline figures of one `metrics.json`, as `key=value` pairs."""
    shown = [key for key in HEADLINE_KEYS if key in metrics]
    others = [
        key
        for key, value in metrics.items()
        if key not in STANDARD_KEYS
        and key not in shown
        and isinstance(value, (int, float))
        and not isinstance(value, bool)
    ]
    if not shown:  # a notebook the list does not know: its first numeric figures
        shown, others = others[:MAX_OTHER_FIGURES], others[MAX_OTHER_FIGURES:]
    text = ", ".join(f"{key}={_format(metrics[key])}" for key in shown)
    if others:
        text += f" (+{len(others)} more in metrics.json)"
    return text


def read_runs(root: Path, stems: list[str]) -> tuple[list[dict], list[str], list[str]]:
    """Each run's metrics and sample files; the stems without metrics; unreadable files."""
    runs, missing, problems = [], [], []
    for stem in stems:
        path = root / stem / "metrics.json"
        if not path.exists():
            missing.append(stem)
            continue
        try:
            metrics = json.loads(path.read_text())
            if not isinstance(metrics, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as error:
            problems.append(f"{stem}: {path} could not be read ({error})")
            missing.append(stem)
            continue
        samples = sorted(p.name for p in (root / stem).glob("samples*.npz"))
        runs.append({"stem": stem, "metrics": metrics, "samples": samples})
    return runs, missing, problems


def build_report(root: Path, stems: list[str] | None = None) -> str:
    """The report as Markdown text."""
    root = Path(root)
    stems = notebook_stems() if stems is None else list(stems)
    runs, missing, problems = read_runs(root, stems)
    profiles = sorted({str(run["metrics"].get("profile", "?")) for run in runs})
    total = sum(float(run["metrics"].get("wall_seconds", 0.0)) for run in runs)
    lines = [
        "# Course report",
        "",
        f"Output folder: `{root}`. {len(runs)} of {len(stems)} notebooks have a "
        f"`metrics.json`, {total / 60:.1f} minutes of wall time in all; "
        f"profiles: {', '.join(profiles) or 'none'}.",
    ]
    if len(profiles) > 1:
        lines += [
            "",
            "**Mixed profiles:** some figures come from smoke runs (tiny data, no claim about "
            "quality). Rerun those notebooks in the full profile before comparing them.",
        ]
    lines += [
        "",
        "| notebook | profile | wall s | dataset | samples | headline figures |",
        "|---|---|---|---|---|---|",
    ]
    for run in runs:
        metrics = run["metrics"]
        dataset = str(metrics.get("dataset", "-"))
        dataset_name = dataset.split(":")[0]
        stand_in = " (stand-in)" if "stand-in" in dataset.lower() else ""
        wall = metrics.get("wall_seconds")
        lines.append(
            f"| {run['stem']} | {metrics.get('profile', '?')} "
            f"| {'-' if wall is None else f'{float(wall):.1f}'} | {dataset_name}{stand_in} "
            f"| {', '.join(run['samples']) or '-'} | {headline(metrics)} |"
        )
    lines += ["", "## Missing runs", ""]
    if missing:
        lines.append("These notebooks have no readable `metrics.json` here; to make one:")
        lines.append("")
        for stem in missing:
            lines.append(
                f"- {stem}: `python tools/run_notebooks.py --profile full --only {stem[:2]}`"
            )
    else:
        lines.append("None: every notebook has a `metrics.json`.")
    if problems:
        lines += ["", "## Problems", ""] + [f"- {problem}" for problem in problems]
    datasets = sorted({str(run["metrics"].get("dataset", "-")) for run in runs})
    if datasets:
        lines += ["", "## Datasets recorded", ""] + [f"- {d}" for d in datasets]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output-dir", type=Path, default=None, help="the output root")
    args = parser.parse_args(argv)
    root = args.output_dir or default_output_root()
    root.mkdir(parents=True, exist_ok=True)
    report = build_report(root)
    path = root / "report.md"
    path.write_text(report)
    runs, missing, _ = read_runs(root, notebook_stems())
    print(f"wrote {path}: {len(runs)} notebooks reported, {len(missing)} missing")
    return 0


if __name__ == "__main__":
    sys.exit(main())
