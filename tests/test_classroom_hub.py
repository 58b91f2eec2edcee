"""The instructor guide's JupyterHub section, followed step by step, without a running Hub.

docs/instructor-guide.md ("On JupyterHub"): generate into the course folder that
holds the instructor's own `nbgrader_config.py` (course id, exchange), then
`nbgrader release_assignment` → students fetch, work and submit → `nbgrader
collect` → `classroom.py autograde` in place → `classroom.py grades` →
`nbgrader release_feedback` → students fetch their feedback. The exchange is a
folder, as on a Hub; each student works in a home folder of their own and
submits under their Hub username. Two assignments are out at once; one student
submits twice, one never.
"""

from __future__ import annotations

import csv
import html
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.test_classroom import WRONG, _fill, _solutions, synthetic_notebook  # noqa: E402
from tools import classroom  # noqa: E402

COURSE_ID = "image-synthesis-fall"
CONFIG = """\
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "{course_id}"
c.Exchange.root = "{exchange}"
"""


def _nbgrader(cwd: Path, *args: str, home: Path | None = None) -> str:
    """Run nbgrader in `cwd` (a student's with their own `home`, as on a Hub); return its log."""
    env = classroom._nbgrader_env(cwd)
    if home is not None:
        env["HOME"] = str(home)  # nbgrader keeps each student's submission cache there
    done = subprocess.run(
        [*classroom._nbgrader_command(), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )
    log = done.stdout + done.stderr
    assert done.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{log[-3000:]}"
    return log


def _exchange_options(exchange: Path) -> list[str]:
    return [f"--course={COURSE_ID}", f"--Exchange.root={exchange}"]


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    pytest.importorskip("nbgrader")
    root = tmp_path_factory.mktemp("hub")
    exchange = root / "srv" / "nbgrader" / "exchange"
    exchange.mkdir(parents=True)
    course = root / "home" / "instructor" / "course"
    course.mkdir(parents=True)
    (course / "nbgrader_config.py").write_text(
        CONFIG.format(course_id=COURSE_ID, exchange=exchange)
    )
    notebooks = root / "notebooks"
    notebooks.mkdir()
    for stem in ("98_warmup", "99_synthetic"):
        nbformat.write(synthetic_notebook(), notebooks / f"{stem}.ipynb")

    # Instructor: generate, release both assignments (the guide's commands).
    argv = ["--course", str(course), "--notebooks", str(notebooks), "generate"]
    assert classroom.main(argv) == 0
    for name in ("98_warmup", "99_synthetic"):
        _nbgrader(course, "release_assignment", name)

    # Students: fetch into their own home, work, submit under their Hub username.
    answers = {
        "alice": _solutions(),
        "bob": {**_solutions(), **WRONG},
        "jane@uni.edu": _solutions(),
        "carol": {},
    }
    homes = {}
    for student, given in [*answers.items(), ("dave", None)]:
        home = root / "home" / re.sub(r"\W", "_", student)
        home.mkdir()
        homes[student] = home
        _nbgrader(home, "fetch_assignment", "99_synthetic", *_exchange_options(exchange), home=home)
        if given is None:
            continue  # dave fetched the assignment and never submitted it
        path = home / "99_synthetic" / "99_synthetic.ipynb"
        first = given if student != "bob" else {}  # bob submits blank, then again, corrected
        nbformat.write(_fill(nbformat.read(path, 4), first), path)
        options = [*_exchange_options(exchange), f"--student={student}"]
        _nbgrader(home, "submit", "99_synthetic", *options, home=home)
        if student == "bob":
            nbformat.write(_fill(nbformat.read(path, 4), given), path)
            _nbgrader(home, "submit", "99_synthetic", *options, home=home)
    # alice also hands in the warm-up, all wrong: it must not count for 99.
    _nbgrader(homes["alice"], "fetch_assignment", "98_warmup", *_exchange_options(exchange))
    _nbgrader(
        homes["alice"], "submit", "98_warmup", *_exchange_options(exchange), "--student=alice"
    )

    # Instructor: collect, autograde in place, export, release the feedback.
    _nbgrader(course, "collect", "99_synthetic")
    _nbgrader(course, "collect", "98_warmup")
    argv = ["--course", str(course), "autograde", "99", str(course / "submitted")]
    assert classroom.main(argv) == 0
    assert classroom.main(["--course", str(course), "grades"]) == 0
    _nbgrader(course, "release_feedback", "99_synthetic")
    for student in answers:
        options = [*_exchange_options(exchange), f"--student={student}"]
        _nbgrader(homes[student], "fetch_feedback", "99_synthetic", *options, home=homes[student])
    return {"course": course, "homes": homes}


def test_every_grade_lands_on_its_student_and_assignment(hub):
    with (hub["course"] / "grades.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    scores = {(r["assignment"], r["student_id"]): float(r["score"]) for r in rows}
    assert scores == {
        ("99_synthetic", "alice"): 5.0,
        ("99_synthetic", "bob"): 2.0,  # his second submission, partly right
        ("99_synthetic", "jane@uni.edu"): 5.0,
        ("99_synthetic", "carol"): 0.0,
    }


def test_the_warm_up_is_collected_but_not_graded(hub):
    submitted = hub["course"] / "submitted" / "alice" / "98_warmup" / "98_warmup.ipynb"
    assert submitted.exists()
    assert not (hub["course"] / "autograded" / "alice" / "98_warmup").exists()


def test_collect_kept_nbgraders_timestamps(hub):
    stamp = hub["course"] / "submitted" / "bob" / "99_synthetic" / "timestamp.txt"
    assert stamp.read_text().strip()  # the late-penalty clock, kept by the in-place autograde


def test_each_student_fetches_only_their_own_feedback(hub):
    for student, expected in (("alice", "5"), ("bob", "2"), ("jane@uni.edu", "5")):
        pages = list((hub["homes"][student] / "99_synthetic" / "feedback").rglob("*.html"))
        assert len(pages) == 1, pages
        text = html.unescape(re.sub(r"<[^>]+>", " ", pages[0].read_text()))
        assert re.search(rf"Score:\s*{expected}(\.0)?\s*/\s*5", text), text[:500]
        assert "BEGIN HIDDEN TESTS" not in text and "clip01([-1.0, 2.0])" not in text
    assert not (hub["homes"]["dave"] / "99_synthetic" / "feedback").exists()


def test_the_instructors_settings_are_intact(hub):
    text = (hub["course"] / "nbgrader_config.py").read_text()
    assert f'course_id = "{COURSE_ID}"' in text and "load_subconfig" in text
