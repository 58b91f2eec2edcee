"""Checks of the course's models under `tf.distribute`, each run in a fresh process.

Why a fresh process: the CPU is split into logical devices (`split_cpu`) or a
`MultiWorkerMirroredStrategy` is set up, and TensorFlow allows either only
before it makes its devices. `tests/test_distribute.py` and
`tests/test_multi_worker.py` run this module with `python -m tests.distribute_checks
CHECK ...`; its last line of output is the result, as JSON.

Not a test module itself: importing it does nothing (it imports TensorFlow only
when a check runs).
"""

from __future__ import annotations

import json
import os
import shutil
import sys

# Small enough that a family trains its 4 steps in a second or two on one core.
SHAPE = (8, 8, 1)
NUM_EXAMPLES = 64
BATCH_SIZE = 16  # the global batch: 8 examples per replica with two
# Plain SGD's step: large enough that one epoch moves every family's weights well
# past the tests' tolerance. The autoencoder's per-pixel loss has small gradients;
# the critic's gradient penalty (weight 10) large ones.
LEARNING_RATES = {"autoencoder": 2.0, "wgan": 0.002}
LEARNING_RATE = 0.1
FAMILIES = ("autoencoder", "vae", "cvae", "gan", "cgan", "wgan", "autoregressive", "diffusion")
ADVERSARIAL = ("gan", "cgan", "wgan")
NUM_CRITIC_STEPS = 2


def _quiet_tensorflow():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ["CUDA_VISIBLE_DEVICES"] = ""


# --------------------------------------------------------------------------- the families


def _data(family):
    """(x, y) for `fit`: 64 tiny images (or 4-D points), with labels for conditional models."""
    import numpy as np

    rng = np.random.default_rng(0)
    images = rng.random((NUM_EXAMPLES, *SHAPE)).astype("float32")
    labels = (np.arange(NUM_EXAMPLES) % 3).astype("int32")
    if family in ("vae", "cvae", "autoregressive"):
        images = (images > 0.5).astype("float32")  # binary pixels
    elif family in ADVERSARIAL:
        images = images * 2.0 - 1.0  # the generators' tanh range
    elif family == "diffusion":
        images = rng.standard_normal((NUM_EXAMPLES, 4)).astype("float32")
    return images, (labels if family in ("cvae", "cgan", "diffusion") else None)


def _build(family):
    """The family's model at toy size, built in the current strategy's scope (if any)."""
    from course_lib.models import (
        autoencoder,
        autoregressive,
        conditional_gan,
        diffusion,
        gan,
        vae,
        wgan_gp,
    )

    if family == "autoencoder":
        return autoencoder.Autoencoder(
            autoencoder.build_conv_encoder(4, image_shape=SHAPE, filters=(4,)),
            autoencoder.build_conv_decoder(4, image_shape=SHAPE, filters=(4,)),
        )
    if family in ("vae", "cvae"):
        classes = 3 if family == "cvae" else None
        sizes = {
            "image_shape": SHAPE,
            "filters": (4,),
            "hidden_units": (8,),
            "num_classes": classes,
        }
        networks = vae.build_encoder(2, **sizes), vae.build_decoder(2, **sizes)
        return (vae.ConditionalVAE if classes else vae.VAE)(*networks, seed=0)
    if family == "gan":
        return gan.GAN(
            gan.build_dcgan_generator(4, base_filters=4, image_shape=SHAPE),
            gan.build_dcgan_discriminator(SHAPE, base_filters=4),
            seed=0,
            ema_decay=0.9,
        )
    if family == "cgan":
        return conditional_gan.ConditionalGAN(
            conditional_gan.build_conditional_generator(
                4, 3, base_filters=4, embedding_dim=2, image_shape=SHAPE
            ),
            conditional_gan.build_conditional_discriminator(3, base_filters=4, image_shape=SHAPE),
            seed=0,
        )
    if family == "wgan":
        return wgan_gp.WGANGP(
            gan.build_dcgan_generator(4, base_filters=4, image_shape=SHAPE),
            wgan_gp.build_critic(SHAPE, base_filters=4),
            num_critic_steps=NUM_CRITIC_STEPS,
            seed=0,
        )
    if family == "autoregressive":
        network = autoregressive.build_row_rnn(SHAPE, units=8, num_layers=1, head_units=8)
        return autoregressive.AutoregressiveImageModel(network, seed=0)
    if family == "diffusion":
        denoiser = diffusion.build_mlp_denoiser(
            4, num_classes=3, hidden_units=(8, 8), time_embedding_dim=4
        )
        return diffusion.DiffusionModel(denoiser, num_timesteps=20, label_dropout=0.3, seed=0)
    raise ValueError(f"Expected one of {FAMILIES}. Received: family={family!r}")


def _compile(model, family):
    import keras

    # Plain SGD: its step is proportional to the gradient, so a loss reduced the
    # wrong way (R times too large) shows in the weights. Adam would hide it.
    rate = LEARNING_RATES.get(family, LEARNING_RATE)
    if family in ADVERSARIAL:
        model.compile(
            d_optimizer=keras.optimizers.SGD(rate), g_optimizer=keras.optimizers.SGD(rate)
        )
    else:
        model.compile(optimizer=keras.optimizers.SGD(rate))


def _as_one_device_sees_it(images, replicas):
    """WGAN-GP's batches reordered so one device's critic chunks are the replicas' chunks, joined.

    Each replica splits its `B / R` images into `num_critic_steps` chunks; critic
    step `i` of the strategy therefore sees chunk `i` of every replica. One
    device splits its batch of `B` the same way, so its batch is reordered to
    put those chunks side by side. The loss does not depend on the order of a
    chunk's images.
    """
    import numpy as np

    per_replica = BATCH_SIZE // replicas
    chunk = per_replica // NUM_CRITIC_STEPS
    order = [
        start + replica * per_replica + step * chunk + offset
        for start in range(0, len(images), BATCH_SIZE)
        for step in range(NUM_CRITIC_STEPS)
        for replica in range(replicas)
        for offset in range(chunk)
    ]
    return images[np.array(order)]


def _train(family, strategy, initial_weights=None, *, one_device_order_for=1):
    """Train `family` for one epoch under `strategy`; return the history, weights and model."""
    import keras

    keras.utils.set_random_seed(0)
    with strategy.scope():
        model = _build(family)
        _compile(model, family)
    if initial_weights is not None:
        model.set_weights(initial_weights)
    start = [w.copy() for w in model.get_weights()]
    x, y = _data(family)
    if family == "wgan" and one_device_order_for > 1:
        x = _as_one_device_sees_it(x, one_device_order_for)
    history = model.fit(x, y, epochs=1, batch_size=BATCH_SIZE, shuffle=False, verbose=0)
    logs = {key: [float(v) for v in values] for key, values in history.history.items()}
    return logs, model.get_weights(), start, model


def _replica_spread(model, strategy):
    """The largest difference between two replicas' copies of any variable (0: in step)."""
    import numpy as np

    spread = 0.0
    for variable in model.variables:
        copies = [np.asarray(c) for c in strategy.experimental_local_results(variable.value)]
        for copy in copies[1:]:
            if copy.dtype.kind == "f":
                spread = max(spread, float(np.max(np.abs(copy - copies[0]), initial=0.0)))
            else:
                spread = max(spread, float(np.any(copy != copies[0])))
    return spread


def _batch_norm_layers(model):
    """`{name: synchronized}` for every batch-normalisation layer in the model's networks."""
    found = {}
    for layer in model.layers:
        for inner in getattr(layer, "layers", [layer]):
            if hasattr(inner, "synchronized"):
                found[f"{layer.name}/{inner.name}"] = inner.synchronized
    return found


def _max_change(before, after):
    """The largest change of a float weight (integer counters left out)."""
    return max(
        float(abs(b - a).max(initial=0.0))
        for a, b in zip(before, after, strict=True)
        if a.dtype.kind == "f"
    )


def _max_difference(first, second):
    import numpy as np

    return max(
        float(np.max(np.abs(a - b), initial=0.0)) for a, b in zip(first, second, strict=True)
    )


def global_noise():
    """Make each replica draw the rows of the *global* batch's noise that its examples get.

    One device draws noise `(B, ...)` for its batch of B; a replica with examples
    `r * B/R ... (r + 1) * B/R - 1` gets exactly those rows of that draw. With it,
    a strategy must reproduce one device's step to rounding: what remains to
    compare is the loss reduction, the gradient all-reduce, batch normalisation
    and the optimizers. The replica fold-in of the seed is turned off for this,
    since the per-replica noise would otherwise differ from one device's by design.
    """
    import keras
    import tensorflow as tf

    from course_lib import distribute

    distribute.fold_in_replica = lambda seed: seed

    def sliced(draw):
        def draw_global_rows(shape, *args, seed=None, **kwargs):
            context = tf.distribute.get_replica_context()
            replicas = 1 if context is None else context.num_replicas_in_sync
            if replicas == 1:
                return draw(shape, *args, seed=seed, **kwargs)
            rows = shape[0]
            full = draw((rows * replicas, *shape[1:]), *args, seed=seed, **kwargs)
            start = context.replica_id_in_sync_group * rows
            return full[start : start + rows]

        return draw_global_rows

    for name in ("normal", "uniform", "randint"):
        setattr(keras.random, name, sliced(getattr(keras.random, name)))


def naive_reduction():
    """Differentiate each replica's batch mean as it is: the per-replica-mean-then-sum mistake."""
    from course_lib import distribute

    distribute.scale_loss_for_replicas = lambda loss: loss


# --------------------------------------------------------------------------- the checks


def check_equivalence(families, naive_families=(), unsynchronized_families=()):
    """One epoch on one device and on two replicas (a split CPU), same noise; the differences.

    Then, for comparison, two ways to get it wrong: batch normalisation left
    per replica (`unsynchronized_families`), and each replica's batch mean
    differentiated as it is, the per-replica-mean-then-sum reduction (`naive_families`).
    """
    import tensorflow as tf

    from course_lib import distribute
    from course_lib.models import _blocks

    distribute.split_cpu(2)
    tf.config.experimental.enable_op_determinism()
    global_noise()
    one = tf.distribute.get_strategy()
    two = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    results, reference = {}, {}
    wrong_only = [f for f in (*naive_families, *unsynchronized_families) if f not in families]
    for family in [*families, *wrong_only]:
        logs_one, weights_one, start, _ = _train(family, one, one_device_order_for=2)
        reference[family] = weights_one, start
        if family not in families:
            continue
        logs_two, weights_two, _, model = _train(family, two, start)
        results[family] = {
            "history_one": logs_one,
            "history_two": logs_two,
            "weight_difference": _max_difference(weights_one, weights_two),
            "weight_change": _max_change(start, weights_one),
            "replica_spread": _replica_spread(model, two),
            "batch_norm": _batch_norm_layers(model),
        }

    def wrong(key, families):
        for family in families:
            weights_one, start = reference[family]
            _, weights_two, _, model = _train(family, two, start)
            results.setdefault(family, {})[key] = {
                "weight_difference": _max_difference(weights_one, weights_two),
                "replica_spread": _replica_spread(model, two),
            }

    _blocks.num_replicas = lambda: 1  # build batch normalisation as for one device
    wrong("unsynchronized", unsynchronized_families)
    _blocks.num_replicas = distribute.num_replicas
    naive_reduction()
    wrong("naive", naive_families)
    return results


def check_noise():
    """Noise on two replicas (per replica, repeatable), and `split_cpu` called too late."""
    import keras
    import numpy as np
    import tensorflow as tf

    from course_lib import distribute

    distribute.split_cpu(2)
    two = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])

    def draws(generator_class):
        with two.scope():
            generator = generator_class(seed=7)

        @tf.function
        def step():
            return two.run(lambda: keras.random.normal((3, 2), seed=generator))

        first, second = step(), step()
        return [
            [np.asarray(r).tolist() for r in two.experimental_local_results(values)]
            for values in (first, second)
        ]

    plain = keras.random.SeedGenerator(seed=7)  # no strategy: the numbers of one device
    one_device = [np.asarray(keras.random.normal((3, 2), seed=plain)).tolist() for _ in range(2)]
    one = distribute.ReplicaSeedGenerator(seed=7)
    try:  # TensorFlow has made its devices by now
        distribute.split_cpu(3)
        too_late = None
    except RuntimeError as error:
        too_late = str(error)
    return {
        "devices": distribute.split_cpu(2),  # as it is already: no error
        "too_late": too_late,
        "picked": distribute.describe_strategy(distribute.pick_strategy(verbose=False)),
        "replica": draws(distribute.ReplicaSeedGenerator),
        "replica_again": draws(distribute.ReplicaSeedGenerator),
        "plain": draws(keras.random.SeedGenerator),
        "one_device_plain": one_device,
        "one_device_replica": [
            np.asarray(keras.random.normal((3, 2), seed=one)).tolist() for _ in range(2)
        ],
    }


def check_resume(checkpoint_dir):
    """`fit_resumable`, `SampleGridMonitor` on two replicas: interrupted + resumed = straight.

    The interruption is the straight run's folder cut back to its first epoch,
    which is what a run stopped during epoch 2 leaves behind.
    """
    import keras
    import numpy as np
    import tensorflow as tf

    from course_lib import distribute
    from course_lib.training import SampleGridMonitor, fit_resumable

    distribute.split_cpu(2)
    tf.config.experimental.enable_op_determinism()
    two = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    images, _ = _data("gan")

    def dataset():
        data = tf.data.Dataset.from_tensor_slices(images).shuffle(64, seed=1)
        return data.batch(BATCH_SIZE)

    def model_in_scope():
        keras.utils.set_random_seed(0)
        with two.scope():
            model = _build("gan")
            model.compile(
                d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(1e-3)
            )
        return model

    straight = model_in_scope()
    monitor = SampleGridMonitor(num_images=4)
    folder = os.path.join(checkpoint_dir, "straight")
    fit_resumable(straight, dataset(), 2, folder, callbacks=[monitor], verbose=0)
    # What an interruption during epoch 2 leaves: the checkpoint and log of epoch 1.
    cut = os.path.join(checkpoint_dir, "cut")
    shutil.copytree(os.path.join(folder, "checkpoint-0001"), os.path.join(cut, "checkpoint-0001"))
    with open(os.path.join(folder, "history.csv")) as log:
        rows = log.readlines()[:2]  # the header and epoch 1
    with open(os.path.join(cut, "history.csv"), "w") as log:
        log.writelines(rows)
    resumed = model_in_scope()  # a new model and a new dataset, as a new session would make
    history = fit_resumable(resumed, dataset(), 2, cut, verbose=0)
    with two.scope():
        restored_slots = resumed.d_optimizer.variables[1]
    # A network built outside the scope, wrapped inside it: refused with a message.
    lone = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    with two.scope():
        wrapped = keras.Sequential([lone])
        wrapped.compile(optimizer="sgd", loss="mse")
    try:
        distribute.check_model_strategy(wrapped)
        message = None
    except ValueError as error:
        message = str(error)
    return {
        "difference": _max_difference(straight.get_weights(), resumed.get_weights()),
        "history_epochs": len(history.history["d_loss"]),
        "monitor_shapes": [list(batch.shape) for batch in monitor.images],
        "monitor_finite": bool(all(np.isfinite(batch).all() for batch in monitor.images)),
        "slots_mirrored": type(restored_slots.value).__name__,
        "outside_scope_message": message,
    }


def check_multi_worker(task_index, ports, families):
    """One worker of a two-process `MultiWorkerMirroredStrategy` on 127.0.0.1 (same noise).

    The chief (task 0) also trains each family on one device in this process
    after the workers are done, as the reference.
    """
    os.environ["TF_CONFIG"] = json.dumps(
        {
            "cluster": {"worker": [f"127.0.0.1:{port}" for port in ports]},
            "task": {"type": "worker", "index": task_index},
        }
    )
    import tensorflow as tf

    from course_lib import distribute

    strategy = distribute.pick_strategy(verbose=False)  # TF_CONFIG: MultiWorkerMirroredStrategy
    tf.config.experimental.enable_op_determinism()
    global_noise()
    results = {"strategy": distribute.describe_strategy(strategy)}
    trained = {}
    for family in families:
        logs, weights, start, _ = _train(family, strategy)
        trained[family] = weights, start
        results[family] = {"history": logs, "weight_sum": float(sum(abs(w).sum() for w in weights))}
    if task_index == 0:  # the reference: one device, in this process, after the workers' runs
        for family, (distributed, start) in trained.items():
            logs, weights, _, _ = _train(family, tf.distribute.get_strategy(), start)
            results[family]["one_process_history"] = logs
            results[family]["weight_difference"] = _max_difference(weights, distributed)
            results[family]["weight_change"] = _max_change(start, weights)
    return results


def main(argv):
    _quiet_tensorflow()
    check, args = argv[0], argv[1:]
    if check == "equivalence":  # FAMILIES [--naive FAMILIES] [--unsynchronized FAMILIES]
        groups, key = {"": [], "--naive": [], "--unsynchronized": []}, ""
        for arg in args:
            if arg in groups:
                key = arg
            else:
                groups[key].append(arg)
        result = check_equivalence(groups[""], groups["--naive"], groups["--unsynchronized"])
    elif check == "noise":
        result = check_noise()
    elif check == "resume":
        result = check_resume(args[0])
    elif check == "multi_worker":
        task_index, ports = int(args[0]), [int(p) for p in args[1].split(",")]
        result = check_multi_worker(task_index, ports, args[2:])
    else:
        raise SystemExit(f"unknown check {check!r}")
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
