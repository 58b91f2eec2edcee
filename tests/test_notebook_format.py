"""The notebooks as stored in git: clean, one literal parameters cell, smoke overrides that
match it, the house skeleton's Colab cells, and badges that point at the notebook itself."""

import ast
import json
import re
from pathlib import Path

import pytest

from tools.profiles import SMOKE, parameters_for

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
BADGE = re.compile(
    r"https://colab\.research\.google\.com/github/[\w.-]+/[\w.-]+/blob/[\w.-]+/([\w./-]+\.ipynb)"
)
ALLOWED_METADATA = {"kernelspec", "language_info"}


def load(path):
    return json.loads(path.read_text())


def parameters_cell(notebook):
    cells = [c for c in notebook["cells"] if "parameters" in c["metadata"].get("tags", [])]
    assert len(cells) == 1, f"expected exactly one cell tagged 'parameters', found {len(cells)}"
    return "".join(cells[0]["source"])


def parameter_values(source):
    """The parameters cell as a dict; fails unless every statement is `NAME = literal`."""
    values = {}
    for node in ast.parse(source).body:
        assert isinstance(node, ast.Assign) and len(node.targets) == 1, (
            f"line {node.lineno}: the parameters cell may hold only `NAME = literal` lines"
        )
        name = node.targets[0].id
        assert name.isupper(), f"parameter {name} should be ALL_CAPS"
        values[name] = ast.literal_eval(node.value)  # raises for anything but a literal
    return values


def test_there_are_notebooks():
    assert NOTEBOOKS and NOTEBOOKS[0].name == "00_setup_and_tour.ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_clean(path):
    notebook = load(path)
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [], f"cell {index} has stored outputs"
            assert cell.get("execution_count") is None, f"cell {index} has an execution count"
        extra = set(cell["metadata"]) - {"tags"}
        assert not extra, f"cell {index} has volatile metadata {extra}"
    assert set(notebook["metadata"]) <= ALLOWED_METADATA, set(notebook["metadata"])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_are_literals_and_smoke_overrides_exist(path):
    values = parameter_values(parameters_cell(load(path)))
    assert values.get("PROFILE") == "full", "the literal defaults are the full profile"
    smoke = parameters_for(path.stem, "smoke")
    assert smoke.get("PROFILE") == "smoke"
    unknown = set(smoke) - set(values)
    assert not unknown, f"tools/profiles.py overrides parameters the notebook lacks: {unknown}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_skeleton_badge_and_colab_cell(path):
    cells = load(path)["cells"]
    title = "".join(cells[0]["source"])
    assert title.startswith(f"# {path.stem[:2]} · "), "first cell: '# NN · Title'"
    badges = BADGE.findall(title)
    assert badges == [f"notebooks/{path.name}"], f"the badge must point at this file: {badges}"
    sources = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    assert any('if "google.colab" in sys.modules:' in s and "%pip install" in s for s in sources)
    headings = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    for heading in ("## Exercises", "## Summary", "## Further reading"):
        assert heading in headings, f"missing section {heading!r}"


def test_every_smoke_entry_has_a_notebook():
    assert set(SMOKE) == {p.stem for p in NOTEBOOKS}


def test_readme_badges_point_at_existing_notebooks():
    readme = (REPO / "README.md").read_text()
    linked = set(BADGE.findall(readme))
    assert linked == {f"notebooks/{p.name}" for p in NOTEBOOKS}
