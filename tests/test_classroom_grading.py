"""Autograde with limits, in parallel, optionally sandboxed (tools/autograde.py, sandbox_kernel.py).

The unit tests run plain commands; the end-to-end tests grade the synthetic
assignment of tests/test_classroom.py with nbgrader.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.test_classroom import _fill, _solutions, generated_course  # noqa: E402
from tools import classroom  # noqa: E402
from tools.autograde import Limits, grade_all, grade_one  # noqa: E402
from tools.sandbox_kernel import unshare_works  # noqa: E402

# --------------------------------------------------------------------------- limits


def test_the_wall_limit_kills_the_whole_process_group(tmp_path):
    pid_file = tmp_path / "child.pid"
    command = ["sh", "-c", f"sleep 60 & echo $! > {pid_file}; wait"]
    started = time.perf_counter()
    outcome = grade_one(command, "slow", cwd=tmp_path, env=dict(os.environ), limits=Limits(1))
    assert outcome.status == "timeout" and "1 s" in outcome.message
    assert time.perf_counter() - started < 10
    # The grandchild (a kernel, in real use) is dead too: gone, or a zombie left to init.
    status = Path(f"/proc/{int(pid_file.read_text())}/status")
    time.sleep(0.2)
    assert not status.exists() or "State:\tZ" in status.read_text()


def test_the_memory_limit_stops_a_greedy_process(tmp_path):
    greedy = [sys.executable, "-c", "x = bytearray(3 * 1024**3)"]
    limits = Limits(wall_seconds=60, memory_gb=1)
    outcome = grade_one(greedy, "greedy", cwd=tmp_path, env=dict(os.environ), limits=limits)
    assert outcome.status == "failed" and "MemoryError" in outcome.message
    # the same command without the limit would allocate 3 GB: the limit did the refusing
    assert (
        grade_one(
            [sys.executable, "-c", "x = bytearray(10)"],
            "ok",
            cwd=tmp_path,
            env=dict(os.environ),
            limits=limits,
        ).status
        == "graded"
    )


def test_jobs_run_in_parallel_and_keep_their_order(tmp_path):
    jobs = {f"s{k}": (["sh", "-c", "sleep 1"], dict(os.environ)) for k in range(4)}
    started = time.perf_counter()
    outcomes = grade_all(jobs, cwd=tmp_path, limits=Limits(30), workers=4)
    assert [o.student for o in outcomes] == ["s0", "s1", "s2", "s3"]
    assert all(o.status == "graded" for o in outcomes)
    assert time.perf_counter() - started < 3.5  # four one-second jobs at once, not in turn


@pytest.mark.parametrize("kwargs", [{"wall_seconds": 0}, {"memory_gb": -1}, {"cpu_seconds": 0}])
def test_limits_must_be_positive(kwargs):
    with pytest.raises(ValueError, match="Expected"):
        Limits(**kwargs)


def test_workers_must_be_at_least_one(tmp_path):
    with pytest.raises(ValueError, match="workers >= 1"):
        grade_all({}, cwd=tmp_path, limits=Limits(), workers=0)


# --------------------------------------------------------------------------- with nbgrader

# One line per statement: the submission helper re-indents every line of an answer.
TAMPER = """\
tamper = "try:\\n    open(target, 'a').write('tampered')\\nexcept OSError as e:\\n    print(e)"
for target in {targets!r}: exec(tamper)
"""


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The synthetic assignment, generated; a canary file stands for the gradebook."""
    pytest.importorskip("nbgrader")
    course = generated_course(tmp_path_factory.mktemp("grading"))
    (course / "canary.txt").write_text("original")
    return course


def _submit(course: Path, student: str, answers: dict[int, str]) -> None:
    release = nbformat.read(course / "release" / "99_synthetic" / "99_synthetic.ipynb", 4)
    folder = course.parent / f"in_{student}" / student
    folder.mkdir(parents=True)
    nbformat.write(_fill(release, answers), folder / "99_synthetic.ipynb")
    classroom.collect(course, "99_synthetic", folder.parent, profile=None)


def _tampering_answers(course: Path) -> dict[int, str]:
    targets = [str(course / "canary.txt"), str(course / "gradebook.db"), str(source_of(course))]
    answers = _solutions()
    answers[2] = TAMPER.format(targets=targets) + answers[2]
    return answers


def source_of(course: Path) -> Path:
    return course / "source" / "99_synthetic" / "99_synthetic.ipynb"


def _score(course: Path, student: str) -> tuple[float, float]:
    path = course / "autograded" / student / "99_synthetic" / "99_synthetic.ipynb"
    return classroom.score_executed(nbformat.read(path, 4))


@pytest.mark.skipif(not unshare_works(), reason="needs Linux user and mount namespaces")
def test_a_sandboxed_submission_cannot_write_to_the_course(course):
    solutions = source_of(course).read_bytes()
    _submit(course, "mallory", _tampering_answers(course))
    run = classroom.autograde(
        course, "99_synthetic", students=["mallory"], sandbox=True, feedback=False
    )
    assert [o.status for o in run.outcomes] == ["graded"], run.outcomes
    assert _score(course, "mallory") == (5.0, 5.0)  # graded as usual
    assert (course / "canary.txt").read_text() == "original"
    assert source_of(course).read_bytes() == solutions
    executed = nbformat.read(
        course / "autograded" / "mallory" / "99_synthetic" / "99_synthetic.ipynb", 4
    )
    printed = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", []))
    assert printed.count("Read-only file system") == 3


def test_without_the_sandbox_the_same_submission_can(course):
    """The control: what the sandbox prevents does happen without it."""
    _submit(course, "eve", _tampering_answers(course))
    before = (course / "canary.txt").read_text()
    classroom.autograde(course, "99_synthetic", students=["eve"], feedback=False)
    assert (course / "canary.txt").read_text() == before + "tampered"


def test_a_runaway_kernel_is_stopped_and_the_others_are_graded(course):
    answers = _solutions()
    answers[2] = "while True: pass"
    _submit(course, "spinner", answers)
    _submit(course, "steady", _solutions())
    run = classroom.autograde(
        course,
        "99_synthetic",
        students=["spinner", "steady"],
        workers=2,
        limits=Limits(wall_seconds=300, cpu_seconds=8),
        feedback=False,
    )
    status = {o.student: o.status for o in run.outcomes}
    assert status["steady"] == "graded" and _score(course, "steady") == (5.0, 5.0)
    assert status["spinner"] == "failed", run.outcomes
