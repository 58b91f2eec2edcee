"""Exact resumption: a run killed mid-epoch and resumed in a new process equals one never stopped.

The main test trains a small DCGAN in subprocesses: one runs uninterrupted, one
is killed with SIGKILL in the middle of its third epoch and then resumed by a
new process; every weight, both optimizers' state and the noise generator's
state must then be equal bit for bit (CPU, deterministic ops).
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest

from course_lib.models.gan import GAN, build_dcgan_discriminator, build_dcgan_generator
from course_lib.training import fit_resumable, read_history

REPO = Path(__file__).resolve().parents[1]

# The training script of the subprocesses: argv = folder, output .npz, and the
# (0-based) epoch and batch at which to freeze and wait to be killed (-1: never).
TRAIN_SCRIPT = """
import os, sys, time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from course_lib.data import make_tf_dataset
from course_lib.models.gan import GAN, build_dcgan_discriminator, build_dcgan_generator
from course_lib.training import fit_resumable

folder, out, freeze_epoch, freeze_batch = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:5])
tf.config.threading.set_intra_op_parallelism_threads(1)  # two runs share the CPU
tf.config.experimental.enable_op_determinism()
keras.utils.set_random_seed(0)
images = np.random.default_rng(0).uniform(-1, 1, (256, 28, 28, 1)).astype("float32")
dataset = make_tf_dataset(images, batch_size=32, seed=0, drop_remainder=True)
# Width 8; the discriminator's dropout layers own SeedGenerators too, and the generator
# average (ema_decay) is state that must come back as well.
gan = GAN(
    build_dcgan_generator(16, 8),
    build_dcgan_discriminator((28, 28, 1), 8, 0.3),
    seed=0,
    ema_decay=0.99,
)
gan.compile(keras.optimizers.Adam(2e-4, beta_1=0.5), keras.optimizers.Adam(2e-4, beta_1=0.5))


class Freeze(keras.callbacks.Callback):
    # At the chosen batch, tell the test we are mid-epoch, then wait to be killed.
    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == (freeze_epoch, freeze_batch):
            Path(out + ".ready").touch()
            time.sleep(600)


fit_resumable(gan, dataset, 5, folder, callbacks=[Freeze()], verbose=0)
state = {
    "model": gan.variables,  # both networks' weights and every SeedGenerator state
    "d_optimizer": gan.d_optimizer.variables,
    "g_optimizer": gan.g_optimizer.variables,
}
np.savez(out, **{
    f"{name}/{i}/{variable.path}": keras.ops.convert_to_numpy(variable)
    for name, variables in state.items()
    for i, variable in enumerate(variables)
})
"""


def _start(script, folder, out, freeze=(-1, -1)):
    env = dict(os.environ, PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="3")
    command = [sys.executable, str(script), str(folder), str(out), *map(str, freeze)]
    return subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def _finish(process, timeout=240):
    output, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, output[-3000:]


def test_run_killed_mid_epoch_resumes_bit_for_bit(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(TRAIN_SCRIPT)
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    uninterrupted = _start(script, whole, tmp_path / "whole.npz")
    # Frozen after batch 4 of 8 of the third epoch (0-based epoch 2, batch 3).
    killed = _start(script, broken, tmp_path / "broken.npz", freeze=(2, 3))
    ready = tmp_path / "broken.npz.ready"
    deadline = time.monotonic() + 240
    while not ready.exists():
        if killed.poll() is not None:
            pytest.fail(f"the run to kill ended by itself:\n{killed.communicate()[0][-3000:]}")
        assert time.monotonic() < deadline, "the run to kill never reached its third epoch"
        time.sleep(0.05)
    os.kill(killed.pid, signal.SIGKILL)
    killed.communicate(timeout=60)
    assert killed.returncode == -signal.SIGKILL
    # Two epochs were finished and checkpointed; the third was under way.
    assert sorted(p.name for p in broken.glob("checkpoint-*")) == [
        "checkpoint-0001",
        "checkpoint-0002",
    ]

    resumed = _start(script, broken, tmp_path / "broken.npz")  # a new process
    _finish(uninterrupted)
    _finish(resumed)

    expected = np.load(tmp_path / "whole.npz")
    actual = np.load(tmp_path / "broken.npz")
    assert sorted(actual.files) == sorted(expected.files)
    assert any("seed_generator" in name for name in expected.files)
    differences = {
        name: float(np.max(np.abs(actual[name].astype(float) - expected[name].astype(float))))
        for name in expected.files
    }
    assert max(differences.values()) == 0.0, {k: d for k, d in differences.items() if d}
    # The resumed run's log holds every epoch, with the uninterrupted run's metrics.
    assert read_history(broken) == read_history(whole)
    assert len(read_history(whole)["d_loss"]) == 5


# --------------------------------------------------------------------------- damaged checkpoints


def _gan():
    keras.utils.set_random_seed(0)
    model = GAN(build_dcgan_generator(8, 4), build_dcgan_discriminator((28, 28, 1), 4), seed=0)
    model.compile(keras.optimizers.Adam(1e-3, beta_1=0.5), keras.optimizers.Adam(1e-3, beta_1=0.5))
    return model


class _IterationsAtStart(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.iterations = int(self.model.d_optimizer.iterations)


def test_damaged_or_half_written_checkpoints_are_never_loaded(tiny_digits, tmp_path, capsys):
    images = tiny_digits[0][:32] * 2 - 1  # 2 batches of 16: 2 steps per epoch
    fit_args = {"batch_size": 16, "shuffle": False, "verbose": 0}
    folder = tmp_path / "checkpoints"
    fit_resumable(_gan(), images, 3, folder, **fit_args)
    # Only the newest two are kept: one to load, one to fall back on.
    assert sorted(p.name for p in folder.iterdir() if p.is_dir()) == [
        "checkpoint-0002",
        "checkpoint-0003",
    ]
    # A process killed while writing leaves a ".partial" folder: garbage, never loaded.
    partial = folder / "checkpoint-0004.partial"
    partial.mkdir()
    (partial / "model.weights.h5").write_bytes(b"\x89HDF\r\n half of a file")
    # The newest finished checkpoint is damaged (e.g. a half-synced copy on a network drive).
    newest = folder / "checkpoint-0003" / "model.weights.h5"
    newest.write_bytes(newest.read_bytes()[:1000])
    # The log's last row was being written when the process died.
    log = folder / "history.csv"
    log.write_text(log.read_text() + "3,0.69")
    assert len(read_history(folder)["d_loss"]) == 3
    capsys.readouterr()

    probe = _IterationsAtStart()
    fit_resumable(_gan(), images, 3, folder, callbacks=[probe], **fit_args)
    printed = capsys.readouterr().out
    assert "checkpoint-0004.partial" in printed and not partial.exists()
    assert "Skipping the damaged checkpoint" in printed and "checkpoint-0003" in printed
    assert probe.iterations == 2 * 2  # resumed from checkpoint-0002, the last intact one
    assert len(read_history(folder)["d_loss"]) == 3

    # With no intact checkpoint left, training starts from scratch, and says so.
    for weights in folder.glob("checkpoint-*/model.weights.h5"):
        weights.write_bytes(b"garbage")
    probe = _IterationsAtStart()
    fit_resumable(_gan(), images, 1, folder, callbacks=[probe], **fit_args)
    assert "starts from scratch" in capsys.readouterr().out
    assert probe.iterations == 0


@pytest.mark.filterwarnings("ignore:Skipping nested container")
def test_checkpoint_of_another_model_is_refused(tiny_digits, tmp_path):
    images = tiny_digits[0][:16] * 2 - 1
    fit_resumable(_gan(), images, 1, tmp_path, batch_size=16, shuffle=False, verbose=0)
    keras.utils.set_random_seed(0)
    wider = GAN(build_dcgan_generator(8, 8), build_dcgan_discriminator((28, 28, 1), 8), seed=0)
    wider.compile(keras.optimizers.Adam(), keras.optimizers.Adam())
    with pytest.raises(ValueError, match="Expected a checkpoint written by this model"):
        fit_resumable(wider, images, 2, tmp_path, batch_size=16, shuffle=False, verbose=0)
    unbuilt = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(1)])
    unbuilt.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match="Expected a built model"):
        fit_resumable(unbuilt, images, 2, tmp_path, verbose=0)
