"""The main job (tools/run_notebooks.py) on two tiny notebooks: a table, and a failure."""

import nbformat
import pytest

from tools import profiles, run_notebooks


def tiny_notebook(path, body):
    notebook = nbformat.v4.new_notebook()
    parameters = nbformat.v4.new_code_cell('PROFILE = "full"\nSCALE = 2')
    parameters.metadata["tags"] = ["parameters"]
    notebook.cells = [
        parameters,
        nbformat.v4.new_code_cell(
            f"from course_lib.run import start_run\nrun = start_run({path.stem!r}, PROFILE)"
        ),
        nbformat.v4.new_code_cell(body),
    ]
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(notebook, path)


@pytest.mark.notebooks
def test_main_job_prints_a_table_and_fails_on_a_failed_notebook(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    tiny_notebook(folder / "01_good.ipynb", "run.save_metrics(dataset='none', value=SCALE * 1.5)")
    tiny_notebook(folder / "02_bad.ipynb", "raise RuntimeError('broken on purpose')")
    monkeypatch.setattr(run_notebooks, "NOTEBOOKS", folder)
    monkeypatch.setattr(
        profiles,
        "SMOKE",
        {"01_good": {"PROFILE": "smoke", "SCALE": 4}, "02_bad": {"PROFILE": "smoke"}},
    )

    status = run_notebooks.main(["--profile", "smoke", "--output-dir", str(tmp_path / "out")])
    output = capsys.readouterr().out
    assert status == 1
    assert "01_good" in output and "value=6" in output  # the smoke override SCALE=4 was used
    assert "02_bad" in output and "FAILED" in output and "broken on purpose" in output
    assert (tmp_path / "out" / "executed" / "01_good.ipynb").exists()
    assert (tmp_path / "out" / "summary-smoke.txt").read_text().count("\n") == 4


def test_smoke_parameters_must_exist_for_a_notebook():
    with pytest.raises(KeyError, match="add an entry to SMOKE"):
        profiles.parameters_for("99_missing", "smoke")
    with pytest.raises(ValueError, match="Received: profile='fast'"):
        profiles.parameters_for("00_setup_and_tour", "fast")
    assert profiles.parameters_for("00_setup_and_tour", "full") == {"PROFILE": "full"}
