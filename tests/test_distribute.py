"""`course_lib.distribute` and the course's models under `tf.distribute`.

The equivalence checks split the CPU into two logical devices, which TensorFlow
allows only before it makes its devices, so each runs in a fresh process
(`tests/distribute_checks.py`) and returns its numbers as JSON. What they
compare, for every family (autoencoder, VAE, CVAE, GAN, conditional GAN,
WGAN-GP, autoregressive, diffusion): one epoch (4 steps, global batch 16, 64
tiny examples) on one device against the same epoch on a `MirroredStrategy`
over two logical CPUs (8 examples per replica), from the same initial weights:

- the epoch's losses and metrics, to a relative 1e-5, and every weight
  (batch-norm statistics, the GAN's weight average and counters included) to
  an absolute 1e-5; measured differences are at most 2.4e-7, float32 rounding
  of sums taken in another order. Training moves the weights by far more
  (checked), so agreement is not agreement of untrained weights.
- that the replicas' copies of every variable are identical after training.

The noise: one device draws noise for its batch of 16; each replica draws
its own. Equality with one device needs the same noise, so in these checks
each replica is given the rows of the global draw that belong to its 8
examples (`distribute_checks.global_noise`). What is compared is therefore the
loss reduction, the all-reduce of the gradients, batch normalisation and the
optimizers, the parts that are the same whatever the noise. What the models'
noise really does on two replicas (differs between replicas, repeats on a
seeded rerun, equals the old numbers on one device) is checked separately.

Plain SGD: its step is proportional to the gradient, so a loss reduced the
wrong way shows in the weights (Adam's step is almost scale-free and would hide
it). Two checks show that the comparison can fail: the per-replica mean
differentiated as it is (twice the global gradient), and batch normalisation
left per replica; both move the weights far outside the tolerance.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_lib import distribute

REPO = Path(__file__).resolve().parents[1]
WEIGHT_TOLERANCE = 1e-5
LOSS_RTOL = 1e-5


def run_check(*args, timeout=240):
    """Run one check of `tests/distribute_checks.py` in a fresh process; its JSON result."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", KERAS_BACKEND="tensorflow")
    env.pop("TF_CONFIG", None)
    done = subprocess.run(
        [sys.executable, "-m", "tests.distribute_checks", *map(str, args)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        pytest.fail(f"check {args} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def assert_same_training(result):
    """One device and two replicas: the same metrics and weights, replicas in step."""
    for name, values in result["history_one"].items():
        np.testing.assert_allclose(
            result["history_two"][name], values, rtol=LOSS_RTOL, err_msg=name
        )
    assert result["weight_difference"] <= WEIGHT_TOLERANCE
    assert result["weight_change"] >= 100 * WEIGHT_TOLERANCE  # training moved the weights
    assert result["replica_spread"] == 0.0


@pytest.mark.parametrize(
    ("families", "wrong_ways"),
    [
        (["autoencoder", "vae", "cvae", "autoregressive", "diffusion"], ["--naive", "autoencoder"]),
        (["gan", "cgan", "wgan"], ["--unsynchronized", "gan"]),
    ],
    ids=["autoencoders-vaes-likelihood", "gans"],
)
def test_two_replicas_train_as_one_device(families, wrong_ways):
    """Every family: the same epoch on one device and on two replicas (see the module's text)."""
    results = run_check("equivalence", *families, *wrong_ways)
    for family in families:
        assert_same_training(results[family])
        batch_norm = results[family]["batch_norm"]
        # Built inside a two-replica scope, every batch normalisation is synchronised.
        assert all(batch_norm.values()), batch_norm
        assert bool(batch_norm) == (family in ("gan", "cgan", "wgan"))
    kind, family = wrong_ways
    wrong = results[family][kind.lstrip("-")]
    # The wrong reduction (or per-replica statistics) is far outside the tolerance.
    assert wrong["weight_difference"] > 100 * WEIGHT_TOLERANCE
    if kind == "--unsynchronized":  # each replica also keeps its own moving statistics
        assert wrong["replica_spread"] > 0.0


def test_replicas_draw_their_own_noise_reproducibly():
    """`ReplicaSeedGenerator`: different noise per replica, the same on a rerun, old numbers alone.

    Also: a plain `SeedGenerator` gives every replica the same noise (why the
    course's models do not use one), and `split_cpu` once TensorFlow has made
    its devices raises an error that says what to do.
    """
    result = run_check("noise")
    replica, again, plain = (np.array(result[k]) for k in ("replica", "replica_again", "plain"))
    # Shapes: (step, replica, 3, 2).
    assert not np.allclose(replica[:, 0], replica[:, 1])  # replicas differ
    assert not np.allclose(replica[0], replica[1])  # steps differ
    np.testing.assert_array_equal(replica, again)  # a rerun with the same seed repeats
    np.testing.assert_array_equal(plain[:, 0], plain[:, 1])  # the mirrored plain generator
    np.testing.assert_array_equal(result["one_device_replica"], result["one_device_plain"])
    assert result["devices"] == ["/device:CPU:0", "/device:CPU:1"]
    assert result["picked"].startswith("MirroredStrategy: 2 replicas")
    assert "before TensorFlow makes its devices" in result["too_late"]
    assert "2 logical CPU device(s)" in result["too_late"]


def test_fit_resumable_and_monitor_under_two_replicas(tmp_path):
    """A GAN on two replicas, interrupted after epoch 1 and resumed by a new model: exact.

    Also: `SampleGridMonitor` keeps its images under the strategy, the
    optimizers' slots are mirrored, and a network built outside the scope is
    refused by `check_model_strategy` with a message.
    """
    result = run_check("resume", tmp_path)
    assert result["difference"] == 0.0
    assert result["history_epochs"] == 2
    assert result["monitor_shapes"] == [[4, 8, 8, 1], [4, 8, 8, 1]]
    assert result["monitor_finite"]
    assert result["slots_mirrored"] == "MirroredVariable"
    assert "inside `with strategy.scope():`" in result["outside_scope_message"]


# --------------------------------------------------------------------------- in this process


def test_one_replica_changes_nothing():
    """Without a strategy the helpers are identities: single-device numbers stay as they were."""
    loss = keras.ops.convert_to_tensor(2.5)
    assert distribute.num_replicas() == 1
    assert distribute.scale_loss_for_replicas(loss) is loss
    seed = keras.ops.convert_to_tensor([3, 4], "int64")
    assert distribute.fold_in_replica(seed) is seed
    logs = {"loss": loss}
    assert distribute.logs_for_fit(logs) is logs
    plain, replica = keras.random.SeedGenerator(5), distribute.ReplicaSeedGenerator(5)
    for _ in range(2):
        np.testing.assert_array_equal(
            keras.random.normal((4,), seed=replica), keras.random.normal((4,), seed=plain)
        )


def test_one_replica_mirrored_strategy_trains_as_no_strategy():
    """A GAN on a one-device `MirroredStrategy` (the notebook's CI case) ends as without one."""
    from tests.distribute_checks import _build, _compile, _data

    x, _ = _data("gan")
    weights = []
    for strategy in (
        tf.distribute.get_strategy(),
        distribute.pick_strategy(mirror_one_device=True),
    ):
        keras.utils.set_random_seed(0)
        with strategy.scope():
            gan = _build("gan")
            _compile(gan, "gan")
        if weights:
            gan.set_weights(weights[0][1])
        start = gan.get_weights()
        gan.fit(x, epochs=1, batch_size=16, shuffle=False, verbose=0)
        weights.append((gan.get_weights(), start))
    for trained, mirrored in zip(weights[0][0], weights[1][0], strict=True):
        np.testing.assert_allclose(mirrored, trained, rtol=0, atol=1e-6)


def test_pick_strategy_on_one_cpu(capsys):
    strategy = distribute.pick_strategy()
    assert strategy.num_replicas_in_sync == 1
    assert "the default strategy: 1 replica" in capsys.readouterr().out
    mirrored = distribute.pick_strategy(mirror_one_device=True, verbose=False)
    assert distribute.describe_strategy(mirrored) == (
        "MirroredStrategy: 1 replica; this process runs CPU:0"
    )


def test_bad_input_is_refused_with_a_message(monkeypatch):
    with pytest.raises(ValueError, match=r"`num_devices` to be a positive integer.*num_devices=0"):
        distribute.split_cpu(0)
    with pytest.raises(ValueError, match="Expected `mirror_one_device` to be True or False"):
        distribute.pick_strategy(mirror_one_device="yes")
    with pytest.raises(ValueError, match=r"Expected a tf.distribute.Strategy\. Received: str"):
        distribute.describe_strategy("mirrored")
    monkeypatch.setenv("TF_CONFIG", "not json")
    with pytest.raises(ValueError, match=r"Expected `TF_CONFIG` to hold JSON.*not json"):
        distribute.pick_strategy()
