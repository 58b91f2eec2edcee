"""Tests of course_lib.training: the sample monitor and resumable training."""

import keras
import numpy as np
import pytest
from matplotlib.figure import Figure

from course_lib.models.gan import GAN, build_dcgan_discriminator, build_dcgan_generator
from course_lib.plotting import gan_curves, sample_progression
from course_lib.training import (
    EpochEvaluation,
    SampleGridMonitor,
    SimulatedInterruption,
    TrainingInterrupted,
    checkpoint_directory,
    clear_checkpoints,
    fit_resumable,
    read_history,
)

EPOCHS = 4
STEPS_PER_EPOCH = 3


def _gan():
    keras.utils.set_random_seed(0)
    model = GAN(
        build_dcgan_generator(8, base_filters=4), build_dcgan_discriminator(base_filters=4), seed=0
    )
    model.compile(keras.optimizers.Adam(1e-3, beta_1=0.5), keras.optimizers.Adam(1e-3, beta_1=0.5))
    return model


@pytest.fixture
def images(tiny_digits):
    # 48 images in [-1, 1]: 3 batches of 16, in a fixed order so runs can be compared.
    return tiny_digits[0][:48] * 2 - 1


class _StateAtStart(keras.callbacks.Callback):
    """Record optimizer iterations and weights when the (resumed) training begins."""

    def on_train_begin(self, logs=None):
        self.d_iterations = int(self.model.d_optimizer.iterations)
        self.g_iterations = int(self.model.g_optimizer.iterations)
        self.d_optimizer_state = [v.numpy().copy() for v in self.model.d_optimizer.variables]
        self.g_weights = [w.copy() for w in self.model.generator.get_weights()]


def test_resume_restores_weights_and_both_optimizers_exactly(images, tmp_path):
    folder = tmp_path / "checkpoints"
    fit_args = {"batch_size": 16, "shuffle": False}

    # A run that "crashes" after 2 of 4 epochs.
    model = _gan()
    with pytest.raises(TrainingInterrupted):
        fit_resumable(
            model, images, EPOCHS, folder, callbacks=[SimulatedInterruption(2)], **fit_args
        )
    saved_d_state = [v.numpy().copy() for v in model.d_optimizer.variables]
    saved_g_weights = [w.copy() for w in model.generator.get_weights()]
    assert int(model.d_optimizer.iterations) == 2 * STEPS_PER_EPOCH

    # A fresh process would build a new model: it must continue from epoch 2, not 0.
    resumed = _gan()
    probe = _StateAtStart()
    history = fit_resumable(resumed, images, EPOCHS, folder, callbacks=[probe], **fit_args)
    assert probe.d_iterations == 2 * STEPS_PER_EPOCH
    assert probe.g_iterations == 2 * STEPS_PER_EPOCH
    for restored, saved in zip(probe.d_optimizer_state, saved_d_state, strict=True):
        np.testing.assert_array_equal(restored, saved)
    for restored, saved in zip(probe.g_weights, saved_g_weights, strict=True):
        np.testing.assert_array_equal(restored, saved)
    assert int(resumed.g_optimizer.iterations) == EPOCHS * STEPS_PER_EPOCH
    # The history covers the whole run, the epochs before the interruption included.
    assert len(history.history["d_loss"]) == EPOCHS
    assert all(np.isfinite(history.history["g_loss"]))
    assert read_history(folder) == history.history

    # Calling again with the same number of epochs trains no further.
    again = _gan()
    fit_resumable(again, images, EPOCHS, folder, **fit_args)
    assert int(again.d_optimizer.iterations) == EPOCHS * STEPS_PER_EPOCH

    clear_checkpoints(folder)
    assert not folder.exists()


def test_monitor_keeps_fixed_noise_samples_and_figures(images):
    model = _gan()
    monitor = SampleGridMonitor(num_images=6, seed=3)
    history = model.fit(images, epochs=3, batch_size=16, verbose=0, callbacks=[monitor])
    assert monitor.epochs == [1, 2, 3]
    assert [im.shape for im in monitor.images] == [(6, 28, 28, 1)] * 3
    assert not np.allclose(monitor.images[0], monitor.images[-1])  # the generator learned
    # A new monitor with the same seed (e.g. after a resume) uses the same noise.
    again = SampleGridMonitor(num_images=6, seed=3)
    again.set_model(model)
    again.on_train_begin()
    np.testing.assert_array_equal(again.noise, monitor.noise)
    # The monitor and the history are what course_lib.plotting's GAN figures read.
    fig = sample_progression(monitor, num_images=4)
    assert isinstance(fig, Figure) and len(fig.axes) == 3 * 4
    curves = gan_curves(history)
    assert len(curves.axes) == 2
    assert len(gan_curves(history, output_keys=()).axes) == 1


def test_epoch_evaluation_measures_every_few_epochs_and_after_the_last(images):
    model = _gan()
    calls = []

    def mean_sample(gan):
        calls.append(int(gan.g_optimizer.iterations))
        return float(np.mean(gan.sample(4, seed=0)))

    monitor = EpochEvaluation(mean_sample, every_epochs=2)
    model.fit(images, epochs=5, batch_size=16, verbose=0, callbacks=[monitor])
    assert monitor.epochs == [2, 4, 5]
    assert calls == [6, 12, 15]  # after the 2nd, 4th and 5th epochs of 3 steps
    assert len(set(monitor.values)) == 3 and all(0 <= v <= 1 for v in monitor.values)
    with pytest.raises(ValueError, match="Expected `evaluate` to be a function"):
        EpochEvaluation(3.0)


def test_checkpoint_directory_is_local_off_colab(tmp_path, capsys):
    folder = checkpoint_directory(tmp_path, name="dcgan", use_drive=True)
    assert folder == tmp_path / "dcgan" and folder.is_dir()
    assert "Not on Colab" in capsys.readouterr().out


def test_bad_arguments_are_refused(images, tmp_path):
    with pytest.raises(ValueError, match=r"positive integer. Received: num_images=0"):
        SampleGridMonitor(num_images=0)
    with pytest.raises(ValueError, match=r"one label per image. Received: num_images=4 and 3"):
        SampleGridMonitor(num_images=4, labels=[0, 1, 2])
    with pytest.raises(ValueError, match=r"Received: epochs=0"):
        fit_resumable(_gan(), images, 0, tmp_path)
    with pytest.raises(ValueError, match=r"Expected no `initial_epoch`.*Received: initial_epoch=2"):
        fit_resumable(_gan(), images, 3, tmp_path, initial_epoch=2)
