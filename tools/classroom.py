"""Classroom assignments from the course notebooks: student versions, autograding, grades.

One source serves self-learners and classes: each notebook in `notebooks/` carries
its exercises with their solutions (the format is in `docs/instructor-guide.md`).
This script turns the notebooks into nbgrader assignments, offline, from the
command line (no JupyterHub, no Docker):

    python tools/classroom.py check                      # >= 3 well-formed exercises each
    python tools/classroom.py student [--check]          # self-study copies, notebooks/student/
    python tools/classroom.py prepare --only 03          # course folder + nbgrader metadata
    python tools/classroom.py generate --only 03         # student notebooks (prepares first)
    python tools/classroom.py autograde 03 SUBMISSIONS   # grade a folder of submissions
    python tools/classroom.py grades                     # grades.csv + grades_by_exercise.csv

`--repo OWNER/NAME --ref TAG` (prepare, generate, student) point the copies'
install cell and Colab badge at a fork and tag, for a semester.

The course folder (default `outputs/classroom/`, git-ignored; `--course` moves it)
is an ordinary nbgrader course: `source/`, `release/`, `submitted/`,
`autograded/`, `feedback/`, a sqlite `gradebook.db`, your `nbgrader_config.py`
(written only if missing) and the course's settings in `nbgrader_config_course.py`,
which it loads.
Student notebooks are also copied flat to `<course>/student/`. The committed
self-study copies in `notebooks/student/` (their own Colab badges, a link to
the solutions) are made without nbgrader, with the same stub.

nbgrader is a development tool (the `dev` extra), never a dependency of
`course_lib`; only `prepare`, `generate`, `autograde` and `grades` need it.
"""

from __future__ import annotations

import argparse
import ast
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
DEFAULT_COURSE = REPO / "outputs" / "classroom"
MIN_EXERCISES = 3

# The stub that replaces a solution region in the student version: the same
# text as tools/nbgrader_config.py's (a test checks), kept here so `check` runs
# without nbgrader. `pass` keeps an emptied function body valid Python.
CODE_STUB = "# YOUR CODE HERE\npass  # replace this line with your answer"

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
# nbgrader matches these words anywhere in a line of any cell, markdown included.
NBGRADER_WORDS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")

HEADING_RE = re.compile(r"^\s{0,3}#{2,4}\s*Exercise\s+(\d+)\s*[:.\-–—]?\s*(.*?)\s*$", re.I)
CHECK_RE = re.compile(r"^# Check: exercise (\d+)(?:\s+\((\d+(?:\.\d+)?) points?\))?\s*$")
CHECK_LOOSE_RE = re.compile(r"^\s*#\s*check\b", re.I)
ANSWER_FIRST_LINE_RE = re.compile(r"^#\s*Exercise\s+(\d+)\b", re.I)
BADGE_RE = re.compile(
    r"\[!\[Open In Colab\]\(https://colab\.research\.google\.com/assets/colab-badge\.svg\)\]"
    r"\(https://colab\.research\.google\.com/github/[^)\s]+\)"
)

# Where the install cell installs `course_lib` from, and where the Colab badges and
# links point: the upstream repository at `main`, unless `--repo`/`--ref` say otherwise.
UPSTREAM_REPO = "image-synthesis-course/image-synthesis"
UPSTREAM_REF = "main"
REPO_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}")
REF_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*)*")
INSTALL_URL_RE = re.compile(r"git\+https://github\.com/[\w.\-]+/[\w.\-]+@[\w.\-/]+")
BADGE_URL_RE = re.compile(
    r"(https://colab\.research\.google\.com/github/[^/\s]+/[^/\s]+/blob/[^/\s)]+/)([^)\s]+)"
)
GITHUB_URL_RE = re.compile(rf"https://github\.com/{re.escape(UPSTREAM_REPO)}/(blob|tree)/[\w.\-]+/")


# --------------------------------------------------------------------------- parsing


@dataclass
class Exercise:
    """One exercise of a notebook: its heading, answer cells and check cell (cell indices)."""

    number: int
    title: str = ""
    heading: int | None = None
    answers: list[int] = field(default_factory=list)
    check: int | None = None
    points: float = 1.0

    def grade_ids(self) -> dict[int, str]:
        """Stable nbgrader ids, from the exercise number: `ex3_answer`, `ex3_check`."""
        ids = {}
        for k, index in enumerate(self.answers, start=1):
            ids[index] = f"ex{self.number}_answer" + ("" if k == 1 else f"_{k}")
        if self.check is not None:
            ids[self.check] = f"ex{self.number}_check"
        return ids


@dataclass
class Report:
    """What `parse_exercises` found: the exercises, errors and warnings (human sentences)."""

    exercises: list[Exercise]
    errors: list[str]
    warnings: list[str]

    @property
    def points(self) -> float:
        return sum(e.points for e in self.exercises)


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _first_line(text: str) -> str:
    return text.split("\n", 1)[0].rstrip()


def _marker_lines(text: str, begin: str, end: str) -> tuple[list[tuple[int, int, str]], str]:
    """The (begin line, end line, indent) of each region in `text`, or an error sentence."""
    regions, start, indent = [], None, ""
    for number, line in enumerate(text.split("\n")):
        stripped = line.strip()
        if begin.split(" ", 1)[1] in line:  # nbgrader's own test: the words anywhere
            if stripped != begin:
                return regions, f"write the marker line exactly as `{begin}` (found {stripped!r})"
            if start is not None:
                return regions, f"`{begin}` inside another region (nested regions)"
            start, indent = number, line[: len(line) - len(line.lstrip())]
        elif end.split(" ", 1)[1] in line:
            if stripped != end:
                return regions, f"write the marker line exactly as `{end}` (found {stripped!r})"
            if start is None:
                return regions, f"`{end}` without a `{begin}` before it"
            regions.append((start, number, indent))
            start = None
    if start is not None:
        return regions, f"`{begin}` without a matching `{end}`"
    return regions, ""


def student_source(text: str) -> str:
    """The student version of a cell: solution regions become the stub, hidden tests go.

    Mirrors what nbgrader's ClearSolutions and ClearHiddenTests do with this
    script's configuration, so `check` can prove the stub is valid Python.
    """
    out, in_solution, in_hidden = [], False, False
    for line in text.split("\n"):
        if "BEGIN SOLUTION" in line:
            in_solution = True
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(indent + stub for stub in CODE_STUB.split("\n"))
        elif "END SOLUTION" in line:
            in_solution = False
        elif "BEGIN HIDDEN TESTS" in line:
            in_hidden = True
        elif "END HIDDEN TESTS" in line:
            in_hidden = False
        elif not (in_solution or in_hidden):
            out.append(line)
    return "\n".join(out)


def _python(text: str) -> str:
    """Cell text as plain Python: IPython magics and shell lines become `pass`."""
    lines = []
    for line in text.split("\n"):
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            line = line[: len(line) - len(stripped)] + "pass"
        lines.append(line)
    return "\n".join(lines)


def _bound_names(statements: list[ast.stmt]) -> set[str]:
    """Names that top-level `statements` bind (assignments, defs, imports, loops)."""
    names: set[str] = set()

    def targets(node):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, (ast.Tuple, ast.List)):
            for element in node.elts:
                targets(element)
        elif isinstance(node, ast.Starred):
            targets(node.value)

    for statement in statements:
        if isinstance(statement, ast.Assign):
            for target in statement.targets:
                targets(target)
        elif isinstance(statement, (ast.AnnAssign, ast.AugAssign)):
            targets(statement.target)
        elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(statement.name)
        elif isinstance(statement, (ast.Import, ast.ImportFrom)):
            for alias in statement.names:
                names.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(statement, (ast.For, ast.AsyncFor)):
            targets(statement.target)
            names |= _bound_names(statement.body + statement.orelse)
        elif isinstance(statement, (ast.With, ast.AsyncWith)):
            for item in statement.items:
                if item.optional_vars is not None:
                    targets(item.optional_vars)
            names |= _bound_names(statement.body)
        elif isinstance(statement, ast.If):
            names |= _bound_names(statement.body + statement.orelse)
        elif isinstance(statement, ast.Try):
            names |= _bound_names(statement.body + statement.orelse + statement.finalbody)
    return names


def _free_names(text: str) -> set[str]:
    """Names a piece of code reads but never binds itself (what it needs from earlier cells)."""
    try:
        tree = ast.parse(_python(text))
    except SyntaxError:
        return set()
    loaded, bound = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return loaded - bound


def _answer_problems(text: str, check_text: str = "") -> list[str]:
    """Problems of one answer cell: markers, stub validity, placeholders before the region.

    A name the solution region binds at top level needs a placeholder before
    the region when the check cell (or the rest of the answer cell) reads it:
    otherwise the student version stops with a NameError instead of a hint.
    """
    regions, error = _marker_lines(text, BEGIN_SOLUTION, END_SOLUTION)
    if error:
        return [error]
    if not regions:
        return [f"no `{BEGIN_SOLUTION}` / `{END_SOLUTION}` region"]
    problems = []
    if any(word in text for word in ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS")):
        problems.append("hidden tests belong in the check cell, not in the answer cell")
    try:
        ast.parse(_python(text))
    except SyntaxError as error:
        return [f"the solution is not valid Python (line {error.lineno}: {error.msg})"]
    try:
        ast.parse(_python(student_source(text)))
    except SyntaxError as error:
        return [
            f"the student version (region replaced by the stub) is not valid Python "
            f"(line {error.lineno}: {error.msg}); put whole statements in the region"
        ]
    lines = text.split("\n")
    for begin, end, indent in regions:
        if indent:
            continue  # inside a function body: the stub's `pass` keeps it valid, returning None
        try:
            inside = _bound_names(ast.parse(_python("\n".join(lines[begin + 1 : end]))).body)
            before = _bound_names(ast.parse(_python("\n".join(lines[:begin]))).body)
        except SyntaxError:
            problems.append("a top-level solution region must hold whole statements")
            continue
        needed = _free_names(check_text) | _free_names(student_source("\n".join(lines[end + 1 :])))
        missing = sorted((inside - before) & needed)
        if missing:
            names = ", ".join(f"`{n}`" for n in missing)
            problems.append(
                f"the check reads {names}, which only the solution region defines: add a "
                f"placeholder such as `{missing[0]} = None` above `{BEGIN_SOLUTION}`, so the "
                "student version fails with a hint, not a NameError"
            )
    return problems


def _check_problems(text: str) -> tuple[list[str], list[str]]:
    """Errors and warnings of one check cell: hidden-test markers, asserts, feedback."""
    errors, warnings = [], []
    regions, error = _marker_lines(text, BEGIN_HIDDEN, END_HIDDEN)
    if error:
        errors.append(error)
    if "BEGIN SOLUTION" in text or "END SOLUTION" in text:
        errors.append("solution markers belong in the answer cell, not in the check cell")
    try:
        tree = ast.parse(_python(text))
    except SyntaxError as syntax:
        return errors + [f"not valid Python (line {syntax.lineno}: {syntax.msg})"], warnings
    asserts = [n for n in ast.walk(tree) if isinstance(n, ast.Assert)]
    calls = [
        n.func.attr if isinstance(n.func, ast.Attribute) else getattr(n.func, "id", "")
        for n in ast.walk(tree)
        if isinstance(n, ast.Call)
    ]
    checks = [name for name in calls if name.startswith("check_")]
    if not asserts and not checks:
        errors.append("no `assert` and no `check_*` call: nothing would be graded")
    hidden = {line + 1 for begin, end, _ in regions for line in range(begin + 1, end)}
    silent = [n.lineno for n in asserts if n.msg is None and n.lineno not in hidden]
    if silent:
        errors.append(
            f"`assert` without a message on line(s) {', '.join(map(str, silent))}: add one that "
            "says what to look at (without giving the answer away)"
        )
    silent_hidden = [n.lineno for n in asserts if n.msg is None and n.lineno in hidden]
    if silent_hidden:
        warnings.append(
            f"hidden `assert` without a message on line(s) {', '.join(map(str, silent_hidden))}: "
            "the feedback will say only 'AssertionError'"
        )
    if not checks and "print" not in calls:
        warnings.append(
            "says nothing when the answer is right: end with a `check_*` call or a "
            "`print('Correct: ...')`"
        )
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        value = tree.body[-1].value
        called = value.func if isinstance(value, ast.Call) else None
        name = getattr(called, "attr", None) or getattr(called, "id", None)
        if not (name and (name.startswith("check_") or name in ("print", "display"))):
            warnings.append(
                "ends with an expression: nbgrader reads a number there as a partial score "
                "(anything else scores full marks); wrap a figure in `display(...)`"
            )
    return errors, warnings


def parse_exercises(nb) -> Report:
    """Find the exercises of a notebook and everything wrong with their format.

    An exercise is a markdown heading `### Exercise N: title`, one or more answer
    cells holding a `### BEGIN SOLUTION` / `### END SOLUTION` region, and a check
    cell whose first line is `# Check: exercise N` (optionally `(P points)`).
    """
    exercises: dict[int, Exercise] = {}
    errors: list[str] = []
    warnings: list[str] = []
    current: Exercise | None = None

    def exercise(number: int) -> Exercise:
        return exercises.setdefault(number, Exercise(number))

    for index, cell in enumerate(nb.cells):
        text = _source(cell)
        where = f"cell {index}"
        if cell.cell_type == "markdown":
            for line in text.split("\n"):
                match = HEADING_RE.match(line)
                if match:
                    number = int(match.group(1))
                    if number in exercises and exercises[number].heading is not None:
                        errors.append(f"{where}: a second heading for exercise {number}")
                    current = exercise(number)
                    current.heading, current.title = index, match.group(2)
            found = [word for word in NBGRADER_WORDS if word in text]
            if found:
                errors.append(
                    f"{where} (markdown) contains {found[0]!r}: nbgrader treats those words as "
                    "markers in every cell; reword it (e.g. 'BEGIN-SOLUTION')"
                )
            continue
        if cell.cell_type != "code":
            continue
        first = _first_line(text)
        match = CHECK_RE.match(first)
        if match:
            number = int(match.group(1))
            target = exercise(number)
            if target.check is not None:
                errors.append(f"{where}: a second check cell for exercise {number}")
            target.check = index
            target.points = float(match.group(2)) if match.group(2) else 1.0
            if target.points <= 0:
                errors.append(f"{where}: points must be positive")
            cell_errors, cell_warnings = _check_problems(text)
            errors += [f"{where} (check of exercise {number}): {e}" for e in cell_errors]
            warnings += [f"{where} (check of exercise {number}): {w}" for w in cell_warnings]
            continue
        if CHECK_LOOSE_RE.match(first):
            errors.append(
                f"{where}: first line {first!r} looks like a check but is not exactly "
                "`# Check: exercise N`"
            )
            continue
        if "BEGIN SOLUTION" in text or "END SOLUTION" in text:
            numbered = ANSWER_FIRST_LINE_RE.match(first)
            if numbered:
                number = int(numbered.group(1))
                if current is not None and current.number != number:
                    errors.append(
                        f"{where}: answer cell says exercise {number} under the heading of "
                        f"exercise {current.number}"
                    )
                target = exercise(number)
            elif current is not None:
                target = current
            else:
                errors.append(f"{where}: a solution region before any `### Exercise N:` heading")
                continue
            if target.check is not None:
                errors.append(
                    f"{where}: answer cell of exercise {target.number} after its check cell"
                )
            target.answers.append(index)
            continue
        found = [word for word in NBGRADER_WORDS if word in text]
        if found:
            errors.append(
                f"{where} contains {found[0]!r} outside an answer or check cell "
                "(nbgrader would reject or mangle it)"
            )

    ordered = [exercises[n] for n in sorted(exercises)]
    for ex in ordered:
        label = f"exercise {ex.number}"
        check_text = _source(nb.cells[ex.check]) if ex.check is not None else ""
        for index in ex.answers:
            errors += [
                f"cell {index} (answer of {label}): {problem}"
                for problem in _answer_problems(_source(nb.cells[index]), check_text)
            ]
        if ex.heading is None:
            errors.append(f"{label}: no markdown heading `### Exercise {ex.number}: title`")
        if not ex.answers:
            errors.append(f"{label}: no answer cell with a `{BEGIN_SOLUTION}` region")
        if ex.check is None:
            errors.append(f"{label}: no check cell starting with `# Check: exercise {ex.number}`")
        if ex.heading is not None and ex.answers and ex.answers[0] < ex.heading:
            errors.append(f"{label}: answer cell before its heading")
    numbers = [ex.number for ex in ordered]
    if numbers and numbers != list(range(1, len(numbers) + 1)):
        errors.append(f"exercises are numbered {numbers}; number them 1, 2, 3, ... in order")
    if len(ordered) < MIN_EXERCISES:
        errors.append(f"{len(ordered)} exercise(s); every notebook needs at least {MIN_EXERCISES}")
    return Report(ordered, errors, warnings)


def score_executed(nb) -> tuple[float, float]:
    """(score, maximum) of an executed notebook, scored as nbgrader scores its check cells.

    A check cell earns its points when it ran and raised nothing, and none
    otherwise: nbgrader's rule for "autograder tests" cells. Check cells are found
    by their first line, so this reads the instructor's notebook and the student's alike.
    """
    score = total = 0.0
    for cell in nb.cells:
        match = CHECK_RE.match(_first_line(_source(cell))) if cell.cell_type == "code" else None
        if not match:
            continue
        points = float(match.group(2)) if match.group(2) else 1.0
        total += points
        failed = any(o.get("output_type") == "error" for o in cell.get("outputs", []))
        if cell.get("execution_count") is not None and not failed:
            score += points
    return score, total


# --------------------------------------------------------------------------- nbgrader metadata


def mark_notebook(nb):
    """Write nbgrader cell metadata from the markers (in place) and return the notebook.

    Answer cells become "autograded answer" cells (solution), check cells
    "autograder tests" cells (grade, locked, with points); ids are stable
    (`ex3_answer`, `ex3_check`), so regenerating an assignment keeps its grades.

    Raises:
        ValueError: the notebook's exercises are not in the format `check` enforces.
    """
    report = parse_exercises(nb)
    if report.errors:
        raise ValueError(
            "the exercises are not in the classroom format:\n  " + "\n  ".join(report.errors)
        )
    ids: dict[int, str] = {}
    for ex in report.exercises:
        ids.update(ex.grade_ids())
    points = {ex.check: ex.points for ex in report.exercises}
    for index, cell in enumerate(nb.cells):
        cell.metadata.pop("nbgrader", None)
        if index not in ids:
            continue
        meta = {"grade_id": ids[index], "schema_version": 3}
        if index in points:
            value = points[index]
            meta.update(
                grade=True,
                solution=False,
                locked=True,
                points=int(value) if value.is_integer() else value,
            )
        else:
            meta.update(grade=False, solution=True, locked=False)
        cell.metadata["nbgrader"] = meta
    nb.metadata.setdefault(
        "kernelspec",
        {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
    )
    return nb


def check_repo_and_ref(repo: str, ref: str) -> None:
    """Raise ValueError unless `repo` is a GitHub OWNER/NAME and `ref` a branch, tag or commit."""
    if not REPO_RE.fullmatch(repo) or repo.split("/")[1] in (".", ".."):
        raise ValueError(
            "Expected --repo as OWNER/NAME of a public GitHub repository, e.g. "
            f"someone/image-synthesis. Received: {repo!r}"
        )
    if not REF_RE.fullmatch(ref) or ".." in ref or ref.endswith((".", ".lock")):
        raise ValueError(
            "Expected --ref as a branch, tag or commit of the repository, e.g. fall-2027 "
            f"(letters, digits and . _ - /). Received: {ref!r}"
        )


def point_at(text: str, repo: str, ref: str) -> str:
    """`text` with the course's install URL, Colab badges and GitHub links at `repo` and `ref`.

    >>> point_at("git+https://github.com/image-synthesis-course/image-synthesis@main", "me/x", "v1")
    'git+https://github.com/me/x@v1'
    """
    text = INSTALL_URL_RE.sub(lambda m: f"git+https://github.com/{repo}@{ref}", text)
    text = BADGE_URL_RE.sub(
        lambda m: f"https://colab.research.google.com/github/{repo}/blob/{ref}/{m.group(2)}", text
    )
    return GITHUB_URL_RE.sub(lambda m: f"https://github.com/{repo}/{m.group(1)}/{ref}/", text)


def retarget_notebook(
    nb, *, repo: str = UPSTREAM_REPO, ref: str = UPSTREAM_REF, colab_dir: str = "assignments"
):
    """Point the install cell and links at `repo` at `ref`, the Colab badge at the handout.

    The badge opens `<colab_dir>/<notebook>` in `repo` at `ref`, where you publish
    the student notebooks. With the upstream repository the badge goes: the
    upstream holds no handouts, and the notebook the badge opens has the solutions.
    """
    stem = nb.metadata.get("classroom", {}).get("stem", "")
    path = "/".join(p for p in (colab_dir.strip("/"), f"{stem}.ipynb") if p)
    for cell in nb.cells:
        text = point_at(_source(cell), repo, ref)
        if cell.cell_type == "markdown" and BADGE_RE.search(text):
            if repo == UPSTREAM_REPO:
                text = BADGE_RE.sub("", text).rstrip()
            else:
                text = BADGE_URL_RE.sub(lambda m: m.group(1) + path, text)
        cell.source = text
    return nb


# --------------------------------------------------------------------------- self-study copies

STUDENT_NOTE = (
    "> **Student version.** Write your answers where a cell says `# YOUR CODE HERE`, run "
    "it, then run the check cell below it: it says whether your answer is right and, if "
    "not, what to look at. Stuck? The [notebook with solutions](../{name})."
)


def _relative(path: Path, root: Path = REPO) -> str:
    """`path` relative to the repository (or to `root`, for a checkout elsewhere)."""
    path = Path(path).resolve()
    for base in (REPO, Path(root).resolve()):
        if path.is_relative_to(base):
            return path.relative_to(base).as_posix()
    return path.as_posix()


def self_study_notebook(
    nb,
    path: Path,
    folder: Path | None = None,
    *,
    repo: str = UPSTREAM_REPO,
    ref: str = UPSTREAM_REF,
):
    """The student version of a course notebook for self-study, made without nbgrader.

    Solution regions become the same stub nbgrader writes, hidden tests go, the
    Colab badge points at the copy's own path in `folder` (default
    `notebooks/student/`) in `repo` at `ref`, the install cell installs from
    there too, links that leave `notebooks/` get one more `../`, and the title
    cell says where the solutions are. Cell ids are kept, so a self-study copy
    can still be autograded (`autograde` repairs its metadata).
    """
    import nbformat

    folder = Path(folder) if folder is not None else NOTEBOOKS / "student"
    own_path = _relative(folder / path.name, Path(path).resolve().parents[1])
    out = nbformat.from_dict(json.loads(json.dumps(nb)))
    noted = False
    for cell in out.cells:
        text = point_at(_source(cell), repo, ref)
        if cell.cell_type == "code":
            if any(word in text for word in NBGRADER_WORDS):
                text = student_source(text)
            cell.outputs, cell.execution_count = [], None
        elif cell.cell_type == "markdown":
            text = BADGE_URL_RE.sub(lambda m: m.group(1) + own_path, text)
            text = text.replace("](../", "](../../")
            if not noted:
                text = text.rstrip() + "\n\n" + STUDENT_NOTE.format(name=path.name)
                noted = True
        cell.source = text
        cell.metadata = {"tags": cell.metadata["tags"]} if cell.metadata.get("tags") else {}
    return out


def write_self_study(
    paths: list[Path],
    folder: Path | None = None,
    *,
    check: bool = False,
    repo: str = UPSTREAM_REPO,
    ref: str = UPSTREAM_REF,
):
    """Write (or, with `check`, compare) the self-study copy of each notebook.

    Returns:
        the problems found in `check` mode (stale, missing or orphaned copies), else [].
    """
    import nbformat

    check_repo_and_ref(repo, ref)
    folder = Path(folder) if folder is not None else NOTEBOOKS / "student"
    problems = []
    for path in paths:
        copy = self_study_notebook(_read(path), path, folder, repo=repo, ref=ref)
        text = nbformat.writes(copy) + "\n"
        target = folder / path.name
        if not check:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        elif not target.exists():
            problems.append(f"{_relative(target)} is missing")
        elif target.read_text() != text:
            problems.append(f"{_relative(target)} is stale")
    if check and folder.exists():
        names = {p.name for p in paths}
        problems += [
            f"{_relative(p)} has no source notebook"
            for p in sorted(folder.glob("*.ipynb"))
            if p.name not in names
        ]
    return problems


# --------------------------------------------------------------------------- the course folder


def notebook_paths(only: list[str] | None = None, folder: Path = NOTEBOOKS) -> list[Path]:
    """The course's notebooks in order, optionally those whose names start with `only`."""
    paths = sorted(Path(folder).glob("[0-9][0-9]_*.ipynb"))
    if only:
        paths = [p for p in paths if any(p.stem.startswith(prefix) for prefix in only)]
    return paths


COURSE_CONFIG = "nbgrader_config_course.py"
# What `prepare` appends, once, to a course folder's own `nbgrader_config.py`.
LOAD_COURSE_CONFIG = f"""\
# --- added by tools/classroom.py: the course's settings (stub, timeouts, feedback) ---
load_subconfig("{COURSE_CONFIG}")  # noqa: F821
# --- end of tools/classroom.py's block; your settings after it override the course's ---
"""
NEW_CONFIG = f'''"""Your nbgrader settings: tools/classroom.py never rewrites this file."""

c = get_config()  # noqa: F821

# For nbgrader's exchange (JupyterHub: release_assignment, collect), uncomment and edit:
# c.CourseDirectory.course_id = "image-synthesis"
# c.Exchange.root = "/srv/nbgrader/exchange"

{LOAD_COURSE_CONFIG}'''


def course_settings(*, timeout: int) -> str:
    """The text of the course folder's `nbgrader_config_course.py`: the course's settings."""
    return f'''"""The course's nbgrader settings, rewritten by `tools/classroom.py prepare`.

Your own settings (course_id, the exchange) belong in nbgrader_config.py, which loads this file.
"""

import sys

sys.path.insert(0, {str(REPO)!r})
from tools.nbgrader_config import configure  # noqa: E402

c = get_config()  # noqa: F821
configure(c, timeout={int(timeout)})
'''


def write_nbgrader_config(course: Path, *, timeout: int) -> None:
    """Write the course's settings to `nbgrader_config_course.py`; `nbgrader_config.py` loads it.

    An existing `nbgrader_config.py` (your `course_id`, your exchange) is never
    rewritten: the block that loads the course's settings is appended to it once.
    """
    (course / COURSE_CONFIG).write_text(course_settings(timeout=timeout))
    config = course / "nbgrader_config.py"
    if not config.exists():
        config.write_text(NEW_CONFIG)
    elif COURSE_CONFIG not in config.read_text():
        with config.open("a") as handle:
            handle.write("\n" + LOAD_COURSE_CONFIG)


def _nbgrader_env(course: Path, output_dir: Path | None = None) -> dict:
    """The environment for nbgrader: the venv's bin on PATH (it runs `alembic`), quiet TF."""
    env = dict(os.environ)
    bin_dir = str(Path(sys.executable).parent)  # not resolved: the venv's bin, not the base's
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # A grading run must not overwrite the instructor's own outputs/.
    env["COURSE_OUTPUT_DIR"] = str(output_dir or (course / "run_outputs"))
    return env


def _nbgrader_command() -> list[str]:
    executable = Path(sys.executable).parent / "nbgrader"
    return [str(executable)] if executable.exists() else [sys.executable, "-m", "nbgrader"]


def run_nbgrader(course: Path, *args: str) -> float:
    """Run `nbgrader ARGS` in the course folder; return its wall time in seconds.

    Raises:
        RuntimeError: nbgrader is not installed or failed (its log is in the message).
    """
    started = time.perf_counter()
    done = subprocess.run(
        [*_nbgrader_command(), *args, f"--CourseDirectory.root={course}"],
        cwd=course,
        env=_nbgrader_env(course),
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        log = (done.stdout + done.stderr).strip()
        hint = ""
        if "No module named nbgrader" in log:
            hint = "\nInstall the dev tools: pip install -e '.[dev]'"
        raise RuntimeError(f"`nbgrader {' '.join(args)}` failed:\n{log[-4000:]}{hint}")
    return seconds


def _read(path: Path):
    import nbformat

    return nbformat.read(path, as_version=4)


def _write(nb, path: Path) -> None:
    import nbformat

    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


GRADING_NOTE = """\
**How this assignment is graded.** Your notebook is run again from the top, with
smaller settings (fewer digits, fewer epochs: the smoke profile of `tools/profiles.py`),
and each `# Check` cell earns its points if it runs without an error. Write every
answer as code that computes it from the notebook's objects and parameters: a number
typed in from your own run will not match a run on other data. The check cells you
see are restored before grading, so editing them changes nothing."""


def _grading_note():
    import nbformat

    return nbformat.v4.new_markdown_cell(GRADING_NOTE)


def prepare(
    paths: list[Path],
    course: Path = DEFAULT_COURSE,
    *,
    timeout: int = 900,
    repo: str = UPSTREAM_REPO,
    ref: str = UPSTREAM_REF,
    colab_dir: str = "assignments",
    skipped: dict[str, str] | None = None,
) -> list[str]:
    """Set up the course folder and put a marked copy of each notebook in `source/`.

    Each notebook becomes an assignment named after its stem, holding that one
    notebook, whose install cell and links point at `repo` at `ref` (see
    `retarget_notebook`). A notebook whose exercises are not in the format is
    skipped and its problems reported in `skipped`.

    Returns:
        the assignment names prepared.
    """
    check_repo_and_ref(repo, ref)
    course = Path(course).resolve()
    for folder in ("source", "release", "submitted", "autograded", "feedback"):
        (course / folder).mkdir(parents=True, exist_ok=True)
    write_nbgrader_config(course, timeout=timeout)
    names = []
    for path in paths:
        try:
            nb = mark_notebook(_read(path))
        except ValueError as error:
            if skipped is None:
                raise
            skipped[path.stem] = str(error)
            continue
        nb.metadata["classroom"] = {"stem": path.stem}
        retarget_notebook(nb, repo=repo, ref=ref, colab_dir=colab_dir)
        nb.metadata.pop("classroom")
        nb.cells.insert(1, _grading_note())
        target = course / "source" / path.stem / path.name
        _write(nb, target)
        names.append(path.stem)
    return names


def generate(course: Path, names: list[str]) -> dict[str, float]:
    """`nbgrader generate_assignment` for each name; copy the student notebooks to `student/`.

    Returns the seconds nbgrader took per assignment.
    """
    course = Path(course).resolve()
    seconds = {}
    for name in names:
        seconds[name] = run_nbgrader(course, "generate_assignment", name, "--create", "--force")
        for notebook in sorted((course / "release" / name).glob("*.ipynb")):
            target = course / "student" / notebook.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(notebook, target)
    return seconds


# --------------------------------------------------------------------------- submissions


def _renamed(stem: str) -> str:
    """A regular expression for a notebook's name as downloads rename it: `Copy of X`, `X (1)`."""
    return rf"(?:copy of )*{re.escape(stem)}(?: ?\(\d+\)| - copy)*"


def find_submissions(
    folder: Path, assignment: str, notebook: str | None = None
) -> tuple[dict[str, Path], list[str]]:
    """Find each student's notebook of `assignment` in `folder`, and what else is there.

    The notebook must be named after the assignment (`notebook`, by default
    `<assignment>.ipynb`), or renamed as downloads are (`Copy of 03_x.ipynb`,
    `03_x (1).ipynb`), in one of three layouts:

    - `FOLDER/<student>/<assignment>/<notebook>`: nbgrader's own (`submitted/`);
    - `FOLDER/<student>/<notebook>`: one folder per student;
    - `FOLDER/<student>_<anything>_<notebook>`: a learning platform's bulk
      download, as nbgrader's `zip_collect` reads it (the id ends at the first `_`).

    Student ids are kept as they are (`jane@uni.edu` stays `jane@uni.edu`):
    nbgrader names its folders after them, and `release_feedback` finds a
    student's submission under the same id.

    Returns:
        the notebook of each student, and one sentence per notebook not taken
        (another assignment's, no student id, two for one student). A notebook
        in another assignment's folder of nbgrader's layout is not mentioned.
    """
    folder = Path(folder)
    stem = Path(notebook or f"{assignment}.ipynb").stem
    named = re.compile(_renamed(stem), re.I)
    flat = re.compile(rf"(?P<student>[^_]+)_(?:.*_)?{_renamed(stem)}", re.I)
    candidates: dict[str, list[Path]] = {}
    skipped = []
    for path in sorted(folder.rglob("*.ipynb")):
        where = path.relative_to(folder)
        parts = where.parts
        if any(part.startswith(".") or part == "__MACOSX" for part in parts):
            continue  # checkpoints, hidden files, what a Mac adds to a zip
        student = None
        if len(parts) == 1 and (match := flat.fullmatch(path.stem)):
            student = match["student"]
        elif len(parts) == 2 and named.fullmatch(path.stem):
            student = parts[0]
        elif len(parts) == 3 and parts[1] == assignment and named.fullmatch(path.stem):
            student = parts[0]
        elif len(parts) == 3 and parts[1] == path.stem:
            continue  # another assignment's submission, in nbgrader's layout
        if student is None:
            skipped.append(f"{where}: not a notebook of {assignment} (expected {stem}.ipynb)")
        elif re.search(r"[*?\[\]]", student) or student != student.strip():
            skipped.append(
                f"{where}: nbgrader cannot take the student id {student!r} "
                "(no * ? [ ] in it, no space at either end): rename it"
            )
        else:
            candidates.setdefault(student, []).append(path)
    found = {}
    for student, paths in candidates.items():
        if len(paths) == 1:
            found[student] = paths[0]
        else:
            skipped += [
                f"{p.relative_to(folder)}: one of {len(paths)} notebooks of {assignment} for "
                f"{student}; keep one and grade again"
                for p in paths
            ]
    return found, skipped


def repair_submission(nb, release):
    """Give back nbgrader metadata a submission lost (an editor that drops cell metadata).

    Check cells are found by their first line, answer cells by their cell id or
    first line; cells that kept their metadata are left alone.
    """
    by_id, by_first = {}, {}
    for cell in release.cells:
        meta = cell.metadata.get("nbgrader")
        if not meta:
            continue
        if cell.get("id"):
            by_id[cell["id"]] = meta
        by_first.setdefault(_first_line(_source(cell)), meta)
    present = {c.metadata["nbgrader"]["grade_id"] for c in nb.cells if c.metadata.get("nbgrader")}
    for cell in nb.cells:
        if cell.cell_type != "code" or cell.metadata.get("nbgrader"):
            continue
        meta = by_id.get(cell.get("id")) or by_first.get(_first_line(_source(cell)))
        if meta and meta["grade_id"] not in present:
            cell.metadata["nbgrader"] = dict(meta)
            present.add(meta["grade_id"])
    return nb


def inject_parameters(nb, parameters: dict):
    """Add a cell after the `parameters` cell that sets `parameters` (papermill's way).

    Returns False if the notebook has no `parameters` cell.
    """
    import nbformat

    for index, cell in enumerate(nb.cells):
        if "parameters" in cell.metadata.get("tags", []):
            lines = ["# Parameters injected for grading by tools/classroom.py"]
            lines += [f"{key} = {value!r}" for key, value in parameters.items()]
            injected = nbformat.v4.new_code_cell("\n".join(lines))
            injected.metadata["tags"] = ["injected-parameters"]
            nb.cells.insert(index + 1, injected)
            return True
    return False


def collect(
    course: Path,
    name: str,
    folder: Path,
    *,
    profile: str | None = "smoke",
    skipped: list[str] | None = None,
) -> list[str]:
    """Copy submissions into `submitted/<student>/<name>/`, repaired and (optionally) in `profile`.

    `profile=None` grades the notebooks as submitted; "smoke" (the default)
    injects the smoke overrides of `tools/profiles.py`, so grading a class costs
    minutes, not one full training run per student. The notebooks not taken
    (see `find_submissions`) are reported in `skipped`. Returns the student ids.
    """
    course = Path(course).resolve()
    release = sorted((course / "release" / name).glob("*.ipynb"))
    if len(release) != 1:
        raise RuntimeError(f"Expected one released notebook for {name!r}: run `generate` first.")
    release_nb = _read(release[0])
    parameters = None
    if profile is not None:
        sys.path.insert(0, str(REPO))
        from tools.profiles import parameters_for

        try:
            parameters = parameters_for(name, profile)
        except KeyError:
            parameters = None  # an assignment that is not a course notebook has no profile
    found, not_taken = find_submissions(folder, name, release[0].name)
    if skipped is not None:
        skipped += not_taken
    if not found:
        raise RuntimeError(
            f"Expected notebooks of {name} in {folder} (STUDENT/{name}/{release[0].name}, "
            f"STUDENT/{release[0].name} or STUDENT_anything_{release[0].name}). Received: none"
            + "".join(f"\n  {line}" for line in not_taken)
        )
    for student, path in found.items():
        nb = repair_submission(_read(path), release_nb)
        nb.cells = [c for c in nb.cells if "injected-parameters" not in c.metadata.get("tags", [])]
        if parameters:
            inject_parameters(nb, parameters)
        target = course / "submitted" / student / name / release[0].name
        # In place when FOLDER is the course's own submitted/ (after `nbgrader collect`).
        # A later batch replaces the student's notebooks but keeps nbgrader's other
        # files there (timestamp.txt, submission_secret.txt): late penalties need them.
        if target.parent.exists() and not path.resolve().is_relative_to(target.parent):
            for stale in target.parent.glob("*.ipynb"):
                stale.unlink()
        _write(nb, target)
    return list(found)


@dataclass
class GradingRun:
    """What `autograde` did: each submission's outcome and the wall time of each step."""

    outcomes: list = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def not_graded(self) -> list:
        return [o for o in self.outcomes if o.status != "graded"]


def autograde(
    course: Path,
    name: str,
    *,
    feedback: bool = True,
    workers: int | None = None,
    limits=None,
    sandbox: bool = False,
    students: list[str] | None = None,
) -> GradingRun:
    """Autograde every collected submission of `name`, each in its own limited process.

    `workers` submissions run at once (default: one per core, at most 8), each under
    `limits` (a `tools.autograde.Limits`; default: 30 minutes, 8 GB), in a
    read-only sandbox with `sandbox=True` (Linux; see tools/sandbox_kernel.py).
    Then `nbgrader generate_feedback` writes the feedback of those graded.
    `students` grades only those (e.g. one late or regraded submission).
    """
    from tools.autograde import Limits, default_workers, grade_all

    course = Path(course).resolve()
    collected = sorted(p.name for p in (course / "submitted").iterdir() if (p / name).is_dir())
    missing = sorted(set(students or ()) - set(collected))
    if missing:
        raise RuntimeError(
            f"Expected collected submissions of {name} for {missing}. "
            f"Received: submissions of {collected}"
        )
    students = collected if students is None else list(students)
    if not students:
        raise RuntimeError(f"No submissions of {name} in {course / 'submitted'}: collect first.")
    options, sandbox_env = [], {}
    if sandbox:
        from tools.sandbox_kernel import kernel_options

        options, sandbox_env = kernel_options(course)
    jobs = {}
    for student in students:
        command = [*_nbgrader_command(), "autograde", name, "--create", "--force"]
        command += [f"--student={student}", f"--CourseDirectory.root={course}", *options]
        # Each submission writes its outputs to its own folder: runs in parallel don't mix.
        outputs = course / "run_outputs" / student
        jobs[student] = (command, {**_nbgrader_env(course, outputs), **sandbox_env})
    run = GradingRun()
    started = time.perf_counter()
    run.outcomes = grade_all(
        jobs, cwd=course, limits=limits or Limits(), workers=workers or default_workers()
    )
    run.seconds["autograde"] = time.perf_counter() - started
    graded = [o.student for o in run.outcomes if o.status == "graded"]
    if feedback and graded:
        run.seconds["generate_feedback"] = run_nbgrader(
            course, "generate_feedback", name, "--force"
        )
    return run


def export_grades(
    course: Path, csv_path: Path | None = None, only: list[str] | None = None
) -> tuple[Path, Path, float]:
    """Write `grades.csv` (nbgrader's export) and `grades_by_exercise.csv` (one row per cell).

    Only assignments with at least one graded submission (and, with `only`,
    whose names start with one of those prefixes) are exported: nbgrader would
    otherwise list a 0 for every student on every assignment not handed out yet.

    Returns:
        both paths and the seconds nbgrader's export took.
    """
    from nbgrader.api import Gradebook

    course = Path(course).resolve()
    csv_path = Path(csv_path).resolve() if csv_path else course / "grades.csv"
    detail = csv_path.with_name(csv_path.stem + "_by_exercise.csv")
    rows = []
    with Gradebook("sqlite:///" + str(course / "gradebook.db")) as gradebook:
        names = [
            a.name
            for a in gradebook.assignments
            if a.submissions and (not only or any(a.name.startswith(p) for p in only))
        ]
        for name in names:
            for submission in gradebook.find_assignment(name).submissions:
                for notebook in submission.notebooks:
                    for grade in sorted(notebook.grades, key=lambda g: g.name):
                        rows.append(
                            [
                                name,
                                submission.student.id,
                                notebook.name,
                                grade.name,
                                grade.score,
                                grade.max_score,
                            ]
                        )
    if not names:
        raise RuntimeError(f"No graded submissions in {course}: run `autograde` first.")
    seconds = run_nbgrader(
        course, "export", "--to", str(csv_path), *(f"--ExportPlugin.assignment={n}" for n in names)
    )
    with detail.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["assignment", "student_id", "notebook", "grade_id", "score", "max_score"])
        writer.writerows(sorted(rows))
    return csv_path, detail, seconds


# --------------------------------------------------------------------------- command line


def _resolve_names(course: Path, only: list[str] | None) -> list[str]:
    if not (course / "source").is_dir():
        raise RuntimeError(f"No course folder at {course}: run `generate` first.")
    names = sorted(p.name for p in (course / "source").iterdir() if p.is_dir())
    if only:
        names = [n for n in names if any(n.startswith(prefix) for prefix in only)]
    return names


def cmd_check(args) -> int:
    paths = notebook_paths(args.only, args.notebooks)
    if not paths:
        print(f"No notebook matches {args.only or '*'} in {args.notebooks}", file=sys.stderr)
        return 1
    failed = 0
    for path in paths:
        report = parse_exercises(_read(path))
        problems = report.errors + (report.warnings if args.strict else [])
        status = "FAILED" if problems else "ok"
        print(f"{path.name}: {len(report.exercises)} exercises, {report.points:g} points: {status}")
        for line in report.errors:
            print(f"  error: {line}")
        for line in report.warnings:
            print(f"  warning: {line}")
        failed += bool(problems)
    print(f"\n{len(paths)} notebooks, {len(paths) - failed} ok")
    return 1 if failed else 0


def _no_old_options(args) -> None:
    """A clear error for the options that `--repo`/`--ref` replaced."""
    old = {"--pin": args.pin, "--colab-repo": args.colab_repo, "--colab-ref": args.colab_ref}
    used = [option for option, value in old.items() if value]
    if used:
        raise ValueError(
            f"Expected --repo OWNER/NAME --ref TAG (they set the install cell and the Colab "
            f"badge together). Received: {' '.join(used)}, which they replace"
        )


def _prepare_from_args(args) -> tuple[list[str], dict[str, str]]:
    paths = notebook_paths(args.only, args.notebooks)
    if not paths:
        raise SystemExit(f"No notebook matches {args.only or '*'} in {args.notebooks}")
    _no_old_options(args)
    skipped: dict[str, str] = {}
    names = prepare(
        paths,
        args.course,
        timeout=args.timeout,
        repo=args.repo,
        ref=args.ref,
        colab_dir=args.colab_dir,
        skipped=skipped,
    )
    print(
        f"Prepared {len(names)} assignment(s) in {Path(args.course).resolve()}: {', '.join(names)}"
    )
    for stem, error in skipped.items():
        print(f"Skipped {stem}: {error}", file=sys.stderr)
    return names, skipped


def cmd_student(args) -> int:
    paths = notebook_paths(args.only, args.notebooks)
    folder = args.notebooks / "student"
    problems = write_self_study(paths, folder, check=args.check, repo=args.repo, ref=args.ref)
    if args.check:
        for line in problems:
            print(f"  {line}")
        print(
            f"{len(paths)} self-study copies: "
            + ("stale; run `python tools/classroom.py student`" if problems else "up to date")
        )
        return 1 if problems else 0
    print(f"Wrote {len(paths)} self-study copies to {folder}")
    return 0


def cmd_prepare(args) -> int:
    _, skipped = _prepare_from_args(args)
    return 1 if skipped else 0


def cmd_generate(args) -> int:
    names, skipped = _prepare_from_args(args)
    for name, seconds in generate(args.course, names).items():
        print(f"generate_assignment {name}: {seconds:.1f} s")
    print(f"Student notebooks: {Path(args.course).resolve() / 'student'}")
    return 1 if skipped else 0


def cmd_autograde(args) -> int:
    course = Path(args.course).resolve()
    names = _resolve_names(course, [args.assignment])
    if len(names) != 1:
        print(f"Expected one assignment starting with {args.assignment!r}. Received: {names}")
        return 1
    name = names[0]
    profile = None if args.profile == "as-submitted" else args.profile
    skipped: list[str] = []
    students = collect(course, name, args.submissions, profile=profile, skipped=skipped)
    print(f"Collected {len(students)} submission(s) of {name}: {', '.join(students)}")
    if skipped:
        print(f"Not graded ({len(skipped)}):\n  " + "\n  ".join(skipped), file=sys.stderr)
    from tools.autograde import Limits

    limits = Limits(
        wall_seconds=args.time_limit, memory_gb=args.memory_limit, cpu_seconds=args.cpu_limit
    )
    run = autograde(
        course,
        name,
        feedback=not args.no_feedback,
        workers=args.workers,
        limits=limits,
        sandbox=args.sandbox,
    )
    for step, seconds in run.seconds.items():
        print(f"{step} {name}: {seconds:.1f} s")
    for outcome in run.not_graded:
        print(
            f"NOT GRADED {outcome.student} ({outcome.status}): {outcome.message}", file=sys.stderr
        )
    return 1 if run.not_graded else 0


def cmd_grades(args) -> int:
    path, detail, seconds = export_grades(args.course, args.csv, args.only)
    print(f"export: {seconds:.1f} s")
    with path.open() as handle:
        for row in csv.DictReader(handle):
            print(
                f"  {row['assignment']}  {row['student_id']}: {row['score']} / {row['max_score']}"
            )
    print(f"Grades: {path}\nPer exercise: {detail}")
    return 0


def _add_repo_and_ref(parser) -> None:
    parser.add_argument(
        "--repo",
        default=UPSTREAM_REPO,
        help=f"GitHub OWNER/NAME the install cell and Colab badges use (default {UPSTREAM_REPO})",
    )
    parser.add_argument(
        "--ref", default=UPSTREAM_REF, help="its tag, branch or commit (default main)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--course", type=Path, default=DEFAULT_COURSE, help="the course folder")
    parser.add_argument("--notebooks", type=Path, default=NOTEBOOKS, help="the source notebooks")
    commands = parser.add_subparsers(dest="command", required=True)

    check = commands.add_parser("check", help="every notebook has >= 3 well-formed exercises")
    check.add_argument("--only", nargs="*", help="notebook name prefixes, e.g. 00 03")
    check.add_argument("--strict", action="store_true", help="treat warnings as errors")
    check.set_defaults(run=cmd_check)

    student = commands.add_parser("student", help="write the self-study copies (no nbgrader)")
    student.add_argument("--only", nargs="*", help="notebook name prefixes, e.g. 00 03")
    student.add_argument("--check", action="store_true", help="fail if a copy is stale")
    _add_repo_and_ref(student)
    student.set_defaults(run=cmd_student)

    for command, run, text in (
        ("prepare", cmd_prepare, "set up the course folder with marked source notebooks"),
        ("generate", cmd_generate, "prepare, then generate the student notebooks"),
    ):
        sub = commands.add_parser(command, help=text)
        sub.add_argument("--only", nargs="*", help="notebook name prefixes, e.g. 00 03")
        sub.add_argument("--timeout", type=int, default=900, help="seconds per cell when grading")
        _add_repo_and_ref(sub)
        sub.add_argument(
            "--colab-dir", default="assignments", help="folder of the handouts in --repo"
        )
        for old in ("--pin", "--colab-repo", "--colab-ref"):  # replaced by --repo/--ref
            sub.add_argument(old, help=argparse.SUPPRESS)
        sub.set_defaults(run=run)

    grade = commands.add_parser("autograde", help="collect and autograde a folder of submissions")
    grade.add_argument("assignment", help="the assignment (a notebook name or its prefix, e.g. 03)")
    grade.add_argument(
        "submissions",
        type=Path,
        help="a folder: STUDENT/NOTEBOOK, STUDENT/ASSIGNMENT/NOTEBOOK or STUDENT_any_NOTEBOOK",
    )
    grade.add_argument(
        "--profile",
        choices=("smoke", "full", "as-submitted"),
        default="smoke",
        help="parameters to grade in (default: smoke)",
    )
    grade.add_argument("--no-feedback", action="store_true", help="skip the HTML feedback")
    grade.add_argument(
        "--workers", type=int, default=None, help="submissions at once (default: one per core)"
    )
    grade.add_argument(
        "--time-limit", type=float, default=1800, help="seconds per submission (default: 1800)"
    )
    grade.add_argument(
        "--memory-limit", type=float, default=8, help="GB of address space per process (8)"
    )
    grade.add_argument("--cpu-limit", type=int, default=None, help="CPU seconds per process")
    grade.add_argument(
        "--sandbox",
        action="store_true",
        help="Linux: run each kernel with the course folder read-only (tools/sandbox_kernel.py)",
    )
    grade.set_defaults(run=cmd_autograde)

    grades = commands.add_parser("grades", help="export the grades to CSV")
    grades.add_argument("--csv", type=Path, help="where to write (default: <course>/grades.csv)")
    grades.add_argument("--only", nargs="*", help="assignment name prefixes, e.g. 03")
    grades.set_defaults(run=cmd_grades)

    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (RuntimeError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
