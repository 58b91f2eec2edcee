"""Measure autograding throughput on this machine, and project it to a class.

    python tools/benchmark_autograde.py --only 00 03 --submissions 15 --workers 2

For each notebook: generate the assignment in a scratch course folder, write
`--submissions` synthetic submissions (two in three answered with the reference
solutions, one in three blank), collect them in the grading profile and
autograde them with `--workers` at a time. Prints the wall time, the seconds
per submission, the scores (reference: full marks, blank: 0, else it says so)
and the projection to 100 and 300 submissions at the same rate.
"""

from __future__ import annotations

import argparse
import copy
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tools import classroom  # noqa: E402


def reference_submission(release, source):
    """The handout with each answer cell replaced by the solution (markers removed)."""
    solutions = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in source.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }
    nb = copy.deepcopy(release)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in solutions:
            lines = solutions[grade_id].split("\n")
            cell.source = "\n".join(line for line in lines if "SOLUTION" not in line)
    return nb


def benchmark(stem: str, submissions: int, workers: int, root: Path) -> dict:
    import nbformat

    course = root / stem
    names = classroom.prepare(classroom.notebook_paths([stem]), course)
    classroom.generate(course, names)
    name = names[0]
    release = nbformat.read(next((course / "release" / name).glob("*.ipynb")), 4)
    source = nbformat.read(next((course / "source" / name).glob("*.ipynb")), 4)
    answered = reference_submission(release, source)
    folder = root / f"{stem}_submissions"
    expected = {}
    for k in range(submissions):
        student = f"student{k:03d}"
        blank = k % 3 == 2
        (folder / student).mkdir(parents=True)
        nbformat.write(release if blank else answered, folder / student / f"{name}.ipynb")
        expected[student] = "blank" if blank else "reference"
    classroom.collect(course, name, folder)
    run = classroom.autograde(course, name, workers=workers, feedback=False)
    wrong = []
    for student, kind in expected.items():
        path = course / "autograded" / student / name / f"{name}.ipynb"
        if not path.exists():
            wrong.append(f"{student}: not graded")
            continue
        score, total = classroom.score_executed(nbformat.read(path, 4))
        if score != (total if kind == "reference" else 0.0):
            wrong.append(f"{student} ({kind}): {score} of {total}")
    seconds = run.seconds["autograde"]
    return {
        "notebook": name,
        "submissions": submissions,
        "workers": workers,
        "seconds": seconds,
        "per_submission": seconds / submissions,
        "wrong": wrong + [f"{o.student}: {o.status}" for o in run.not_graded],
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", default=["00", "03"], help="notebook prefixes")
    parser.add_argument("--submissions", type=int, default=15, help="per notebook")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="keep the scratch course folders here")
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="autograde-benchmark-"))
    rows = []
    try:
        for stem in args.only:
            rows.append(benchmark(stem, args.submissions, args.workers, root))
    finally:
        if args.keep:
            shutil.copytree(root, args.keep, dirs_exist_ok=True)
        shutil.rmtree(root, ignore_errors=True)
    total = sum(r["seconds"] for r in rows)
    count = sum(r["submissions"] for r in rows)
    print("| notebook | submissions | workers | wall | per submission |")
    print("| --- | --- | --- | --- | --- |")
    for r in rows:
        print(
            f"| {r['notebook']} | {r['submissions']} | {r['workers']} | {r['seconds']:.0f} s "
            f"| {r['per_submission']:.1f} s |"
        )
    rate = total / count
    print(f"\nall: {count} submissions in {total:.0f} s ({rate:.1f} s each, {time.strftime('%F')})")
    for size in (100, 300):
        print(f"projected, {size} submissions of one such notebook: {size * rate / 60:.0f} minutes")
    problems = [f"{r['notebook']}: {w}" for r in rows for w in r["wrong"]]
    if problems:
        print("UNEXPECTED SCORES:\n  " + "\n  ".join(problems))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
