"""The live course in JupyterLab, driven through headless Chromium (marked `browser`).

A JupyterLab server on 127.0.0.1 (a free port, a token, no browser of its own) opens
a small notebook that uses the course's explorers on a cheap decoder and trains a tiny
model with `progress_bar()`. The test moves a slider and checks the decoded image
changes, that no widget or kernel error is shown, and that the progress bar appears
as a widget and counts every epoch. Skipped, saying why, without /usr/bin/chromium,
playwright or JupyterLab. The server and its kernel are stopped at the end.
"""

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import CHROMIUM, CHROMIUM_ARGS

EPOCHS = 12


def _missing() -> str:
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    for module, what in (("playwright.sync_api", "playwright"), ("jupyterlab", "jupyterlab")):
        try:
            __import__(module)
        except ImportError:
            return f"{what} is not installed (pip install -e '.[dev]')"
    return ""


pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(bool(_missing()), reason=_missing() or "-"),
]

CELLS = [
    # A decoder that costs nothing: two fixed patterns mixed by the code.
    """import numpy as np
from course_lib.widgets import interpolation_explorer, latent_explorer

patterns = np.random.default_rng(0).normal(size=(2, 28, 28)).astype("float32")


def decode(codes):
    mixed = np.tensordot(np.asarray(codes, "float32"), patterns, axes=1)
    return (1 / (1 + np.exp(-mixed)))[..., None]


def encode(images):
    return np.asarray(images, "float32").reshape(len(images), -1)[:, :2]


latent_explorer(decode, latent_dim=2, extent=3.0)""",
    "interpolation_explorer(encode, decode, decode(np.eye(2) * 2))",
    # A short training run, slowed a little so the bar is seen while it moves.
    f"""import time

import keras

from course_lib.progress import progress_bar

model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
pause = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: time.sleep(0.5))
x = np.ones((64, 4), "float32")
_ = model.fit(x, x.sum(1), epochs={EPOCHS}, verbose=0, callbacks=[pause, progress_bar()])
print("trained")""",
    'import ipywidgets\n\nprint("kernel ipywidgets", ipywidgets.__version__)',
]


def _kernel_python() -> Path:
    """The kernel's Python: COURSE_LAB_KERNEL_PYTHON if set, else this one.

    Pointed at .venv-colab's Python (ipywidgets 7.7.1, as on Colab), this test fails:
    JupyterLab 4's widget manager (ipywidgets 8) shows "Click to show javascript
    error" for every widget of a 7.x kernel, the explorers and tqdm's bar alike.
    ipywidgets 7 needs JupyterLab 3 with jupyterlab_widgets 1, or Colab's own
    frontend, which renders its ipywidgets 7.7.1 natively.
    """
    return Path(os.environ.get("COURSE_LAB_KERNEL_PYTHON") or sys.executable)


def _kernel_ipywidgets() -> str:
    done = subprocess.run(
        [str(_kernel_python()), "-c", "import ipywidgets; print(ipywidgets.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on a notebook folder: (base URL, token); stopped afterwards."""
    nbformat = pytest.importorskip("nbformat")
    root = tmp_path_factory.mktemp("lab")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    # With a kernelspec, JupyterLab starts the kernel without asking which one: ours, in
    # KERNEL_PYTHON (this Python, or Colab's pinned versions: see _kernel_python).
    spec = {"name": "course", "display_name": "Python 3 (course)", "language": "python"}
    nb.metadata["kernelspec"] = spec
    nbformat.write(nb, root / "live.ipynb")
    kernel = root / ".data" / "kernels" / "course"
    kernel.mkdir(parents=True)
    argv = [str(_kernel_python()), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (kernel / "kernel.json").write_text(json.dumps({**spec, "argv": argv}))
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ)
    # Someone is watching here: a CI=... inherited from the caller would choose the line.
    for name in ("CI", "COURSE_PROGRESS"):
        env.pop(name, None)
    env.update(
        JUPYTER_CONFIG_DIR=str(root / ".config"),
        JUPYTER_DATA_DIR=str(root / ".data"),
        JUPYTERLAB_WORKSPACES_DIR=str(root / ".workspaces"),
        TF_CPP_MIN_LOG_LEVEL="2",
    )
    log = open(root / "server.log", "w")  # closed when the server has stopped
    server = subprocess.Popen(
        [
            sys.executable, "-m", "jupyter", "lab", "--no-browser",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
            f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
            "--ServerApp.allow_root=True",  # CI runs as root
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{base}api/status?token={token}", timeout=2).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail("JupyterLab did not start:\n" + (root / "server.log").read_text())
                time.sleep(0.5)
        yield base, token
    finally:
        _stop(server)
        log.close()


def _stop(server):
    """Stop the server and the kernel it started (its own process group)."""
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=15)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
    server.wait()


def test_explorers_respond_and_the_progress_bar_shows_in_jupyterlab(lab):
    from playwright.sync_api import expect, sync_playwright

    base, token = lab
    started = time.monotonic()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            page.set_default_timeout(60_000)
            page.goto(f"{base}lab/tree/live.ipynb?token={token}")
            page.locator(".jp-Notebook .jp-Cell").first.wait_for()
            # Cells run before the kernel is connected are dropped: wait for it.
            expect(page.locator(".jp-StatusBar-TextItem", has_text="| Idle")).to_be_visible()
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()

            cells = page.locator(".jp-Notebook .jp-CodeCell")
            explorer = cells.nth(0).locator(".jp-OutputArea-output")
            image = explorer.locator("img").first
            image.wait_for()
            expect(cells.nth(1).locator(".widget-slider").first).to_be_visible()
            before = image.get_attribute("src")
            # The kernel answers the sliders between cells: first let the training run.
            cells.nth(2).scroll_into_view_if_needed()
            training = cells.nth(2).locator(".jp-OutputArea")
            bar = training.locator(".widget-hprogress").first  # tqdm's ipywidgets bar
            expect(bar).to_be_visible(timeout=120_000)
            assert "trained" not in training.inner_text(), "the bar came only after training"
            expect(training).to_contain_text("trained", timeout=120_000)
            expect(training).to_contain_text(f"{EPOCHS}/{EPOCHS} [")  # epochs done, time, rate
            expect(training).to_contain_text("loss=")
            expect(training).not_to_contain_text("epochs 1-")  # not the stored runs' line

            # Drag z[0]'s handle most of the way to the right, as a learner would.
            handle = explorer.locator(".widget-slider .noUi-handle").first
            track = explorer.locator(".widget-slider .noUi-target").first
            start, end = handle.bounding_box(), track.bounding_box()
            y = start["y"] + start["height"] / 2
            page.mouse.move(start["x"] + start["width"] / 2, y)
            page.mouse.down()
            page.mouse.move(end["x"] + 0.9 * end["width"], y, steps=10)
            page.mouse.up()
            expect(explorer.locator(".widget-readout").first).not_to_have_text("0.00")
            expect(image).not_to_have_attribute("src", before)

            version = _kernel_ipywidgets()
            expect(cells.nth(3)).to_contain_text(f"kernel ipywidgets {version}")
            outputs = page.locator(".jp-Notebook .jp-OutputArea").all_inner_texts()
            shown = "\n".join(outputs)
            for sign in ("Error displaying widget", "Traceback", "Error:"):
                assert sign not in shown, shown
            name = f"jupyterlab_live_ipywidgets{version.split('.')[0]}.png"
            page.screenshot(path=str(_screenshot_folder() / name))
        except Exception:
            page.screenshot(path=str(_screenshot_folder() / "jupyterlab_failed.png"))
            raise
        finally:
            browser.close()
    assert time.monotonic() - started < 240


def _screenshot_folder() -> Path:
    folder = Path(__file__).resolve().parents[1] / "outputs" / "site-screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
