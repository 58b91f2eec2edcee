"""Which submitted notebook is graded for whom: `find_submissions` and `collect`.

No nbgrader run: `collect` only copies the submissions into the course folder,
so these tests are fast. Grading itself is tested in `test_classroom.py`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.test_classroom import synthetic_notebook  # noqa: E402
from tools import classroom  # noqa: E402

A, B = "03_variational_autoencoders", "01_autoencoders"  # two assignments


def _notebook(path: Path, text: str = "") -> Path:
    """A small notebook at `path` whose one cell says `text` (where it was handed in)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(new_notebook(cells=[new_code_cell(f"# {text}")]), path)
    return path


def _mixed_folder(root: Path) -> Path:
    """What a class hands in: several layouts, renamed files, strays and a missing notebook."""
    for path in (
        f"ana/{A}.ipynb",  # one folder per student
        f"ana/{B}.ipynb",
        f"bo/Copy of {A} (1).ipynb",  # renamed by Colab and by the browser
        f"jane@uni.edu_12345_67890_{A}.ipynb",  # a learning platform's bulk download
        f"jane@uni.edu_12345_67891_{B} (2).ipynb",
        f"eve@uni.edu/{A}/{A}.ipynb",  # nbgrader's own layout
        f"eve@uni.edu/{B}/{B}.ipynb",
        f"cy/{B}.ipynb",  # cy has not handed in A
        "dee/02_autoencoder_applications.ipynb",  # a stray notebook of another assignment
        "Untitled.ipynb",  # no student, no assignment
        f"ana/.ipynb_checkpoints/{A}-checkpoint.ipynb",  # never a submission
        f"__MACOSX/._{A}.ipynb",
    ):
        _notebook(root / path, path)
    return root


def test_each_submission_lands_on_its_student_and_assignment(tmp_path):
    folder = _mixed_folder(tmp_path / "submissions")
    found_a, skipped_a = classroom.find_submissions(folder, A)
    assert {s: p.relative_to(folder).as_posix() for s, p in found_a.items()} == {
        "ana": f"ana/{A}.ipynb",
        "bo": f"bo/Copy of {A} (1).ipynb",
        "jane@uni.edu": f"jane@uni.edu_12345_67890_{A}.ipynb",
        "eve@uni.edu": f"eve@uni.edu/{A}/{A}.ipynb",
    }
    # Reported, not graded: notebooks of other assignments outside nbgrader's own
    # layout, and the one that names no assignment.
    assert sorted(line.split(":")[0] for line in skipped_a) == sorted(
        [
            f"ana/{B}.ipynb",
            f"jane@uni.edu_12345_67891_{B} (2).ipynb",
            f"cy/{B}.ipynb",
            "dee/02_autoencoder_applications.ipynb",
            "Untitled.ipynb",
        ]
    )
    assert all(f"not a notebook of {A}" in line for line in skipped_a)

    found_b, _ = classroom.find_submissions(folder, B)
    assert {s: p.relative_to(folder).as_posix() for s, p in found_b.items()} == {
        "ana": f"ana/{B}.ipynb",
        "jane@uni.edu": f"jane@uni.edu_12345_67891_{B} (2).ipynb",
        "eve@uni.edu": f"eve@uni.edu/{B}/{B}.ipynb",
        "cy": f"cy/{B}.ipynb",
    }


def test_two_notebooks_for_one_student_are_reported_not_guessed(tmp_path):
    _notebook(tmp_path / "ana" / f"{A}.ipynb")
    _notebook(tmp_path / "ana" / f"{A} (1).ipynb")
    _notebook(tmp_path / "bo*" / f"{A}.ipynb")  # nbgrader finds submissions by glob patterns
    found, skipped = classroom.find_submissions(tmp_path, A)
    assert found == {}
    assert sum("one of 2 notebooks" in line for line in skipped) == 2
    assert any("nbgrader cannot take the student id 'bo*'" in line for line in skipped)


def _course(root: Path) -> Path:
    """A course folder with assignment A released (as `generate` leaves it)."""
    course = root / "course"
    release = course / "release" / A / f"{A}.ipynb"
    release.parent.mkdir(parents=True)
    nbformat.write(classroom.mark_notebook(synthetic_notebook()), release)
    (course / "source" / A).mkdir(parents=True)
    return course


def test_collect_copies_each_submission_to_its_student(tmp_path):
    course = _course(tmp_path)
    folder = _mixed_folder(tmp_path / "submissions")
    skipped: list[str] = []
    students = classroom.collect(course, A, folder, profile=None, skipped=skipped)
    assert sorted(students) == ["ana", "bo", "eve@uni.edu", "jane@uni.edu"]
    submitted = sorted(
        p.relative_to(course / "submitted").as_posix()
        for p in (course / "submitted").rglob("*.ipynb")
    )
    assert submitted == [f"{s}/{A}/{A}.ipynb" for s in sorted(students)]
    graded = nbformat.read(course / "submitted" / "bo" / A / f"{A}.ipynb", as_version=4)
    assert graded.cells[0].source == f"# bo/Copy of {A} (1).ipynb"  # bo's own, renamed back
    assert len(skipped) == 5


def test_collect_in_place_keeps_nbgraders_ids_and_files(tmp_path):
    """After `nbgrader collect`: grade `submitted/` where it is, `@` in the id included."""
    course = _course(tmp_path)
    jane = course / "submitted" / "jane@uni.edu"
    _notebook(jane / A / f"{A}.ipynb", "jane")
    (jane / A / "timestamp.txt").write_text("2027-10-01 12:00:00.000000 UTC")
    _notebook(jane / B / f"{B}.ipynb", "jane")  # her other assignment: left alone
    skipped: list[str] = []
    students = classroom.collect(course, A, course / "submitted", profile=None, skipped=skipped)
    assert students == ["jane@uni.edu"] and skipped == []
    assert sorted(p.name for p in (course / "submitted").iterdir()) == ["jane@uni.edu"]
    assert (jane / A / "timestamp.txt").exists()
    assert (jane / B / f"{B}.ipynb").exists()


def test_a_later_batch_replaces_the_notebook_and_keeps_nbgraders_files(tmp_path):
    course = _course(tmp_path)
    ana = course / "submitted" / "ana" / A
    _notebook(ana / f"{A}.ipynb", "ana, first batch")
    (ana / "timestamp.txt").write_text("2027-10-01 12:00:00.000000 UTC")
    (ana / "submission_secret.txt").write_text("secret")
    _notebook(tmp_path / "late" / "ana" / f"{A}.ipynb", "ana, second batch")
    classroom.collect(course, A, tmp_path / "late", profile=None)
    graded = nbformat.read(ana / f"{A}.ipynb", as_version=4)
    assert graded.cells[0].source == "# ana, second batch"
    assert (ana / "timestamp.txt").read_text().startswith("2027-10-01")
    assert (ana / "submission_secret.txt").exists()
    assert sorted(p.name for p in ana.glob("*.ipynb")) == [f"{A}.ipynb"]


def test_collect_without_any_submission_says_what_it_found(tmp_path, capsys):
    course = _course(tmp_path)
    _notebook(tmp_path / "submissions" / "ana" / f"{B}.ipynb")
    code = classroom.main(
        [
            "--course",
            str(course),
            "autograde",
            "03",
            str(tmp_path / "submissions"),
            "--profile",
            "as-submitted",
        ]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert f"Expected notebooks of {A}" in err and f"ana/{B}.ipynb: not a notebook of {A}" in err
