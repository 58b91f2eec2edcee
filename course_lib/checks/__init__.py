"""The checks of the notebooks' exercises, one module per chapter.

Each check cell of a notebook calls one function here with the learner's answer
(and the learner's own objects where the expected value depends on a run). The
function computes the reference itself and raises `AssertionError` with a hint
that names the idea, never the expected value, or prints `Correct: ...`. Keeping
the checks here, not in the notebooks, means a handout's check cells hold no
solution, and `tests/test_exercise_checks_*.py` can prove that every check
rejects the wrong answers a learner would plausibly write.

This package is public, like the rest of `course_lib`: a determined student can
read the checks (see docs/instructor-guide.md).
"""
