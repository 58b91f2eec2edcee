"""Tests of course_lib.models.digit_classifier: the FID classifier, its cache and its features."""

import numpy as np
import pytest

from course_lib.metrics.fid import fid
from course_lib.models import digit_classifier
from course_lib.models.digit_classifier import (
    FeatureExtractor,
    build_digit_classifier,
    get_feature_extractor,
)


@pytest.fixture(scope="module")
def extractor(tmp_path_factory):
    """A classifier trained for one epoch on 64 stand-in digits (seconds), cached in a tmp dir."""
    from course_lib.data import load_dataset

    data = load_dataset("digits", "train", num_examples=64)
    cache = tmp_path_factory.mktemp("classifier_cache")
    return get_feature_extractor(
        data.images, data.labels, cache_dir=cache, epochs=1, seed=0, verbose=False
    )


def test_classifier_has_a_named_feature_layer_and_seeded_weights():
    classifier = build_digit_classifier(num_classes=7, seed=3)
    assert classifier.output.shape[-1] == 7
    assert classifier.get_layer("features").units == 128
    again = build_digit_classifier(num_classes=7, seed=3)
    for a, b in zip(classifier.get_weights(), again.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_extractor_features_shape_and_accuracy(extractor, tiny_digits):
    images, labels = tiny_digits
    assert isinstance(extractor, FeatureExtractor)
    features = extractor(images[:10])
    assert features.shape == (10, 128) and features.dtype == np.float64
    assert extractor(images[:10, ..., 0]).shape == (10, 128)  # (N, 28, 28) is accepted too
    assert 0.0 <= extractor.validation_accuracy <= 1.0
    assert 0.0 <= extractor.evaluate(images, labels) <= 1.0
    assert extractor.predict_labels(images[:5]).shape == (5,)
    assert extractor.cache_path is not None and extractor.cache_path.exists()


def test_extractor_is_cached_by_data_hash(extractor, tiny_digits, capsys):
    images, labels = tiny_digits
    again = get_feature_extractor(
        images, labels, cache_dir=extractor.cache_path.parent, epochs=1, seed=0
    )
    assert "loaded from the cache" in capsys.readouterr().out
    assert again.cache_path == extractor.cache_path
    assert again.validation_accuracy == pytest.approx(extractor.validation_accuracy)
    np.testing.assert_allclose(again(images[:5]), extractor(images[:5]), rtol=1e-5, atol=1e-5)
    # Other settings hash to another file.
    key_a = digit_classifier._cache_key(images, labels, {"epochs": 1})
    key_b = digit_classifier._cache_key(images, labels, {"epochs": 2})
    key_c = digit_classifier._cache_key(images[::-1].copy(), labels, {"epochs": 1})
    assert len({key_a, key_b, key_c}) == 3


def test_training_without_a_cache_repeats_the_cached_classifier(extractor, tiny_digits, capsys):
    images, labels = tiny_digits
    fresh = get_feature_extractor(images, labels, cache_dir=False, epochs=1, seed=0)
    assert "trained on 58 images for 1 epochs" in capsys.readouterr().out  # 6 of 64 held out
    assert fresh.cache_path is None
    assert fresh.validation_accuracy == extractor.validation_accuracy
    np.testing.assert_allclose(fresh(images[:8]), extractor(images[:8]), rtol=1e-6, atol=1e-6)


def test_a_broken_cache_file_is_retrained(extractor, tiny_digits, tmp_path, capsys):
    images, labels = tiny_digits
    broken = tmp_path / extractor.cache_path.name
    broken.write_bytes(b"not a keras file")
    info = extractor.cache_path.with_suffix(".json")
    broken.with_suffix(".json").write_text(info.read_text())
    again = get_feature_extractor(images, labels, cache_dir=tmp_path, epochs=1, seed=0)
    assert "unreadable" in capsys.readouterr().out
    assert again.cache_path == broken
    np.testing.assert_allclose(again(images[:5]), extractor(images[:5]), rtol=1e-6, atol=1e-6)


def test_fid_with_the_extractor_and_with_its_keras_model(extractor, tiny_digits):
    images, _ = tiny_digits
    assert fid(images, images, extractor) == pytest.approx(0.0, abs=1e-6)
    darker = [fid(images, images * factor, extractor) for factor in (0.9, 0.6, 0.3)]
    assert darker[0] > 0 and darker == sorted(darker)
    via_model = fid(images[:32], images[32:], extractor.model)
    assert via_model == pytest.approx(fid(images[:32], images[32:], extractor), rel=1e-4)


def test_bad_arguments_say_what_was_expected_and_received(extractor, tiny_digits):
    images, labels = tiny_digits
    with pytest.raises(ValueError, match=r"shape \(batch, 28, 28, 1\).*Received: images.shape"):
        extractor(np.zeros((4, 32, 32, 1), np.float32))
    with pytest.raises(ValueError, match=r"shape \(batch, 28, 28, 1\).*Received: images.shape"):
        fid(np.zeros((4, 32, 32, 1)), np.zeros((4, 32, 32, 1)), extractor)
    with pytest.raises(ValueError, match=r"values in \[0, 1\]\. Received: values in \[-1"):
        extractor(images * 2 - 1)
    with pytest.raises(ValueError, match="Expected one label per image.*Received: 3 labels"):
        get_feature_extractor(images, labels[:3], cache_dir=False)
    with pytest.raises(ValueError, match="Expected `epochs` to be a positive integer"):
        get_feature_extractor(images, labels, cache_dir=False, epochs=0)
    with pytest.raises(ValueError, match=r"`validation_fraction` in \[0, 0.5\)"):
        get_feature_extractor(images, labels, cache_dir=False, validation_fraction=0.5)
    with pytest.raises(ValueError, match="Expected `num_classes` to be a positive integer"):
        build_digit_classifier(num_classes=0)


def test_a_validation_split_is_measured_and_keys_the_cache(tmp_path):
    from course_lib.data import load_dataset

    train = load_dataset("digits", "train", num_examples=64)
    validation = load_dataset("digits", "validation", num_examples=40)
    pair = (validation.images, validation.labels)
    extractor = get_feature_extractor(
        train.images, train.labels, validation=pair, cache_dir=tmp_path, epochs=1, verbose=False
    )
    # The accuracy is the one on the validation digits, and every training image was used.
    assert extractor.validation_accuracy == pytest.approx(extractor.evaluate(*pair))
    other = (validation.images[:20], validation.labels[:20])
    get_feature_extractor(
        train.images, train.labels, validation=other, cache_dir=tmp_path, epochs=1, verbose=False
    )
    assert len(list(tmp_path.glob("*.keras"))) == 2  # another validation set, another entry
    with pytest.raises(ValueError, match=r"a pair \(images, labels\)\. Received: ndarray"):
        get_feature_extractor(train.images, train.labels, validation=validation.images)
    with pytest.raises(ValueError, match=r"one validation label per image \(40 labels\)"):
        get_feature_extractor(
            train.images, train.labels, validation=(validation.images, validation.labels[:5])
        )
