"""The course report is built from whatever outputs exist and names the missing ones."""

from __future__ import annotations

import json

from tools import course_report


def write_metrics(root, stem, **metrics):
    folder = root / stem
    folder.mkdir(parents=True)
    record = {"notebook": stem, "profile": "full", "wall_seconds": 12.5, "dataset": "mnist: x"}
    record.update(metrics)
    (folder / "metrics.json").write_text(json.dumps(record))
    return folder


def test_report_lists_runs_and_missing_notebooks(tmp_path):
    folder = write_metrics(tmp_path, "06_dcgan", fid=49.48712, fid_floor=4.8761, epochs=40)
    (folder / "samples.npz").write_bytes(b"")
    write_metrics(tmp_path, "08_autoregressive_models", profile="smoke", test_nll_nats=160.0)
    (tmp_path / "09_diffusion_models").mkdir()  # samples but no metrics: a run that failed
    (tmp_path / "09_diffusion_models" / "samples.npz").write_bytes(b"")
    (tmp_path / "03_variational_autoencoders").mkdir()
    (tmp_path / "03_variational_autoencoders" / "metrics.json").write_text("{not json")
    stems = [
        "03_variational_autoencoders",
        "06_dcgan",
        "08_autoregressive_models",
        "09_diffusion_models",
        "10_evaluating_and_comparing",
    ]
    report = course_report.build_report(tmp_path, stems)
    assert "2 of 5 notebooks" in report
    assert "| 06_dcgan | full | 12.5 | mnist | samples.npz | fid=49.49, fid_floor=4.876" in report
    assert "(+1 more in metrics.json)" in report  # epochs is not a headline figure
    assert "test_nll_nats=160" in report
    assert "Mixed profiles" in report
    missing = report.split("## Missing runs")[1]
    for stem in ("03_variational_autoencoders", "09_diffusion_models", "10_evaluating"):
        assert stem in missing
    assert "--profile full --only 09" in missing
    assert "could not be read" in report


def test_main_writes_report_md_even_when_nothing_ran(tmp_path, capsys):
    assert course_report.main(["--output-dir", str(tmp_path)]) == 0
    report = (tmp_path / "report.md").read_text()
    assert report.startswith("# Course report")
    assert "0 of" in report
    assert "--only 00" in report and "--only 10" in report
    assert "wrote" in capsys.readouterr().out
