"""Autograde many submissions: one process per submission, with limits, several at a time.

`nbgrader autograde` runs a class's submissions one after another in one
process, each notebook's code with the instructor's rights and no limit but a
per-cell timeout. Here each submission gets its own `nbgrader autograde
--student ID` process:

- limits: a wall-clock limit for the whole submission (the process group is
  killed when it runs out), an address-space limit (`RLIMIT_AS`) and optionally a
  CPU-time limit (`RLIMIT_CPU`), inherited by the kernel that runs the student's code;
- parallel: `workers` submissions at once (default: one per core, at most 8;
  `tools/benchmark_autograde.py` measures what suits your machine);
- on Linux, with `sandbox=True`, the kernel runs in its own user and mount
  namespaces (tools/sandbox_kernel.py) in which the gradebook, the solutions and
  the other students' submissions are read-only.

A submission that fails (time or memory exhausted, a crash of the kernel) is
reported with its reason; the others are graded all the same.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Limits:
    """What one submission may use. `None` means no limit of that kind."""

    wall_seconds: float | None = 1800.0  # the whole notebook, kernel start included
    memory_gb: float | None = 8.0  # address space of each process (TensorFlow needs ~3)
    cpu_seconds: int | None = None  # CPU time of each process

    def __post_init__(self):
        for name in ("wall_seconds", "memory_gb", "cpu_seconds"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"Expected {name} > 0 or None. Received: {name}={value!r}")


@dataclass
class Outcome:
    """How grading one submission went: `status` is "graded", "timeout" or "failed"."""

    student: str
    status: str
    seconds: float
    message: str = ""


def _apply_limits(limits: Limits):
    """A `preexec_fn` that sets the resource limits in the child before it runs nbgrader."""

    def apply():
        if limits.memory_gb is not None:
            size = int(limits.memory_gb * 1024**3)
            resource.setrlimit(resource.RLIMIT_AS, (size, size))
        if limits.cpu_seconds is not None:
            resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds))

    return apply


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def grade_one(command: list[str], student: str, *, cwd: Path, env: dict, limits: Limits) -> Outcome:
    """Run one `nbgrader autograde` command for `student` under `limits`."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: a timeout kills the kernel too
        preexec_fn=_apply_limits(limits),
    )
    try:
        log, _ = process.communicate(timeout=limits.wall_seconds)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        return Outcome(
            student,
            "timeout",
            time.perf_counter() - started,
            f"stopped after {limits.wall_seconds:g} s (Limits.wall_seconds)",
        )
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        return Outcome(student, "failed", seconds, log.strip()[-2000:])
    # nbgrader reports a dead kernel or an exhausted cell timeout in its log, exit code 0.
    problems = [line for line in log.splitlines() if "[AutogradeApp | ERROR]" in line]
    if problems:
        return Outcome(student, "failed", seconds, "\n".join(problems)[-2000:])
    return Outcome(student, "graded", seconds)


def grade_all(
    jobs: dict[str, tuple[list[str], dict]], *, cwd: Path, limits: Limits, workers: int
) -> list[Outcome]:
    """Run each student's `(command, environment)` job, `workers` at a time, under `limits`.

    Returns one `Outcome` per student, in the order of `jobs`.
    """
    if workers < 1:
        raise ValueError(f"Expected workers >= 1. Received: workers={workers!r}")

    def run(student):
        command, env = jobs[student]
        return grade_one(command, student, cwd=cwd, env=env, limits=limits)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, jobs))


def default_workers() -> int:
    """One worker per core, at most 8 (each kernel holds 1-2 GB).

    Much of a submission's time is single-threaded (starting nbgrader and the
    kernel, importing TensorFlow), so kernels overlap well: on 2 cores, 2 workers
    graded notebook 00 in 8.6 s a submission against 12.4 s for 1
    (tools/benchmark_autograde.py).
    """
    return max(1, min(os.cpu_count() or 1, 8))
