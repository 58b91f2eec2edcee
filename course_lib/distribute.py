"""Training on several devices with `tf.distribute`: pick a strategy, split a CPU, share a loss.

Taught in notebook 06, section 7 ("Training on several devices"). A *strategy*
runs the same `train_step` on R *replicas* (GPUs, TPU cores, machines), each
on its share of the global batch, and keeps their weights identical: after
each step the optimizer sums the replicas' gradients (an all-reduce) and
applies the sum everywhere. What that asks of the code:

- Build the networks, the model and its optimizers inside `strategy.scope()`
  (their variables are then mirrored on every replica); `fit(batch_size=B)`
  takes `B` as the **global** batch, `B / R` examples per replica.
- A replica's loss is the mean over its `B / R` examples. Summed over the
  replicas, that would be R times the global-batch mean, so every course model
  divides it by R before taking gradients (`scale_loss_for_replicas`), as
  Keras's own compiled losses do.
- Noise: a `keras.random.SeedGenerator` is mirrored too, so every replica would
  draw the *same* noise. The course's models use `ReplicaSeedGenerator`,
  which folds the replica's number into the seed: different noise on each
  replica, the same again on a rerun with the same seed.
- Batch normalisation built inside a scope with several replicas is
  synchronised: its statistics are those of the global batch, as on one device,
  and the replicas' moving averages stay equal.

On one device none of this changes a single number: with one replica the loss
is not divided, the seed not folded and batch normalisation not synchronised.

Known limits. Keras's `Dropout` layers keep their own `SeedGenerator`, so each
replica draws the same dropout mask (on different images). Each replica's mean
counts as `1 / R` of the global mean, which is exact when the global batch
splits evenly. The last, smaller batch of an epoch may not, and a replica left
with no example at all stops training with an error (a convolution's gradient
refuses an empty batch): drop that batch (`make_tf_dataset(...,
drop_remainder=True)`) or give `fit` a multiple of the batch size.

Example:
    >>> strategy = pick_strategy(verbose=False)  # one CPU here: the default strategy
    >>> describe_strategy(strategy)
    'the default strategy: 1 replica on the local device (no distribution)'
    >>> with strategy.scope():  # networks, model and optimizers: all inside
    ...     model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    ...     model.compile(optimizer="sgd", loss="mse")
"""

from __future__ import annotations

import contextlib
import json
import os

import keras
import tensorflow as tf

from course_lib._checks import check_positive_int

__all__ = [
    "ReplicaSeedGenerator",
    "check_model_strategy",
    "describe_strategy",
    "fold_in_replica",
    "logs_for_fit",
    "model_scope",
    "num_replicas",
    "pick_strategy",
    "scale_loss_for_replicas",
    "split_cpu",
]


# --------------------------------------------------------------------------- devices


def split_cpu(num_devices: int) -> list[str]:
    """Split this machine's CPU into `num_devices` logical devices, to try a strategy on a laptop.

    The logical CPUs share the same cores, so nothing runs faster; what it gives
    is a `MirroredStrategy` with several replicas, to check that code which
    runs on several GPUs gives the numbers it gives on one device.

    Call it first, right after the imports: TensorFlow fixes its devices when it
    first uses them (any tensor, model or strategy).

    Args:
        num_devices: how many logical CPU devices (positive).

    Returns:
        The names of the logical CPU devices, e.g. `['/device:CPU:0', '/device:CPU:1']`.

    Raises:
        ValueError: a `num_devices` that is not a positive integer.
        RuntimeError: TensorFlow has already made its devices in this process.

    Example:
        >>> split_cpu(2)  # doctest: +SKIP
        ['/device:CPU:0', '/device:CPU:1']
    """
    num_devices = check_positive_int(num_devices, "num_devices")
    cpu = tf.config.list_physical_devices("CPU")[0]
    configured = tf.config.get_logical_device_configuration(cpu)
    if configured is None or len(configured) != num_devices:
        try:
            tf.config.set_logical_device_configuration(
                cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(num_devices)]
            )
        except RuntimeError as error:
            count = len(tf.config.list_logical_devices("CPU"))
            raise RuntimeError(
                "Expected `split_cpu` to be called before TensorFlow makes its devices: first, "
                "right after the imports, before any tensor, model or strategy (restart the "
                "kernel or the process). Received: a TensorFlow that has made them already, "
                f"with {count} logical CPU device(s)"
            ) from error
    return [device.name for device in tf.config.list_logical_devices("CPU")]


def _tpu_strategy():
    """A `TPUStrategy` when this machine has a TPU (Colab, Kaggle, a Cloud TPU VM), else None."""
    if os.environ.get("COLAB_TPU_ADDR") or os.environ.get("TPU_NAME"):
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()  # a TPU named by the host
    elif tf.config.list_physical_devices("TPU"):
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu="local")  # a TPU VM
    else:
        return None
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    return tf.distribute.TPUStrategy(resolver)


def _num_tasks_in_tf_config() -> int:
    """How many processes (workers and chief) the `TF_CONFIG` variable names; 0 without it."""
    text = os.environ.get("TF_CONFIG")
    if not text:
        return 0
    try:
        cluster = json.loads(text).get("cluster", {})
        return sum(len(cluster.get(role, [])) for role in ("chief", "worker"))
    except (ValueError, AttributeError, TypeError) as error:
        raise ValueError(
            'Expected `TF_CONFIG` to hold JSON like {"cluster": {"worker": ["host:port", ...]}, '
            f'"task": {{"type": "worker", "index": 0}}}}. Received: TF_CONFIG={text!r}'
        ) from error


def pick_strategy(*, mirror_one_device: bool = False, verbose: bool = True):
    """The `tf.distribute` strategy for this machine, and a line that says which it chose.

    In this order:

    1. `TF_CONFIG` names several processes: `MultiWorkerMirroredStrategy`
       (several machines, or several processes on one);
    2. a TPU (Colab, Kaggle, a Cloud TPU VM): `TPUStrategy` over its cores;
    3. several GPUs, or a CPU split by `split_cpu`: `MirroredStrategy` over them;
    4. otherwise the default strategy (one device, no distribution), or, with
       `mirror_one_device`, a `MirroredStrategy` over that one device: a real
       one-replica strategy that runs the multi-device code path.

    Args:
        mirror_one_device: on a machine with one device, mirror it instead of
            returning the default strategy.
        verbose: print what was chosen (`describe_strategy`).

    Returns:
        A `tf.distribute.Strategy`; build and compile models inside its `scope()`.

    Raises:
        ValueError: a `TF_CONFIG` that is not the JSON TensorFlow expects.

    Example:
        >>> pick_strategy(verbose=False).num_replicas_in_sync  # one CPU
        1
    """
    if not isinstance(mirror_one_device, bool):
        raise ValueError(
            "Expected `mirror_one_device` to be True or False. "
            f"Received: mirror_one_device={mirror_one_device!r}"
        )
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("WARNING")  # TensorFlow's own INFO line repeats what we print below
    try:
        strategy = _choose_strategy(mirror_one_device)
    finally:
        logger.setLevel(level)
    if verbose:
        print(f"Training with {describe_strategy(strategy)}")
    return strategy


def _choose_strategy(mirror_one_device: bool):
    """The strategy `pick_strategy` describes, in its order."""
    if _num_tasks_in_tf_config() > 1:
        return tf.distribute.MultiWorkerMirroredStrategy()
    strategy = _tpu_strategy()
    if strategy is not None:
        return strategy
    gpus = [device.name for device in tf.config.list_logical_devices("GPU")]
    cpus = [device.name for device in tf.config.list_logical_devices("CPU")]
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy(gpus)
    if not gpus and len(cpus) > 1:
        return tf.distribute.MirroredStrategy(cpus)
    if mirror_one_device:
        return tf.distribute.MirroredStrategy((gpus or cpus)[:1])
    return tf.distribute.get_strategy()


def _is_default(strategy) -> bool:
    """Whether `strategy` is the default one, what `get_strategy()` gives outside any scope."""
    return type(strategy).__name__.startswith("_Default")


def describe_strategy(strategy) -> str:
    """One line on a strategy: its kind, its number of replicas and their devices.

    Example:
        >>> describe_strategy(tf.distribute.get_strategy())
        'the default strategy: 1 replica on the local device (no distribution)'
    """
    if not isinstance(strategy, tf.distribute.Strategy):
        raise ValueError(
            f"Expected a tf.distribute.Strategy. Received: {type(strategy).__name__} {strategy!r}"
        )
    replicas = strategy.num_replicas_in_sync
    plural = "replica" if replicas == 1 else "replicas"
    if _is_default(strategy):
        return f"the default strategy: {replicas} {plural} on the local device (no distribution)"
    kind = type(strategy).__name__
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        kind = "MultiWorkerMirroredStrategy"  # its class is named CollectiveAllReduceStrategy
    devices = ", ".join(name.split("device:")[-1] for name in strategy.extended.worker_devices)
    return f"{kind}: {replicas} {plural}; this process runs {devices}"


# --------------------------------------------------------------------------- in a training step


def num_replicas() -> int:
    """How many replicas compute one training step together (1 without a strategy).

    Works in a replica's `train_step` and in a strategy's scope outside it.
    """
    context = tf.distribute.get_replica_context()
    if context is None:  # inside strategy.scope(), outside strategy.run
        return tf.distribute.get_strategy().num_replicas_in_sync
    return context.num_replicas_in_sync


def scale_loss_for_replicas(loss):
    """A replica's share of the global-batch loss: its batch mean divided by the replicas.

    Why: the optimizer sums the replicas' gradients (an all-reduce). With R
    replicas each holding `B / R` examples, the sum of `mean_r / R` over the
    replicas is the mean over the global batch of `B`, so the gradient is the
    one a single device computes on that batch. With one replica the loss is
    returned as it is, so a single device computes exactly what it always did.

    Args:
        loss: a replica's loss, averaged over its examples (a scalar tensor).

    Returns:
        The loss to differentiate. Report the unscaled `loss`: a metric's result
        is averaged over the replicas already.

    Example:
        >>> float(scale_loss_for_replicas(keras.ops.convert_to_tensor(3.0)))  # one replica
        3.0
    """
    replicas = num_replicas()
    if replicas == 1:
        return loss
    return loss / replicas


def logs_for_fit(logs: dict) -> dict:
    """A `train_step`'s logs, in a shape Keras's `fit` can reduce under every strategy.

    Why: under a `MultiWorkerMirroredStrategy` across several processes, Keras
    3 (3.15 at least) averages the logs over the replicas with
    `strategy.reduce("MEAN", value, axis=0)`, which fails on a scalar ("Invalid
    reduction dimension 0", tensorflow/tensorflow#72388). A one-element vector
    reduces to the same mean. Everywhere else the logs are returned as they are.
    """
    strategy = tf.distribute.get_strategy()
    in_multi_worker = getattr(strategy.extended, "_in_multi_worker_mode", lambda: False)
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) or not in_multi_worker():
        return logs
    return {name: keras.ops.reshape(value, (1,)) for name, value in logs.items()}


def fold_in_replica(seed):
    """A seed made distinct for each replica: `seed` itself when there is one replica.

    Args:
        seed: a `(2,)` integer seed tensor, as `keras.random.SeedGenerator.next()` returns.

    Returns:
        A `(2,)` seed: a hash of `seed` and the replica's number, reproducible.
    """
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return seed
    return tf.random.experimental.stateless_fold_in(seed, context.replica_id_in_sync_group)


class ReplicaSeedGenerator(keras.random.SeedGenerator):
    """A `keras.random.SeedGenerator` whose replicas draw different noise, reproducibly.

    Why: a generator created inside `strategy.scope()` has its state mirrored,
    so on every replica `keras.random.normal(shape, seed=generator)` would return
    the same numbers, and a GAN's global batch would hold each noise vector R
    times. This one folds the replica's number into each seed it hands out
    (`fold_in_replica`). With one replica, or outside a training step, it is a
    plain `SeedGenerator`: the same numbers as before, call for call.

    Args:
        seed: an int seed, or None; as `keras.random.SeedGenerator`.

    Example:
        >>> generator = ReplicaSeedGenerator(seed=0)
        >>> keras.random.normal((2,), seed=generator).shape
        TensorShape([2])
    """

    def next(self, ordered=True):
        return fold_in_replica(super().next(ordered=ordered))


def model_scope(model):
    """The scope of the strategy `model` was made under, to make its optimizers' variables.

    Nothing to enter (a null context) for a model made without a strategy, or
    when a strategy's scope is open already.
    """
    strategy = model.distribute_strategy
    if tf.distribute.has_strategy() or _is_default(strategy):
        return contextlib.nullcontext()
    return strategy.scope()


def check_model_strategy(model) -> None:
    """Check that every weight of `model` was made inside the scope of the model's strategy.

    Why: a network built outside `strategy.scope()` has plain variables, which
    the replicas cannot keep in step; Keras's error then comes from deep inside
    `fit`. This says what to do instead.

    Raises:
        ValueError: a weight made outside the scope (or in another strategy's).
    """
    strategy = model.distribute_strategy
    outside = [
        weight.path
        for weight in model.weights
        if not strategy.extended.variable_created_in_scope(getattr(weight, "value", weight))
    ]
    if outside:
        raise ValueError(
            f"Expected every weight of {model.name!r} to be made inside the scope of its strategy "
            f"({describe_strategy(strategy)}): build the networks, the model and its optimizers "
            f"inside `with strategy.scope():`. Received: {len(outside)} weight(s) made "
            f"elsewhere, e.g. {outside[0]!r}"
        )
