"""The course's main job: run every notebook in a profile and print a table.

    python tools/run_notebooks.py                      # every notebook, full profile
    python tools/run_notebooks.py --profile smoke      # what CI runs
    python tools/run_notebooks.py --only 03 05         # notebooks whose names start so

Each notebook is executed by papermill with the profile's parameters (see
`tools/profiles.py`); the executed copy goes to `<output root>/executed/`,
and the notebook itself writes `<output root>/<stem>/metrics.json`. The table
lists status, wall time, the dataset actually used and the headline figures
read from each `metrics.json`; it is also written to `<output root>/summary-<profile>.txt`.
The exit status is 1 if any notebook failed.

The output root is `outputs/` (or `COURSE_OUTPUT_DIR`); `--output-dir` moves it.
Nothing here depends on the device: the same command runs on a CPU or a GPU.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
sys.path.insert(0, str(REPO))

from tools.profiles import PROFILES, parameters_for  # noqa: E402

STANDARD_KEYS = ("notebook", "profile", "wall_seconds", "dataset")


def notebook_paths(only: list[str] | None = None) -> list[Path]:
    """The course's notebooks in order, optionally those whose names start with `only`."""
    paths = sorted(p for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if only:
        paths = [p for p in paths if any(p.stem.startswith(prefix) for prefix in only)]
    return paths


def default_output_root() -> Path:
    env = os.environ.get("COURSE_OUTPUT_DIR")
    return Path(env) if env else REPO / "outputs"


def execute(path: Path, profile: str, output_root: Path, timeout: int = 1800) -> dict:
    """Run one notebook with papermill; return a row for the table.

    The row holds `notebook`, `status` (`"ok"` or `"FAILED"`), `seconds`,
    `executed` (the path of the executed copy), `metrics` (the notebook's
    `metrics.json`, or {}) and `error` (a short message, or "").
    """
    import papermill

    output_root = Path(output_root).resolve()
    executed = output_root / "executed" / path.name
    executed.parent.mkdir(parents=True, exist_ok=True)
    metrics_path = output_root / path.stem / "metrics.json"
    metrics_path.unlink(missing_ok=True)  # a stale file must not pass for this run's
    # The kernel inherits this process's environment: that is how the notebook
    # learns where its outputs go.
    previous = os.environ.get("COURSE_OUTPUT_DIR")
    os.environ["COURSE_OUTPUT_DIR"] = str(output_root)
    started = time.perf_counter()
    error = ""
    try:
        papermill.execute_notebook(
            str(path),
            str(executed),
            parameters=parameters_for(path.stem, profile),
            kernel_name="python3",
            cwd=str(path.parent),
            execution_timeout=timeout,
            progress_bar=False,
            log_output=False,
        )
    except Exception as exc:  # noqa: BLE001 - any failure is reported in the table
        error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc) else ''}"
        if not hasattr(exc, "ename"):
            traceback.print_exc()
    finally:
        if previous is None:
            os.environ.pop("COURSE_OUTPUT_DIR", None)
        else:
            os.environ["COURSE_OUTPUT_DIR"] = previous
    seconds = time.perf_counter() - started
    metrics = json.loads(metrics_path.read_text()) if metrics_path.exists() else {}
    if not error and not metrics:
        error = f"the notebook wrote no {metrics_path.relative_to(output_root)}"
    return {
        "notebook": path.stem,
        "status": "FAILED" if error else "ok",
        "seconds": seconds,
        "executed": executed,
        "metrics": metrics,
        "error": error,
    }


def _headline(metrics: dict) -> str:
    parts = []
    for key, value in metrics.items():
        if key in STANDARD_KEYS:
            continue
        parts.append(f"{key}={value:.4g}" if isinstance(value, float) else f"{key}={value}")
    return ", ".join(parts)


def format_table(rows: list[dict]) -> str:
    """A plain-text table: notebook, status, wall time, dataset, headline figures."""
    header = ("notebook", "status", "wall s", "dataset", "headline figures")
    lines = []
    for row in rows:
        dataset = str(row["metrics"].get("dataset", "-")).split(":")[0]
        figures = row["error"] if row["error"] else _headline(row["metrics"])
        lines.append((row["notebook"], row["status"], f"{row['seconds']:.1f}", dataset, figures))
    widths = [max(len(str(r[i])) for r in [header, *lines]) for i in range(4)]
    out = []
    for r in [header, *lines]:
        out.append("  ".join(str(r[i]).ljust(widths[i]) for i in range(4)) + "  " + str(r[4]))
        if r is header:
            out.append("  ".join("-" * w for w in widths) + "  " + "-" * 16)
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", choices=PROFILES, default="full")
    parser.add_argument("--only", nargs="*", help="notebook name prefixes, e.g. 00 03")
    parser.add_argument("--output-dir", type=Path, default=None, help="the output root")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    args = parser.parse_args(argv)

    paths = notebook_paths(args.only)
    if not paths:
        print(f"No notebook matches {args.only} in {NOTEBOOKS}", file=sys.stderr)
        return 1
    root = args.output_dir or default_output_root()
    rows = []
    for path in paths:
        print(f"[{args.profile}] running {path.name} ...", flush=True)
        row = execute(path, args.profile, root, timeout=args.timeout)
        print(
            f"[{args.profile}] {path.name}: {row['status']} in {row['seconds']:.1f} s", flush=True
        )
        rows.append(row)
    total = sum(r["seconds"] for r in rows)
    table = format_table(rows)
    print()
    print(table)
    # Keep the table: the benchmark record of this profile on this machine.
    summary = Path(root) / f"summary-{args.profile}.txt"
    summary.parent.mkdir(parents=True, exist_ok=True)
    summary.write_text(table + "\n")
    print(
        f"\n{len(rows)} notebooks, {sum(r['status'] == 'ok' for r in rows)} ok, "
        f"{total / 60:.1f} minutes; executed copies in {Path(root) / 'executed'}"
    )
    return 0 if all(r["status"] == "ok" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
