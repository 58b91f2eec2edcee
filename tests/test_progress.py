"""Tests of course_lib.progress: what a learner sees, what stored runs keep, no side effects."""

import io
import types

import keras
import numpy as np
import pytest

from course_lib import progress
from course_lib.progress import progress_bar


def tiny_model(seed=0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)]
    )
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    return model


def tiny_data():
    x = np.random.default_rng(0).random((64, 4), dtype=np.float32)
    return x, x.sum(axis=1)


def fit(model, callbacks, epochs=5, **kwargs):
    x, y = tiny_data()
    return model.fit(
        x, y, epochs=epochs, batch_size=16, validation_data=(x, y), verbose=0,
        callbacks=callbacks, **kwargs,
    )  # fmt: skip


def test_bar_reports_epochs_losses_and_time_left():
    stream = io.StringIO()
    fit(tiny_model(), [progress_bar(mode="bar", file=stream, mininterval=0)])
    text = stream.getvalue()
    assert "5/5" in text  # epochs done of the total
    assert "4/4" in text  # batches of the last epoch
    for key in ("loss=", "mae=", "val_loss=", "val_mae="):
        assert key in text
    assert "<" in text  # tqdm's "elapsed<remaining"


def test_line_is_one_line_with_epochs_and_each_loss(capsys):
    history = fit(tiny_model(), [progress_bar(mode="line", desc="tiny")])
    out, err = capsys.readouterr()
    assert err == ""
    assert len(out.splitlines()) == 1, out
    line = out.strip()
    assert line.startswith("tiny: epochs 1-5 of 5 in ")
    last = history.history["loss"][-1]
    assert f"loss {history.history['loss'][0]:.4g} -> {last:.4g}" in line
    assert "val_loss" in line and "val_mae" in line


def test_a_run_split_over_fit_calls_gives_one_line(capsys):
    model, callback = tiny_model(), progress_bar(4, mode="line")
    fit(model, [callback], epochs=2)
    assert capsys.readouterr().out == ""
    fit(model, [callback], epochs=4, initial_epoch=2)
    out = capsys.readouterr().out
    assert out.startswith("epochs 1-4 of 4 in ") and len(out.splitlines()) == 1


def test_one_callback_reused_for_a_second_run_counts_it_afresh(capsys):
    model, callback = tiny_model(), progress_bar(mode="line")
    fit(model, [callback], epochs=3)
    fit(model, [callback], epochs=1)
    first, second = capsys.readouterr().out.splitlines()
    assert first.startswith("epochs 1-3 of 3 in ") and second.startswith("epoch 1 of 1 in ")


def test_early_stopping_ends_the_line_and_says_where():
    model, callback = tiny_model(), progress_bar(50, mode="line")
    stopper = keras.callbacks.EarlyStopping(monitor="loss", min_delta=1e9, patience=0)
    fit(model, [stopper, callback], epochs=50)
    assert callback.summary().startswith("epochs 1-2 of 50 in ")


@pytest.mark.parametrize("mode", ["bar", "line"])
def test_training_results_are_the_same_with_and_without_it(mode):
    reference = tiny_model(seed=3)
    fit(reference, [])
    watched = tiny_model(seed=3)
    fit(watched, [progress_bar(mode=mode, file=io.StringIO())])
    for expected, actual in zip(reference.get_weights(), watched.get_weights(), strict=True):
        np.testing.assert_array_equal(actual, expected)


@pytest.mark.parametrize(
    ("environment", "kernel", "expected"),
    [
        ({"COURSE_PROGRESS": "bar", "CI": "true"}, None, "bar"),
        ({"COURSE_PROGRESS": "line"}, types.SimpleNamespace(_allow_stdin=True), "line"),
        ({"CI": "true"}, types.SimpleNamespace(_allow_stdin=True), "line"),
        ({}, types.SimpleNamespace(_allow_stdin=True), "bar"),  # JupyterLab, VS Code
        ({}, types.SimpleNamespace(_allow_stdin=False), "line"),  # papermill, nbconvert, nbval
        ({}, None, "line"),  # a plain process whose output goes to a file (pytest captures it)
    ],
)
def test_automatic_mode(monkeypatch, environment, kernel, expected):
    for name in ("COURSE_PROGRESS", "CI"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(progress, "_jupyter_kernel", lambda: kernel)
    assert progress_bar().mode == expected


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"epochs": 0}, "Received: epochs=0"),
        ({"epochs": 2.5}, "Received: epochs=2.5"),
        ({"mode": "widget"}, "Received: mode='widget'"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        progress_bar(**kwargs)


def test_bad_environment_variable_is_named(monkeypatch):
    monkeypatch.setenv("COURSE_PROGRESS", "loud")
    with pytest.raises(ValueError, match="COURSE_PROGRESS='loud'"):
        progress_bar()


@pytest.mark.notebooks
def test_a_notebook_run_by_papermill_stores_one_short_line(monkeypatch, tmp_path):
    """In a real kernel driven as papermill drives it, a 5-epoch fit leaves one line, no widget."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    for name in ("COURSE_PROGRESS", "CI"):
        monkeypatch.delenv(name, raising=False)  # the kernel inherits the environment
    source = "\n".join(
        [
            "import numpy as np, keras",
            "from course_lib.progress import progress_bar",
            "model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])",
            "model.compile(optimizer='adam', loss='mse')",
            "x = np.ones((64, 4), 'float32')",
            "_ = model.fit(x, x.sum(1), epochs=5, verbose=0, callbacks=[progress_bar()])",
        ]
    )
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    nbclient.NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    ).execute()
    outputs = notebook.cells[0].outputs
    stdout = "".join(o.get("text", "") for o in outputs if o.get("name") == "stdout")
    assert len(stdout.splitlines()) == 1, stdout
    assert stdout.startswith("epochs 1-5 of 5 in ") and "loss" in stdout
    assert not [
        o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
    ]
