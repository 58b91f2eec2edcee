"""The course's nbgrader settings, shared by `tools/classroom.py` and any course folder.

`python tools/classroom.py prepare` writes a course folder's
`nbgrader_config_course.py`, which applies these settings, and has the folder's
own `nbgrader_config.py` load it (`load_subconfig("nbgrader_config_course.py")`,
appended once; your `course_id` and exchange settings stay). Any other
`nbgrader_config.py` can apply them directly:

    import sys
    sys.path.insert(0, "/path/to/image-synthesis")  # this repository
    from tools.nbgrader_config import configure

    configure(get_config())

Only nbgrader's own process imports this module (it needs nbconvert and nbgrader,
both in the `dev` extra); learners never do.
"""

from __future__ import annotations

from nbconvert.preprocessors import Preprocessor

# The stub that replaces a solution region in the student version. `pass` keeps
# an emptied function body (or an emptied top-level region) valid Python, so the
# student notebook runs top to bottom; nbgrader's default stub raises
# NotImplementedError, which would stop "Run all" at the first exercise.
CODE_STUB = "# YOUR CODE HERE\npass  # replace this line with your answer"
TEXT_STUB = "YOUR ANSWER HERE"


class HideHiddenTests(Preprocessor):
    """Feedback without the hidden tests: their code goes, a failure keeps only its message.

    nbgrader puts the hidden tests back to grade, and its feedback would show
    them (their code, and the failing line in the traceback). The messages of
    the course's checks are written to help without giving the answer away, so
    they stay.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.enabled = True  # nbconvert skips preprocessors that are not enabled

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or "BEGIN HIDDEN TESTS" not in cell.source:
            return cell, resources
        kept, hidden = [], False
        for line in cell.source.split("\n"):
            if "BEGIN HIDDEN TESTS" in line:
                hidden = True
                kept.append(line.replace("BEGIN HIDDEN TESTS", "(hidden tests ran here)"))
            elif "END HIDDEN TESTS" in line:
                hidden = False
            elif not hidden:
                kept.append(line)
        cell.source = "\n".join(kept)
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["traceback"] = [f"{output['ename']}: {output['evalue']}"]
        return cell, resources


def configure(c, *, timeout: int = 900) -> None:
    """Apply the course's settings to an nbgrader config object `c`.

    Args:
        c: the config of an `nbgrader_config.py` (`get_config()`).
        timeout: seconds a cell may run when autograding.
    """
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from nbgrader.preprocessors import GetGrades

    c.ClearSolutions.code_stub = {"python": CODE_STUB}
    c.ClearSolutions.text_stub = TEXT_STUB
    # nbgrader's default, 30 s a cell, is too short for the training cells.
    c.Execute.timeout = int(timeout)
    # nbgrader scores a test cell 0 if it wrote anything to stderr, and TensorFlow
    # and Python warnings do: drop stderr from graded cells, so only a failed check costs.
    c.IgnorePattern.enabled = True
    c.IgnorePattern.pattern = r"[\s\S]"
    # A check cell the student deleted is put back (and run) before grading.
    c.OverwriteCells.add_missing_cells = True
    # The HTML feedback students get back must not reveal the hidden tests.
    c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, CSSHTMLHeaderPreprocessor]
