"""The exercise checks of notebooks 03, 04 and 05 reject plausible wrong answers.

For every exercise: at least three wrong answers a learner would plausibly write,
each of which the check must reject with an `AssertionError`, and one correct
answer written differently from the notebook's solution, which it must accept.
Tiny models on 8x8 images keep the whole file at unit-test speed.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_lib.checks import gan_fundamentals as gan_checks
from course_lib.checks import vaes
from course_lib.models.vae import VAE, ConditionalVAE, Sampling, build_decoder, build_encoder

IMAGE_SHAPE = (8, 8, 1)


def _np(x):
    return np.asarray(keras.ops.convert_to_numpy(x), dtype=np.float64)


def _softplus(x):
    return np.logaddexp(0.0, x)


def _tiny_vae(latent_dim=3, beta=1.0, num_classes=None, seed=0):
    keras.utils.set_random_seed(seed)
    encoder = build_encoder(
        latent_dim,
        image_shape=IMAGE_SHAPE,
        num_classes=num_classes,
        architecture="dense",
        hidden_units=(16,),
    )
    decoder = build_decoder(
        latent_dim,
        image_shape=IMAGE_SHAPE,
        num_classes=num_classes,
        architecture="dense",
        hidden_units=(16,),
    )
    if num_classes is None:
        return VAE(encoder, decoder, beta=beta, seed=seed)
    return ConditionalVAE(encoder, decoder, beta=beta, seed=seed)


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(0)
    return (rng.random((120, *IMAGE_SHAPE)) < 0.3).astype("float32")


@pytest.fixture(scope="module")
def vae():
    return _tiny_vae()


# --------------------------------------------------------------------------- notebook 03


def _kl(m, v, axis=1):
    return -0.5 * np.sum(1 + v - m**2 - np.exp(v), axis=axis)


@pytest.mark.parametrize(
    "wrong",
    [
        lambda m, v: -0.5 * np.mean(1 + v - m**2 - np.exp(v), axis=1),  # mean over dimensions
        lambda m, v: -0.5 * np.sum(1 + v - m**2 - np.exp(v / 2), axis=1),  # sigma, not sigma^2
        lambda m, v: 0.5 * np.sum(1 + v - m**2 - np.exp(v), axis=1),  # flipped sign
        lambda m, v: -np.sum(1 + v - m**2 - np.exp(v), axis=1),  # no 1/2
        lambda m, v: -0.5 * np.sum(1 + v - m**2 - np.exp(v), axis=0),  # wrong axis
        lambda m, v: -0.5 * np.sum(1 + 2 * v - m**2 - np.exp(2 * v), axis=1),  # log-std read
    ],
)
def test_03_exercise_1_rejects(wrong):
    with pytest.raises(AssertionError):
        vaes.check_03_exercise_1(wrong)


def test_03_exercise_1_accepts():
    vaes.check_03_exercise_1(lambda m, v: 0.5 * (np.exp(v) + np.square(m) - 1.0 - v).sum(axis=-1))


Z_MEAN, Z_LOG_VAR = np.array([0.8, -1.2]), np.array([-2.0, -1.0])
EPS = np.random.default_rng(0).standard_normal((10_000, 2))


def _right_reparameterize(m, v, e):
    return m + np.sqrt(np.exp(v)) * e


def _ex2(reparameterize, codes, sample_std):
    vaes.check_03_exercise_2(reparameterize, codes, sample_std, Z_MEAN, Z_LOG_VAR)


def test_03_exercise_2_rejects():
    good_codes = _right_reparameterize(Z_MEAN, Z_LOG_VAR, EPS)
    wrong_codes = Z_MEAN + np.exp(Z_LOG_VAR) * EPS
    cases = [
        # exp(z_log_var) as sigma
        (lambda m, v, e: m + np.exp(v) * e, wrong_codes, wrong_codes.std(0)),
        # the standard deviation of epsilon, not of the codes
        (_right_reparameterize, good_codes, EPS.std(0)),
        # the variance instead of the standard deviation
        (_right_reparameterize, good_codes, good_codes.var(0)),
        # a scalar spread
        (_right_reparameterize, good_codes, good_codes.std()),
        # the shortcut: sigma itself, no codes drawn (N03-11)
        (_right_reparameterize, None, np.exp(0.5 * Z_LOG_VAR)),
        # codes of z_mean only, sample_std copied from sigma
        (_right_reparameterize, np.tile(Z_MEAN, (10_000, 1)), np.exp(0.5 * Z_LOG_VAR)),
        # codes drawn around 0 (z_mean forgotten)
        (_right_reparameterize, good_codes - Z_MEAN, good_codes.std(0)),
    ]
    for reparameterize, codes, sample_std in cases:
        with pytest.raises(AssertionError):
            _ex2(reparameterize, codes, sample_std)


def test_03_exercise_2_accepts():
    epsilon = np.random.default_rng(7).normal(size=(10_000, 2))
    codes = _right_reparameterize(Z_MEAN, Z_LOG_VAR, epsilon)
    _ex2(lambda m, v, e: np.add(m, np.exp(v / 2) * e), codes, np.std(codes, axis=0, ddof=1))


def _negative_elbo_parts(encoder, decoder, images, epsilon):
    z_mean, z_log_var = (_np(t) for t in encoder(images))
    x = images.reshape(len(images), -1).astype(np.float64)
    return z_mean, z_log_var, x, epsilon.astype(np.float64)


def _reconstruction(decoder, z, x):
    logits = _np(decoder(z.astype("float32"))).reshape(len(x), -1)
    return np.sum(_softplus(logits) - x * logits, axis=1)  # -log p(x | z), summed


def _neg_elbo(sigma=lambda v: np.exp(v / 2), kl_scale=0.5, pixel_mean=False, sample=True):
    def negative_elbo(encoder, decoder, images, epsilon):
        z_mean, z_log_var, x, eps = _negative_elbo_parts(encoder, decoder, images, epsilon)
        z = z_mean + sigma(z_log_var) * eps if sample else z_mean
        reconstruction = _reconstruction(decoder, z, x)
        if pixel_mean:
            reconstruction = reconstruction / x.shape[1]
        kl = -kl_scale * np.sum(1 + z_log_var - z_mean**2 - np.exp(z_log_var), axis=1)
        return np.mean(reconstruction + kl)

    return negative_elbo


def test_03_exercise_3_reference_is_the_library_vae(vae, images):
    """The check's noise is the library's own: a seeded Sampling layer draws the same numbers."""
    sampling = Sampling(seed=11)
    z = _np(sampling([np.zeros((4, 3)), np.zeros((4, 3))]))
    eps = _np(keras.random.normal((4, 3), seed=keras.random.SeedGenerator(11)))
    np.testing.assert_array_equal(z, eps)


@pytest.mark.parametrize(
    "wrong",
    [
        _neg_elbo(pixel_mean=True),  # per-pixel mean instead of sum
        _neg_elbo(kl_scale=-0.5),  # KL with the wrong sign
        _neg_elbo(kl_scale=1.0),  # KL missing the 1/2
        _neg_elbo(sample=False),  # no sampling: z = z_mean
        _neg_elbo(sigma=np.exp),  # sigma = exp(z_log_var)
        # the batch summed, not averaged
        lambda *args: _neg_elbo()(*args) * len(args[2]),
    ],
)
def test_03_exercise_3_rejects(wrong, vae, images):
    with pytest.raises(AssertionError):
        vaes.check_03_exercise_3(wrong, vae, images[:8])


def test_03_exercise_3_accepts(vae, images):
    def negative_elbo(encoder, decoder, images, epsilon):  # probabilities, clipped, float32
        z_mean, z_log_var = (keras.ops.convert_to_numpy(t) for t in encoder(images))
        z = z_mean + np.exp(0.5 * z_log_var) * epsilon
        logits = keras.ops.convert_to_numpy(decoder(z))
        log_p = -np.logaddexp(0, -logits)  # log sigmoid
        log_1mp = -np.logaddexp(0, logits)  # log (1 - sigmoid)
        log_px = (images * log_p + (1 - images) * log_1mp).sum(axis=(1, 2, 3))
        kl = 0.5 * (z_mean**2 + np.exp(z_log_var) - z_log_var - 1).sum(axis=1)
        return float((kl - log_px).mean())

    vaes.check_03_exercise_3(negative_elbo, vae, images[:8])


@pytest.fixture(scope="module")
def bounds(vae, images):
    return vae.evaluate_bounds(images[:100], num_samples=20, seed=0)


def _ex4(bits, iwae_20, elbo_20, vae, images):
    vaes.check_03_exercise_4(bits, iwae_20, elbo_20, -150.0, vae, images, seed=0)


def test_03_exercise_4_rejects_wrong_units(vae, images, bounds):
    iwae, elbo = bounds["iwae"].mean(), bounds["elbo"].mean()
    pixels = 64
    for bits in (
        150 / np.log(2),  # per image, not per pixel
        -150 / pixels / np.log(2),  # negative
        150 / pixels / np.log(10),  # log10
        150 / pixels * np.log(2),  # times ln 2
        150 / pixels,  # nats, not bits
    ):
        with pytest.raises(AssertionError):
            _ex4(bits, iwae, elbo, vae, images)


def test_03_exercise_4_rejects_wrong_bounds(vae, images, bounds):
    bits = 150 / 64 / np.log(2)
    other_seed = vae.evaluate_bounds(images[:100], num_samples=20, seed=1)
    k100 = vae.evaluate_bounds(images[:100], num_samples=100, seed=0)
    all_images = vae.evaluate_bounds(images, num_samples=20, seed=0)
    other_vae = _tiny_vae(seed=1).evaluate_bounds(images[:100], num_samples=20, seed=0)
    other_images = vae.evaluate_bounds(images[100:200], num_samples=20, seed=0)
    elbo = bounds["elbo"].mean()
    cases = [
        (other_images["iwae"].mean(), other_images["elbo"].mean()),  # other (e.g. test) images
        (elbo, elbo),  # the same value twice (N03-6)
        (k100["iwae"].mean(), k100["elbo"].mean()),  # k = 100
        (all_images["iwae"].mean(), all_images["elbo"].mean()),  # all images
        (other_vae["iwae"].mean(), other_vae["elbo"].mean()),  # another model
        (other_seed["iwae"].mean(), bounds["elbo"].mean()),  # two calls, two seeds
        (bounds["iwae"].max(), bounds["elbo"].max()),  # max, not mean
        (bounds["elbo"].mean(), bounds["iwae"].mean()),  # swapped
        (bounds["iwae"].sum(), bounds["elbo"].sum()),  # sum over images
    ]
    for iwae_20, elbo_20 in cases:
        with pytest.raises(AssertionError):
            _ex4(bits, iwae_20, elbo_20, vae, images)


def test_03_exercise_4_accepts(vae, images):
    result = vae.evaluate_bounds(images[:100], num_samples=20, seed=0)
    bits = np.log2(np.exp(150.0)) / np.prod(images.shape[1:])
    _ex4(bits, np.mean(result["iwae"]), np.mean(result["elbo"]), vae, images)


# --------------------------------------------------------------------------- notebook 04


def _one_hot_scatter(labels, k):
    out = np.zeros((len(labels), k))
    out[:, labels] = 1
    return out


@pytest.mark.parametrize(
    "wrong",
    [
        _one_hot_scatter,  # every row gets every label
        lambda y, k: np.eye(max(y) + 1)[y],  # width from the largest label
        lambda y, k: np.eye(k)[y].T,  # transposed
        lambda y, k: np.eye(k)[np.asarray(y) - 1],  # off by one
        lambda y, k: np.eye(k)[sorted(y)],  # labels in the wrong order
    ],
)
def test_04_exercise_1_rejects(wrong):
    with pytest.raises(AssertionError):
        vaes.check_04_exercise_1(wrong)


def test_04_exercise_1_accepts():
    vaes.check_04_exercise_1(lambda y, k: (np.asarray(y)[:, None] == np.arange(k)).astype(float))


BETAS = [0.25, 1.0, 4.0]
SWEEP = {
    0.25: {"distortion": 80.0, "rate": 30.0},
    1.0: {"distortion": 95.0, "rate": 12.0},
    4.0: {"distortion": 130.0, "rate": 4.0},
}


def _elbos(formula):
    return np.array([formula(b, SWEEP[b]["distortion"], SWEEP[b]["rate"]) for b in BETAS])


@pytest.mark.parametrize(
    ("elbos", "best_beta"),
    [
        (_elbos(lambda b, d, r: -(d - r)), 1.0),  # D - R
        (_elbos(lambda b, d, r: -(d + b * r)), 1.0),  # the training loss, D + beta R
        (_elbos(lambda b, d, r: d + r), 1.0),  # flipped sign
        (_elbos(lambda b, d, r: -(d + r))[::-1], 1.0),  # reversed order
        (_elbos(lambda b, d, r: -(d + r)), 4.0),  # argmin
    ],
)
def test_04_exercise_2_rejects(elbos, best_beta):
    with pytest.raises(AssertionError):
        vaes.check_04_exercise_2(elbos, best_beta, SWEEP, BETAS)


def test_04_exercise_2_accepts():
    elbos = [-sum(SWEEP[b].values()) for b in BETAS]
    vaes.check_04_exercise_2(elbos, max(BETAS, key=lambda b: -sum(SWEEP[b].values())), SWEEP, BETAS)


@pytest.fixture(scope="module")
def beta_vae():
    return _tiny_vae(latent_dim=4, beta=4.0, seed=2)


def _sweep_point(model, images, epsilon, *, half=0.5, pixel_mean=False, sample=True):
    z_mean, z_log_var = model.encode(images)
    kl = -half * np.sum(1 + z_log_var - z_mean**2 - np.exp(z_log_var), axis=1)
    z = z_mean + np.exp(0.5 * z_log_var) * epsilon if sample else z_mean
    x = images.reshape(len(images), -1)
    reconstruction = _reconstruction(model.decoder, z, x)
    if pixel_mean:
        reconstruction = reconstruction / x.shape[1]
    rate, distortion = kl.mean(), reconstruction.mean()
    return rate, distortion, distortion + model.beta * rate, distortion + rate


def test_04_exercise_3_rejects(beta_vae, images):
    eps = np.random.default_rng(0).standard_normal((len(images), 4))
    r, d, loss, neg = _sweep_point(beta_vae, images, eps)
    wrong = [
        (r * len(images), d, loss, neg),  # rate summed over images
        _sweep_point(beta_vae, images, eps, half=1.0),  # KL without 1/2
        _sweep_point(beta_vae, images, eps, pixel_mean=True),  # per-pixel mean distortion
        _sweep_point(beta_vae, images, eps, sample=False),  # z = z_mean
        (r, d, d + r, neg),  # beta ignored in the training loss
        (r, d, loss, d + 4.0 * r),  # beta in the ELBO
        (r, d, d + r / 4.0, neg),  # beta on the wrong term
        (d, r, loss, neg),  # rate and distortion swapped
    ]
    for rate, distortion, beta_loss, negative_elbo in wrong:
        with pytest.raises(AssertionError):
            vaes.check_04_exercise_3(
                beta_vae, images, eps, rate, distortion, beta_loss, negative_elbo
            )


def test_04_exercise_3_accepts(beta_vae, images):
    eps = np.random.default_rng(0).standard_normal((len(images), 4))
    z_mean, z_log_var = (_np(t) for t in beta_vae.encoder(images))
    logits = _np(beta_vae.decoder(z_mean + np.sqrt(np.exp(z_log_var)) * eps))
    log_px = -np.sum(_softplus(-logits) * images + _softplus(logits) * (1 - images), axis=(1, 2, 3))
    distortion = float(np.mean(-log_px))
    rate = float(np.mean(0.5 * np.sum(z_mean**2 + np.exp(z_log_var) - 1 - z_log_var, axis=1)))
    vaes.check_04_exercise_3(
        beta_vae, images, eps, rate, distortion, distortion + 4.0 * rate, rate + distortion
    )


def test_04_exercise_3_reference_equals_the_library_sampling(beta_vae, images):
    """With the same noise, the check's terms equal VAE._loss_terms with its own Sampling."""
    eps = _np(keras.random.normal((len(images), 4), seed=keras.random.SeedGenerator(5)))
    library = VAE(beta_vae.encoder, beta_vae.decoder, seed=5)
    reconstruction, kl = (_np(t) for t in library._loss_terms(images))
    ref_reconstruction, ref_kl = vaes._library_terms(beta_vae, images, eps)
    np.testing.assert_allclose(ref_reconstruction, reconstruction, rtol=1e-5)
    np.testing.assert_allclose(ref_kl, kl, rtol=1e-5)


@pytest.fixture(scope="module")
def cvae():
    return _tiny_vae(latent_dim=4, num_classes=3, seed=3)


def _kl_per_dim(cvae, images, labels, half=0.5, axis=0):
    m, v = cvae.encode(images, labels)
    return (-half * (1 + v - m**2 - np.exp(v))).mean(axis=axis)


def test_04_exercise_4_rejects(cvae, images):
    labels = np.arange(100) % 3
    x = images[:100]
    right = _kl_per_dim(cvae, x, labels)
    wrong = [
        (_kl_per_dim(cvae, x, labels, axis=1), 0),  # averaged over dimensions
        (_kl_per_dim(cvae, x, labels, half=1.0), int((right > 0.1).sum())),  # no 1/2
        (right.sum(), 1),  # summed over dimensions
        (_kl_per_dim(cvae, images, np.arange(120) % 3), int((right > 0.1).sum())),  # more images
        (right * len(x), int((right > 0.1).sum())),  # summed over images
        (right, int((right > 0.1).sum()) + 1),  # a miscount
    ]
    for per_dim, num_active in wrong:
        with pytest.raises(AssertionError):
            vaes.check_04_exercise_4(per_dim, num_active, cvae, x, labels)


def test_04_exercise_4_accepts(cvae, images):
    labels = np.arange(100) % 3
    m, v = cvae.encode(images[:100], labels)
    per_dim = np.mean(0.5 * (m**2 + np.exp(v) - v - 1), axis=0)
    vaes.check_04_exercise_4(
        per_dim, int(np.count_nonzero(per_dim > 0.1)), cvae, images[:100], labels
    )


# --------------------------------------------------------------------------- notebook 05


def _d_star_no_zero(p, q):
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(p, float) / (np.asarray(p, float) + np.asarray(q, float))


@pytest.mark.parametrize(
    "wrong",
    [
        _d_star_no_zero,  # NaN where both are 0
        lambda p, q: np.where(p + q > 0, q / np.maximum(p + q, 1e-300), 0.5),  # p_g on top
        lambda p, q: np.where(p + q > 0, p / np.maximum(p + q, 1e-300), 0.0),  # 0 where both 0
        lambda p, q: np.where(q > 0, p / np.maximum(q, 1e-300), 0.5),  # a ratio of densities
    ],
)
def test_05_exercise_1_rejects(wrong):
    with pytest.raises(AssertionError):
        gan_checks.check_exercise_1(wrong)


def test_05_exercise_1_accepts():
    def d_star(p, q):
        p, q = np.asarray(p, float), np.asarray(q, float)
        total = p + q
        safe = np.where(total > 0, total, 1.0)
        return np.where(total > 0, p / safe, 0.5)

    gan_checks.check_exercise_1(d_star)


@pytest.mark.parametrize(
    ("saturating", "non_saturating"),
    [
        (-1 / 0.99, -100.0),  # derivatives with respect to D, not the logit
        (0.01, 0.99),  # signs flipped
        (-0.99, -0.01),  # swapped
        (np.log(0.99), -np.log(0.01)),  # the losses, not their gradients
        (-0.01 * 0.99, -0.99 * 0.99),  # one sigmoid derivative too many
    ],
)
def test_05_exercise_2_rejects(saturating, non_saturating):
    with pytest.raises(AssertionError):
        gan_checks.check_exercise_2(saturating, non_saturating)


def test_05_exercise_2_accepts():
    d = 0.01
    gan_checks.check_exercise_2(-d, d - 1)


def _count_nearest(points, centers, radius, min_count):  # radius ignored (N05-1)
    distances = np.linalg.norm(points[:, None] - centers[None], axis=2)
    return int(np.sum(np.bincount(distances.argmin(1), minlength=len(centers)) >= min_count))


def _count_modes_with(distance, radius_scale=1.0, strict_count=False):
    def count_modes(points, centers, radius, min_count):
        d = distance(points[:, None] - centers[None])
        counts = np.sum(d < radius * radius_scale, axis=0)
        return int(np.sum(counts > min_count if strict_count else counts >= min_count))

    return count_modes


def _euclidean(diff):
    return np.linalg.norm(diff, axis=2)


@pytest.mark.parametrize(
    "wrong",
    [
        _count_nearest,  # radius ignored
        _count_modes_with(lambda diff: np.sum(diff**2, axis=2)),  # squared distance
        _count_modes_with(_euclidean, radius_scale=4.0),  # a radius four times too large
        _count_modes_with(_euclidean, strict_count=True),  # > instead of >=
        _count_modes_with(lambda diff: np.abs(diff).sum(axis=2)),  # Manhattan distance
        lambda points, centers, radius, min_count: int(  # points, not centers, counted
            np.sum(np.linalg.norm(points[:, None] - centers[None], axis=2) < radius)
        ),
    ],
)
def test_05_exercise_3_rejects(wrong):
    with pytest.raises(AssertionError):
        gan_checks.check_exercise_3(wrong)


def test_05_exercise_3_accepts():
    def count_modes(points, centers, radius, min_count):
        covered = 0
        for center in centers:
            near = np.sqrt(((points - center) ** 2).sum(axis=1)) < radius
            covered += int(near.sum() >= min_count)
        return covered

    gan_checks.check_exercise_3(count_modes)


def _d_loss(discriminator, generator, real, z_d):
    real_logits = discriminator(real, training=True)
    fake_logits = discriminator(generator(z_d, training=True), training=True)
    return tf.reduce_mean(tf.nn.softplus(-real_logits)) + tf.reduce_mean(
        tf.nn.softplus(fake_logits)
    )


def _g_loss(discriminator, generator, z_g, saturating=False):
    logits = discriminator(generator(z_g, training=True), training=True)
    if saturating:
        return -tf.reduce_mean(tf.nn.softplus(logits))
    return tf.reduce_mean(tf.nn.softplus(-logits))


def _right_step(generator, discriminator, d_optimizer, g_optimizer, real, z_d, z_g):
    with tf.GradientTape() as tape:
        d_loss = _d_loss(discriminator, generator, real, z_d)
    grads = tape.gradient(d_loss, discriminator.trainable_weights)
    d_optimizer.apply_gradients(zip(grads, discriminator.trainable_weights, strict=True))
    with tf.GradientTape() as tape:
        g_loss = _g_loss(discriminator, generator, z_g)
    grads = tape.gradient(g_loss, generator.trainable_weights)
    g_optimizer.apply_gradients(zip(grads, generator.trainable_weights, strict=True))
    return d_loss, g_loss


def _one_optimizer(generator, discriminator, d_optimizer, g_optimizer, real, z_d, z_g):
    variables = discriminator.trainable_weights + generator.trainable_weights
    with tf.GradientTape() as tape:
        d_loss = _d_loss(discriminator, generator, real, z_d)
        g_loss = _g_loss(discriminator, generator, z_g)
        loss = d_loss + g_loss
    d_optimizer.apply(tape.gradient(loss, variables), variables)
    return d_loss, g_loss


def _through_old_d(generator, discriminator, d_optimizer, g_optimizer, real, z_d, z_g):
    with tf.GradientTape(persistent=True) as tape:
        d_loss = _d_loss(discriminator, generator, real, z_d)
        g_loss = _g_loss(discriminator, generator, z_g)  # computed before D moves
    d_optimizer.apply(
        tape.gradient(d_loss, discriminator.trainable_weights), discriminator.trainable_weights
    )
    g_optimizer.apply(
        tape.gradient(g_loss, generator.trainable_weights), generator.trainable_weights
    )
    return d_loss, g_loss


def _saturating(generator, discriminator, d_optimizer, g_optimizer, real, z_d, z_g):
    with tf.GradientTape() as tape:
        d_loss = _d_loss(discriminator, generator, real, z_d)
    d_optimizer.apply(
        tape.gradient(d_loss, discriminator.trainable_weights), discriminator.trainable_weights
    )
    with tf.GradientTape() as tape:
        g_loss = _g_loss(discriminator, generator, z_g, saturating=True)
    g_optimizer.apply(
        tape.gradient(g_loss, generator.trainable_weights), generator.trainable_weights
    )
    return d_loss, g_loss


def _d_step_moves_g(generator, discriminator, d_optimizer, g_optimizer, real, z_d, z_g):
    variables = discriminator.trainable_weights + generator.trainable_weights
    with tf.GradientTape() as tape:
        d_loss = _d_loss(discriminator, generator, real, z_d)
    d_optimizer.apply(tape.gradient(d_loss, variables), variables)
    with tf.GradientTape() as tape:
        g_loss = _g_loss(discriminator, generator, z_g)
    g_optimizer.apply(
        tape.gradient(g_loss, generator.trainable_weights), generator.trainable_weights
    )
    return d_loss, g_loss


def _g_first(generator, discriminator, d_optimizer, g_optimizer, real, z_d, z_g):
    with tf.GradientTape() as tape:
        g_loss = _g_loss(discriminator, generator, z_g)
    g_optimizer.apply(
        tape.gradient(g_loss, generator.trainable_weights), generator.trainable_weights
    )
    with tf.GradientTape() as tape:
        d_loss = _d_loss(discriminator, generator, real, z_d)
    d_optimizer.apply(
        tape.gradient(d_loss, discriminator.trainable_weights), discriminator.trainable_weights
    )
    return d_loss, g_loss


def _same_noise(generator, discriminator, d_optimizer, g_optimizer, real, z_d, z_g):
    return _right_step(generator, discriminator, d_optimizer, g_optimizer, real, z_d, z_d)


def _no_losses(*args):
    _right_step(*args)


@pytest.mark.parametrize(
    "wrong",
    [
        _one_optimizer,  # one optimizer over both networks
        _through_old_d,  # G step through the old D
        _saturating,  # the saturating generator loss
        _d_step_moves_g,  # a D step that also updates G
        _g_first,  # G step first
        _same_noise,  # the G step reuses z_d
        _no_losses,  # returns nothing
    ],
)
def test_05_exercise_4_rejects(wrong):
    with pytest.raises(AssertionError):
        gan_checks.check_exercise_4(wrong)


def test_05_exercise_4_accepts():
    gan_checks.check_exercise_4(_right_step)
