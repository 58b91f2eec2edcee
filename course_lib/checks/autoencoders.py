"""Checks of the exercises of notebooks 01 (autoencoders) and 02 (autoencoder applications).

Every check computes its reference from the library (`course_lib.models.autoencoder`,
`course_lib.metrics.reconstruction`) or from the learner's own trained models and
scores, so it holds in both profiles and on any split, and its failure messages
name the idea to look at, never the value.

Example:
    >>> check_01_exercise_1(lambda latent_dim, code_bits: 784 * 8 / latent_dim / code_bits)
    Correct: ratio_in_bits agrees with the reference on 5 inputs.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from course_lib.exercises import check_answered, check_array, check_function, check_true
from course_lib.metrics import reconstruction
from course_lib.models.autoencoder import Autoencoder, build_dense_decoder, build_dense_encoder

__all__ = [
    "check_01_exercise_1",
    "check_01_exercise_2",
    "check_01_exercise_3",
    "check_01_exercise_4",
    "check_01_exercise_5",
    "check_01_exercise_6",
    "check_02_exercise_1",
    "check_02_exercise_2",
    "check_02_exercise_3",
    "check_02_exercise_4",
    "check_02_exercise_5",
]


def _require(name: str, condition, hint: str) -> None:
    """Fail with `hint` unless `condition` holds (a step of a check: silent when right)."""
    if not bool(condition):
        raise AssertionError(f"Not yet: {name}. {hint}")


def _guarded(name: str, function):
    """`function`, with any error it raises turned into a hint (an `AssertionError`)."""
    check_answered(name, function)

    def call(*args):
        try:
            return function(*args)
        except (AssertionError, NotImplementedError):
            raise
        except Exception as error:  # the learner's code failed: say where, not what to write
            raise AssertionError(
                f"`{name}` raised {type(error).__name__}: {error}. Check the shapes you "
                "combine and the arguments you pass."
            ) from None

    return call


def _numpy(value) -> np.ndarray:
    return np.asarray(ops.convert_to_numpy(value), dtype=np.float64)


# --------------------------------------------------------------------------- notebook 01


def check_01_exercise_1(ratio_in_bits) -> None:
    """Exercise 1: the compression ratio of a code, counted in bits."""
    check_function(
        "ratio_in_bits",
        _guarded("ratio_in_bits", ratio_in_bits),
        lambda k, b: reconstruction.compression_ratio(784, k, code_bits=b),
        [(32, 8), (32, 32), (2, 4), (64, 1), (16, 16)],
        hint="Count the bits on each side: 784 pixels of 8 bits for the image, latent_dim "
        "values of code_bits bits for the code, then divide image bits by code bits.",
    )


def check_01_exercise_2(bce_per_image, images, reconstructions) -> None:
    """Exercise 2: per-image binary cross-entropy with clipped probabilities."""
    rng = np.random.default_rng(1)
    images = np.asarray(images, dtype=np.float64)[:4]
    reconstructions = np.asarray(reconstructions, dtype=np.float64)[:4]
    check_function(
        "bce_per_image",
        _guarded("bce_per_image", bce_per_image),
        lambda x, y: reconstruction.bce(x, y, per_image=True),
        [
            (images, reconstructions),
            (rng.random((3, 28, 28, 1)), rng.random((3, 28, 28, 1))),
            (np.ones((2, 28, 28, 1)), np.ones((2, 28, 28, 1))),
            ((rng.random((2, 28, 28, 1)) < 0.3) * 1.0, rng.random((2, 28, 28, 1)) * 0.5),
        ],
        hint="Natural logarithms of the clipped x_hat, the target x weighting log(x_hat); "
        "average over every axis but the first.",
    )


def check_01_exercise_3(pca_reconstruct, pca, flat_images) -> None:
    """Exercise 3: PCA's encoder and decoder written with its mean and components."""
    flat_images = np.asarray(flat_images, dtype=np.float64)
    function = _guarded("pca_reconstruct", pca_reconstruct)
    check_function(
        "pca_reconstruct",
        lambda x: function(pca, x),
        lambda x: pca.inverse_transform(pca.transform(x)),
        [(flat_images[:5],), (flat_images[5:8],)],
        rtol=1e-3,
        atol=1e-4,
        hint="Centre with pca.mean_, project onto the rows of pca.components_, then map "
        "back and add the mean again.",
    )


def check_01_exercise_4(interpolate_codes) -> None:
    """Exercise 4: evenly spaced codes on the line from `z_a` to `z_b`, both ends included."""
    function = _guarded("interpolate_codes", interpolate_codes)
    z_a, z_b = np.array([0.5, 0.0, 1.0]), np.array([1.0, 2.0, -4.0])
    check_answered("interpolate_codes(z_a, z_b, 5)", function(z_a, z_b, 5))
    check_array(
        "interpolate_codes(z_a, z_b, 5)",
        function(z_a, z_b, 5),
        np.linspace(z_a, z_b, 5),
        hint="Row 0 must be z_a, the last row z_b, with equal steps in between.",
    )
    check_array(
        "interpolate_codes(z_b, z_a, 2)",
        function(z_b, z_a, 2),
        np.stack([z_b, z_a]),
        hint="With num_steps=2 the answer is the two end points, first argument first.",
    )


# Exercise 5: the architecture and the training step, on a tiny network.
_TINY_LATENT_DIM = 4
_TINY_HIDDEN = (16,)
_STEPS = 4
_LEARNING_RATE = 10.0  # large, so that a wrong update order shows in a few steps


def _learner_network(builder, name, *args):
    network = _guarded(name, builder)(*args)
    check_answered(f"{name}(...)", network)
    _require(
        f"{name} returns a Keras model",
        isinstance(network, keras.Model),
        "Return keras.Model(inputs, outputs) at the end of the function.",
    )
    return network


def _same_weights(reference, network, name, hint) -> None:
    shapes = [tuple(w.shape) for w in network.get_weights()]
    expected = [tuple(w.shape) for w in reference.get_weights()]
    _require(f"{name} has the layers and weights asked for", shapes == expected, hint)
    reference.set_weights(network.get_weights())


def check_01_exercise_5(build_encoder, build_decoder, model_class, images, *, seed=0) -> None:
    """Exercise 5: a dense encoder, a dense decoder and a joint `train_step`.

    The networks are built tiny (`latent_dim=4`, one hidden layer of 16) and
    compared, weight for weight, with the library's builders. Then the learner's
    model and the library's `Autoencoder`, started from the same weights, take a
    few plain SGD steps on the same small batch, with the MSE and with the BCE
    loss: the loss before each step and the weights after the last must agree.
    """
    images = np.asarray(images, dtype=np.float32)[:8]
    image_shape = images.shape[1:]
    encoder_hint = (
        "The encoder is Flatten, then one Dense layer with ReLU per width in hidden_units, "
        "then a Dense code layer of latent_dim units without activation."
    )
    decoder_hint = (
        "The decoder is one Dense layer with ReLU per width in hidden_units, then a Dense "
        "layer with one sigmoid unit per pixel, reshaped to the image shape."
    )
    encoder = _learner_network(build_encoder, "my_dense_encoder", _TINY_LATENT_DIM, _TINY_HIDDEN)
    decoder = _learner_network(build_decoder, "my_dense_decoder", _TINY_LATENT_DIM, _TINY_HIDDEN)
    reference_encoder = build_dense_encoder(
        _TINY_LATENT_DIM, image_shape=image_shape, hidden_units=_TINY_HIDDEN
    )
    reference_decoder = build_dense_decoder(
        _TINY_LATENT_DIM, image_shape=image_shape, hidden_units=_TINY_HIDDEN
    )
    _same_weights(reference_encoder, encoder, "my_dense_encoder", encoder_hint)
    _same_weights(reference_decoder, decoder, "my_dense_decoder", decoder_hint)
    rng = np.random.default_rng(seed)
    codes = (3.0 * rng.standard_normal((8, _TINY_LATENT_DIM))).astype("float32")
    check_array(
        "my_dense_encoder's codes",
        _guarded("my_dense_encoder", encoder)(images),
        reference_encoder(images),
        rtol=1e-4,
        atol=1e-5,
        quiet=True,
        hint=encoder_hint + " Look at each layer's activation.",
    )
    check_array(
        "my_dense_decoder's images",
        _guarded("my_dense_decoder", decoder)(codes),
        reference_decoder(codes),
        rtol=1e-4,
        atol=1e-5,
        quiet=True,
        hint=decoder_hint + " Look at each layer's activation.",
    )
    check_answered("MyAutoencoder", model_class)
    for loss in ("mse", "bce"):
        _compare_training(build_encoder, build_decoder, model_class, images, loss, seed)
    print(
        "Correct: your encoder and decoder match the library's, and your train_step trains "
        "them jointly like Autoencoder.train_step, with MSE and with BCE."
    )


def _compare_training(build_encoder, build_decoder, model_class, images, loss, seed) -> None:
    keras.utils.set_random_seed(seed)
    encoder = build_encoder(_TINY_LATENT_DIM, _TINY_HIDDEN)
    decoder = build_decoder(_TINY_LATENT_DIM, _TINY_HIDDEN)
    reference = Autoencoder(
        build_dense_encoder(
            _TINY_LATENT_DIM, image_shape=images.shape[1:], hidden_units=_TINY_HIDDEN
        ),
        build_dense_decoder(
            _TINY_LATENT_DIM, image_shape=images.shape[1:], hidden_units=_TINY_HIDDEN
        ),
        loss=loss,
    )
    reference.encoder.set_weights(encoder.get_weights())
    reference.decoder.set_weights(decoder.get_weights())
    model = _guarded("MyAutoencoder", model_class)(encoder, decoder, loss)
    model.compile(optimizer=keras.optimizers.SGD(_LEARNING_RATE))
    reference.compile(optimizer=keras.optimizers.SGD(_LEARNING_RATE))
    batch = ops.convert_to_tensor(images)
    train_step = _guarded("MyAutoencoder.train_step", model.train_step)
    got, want, reported = [], [], []
    initial = encoder.get_weights() + decoder.get_weights()
    for _ in range(_STEPS):
        got.append(float(_numpy(reference.reconstruction_loss(batch, model(batch)))))
        want.append(float(_numpy(reference.reconstruction_loss(batch, reference(batch)))))
        for metric in model.metrics:
            metric.reset_state()
        logs = train_step(batch)
        reference.train_step(batch)
        value = logs.get("loss") if isinstance(logs, dict) else None
        reported.append(np.nan if value is None else float(_numpy(value)))
    final = encoder.get_weights() + decoder.get_weights()
    moved = any(not np.array_equal(w0, w1) for w0, w1 in zip(initial, final, strict=True))
    _require(
        f"train_step changes the weights ({loss})",
        moved,
        "Apply the gradients with self.optimizer, the optimizer given to compile().",
    )
    check_array(
        f"the {loss.upper()} loss along {_STEPS} training steps",
        got,
        want,
        rtol=1e-4,
        atol=1e-6,
        quiet=True,
        hint="Record the forward pass through encoder *and* decoder on one tape, take the "
        "gradient of the reconstruction loss (images against their reconstructions) with "
        "respect to all trainable variables, and apply it once with self.optimizer.",
    )
    for part, mine, theirs in (
        ("encoder", encoder, reference.encoder),
        ("decoder", decoder, reference.decoder),
    ):
        for a, b in zip(mine.get_weights(), theirs.get_weights(), strict=True):
            check_array(
                f"the {part}'s weights after {_STEPS} steps ({loss})",
                a,
                b,
                rtol=1e-4,
                atol=1e-6,
                quiet=True,
                hint=f"Every step must move the {part} too: one gradient of one loss with "
                "respect to the weights of both halves, applied once per step.",
            )
    check_array(
        f"the loss your train_step reports ({loss})",
        reported,
        want,
        rtol=1e-3,
        atol=1e-6,
        quiet=True,
        hint="Update self.loss_tracker with the loss of the batch, computed before the update.",
    )


def check_01_exercise_6(mse_by_loss, better_on_mse, models, images) -> None:
    """Exercise 6: the MSE of an MSE-trained and a BCE-trained model, from the learner's run.

    Choosing a loss is choosing a setting, so the notebook measures both models on
    its validation images (`images`). `models` maps `"mse"` and `"bce"` to the two
    trained models; each reported error is recomputed from the model's own
    reconstructions of `images`.
    """
    check_answered("val_mse_by_loss", mse_by_loss)
    check_answered("better_on_mse", better_on_mse)
    _require(
        "val_mse_by_loss has an error for each loss",
        isinstance(mse_by_loss, dict) and set(mse_by_loss) == {"mse", "bce"},
        'Make val_mse_by_loss a dict with the keys "mse" and "bce".',
    )
    images = np.asarray(images, dtype=np.float32)
    for loss in ("mse", "bce"):
        model = models[loss]
        _require(
            f'models["{loss}"] was trained with the {loss.upper()} loss',
            getattr(model, "loss_name", None) == loss,
            f'Build that model with Autoencoder(..., loss="{loss}").',
        )
        check_array(
            f'val_mse_by_loss["{loss}"]',
            mse_by_loss[loss],
            reconstruction.mse(images, model.reconstruct(images)),
            rtol=1e-3,
            quiet=True,
            hint="Measure both models the same way: the squared error per pixel between the "
            "*validation* images and their reconstructions, averaged over images and pixels, "
            "whatever loss the model was trained with.",
        )
    lower = min(("mse", "bce"), key=lambda name: float(mse_by_loss[name]))
    check_true(
        "better_on_mse names the loss whose model has the lower validation MSE",
        better_on_mse == lower,
        'Compare the two errors: answer "mse" or "bce", the one with the smaller validation MSE.',
    )


# --------------------------------------------------------------------------- notebook 02


def check_02_exercise_1(psnr_from_mse, images) -> None:
    """Exercise 1: PSNR in dB from a mean squared error and the maximum pixel value."""
    function = _guarded("psnr_from_mse", psnr_from_mse)
    check_function(
        "psnr_from_mse",
        function,
        lambda m, top=1.0: 10.0 * np.log10(top**2 / m),
        [(0.01,), (0.001,), (0.25,), (4.0, 255.0), (0.5, 2.0)],
        hint="PSNR compares the squared maximum pixel value with the MSE, on a decibel "
        "(10 log10) scale.",
    )
    one = np.asarray(images, dtype=np.float32)[:1]
    noisy = np.clip(one + np.random.default_rng(1).normal(0.0, 0.2, one.shape), 0, 1)
    check_array(
        "psnr_from_mse on a real image",
        function(reconstruction.mse(one, noisy)),
        reconstruction.psnr(one, noisy),
        rtol=1e-3,
        hint="It must agree with reconstruction.psnr for pixels in [0, 1].",
    )


def check_02_exercise_2(masked_mse, originals, restored, masks) -> None:
    """Exercise 2: the MSE over the hidden pixels (`mask == 0`), all images pooled."""
    function = _guarded("masked_mse", masked_mse)
    # A toy case where hidden and visible pixels have different errors, and the
    # two images hide different numbers of pixels.
    toy_mask = np.ones((2, 2, 2, 1))
    toy_mask[0, 0, 0, 0] = 0
    toy_mask[1, :, 0, 0] = 0
    toy_restored = np.full((2, 2, 2, 1), 0.1)
    toy_restored[toy_mask == 0] = [0.5, 0.2, 0.4]
    toy_original = np.zeros((2, 2, 2, 1))

    def reference(x, y, mask):
        hidden = np.asarray(mask) == 0
        return float(np.mean((np.asarray(x)[hidden] - np.asarray(y)[hidden]) ** 2))

    check_function(
        "masked_mse",
        function,
        reference,
        [(toy_original, toy_restored, toy_mask), (originals, restored, masks)],
        rtol=1e-5,
        hint="Only the pixels where mask == 0 count, pooled over all images: sum their "
        "squared errors and divide by how many hidden pixels there are.",
    )


def _percentile_bounds(values, q):
    values = np.asarray(values, dtype=np.float64)
    return (
        float(np.percentile(values, q, method="lower")),
        float(np.percentile(values, q, method="higher")),
    )


def check_02_exercise_3(
    threshold,
    false_alarm_rate,
    detection_rate,
    validation_scores,
    test_scores,
    is_anomaly,
    *,
    percent=95,
) -> None:
    """Exercise 3: an alarm threshold set on held-out normal images, and its rates on the test set.

    Any percentile convention is accepted (linear interpolation, `"higher"`,
    sort-and-index, ...): the threshold must lie between the neighbouring
    validation scores that bracket the `percent`-th percentile. The two rates
    are recomputed from the learner's own threshold.
    """
    check_answered("threshold", threshold)
    check_answered("false_alarm_rate", false_alarm_rate)
    check_answered("detection_rate", detection_rate)
    low, high = _percentile_bounds(validation_scores, percent)
    margin = 1e-9 * max(abs(high), 1.0)
    _require(
        f"threshold is the {percent}th percentile of the validation scores",
        low - margin <= float(threshold) <= high + margin,
        "Set the threshold on the held-out normal images (the validation scores), not on "
        "the test images: the score that 95 % of them stay below.",
    )
    test_scores = np.asarray(test_scores, dtype=np.float64)
    is_anomaly = np.asarray(is_anomaly).astype(bool)
    for name, answer, group in (
        ("false_alarm_rate", false_alarm_rate, ~is_anomaly),
        ("detection_rate", detection_rate, is_anomaly),
    ):
        above = float(np.mean(test_scores[group] > threshold))
        at_or_above = float(np.mean(test_scores[group] >= threshold))
        close = [abs(float(answer) - v) <= 1e-6 for v in (above, at_or_above)]
        what = "normal" if name == "false_alarm_rate" else "anomalous"
        _require(
            name,
            any(close),
            f"The share of the {what} *test* images (is_anomaly == "
            f"{int(what == 'anomalous')}) whose score is above your threshold: a high "
            "score means anomalous.",
        )
    print("Correct: a threshold set on held-out normal digits, and its rates on the test set.")


def check_02_exercise_4(quantize, codes, low, high) -> None:
    """Exercise 4: uniform quantisation to `2**num_bits` levels from `low` to `high`."""
    codes = np.asarray(codes, dtype=np.float64)[:5]
    check_function(
        "quantize",
        _guarded("quantize", quantize),
        lambda z, b, lo, hi: reconstruction.quantize_codes(z, b, low=lo, high=hi),
        [
            (np.array([[0.1, 0.4, 0.6, 0.9]]), 1, 0.0, 1.0),
            (np.array([[-3.0, 0.2, 0.33, 5.0]]), 3, -1.0, 1.0),
            (np.array([[0.3, 0.49, 0.51, 1.7]]), 2, 0.0, 1.5),
            (codes, 4, low, high),
        ],
        rtol=1e-4,
        atol=1e-5,
        hint="Clip to [low, high]; with b bits there are 2**b levels, so 2**b - 1 equal "
        "steps; round to the nearest level and return its value, not its index.",
    )


def check_02_exercise_5(
    conv_model,
    training_images,
    conv_scores,
    conv_auc,
    train_images,
    train_labels,
    images,
    is_anomaly,
    held_out,
) -> None:
    """Exercise 5: a convolutional anomaly detector, checked from the learner's own run.

    The model must be convolutional and trained on normal training images only
    (none of the held-out class, none from the validation or test set); its
    scores must be the per-image MSE of the images it is compared on (the
    notebook's validation images, `images`), recomputed here from
    the model; and the AUC must be recomputed from those scores with the
    anomalies as positives.
    """
    for name, value in (
        ("conv_model", conv_model),
        ("conv_training_images", training_images),
        ("conv_scores", conv_scores),
        ("conv_auc", conv_auc),
    ):
        check_answered(name, value)
    layers = [type(layer).__name__ for layer in getattr(conv_model, "encoder", conv_model).layers]
    _require(
        "conv_model has a convolutional encoder",
        isinstance(conv_model, Autoencoder) and "Conv2D" in layers,
        "Build an Autoencoder from build_conv_encoder and build_conv_decoder.",
    )
    _require(
        "conv_model has been trained",
        int(_numpy(conv_model.optimizer.iterations)) > 0
        if getattr(conv_model, "optimizer", None) is not None
        else False,
        "Compile the model and fit it on the normal training images.",
    )
    training_images = np.asarray(training_images, dtype=np.float32)
    train_images = np.asarray(train_images, dtype=np.float32)
    train_labels = np.asarray(train_labels)
    index = {row.tobytes(): label for row, label in zip(train_images, train_labels, strict=True)}
    labels = [index.get(row.tobytes()) for row in training_images]
    _require(
        "the model was trained on normal training images only",
        len(labels) > 0 and all(label is not None and label != held_out for label in labels),
        "Train on training images of the other classes only: neither the held-out class "
        "nor any validation or test image may be seen in training.",
    )
    images = np.asarray(images, dtype=np.float32)
    check_array(
        "conv_scores",
        conv_scores,
        reconstruction.mse(images, conv_model.reconstruct(images), per_image=True),
        rtol=1e-3,
        atol=1e-7,
        quiet=True,
        hint="Score every image you compare on (the validation images) by its own "
        "reconstruction error: the squared error "
        "averaged over its pixels, one number per image.",
    )
    check_array(
        "conv_auc",
        conv_auc,
        reconstruction.roc_auc(is_anomaly, conv_scores),
        rtol=1e-6,
        quiet=True,
        hint="The AUC takes the labels first (1 = anomaly) and the scores second, with a "
        "higher score meaning more anomalous.",
    )
    print("Correct: a convolutional detector, trained on normal digits, scored on held-out images.")
