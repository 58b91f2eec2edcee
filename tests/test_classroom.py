"""The classroom tooling: exercise format checks, student notebooks, autograding with nbgrader.

Fast tests run on a small synthetic assignment (NumPy only, no TensorFlow);
the `notebooks` group generates the student version of every notebook in
`notebooks/` and runs it in the smoke profile.
"""

from __future__ import annotations

import csv
import html
import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tools import classroom  # noqa: E402

# --------------------------------------------------------------------------- a synthetic assignment

SETUP = """\
# Imports for the exercises (and, on Colab only, the install cell of a course notebook).
import sys

import numpy as np

if "google.colab" in sys.modules:
    %pip install -q "course_lib @ git+https://github.com/image-synthesis-course/image-synthesis@main"

from course_lib.exercises import check_answered, check_array, check_function, check_true"""

PARAMETERS = """\
PROFILE = "full"  # which profile this run uses
SEED = 0  # random seed"""

ANSWERS = {
    1: """\
# Exercise 1: double every value.
def double(x):
    ### BEGIN SOLUTION
    return 2 * np.asarray(x)
    ### END SOLUTION""",
    2: """\
# Exercise 2: the compression ratio of a 784-pixel image coded in 32 numbers.
compression_ratio = None
### BEGIN SOLUTION
compression_ratio = 784 / 32
### END SOLUTION""",
    3: """\
# Exercise 3: the mean of each row.
row_means = None
### BEGIN SOLUTION
row_means = np.arange(12.0).reshape(3, 4).mean(axis=1)
### END SOLUTION""",
    4: """\
# Exercise 4: clip values to [0, 1].
def clip01(x):
    ### BEGIN SOLUTION
    return np.clip(np.asarray(x, dtype=float), 0.0, 1.0)
    ### END SOLUTION""",
}

CHECKS = {
    1: """\
# Check: exercise 1
check_function("double", double, lambda x: 2 * np.asarray(x), [(1.0,), (np.arange(3.0),)])""",
    2: """\
# Check: exercise 2
check_answered("compression_ratio", compression_ratio)
assert abs(compression_ratio - 24.5) < 1e-9, "Divide the number of pixels by the code size."
print("Correct: compression_ratio.")""",
    3: """\
# Check: exercise 3
check_array("row_means", row_means, [1.5, 5.5, 9.5], hint="Average over the columns (axis 1).")""",
    4: """\
# Check: exercise 4 (2 points)
check_answered("clip01", clip01)
check_array("clip01 on [0.5]", clip01([0.5]), [0.5], hint="Values inside [0, 1] stay.")
### BEGIN HIDDEN TESTS
check_array("clip01 on [-1, 2]", clip01([-1.0, 2.0]), [0.0, 1.0], hint="Clip both ends.")
### END HIDDEN TESTS""",
}

WRONG = {  # answers of the partly correct submission (exercises 1 and 3 stay right)
    2: "compression_ratio = 32 / 784",
    4: "    return np.asarray(x, dtype=float)  # passes the visible check only",
}
MAX_SCORE = 5.0  # exercises 1-3: one point each; exercise 4: two points
BADGE = (
    "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
    "(https://colab.research.google.com/github/image-synthesis-course/image-synthesis/blob/main/"
    "notebooks/99_synthetic.ipynb)"
)
FORK, TAG = "someone/fork", "fall-2027"  # an instructor's fork and semester tag

# The course's own URLs in a notebook, each with the repository and ref it names.
COURSE_URLS = {
    "install": re.compile(r"git\+https://github\.com/([\w.-]+/[\w.-]+)@([\w./-]+)"),
    "badge": re.compile(r"colab\.research\.google\.com/github/([\w.-]+/[\w.-]+)/blob/([\w.-]+)/"),
    "link": re.compile(r"//github\.com/([\w.-]+/[\w.-]+)/(?:blob|tree)/([\w.-]+)/"),
}


def synthetic_notebook():
    """A tiny assignment in the course's exercise format: four exercises, one hidden test."""
    cells = [
        new_markdown_cell(f"# 99 · Synthetic assignment\n\n{BADGE}\n\nA test fixture."),
        new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]}),
        new_code_cell(SETUP),
        new_markdown_cell("## Exercises"),
    ]
    for number in ANSWERS:
        cells += [
            new_markdown_cell(f"### Exercise {number}: task {number}\n\nDo it. Hint: think."),
            new_code_cell(ANSWERS[number]),
            new_code_cell(CHECKS[number]),
        ]
    cells.append(new_code_cell('# Show that the notebook ran to the end.\nprint("done")'))
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def _answer_cells(nb):
    return {
        int(c.metadata["nbgrader"]["grade_id"][2]): c
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }


def _fill(student_nb, answers: dict[int, str]):
    """A submission: the student notebook with the stub of each exercise replaced."""
    nb = nbformat.from_dict(student_nb)
    cells = _answer_cells(nb)
    for number, code in answers.items():
        lines = cells[number].source.split("\n")
        stub_at = next(i for i, line in enumerate(lines) if "YOUR CODE HERE" in line)
        indent = lines[stub_at][: len(lines[stub_at]) - len(lines[stub_at].lstrip())]
        body = [indent + line.lstrip() if line.strip() else line for line in code.split("\n")]
        cells[number].source = "\n".join(lines[:stub_at] + body + lines[stub_at + 2 :])
    return nb


def _solutions() -> dict[int, str]:
    """The reference answers, taken from between the markers."""
    out = {}
    for number, text in ANSWERS.items():
        lines = text.split("\n")
        begin = next(i for i, line in enumerate(lines) if "BEGIN SOLUTION" in line)
        end = next(i for i, line in enumerate(lines) if "END SOLUTION" in line)
        out[number] = "\n".join(line.strip() for line in lines[begin + 1 : end])
    return out


def _errors(executed):
    """(cell index, first line, error name) of every cell that raised."""
    found = []
    for index, cell in enumerate(executed.cells):
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                found.append((index, cell.source.split("\n", 1)[0], output.ename))
    return found


def _execute(nb, cwd: Path, timeout: int = 120):
    from nbclient import NotebookClient

    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=timeout,
        allow_errors=True,
        resources={"metadata": {"path": str(cwd)}},
    )
    client.execute()
    return nb


# --------------------------------------------------------------------------- format checks


def test_synthetic_notebook_is_well_formed():
    report = classroom.parse_exercises(synthetic_notebook())
    assert report.errors == []
    assert [ex.number for ex in report.exercises] == [1, 2, 3, 4]
    assert report.points == MAX_SCORE


def _broken(replace_cell: int, source: str, cell_type: str = "code"):
    nb = synthetic_notebook()
    maker = new_code_cell if cell_type == "code" else new_markdown_cell
    nb.cells[replace_cell] = maker(source)
    return classroom.parse_exercises(nb).errors


@pytest.mark.parametrize(
    ("cell", "source", "cell_type", "expected"),
    [
        # the answer of exercise 2 without its placeholder: the student version would NameError
        (
            8,
            "### BEGIN SOLUTION\ncompression_ratio = 24.5\n### END SOLUTION",
            "code",
            "placeholder",
        ),
        (8, "x = None\n### BEGIN SOLUTION\nx = 1\n### BEGIN SOLUTION", "code", "nested"),
        (8, "x = None\n### BEGIN SOLUTION\nx = 1", "code", "without a matching"),
        (9, "# Check: exercise 2\nassert compression_ratio == 24.5", "code", "without a message"),
        (9, "# check exercise 2\nassert True, 'ok'", "code", "looks like a check"),
        (9, "# Check: exercise 2\nx = 1", "code", "nothing would be graded"),
        (3, "## Exercises\n\nAnswers go after ### BEGIN SOLUTION.", "markdown", "markdown"),
    ],
)
def test_check_names_each_format_problem(cell, source, cell_type, expected):
    errors = _broken(cell, source, cell_type)
    assert any(expected in e for e in errors), errors


def test_check_warns_about_silent_checks_and_trailing_values():
    nb = synthetic_notebook()
    nb.cells[9] = new_code_cell(
        "# Check: exercise 2\n"
        "assert compression_ratio is not None, 'Answer first.'\n"
        "compression_ratio"
    )
    report = classroom.parse_exercises(nb)
    assert report.errors == []
    assert any("says nothing when the answer is right" in w for w in report.warnings)
    assert any("partial score" in w for w in report.warnings)


def test_check_wants_exercises_numbered_in_order():
    nb = synthetic_notebook()
    for cell in nb.cells[13:16]:  # exercise 4 becomes exercise 5
        cell.source = cell.source.replace("xercise 4", "xercise 5")
    errors = classroom.parse_exercises(nb).errors
    assert any("numbered [1, 2, 3, 5]" in e for e in errors), errors


def test_check_counts_exercises():
    nb = synthetic_notebook()
    nb.cells = nb.cells[:10]  # exercises 1 and 2 only
    errors = classroom.parse_exercises(nb).errors
    assert any("at least 3" in e for e in errors), errors


def test_student_source_replaces_solution_and_drops_hidden_tests():
    student = classroom.student_source(ANSWERS[1] + "\n" + CHECKS[4])
    assert "2 * np.asarray" not in student and "clip both ends" not in student.lower()
    assert "    # YOUR CODE HERE\n    pass" in student
    compile(student, "<student>", "exec")


def test_mark_notebook_writes_stable_nbgrader_metadata():
    nb = classroom.mark_notebook(synthetic_notebook())
    meta = {
        c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]
        for c in nb.cells
        if "nbgrader" in c.metadata
    }
    assert sorted(meta) == sorted(
        [f"ex{n}_answer" for n in range(1, 5)] + [f"ex{n}_check" for n in range(1, 5)]
    )
    assert meta["ex4_check"]["points"] == 2 and meta["ex4_check"]["grade"] is True
    assert meta["ex1_answer"]["solution"] is True and meta["ex1_answer"]["grade"] is False
    with pytest.raises(ValueError, match="not in the classroom format"):
        bad = synthetic_notebook()
        bad.cells = bad.cells[:7]
        classroom.mark_notebook(bad)


def _course_urls(text: str) -> set[tuple[str, str, str]]:
    """(kind, repository, ref) of each of the course's URLs in `text`."""
    return {
        (kind, *m.groups()) for kind, regex in COURSE_URLS.items() for m in regex.finditer(text)
    }


def test_retarget_points_install_and_badge_at_the_fork():
    nb = classroom.mark_notebook(synthetic_notebook())
    nb.metadata["classroom"] = {"stem": "99_synthetic"}
    published = classroom.retarget_notebook(
        nbformat.from_dict(nb), repo=FORK, ref=TAG, colab_dir="hw"
    )
    text = "\n".join(c.source for c in published.cells)
    assert _course_urls(text) == {("install", FORK, TAG), ("badge", FORK, TAG)}
    assert f"github/{FORK}/blob/{TAG}/hw/99_synthetic.ipynb)" in text
    upstream = classroom.retarget_notebook(nb)  # the default: upstream at main, no badge
    assert _course_urls("\n".join(c.source for c in upstream.cells)) == {
        ("install", classroom.UPSTREAM_REPO, "main")
    }
    assert upstream.cells[0].source.startswith("# 99 · Synthetic assignment")


def test_copies_of_every_notebook_install_from_and_link_to_the_fork(tmp_path, capsys):
    """`prepare --repo --ref` (what `generate` hands out) and `student --repo --ref` agree."""
    paths = classroom.notebook_paths()
    course = tmp_path / "course"
    classroom.main(["--course", str(course), "prepare", "--repo", FORK, "--ref", TAG])
    handouts = sorted((course / "source").glob("*/*.ipynb"))
    assert len(handouts) >= len(paths) - 2, capsys.readouterr().err  # a notebook mid-edit may skip
    for handout in handouts:
        text = "\n".join(c.source for c in nbformat.read(handout, as_version=4).cells)
        urls = _course_urls(text)
        assert {(repo, ref) for _, repo, ref in urls} == {(FORK, TAG)}, handout.name
        assert {"install", "badge"} <= {kind for kind, _, _ in urls}, handout.name
        assert f"{TAG}/assignments/{handout.name})" in text
    for path in paths:
        copy = classroom.self_study_notebook(
            nbformat.read(path, as_version=4), path, repo=FORK, ref=TAG
        )
        text = "\n".join(c.source for c in copy.cells)
        assert {(repo, ref) for _, repo, ref in _course_urls(text)} == {(FORK, TAG)}, path.name
        assert f"{TAG}/notebooks/student/{path.name})" in text


@pytest.mark.parametrize(
    "option",
    [
        "--repo=someone",
        "--repo=https://github.com/someone/fork",
        "--repo=some one/fork",
        "--ref=fall 2027",
        "--ref=../main",
        "--ref=-rc",
        "--ref=v1.lock",
    ],
)
@pytest.mark.parametrize("command", ["prepare", "student"])
def test_a_malformed_repo_or_ref_is_refused(tmp_path, capsys, option, command):
    nbformat.write(synthetic_notebook(), tmp_path / "99_synthetic.ipynb")
    course = tmp_path / "course"
    args = ["--course", str(course), "--notebooks", str(tmp_path), command, option]
    assert classroom.main(args) == 1
    name, value = option.split("=", 1)
    err = capsys.readouterr().err
    assert f"Expected {name} as" in err and f"Received: {value!r}" in err
    assert not course.exists() and not (tmp_path / "student").exists()


def test_the_options_repo_and_ref_replaced_are_refused(tmp_path, capsys):
    nbformat.write(synthetic_notebook(), tmp_path / "99_synthetic.ipynb")
    args = ["--course", str(tmp_path / "c"), "--notebooks", str(tmp_path), "prepare"]
    assert classroom.main([*args, "--pin", TAG]) == 1
    assert "Expected --repo OWNER/NAME --ref TAG" in capsys.readouterr().err


def test_prepare_skips_a_notebook_not_in_the_format(tmp_path):
    good, bad = tmp_path / "98_good.ipynb", tmp_path / "99_bad.ipynb"
    nbformat.write(synthetic_notebook(), good)
    broken = synthetic_notebook()
    broken.cells = broken.cells[:7]
    nbformat.write(broken, bad)
    skipped = {}
    names = classroom.prepare([good, bad], tmp_path / "course", skipped=skipped)
    assert names == ["98_good"] and list(skipped) == ["99_bad"]
    assert "at least 3" in skipped["99_bad"]
    settings = (tmp_path / "course" / "nbgrader_config_course.py").read_text()
    assert "configure(c, timeout=900)" in settings
    config = (tmp_path / "course" / "nbgrader_config.py").read_text()
    assert 'load_subconfig("nbgrader_config_course.py")' in config


INSTRUCTOR_CONFIG = """\
c = get_config()
c.CourseDirectory.course_id = "dl-fall-2027"
c.Exchange.root = "/srv/nbgrader/exchange"
"""


def _nbgrader_settings(course: Path):
    """The configuration nbgrader reads from the course folder's `nbgrader_config.py`."""
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()


def test_prepare_keeps_the_instructors_config(tmp_path):
    pytest.importorskip("nbgrader")
    course = tmp_path / "course"
    course.mkdir()
    (course / "nbgrader_config.py").write_text(INSTRUCTOR_CONFIG)
    source = tmp_path / "99_synthetic.ipynb"
    nbformat.write(synthetic_notebook(), source)
    for timeout in (300, 120):  # prepared twice: the course's block is added once
        classroom.prepare([source], course, timeout=timeout)
    text = (course / "nbgrader_config.py").read_text()
    assert text.startswith(INSTRUCTOR_CONFIG) and text.count("load_subconfig") == 1
    settings = _nbgrader_settings(course)
    assert settings.CourseDirectory.course_id == "dl-fall-2027"
    assert settings.Exchange.root == "/srv/nbgrader/exchange"
    assert settings.ClearSolutions.code_stub == {"python": classroom.CODE_STUB}
    assert settings.Execute.timeout == 120


def test_self_study_copies_are_up_to_date():
    """The committed copies in notebooks/student/ equal what `classroom.py student` writes."""
    problems = classroom.write_self_study(classroom.notebook_paths(), check=True)
    assert not problems, "run `python tools/classroom.py student`:\n" + "\n".join(problems)


# --------------------------------------------------------------------------- nbgrader end to end


def generated_course(root: Path, *, config: str | None = None, **options) -> Path:
    """`root/course`, with the synthetic assignment prepared (with `options`) and generated.

    `config`: the text of the instructor's own `nbgrader_config.py`, written first.
    """
    source = root / "notebooks" / "99_synthetic.ipynb"
    source.parent.mkdir()
    nbformat.write(synthetic_notebook(), source)
    course = root / "course"
    course.mkdir()
    if config is not None:
        (course / "nbgrader_config.py").write_text(config)
    classroom.generate(course, classroom.prepare([source], course, timeout=120, **options))
    return course


@pytest.fixture(scope="module")
def graded_course(tmp_path_factory):
    """Generate the synthetic assignment for a fork, grade five submissions, export the grades.

    The course folder starts with the instructor's own `nbgrader_config.py`.
    """
    pytest.importorskip("nbgrader")
    root = tmp_path_factory.mktemp("classroom")
    course = generated_course(root, config=INSTRUCTOR_CONFIG, repo=FORK, ref=TAG)
    student = nbformat.read(course / "student" / "99_synthetic.ipynb", as_version=4)

    submissions = root / "submissions"
    solutions = _solutions()
    partly = {**solutions, **WRONG}
    for who, answers in (("all_correct", solutions), ("partly_correct", partly), ("blank", {})):
        (submissions / who).mkdir(parents=True)
        nbformat.write(_fill(student, answers), submissions / who / "99_synthetic.ipynb")
    # A submission from an editor that drops cell metadata is still graded (renamed, too).
    stripped = _fill(student, solutions)
    for cell in stripped.cells:
        cell.metadata.pop("nbgrader", None)
    (submissions / "lost_metadata").mkdir()
    nbformat.write(stripped, submissions / "lost_metadata" / "Copy of 99_synthetic (1).ipynb")
    # A learning platform's file name, and a username with `@`.
    nbformat.write(_fill(student, solutions), submissions / "jane@uni.edu_123_99_synthetic.ipynb")

    classroom.collect(course, "99_synthetic", submissions)
    # Three at a time: concurrent nbgrader processes share the sqlite gradebook.
    run = classroom.autograde(course, "99_synthetic", feedback=True, workers=3)
    assert [o.status for o in run.outcomes] == ["graded"] * 5, run.outcomes
    grades, detail, _ = classroom.export_grades(course)
    return {"course": course, "student": student, "grades": grades, "detail": detail}


def test_score_executed_agrees_with_nbgrader(graded_course):
    """The scorer the notebook tests use gives nbgrader's scores on nbgrader's own output."""
    with graded_course["grades"].open() as handle:
        rows = {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}
    autograded = graded_course["course"] / "autograded"
    for student, score in rows.items():
        nb = nbformat.read(autograded / student / "99_synthetic" / "99_synthetic.ipynb", 4)
        assert classroom.score_executed(nb) == (score, MAX_SCORE), student


def test_score_executed_counts_a_check_that_did_not_run_as_failed():
    nb = synthetic_notebook()
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.execution_count, cell.outputs = 1, []
    assert classroom.score_executed(nb) == (MAX_SCORE, MAX_SCORE)
    checks = [c for c in nb.cells if c.source.startswith("# Check: exercise")]
    checks[0].execution_count = None
    checks[3].outputs = [nbformat.v4.new_output("error", ename="AssertionError", evalue="")]
    assert classroom.score_executed(nb) == (MAX_SCORE - 3, MAX_SCORE)


def test_three_submissions_score_full_partial_and_zero(graded_course):
    with graded_course["grades"].open() as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    scores = {who: (float(r["score"]), float(r["max_score"])) for who, r in rows.items()}
    assert scores["all_correct"] == (MAX_SCORE, MAX_SCORE)
    # exercise 1 and 3 right (2 points); 2 wrong; 4 passes the visible check but not the hidden one
    assert scores["partly_correct"] == (2.0, MAX_SCORE)
    assert scores["blank"] == (0.0, MAX_SCORE)
    assert scores["lost_metadata"] == (MAX_SCORE, MAX_SCORE)
    assert scores["jane@uni.edu"] == (MAX_SCORE, MAX_SCORE)
    assert len(scores) == 5
    assert (graded_course["course"] / "feedback" / "jane@uni.edu" / "99_synthetic").is_dir()


def test_the_instructors_config_survives_generate(graded_course):
    course = graded_course["course"]
    assert (course / "nbgrader_config.py").read_text().startswith(INSTRUCTOR_CONFIG)
    settings = _nbgrader_settings(course)
    assert settings.CourseDirectory.course_id == "dl-fall-2027"
    assert settings.Execute.timeout == 120


def test_the_handout_installs_from_and_opens_in_the_fork(graded_course):
    text = "\n".join(c.source for c in graded_course["student"].cells)
    assert _course_urls(text) == {("install", FORK, TAG), ("badge", FORK, TAG)}
    assert f"github/{FORK}/blob/{TAG}/assignments/99_synthetic.ipynb)" in text


def test_the_handout_says_how_it_is_graded(graded_course):
    cells = graded_course["student"].cells
    assert cells[1].cell_type == "markdown" and cells[1].source == classroom.GRADING_NOTE
    assert "nbgrader" not in cells[1].metadata


def test_grades_by_exercise(graded_course):
    with graded_course["detail"].open() as handle:
        rows = [r for r in csv.DictReader(handle) if r["student_id"] == "partly_correct"]
    by_id = {r["grade_id"]: float(r["score"]) for r in rows if r["grade_id"].endswith("_check")}
    assert by_id == {"ex1_check": 1.0, "ex2_check": 0.0, "ex3_check": 1.0, "ex4_check": 0.0}


def test_feedback_keeps_messages_and_hides_hidden_tests(graded_course):
    feedback = graded_course["course"] / "feedback" / "partly_correct" / "99_synthetic"
    page = html.unescape(re.sub(r"<[^>]+>", "", (feedback / "99_synthetic.html").read_text()))
    assert "Divide the number of pixels by the code size." in page  # a visible check's message
    assert "Clip both ends." in page  # a hidden check's message: it helps, it reveals nothing
    assert "clip01([-1.0, 2.0])" not in page and "BEGIN HIDDEN TESTS" not in page


def test_stub_matches_the_nbgrader_settings():
    pytest.importorskip("nbconvert")
    from tools import nbgrader_config

    assert classroom.CODE_STUB == nbgrader_config.CODE_STUB


def test_student_notebook_has_no_solutions_or_hidden_tests(graded_course):
    text = "\n".join(c.source for c in graded_course["student"].cells)
    for secret in ("BEGIN SOLUTION", "784 / 32", "np.clip", "HIDDEN TESTS", "Clip both ends"):
        assert secret not in text
    assert text.count("# YOUR CODE HERE") == 4
    # the course's stub, not nbgrader's `raise NotImplementedError()`: its settings were in effect
    assert text.count("pass  # replace this line with your answer") == 4


def test_self_study_copy_matches_the_nbgrader_student_version(graded_course, tmp_path):
    path = tmp_path / "notebooks" / "99_synthetic.ipynb"
    copy = classroom.self_study_notebook(
        synthetic_notebook(), path, tmp_path / "notebooks" / "student", repo=FORK, ref=TAG
    )
    code = [c.source for c in copy.cells if c.cell_type == "code"]
    assert code == [c.source for c in graded_course["student"].cells if c.cell_type == "code"]
    assert "[notebook with solutions](../99_synthetic.ipynb)" in copy.cells[0].source


def test_student_notebook_runs_with_helpful_failing_checks(graded_course, tmp_path):
    executed = _execute(nbformat.from_dict(graded_course["student"]), tmp_path)
    errors = _errors(executed)
    # only the four check cells fail, each with an AssertionError; the last cell still ran
    assert [(first, name) for _, first, name in errors] == [
        (f"# Check: exercise {n}" + (" (2 points)" if n == 4 else ""), "AssertionError")
        for n in range(1, 5)
    ]
    messages = [
        o.evalue for c in executed.cells for o in c.get("outputs", []) if o.output_type == "error"
    ]
    assert all("no answer yet" in m for m in messages), messages
    assert executed.cells[-1].outputs[0].text == "done\n"


def test_right_and_wrong_answers_get_clear_feedback(graded_course, tmp_path):
    answers = {**_solutions(), 2: WRONG[2]}
    executed = _execute(_fill(graded_course["student"], answers), tmp_path)
    outputs = {c.source.split("\n", 1)[0]: c.get("outputs", []) for c in executed.cells}
    right = "".join(o.get("text", "") for o in outputs["# Check: exercise 1"])
    assert right.startswith("Correct: double")
    wrong = [o for o in outputs["# Check: exercise 2"] if o.output_type == "error"][0]
    assert wrong.ename == "AssertionError" and "Divide the number of pixels" in wrong.evalue
    assert "24.5" not in wrong.evalue  # the message helps without giving the answer away


def test_command_line_check_on_a_folder(tmp_path, capsys):
    nbformat.write(synthetic_notebook(), tmp_path / "99_synthetic.ipynb")
    assert classroom.main(["--notebooks", str(tmp_path), "check"]) == 0
    assert "99_synthetic.ipynb: 4 exercises, 5 points: ok" in capsys.readouterr().out
    bad = synthetic_notebook()
    bad.cells = bad.cells[:10]
    nbformat.write(bad, tmp_path / "98_bad.ipynb")
    assert classroom.main(["--notebooks", str(tmp_path), "check"]) == 1


# --------------------------------------------------------------------------- the real notebooks


@pytest.mark.notebooks
@pytest.mark.parametrize("path", classroom.notebook_paths(), ids=lambda p: p.stem)
def test_student_version_of_each_notebook_runs(path, tmp_path, monkeypatch):
    """The student version runs top to bottom in the smoke profile; only checks may fail.

    It is the self-study copy, whose code cells equal nbgrader's student version
    (see the test above), so this runs without nbgrader.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from tests.conftest import ORIGINAL_OFFLINE
    from tools.profiles import parameters_for

    student = tmp_path / path.name
    nbformat.write(classroom.self_study_notebook(nbformat.read(path, as_version=4), path), student)
    executed = tmp_path / f"executed_{path.name}"
    monkeypatch.setenv("COURSE_OUTPUT_DIR", str(tmp_path / "outputs"))
    if ORIGINAL_OFFLINE is None:  # a learner's machine may download the data
        monkeypatch.delenv("COURSE_OFFLINE", raising=False)
    try:
        papermill.execute_notebook(
            str(student),
            str(executed),
            parameters=parameters_for(path.stem, "smoke"),
            kernel_name="python3",
            cwd=str(path.parent),
            allow_errors=True,
            progress_bar=False,
            execution_timeout=600,
        )
    except PapermillExecutionError:
        pass  # papermill reports the errors after a run with allow_errors; judged below
    ran = nbformat.read(executed, as_version=4)
    errors = _errors(ran)
    last = [c for c in ran.cells if c.cell_type == "code"][-1]
    assert last.execution_count is not None, "the notebook stopped before its last cell"
    bad = [
        e for e in errors if not (e[1].startswith("# Check: exercise") and e[2] == "AssertionError")
    ]
    assert not bad, f"errors outside check cells, or not AssertionError: {bad}"
    # In the grading profile a blank submission scores 0: every check fails, none passes.
    score, total = classroom.score_executed(ran)
    assert (
        score == 0 and total == classroom.parse_exercises(nbformat.read(path, as_version=4)).points
    )


def _parameters(nb) -> dict:
    """The literal values of a notebook's `parameters` cell."""
    import ast

    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    values = {}
    for node in ast.parse(cell.source).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            values[node.targets[0].id] = ast.literal_eval(node.value)
    return values


def test_grading_keeps_what_an_exercise_names_or_says_why_not():
    """A parameter an exercise names keeps its full value when grading, or is listed with why.

    Grading reruns a submission in the smoke profile (tools/profiles.py); a right
    answer must not become wrong there. Stale entries of the list fail too.
    """
    from tools.profiles import SHRUNK_IN_EXERCISES, SMOKE

    found = {}
    for path in classroom.notebook_paths():
        nb = nbformat.read(path, as_version=4)
        full = _parameters(nb)
        for exercise in classroom.parse_exercises(nb).exercises:
            cells = [exercise.heading, *exercise.answers, exercise.check]
            text = "\n".join(nb.cells[i].source for i in cells)
            for name, value in SMOKE[path.stem].items():
                if re.search(rf"\b{name}\b", text) and value != full[name]:
                    found.setdefault(path.stem, set()).add(name)
    listed = {stem: set(reasons) for stem, reasons in SHRUNK_IN_EXERCISES.items()}
    assert found == listed


def _solution_lines(nb) -> set[str]:
    """Every line of every solution region of a notebook, stripped, longer than a name."""
    lines, inside = set(), False
    for cell in nb.cells:
        for line in cell.source.split("\n"):
            if "BEGIN SOLUTION" in line or "END SOLUTION" in line:
                inside = "BEGIN" in line
            elif inside and len(line.strip()) >= 12 and not line.strip().startswith("#"):
                lines.add(line.strip())
    return lines


def _check_cell_problems(source: str, solution_lines: set[str]) -> list[str]:
    """Why a handout's check cell gives an answer away ([] when it does not)."""
    import ast

    problems = [f"solution line {line!r}" for line in solution_lines if line in source]
    for node in ast.walk(ast.parse(classroom._python(source))):
        if isinstance(node, ast.Assert):
            problems.append(f"an assert (line {node.lineno}): move it into the check function")
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            numbers = [n for o in operands for n in ast.walk(o) if isinstance(n, ast.Constant)]
            if any(isinstance(n.value, int | float) for n in numbers):
                problems.append(f"a comparison with a number (line {node.lineno})")
    return problems


@pytest.mark.parametrize("path", classroom.notebook_paths(), ids=lambda p: p.stem)
def test_no_handout_check_cell_gives_the_answer_away(path):
    """The handout's check cells hold no solution line, no assert, no expected number."""
    nb = nbformat.read(path, as_version=4)
    student = classroom.self_study_notebook(nbformat.read(path, as_version=4), path)
    solution_lines = _solution_lines(nb)
    found = {}
    for cell in student.cells:
        if classroom.CHECK_RE.match(cell.source.split("\n", 1)[0]):
            problems = _check_cell_problems(cell.source, solution_lines)
            if problems:
                found[cell.source.split("\n", 1)[0]] = problems
    assert not found


@pytest.mark.parametrize(
    "source",
    [
        "# Check: exercise 1\ncheck(x)\nassert x > 0",
        "# Check: exercise 1\nprint(abs(ratio - 24.5) < 1e-9)",
        "# Check: exercise 1\ncheck_array('m', m, np.arange(12.0).reshape(3, 4).mean(axis=1))",
    ],
)
def test_the_scan_finds_an_answer_given_away(source):
    solution_lines = {"np.arange(12.0).reshape(3, 4).mean(axis=1)"}
    assert _check_cell_problems(source, solution_lines)
