"""Tests of course_lib.data: every loader path, on small files the tests make themselves."""

import gzip
import hashlib
import http.server
import io
import threading
import time

import numpy as np
import pytest

from course_lib import data
from course_lib.data import (
    ChecksumMismatchError,
    DataNotFoundError,
    load_dataset,
    make_tf_dataset,
    read_idx,
    verify_file,
)


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode a uint8 array as an IDX file (the inverse of read_idx)."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(n).to_bytes(4, "big") for n in array.shape
    )
    return header + array.astype(np.uint8).tobytes()


def fake_split(num: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(num, 28, 28), dtype=np.uint8)
    labels = (np.arange(num) % 10).astype(np.uint8)
    return images, labels


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No COURSE_DATA_DIR, an empty cache, no network, and fresh digest tables."""
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    cache = tmp_path / "cache"
    monkeypatch.setattr(data, "default_data_dir", lambda: cache)
    digests = {
        name: {f: {k: set(v) for k, v in d.items()} for f, d in files.items()}
        for name, files in data.KNOWN_DIGESTS.items()
    }
    monkeypatch.setattr(data, "KNOWN_DIGESTS", digests)
    return tmp_path


def write_known(folder, dataset, filename, payload: bytes):
    """Write `payload` gzipped and register the digest of the decompressed bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / filename
    path.write_bytes(gzip.compress(payload))
    data.KNOWN_DIGESTS[dataset][filename]["raw"].add(hashlib.sha256(payload).hexdigest())
    return path


def test_read_idx_round_trip():
    images, labels = fake_split(5)
    assert np.array_equal(read_idx(idx_bytes(images)), images)
    assert np.array_equal(read_idx(idx_bytes(labels)), labels)


def test_read_idx_rejects_a_bad_header_and_a_short_file():
    images, _ = fake_split(2)
    with pytest.raises(ValueError, match="Expected an IDX header"):
        read_idx(b"\x00\x00\x09\x03" + idx_bytes(images)[4:])
    with pytest.raises(ValueError, match=r"Expected 1584 bytes .* Received: 1500"):
        read_idx(idx_bytes(images)[:1500])


def test_full_idx_splits_load_in_range(isolated, monkeypatch):
    folder = isolated / "mine" / "mnist"
    for split, num in (("train", 5030), ("test", 20)):
        images, labels = fake_split(num, seed=num)
        write_known(folder, "mnist", data._IDX_FILES[(split, "images")], idx_bytes(images))
        write_known(folder, "mnist", data._IDX_FILES[(split, "labels")], idx_bytes(labels))
    monkeypatch.setenv("COURSE_DATA_DIR", str(isolated / "mine"))
    train = load_dataset("mnist", "train")
    validation = load_dataset("mnist", "validation")
    # The training file less 5,000 held out for validation; the test file whole.
    assert (len(train), len(validation)) == (30, data.FULL_VALIDATION_SIZE)
    assert train.images.shape == (30, 28, 28, 1) and train.images.dtype == np.float32
    assert 0.0 <= train.images.min() and train.images.max() <= 1.0
    assert "full training file" in train.description
    assert not set(train.indices) & set(validation.indices)
    test = load_dataset("mnist", "test", value_range=(-1, 1))
    assert len(test) == 20 and test.images.min() >= -1.0 and test.images.min() < 0
    assert sorted(test.indices) == list(range(20))
    assert test.labels.dtype == np.int64 and "full test file" in test.description


def test_keras_npz_is_accepted(isolated, monkeypatch):
    images, labels = fake_split(5012)
    buffer = io.BytesIO()
    np.savez(
        buffer,
        x_train=images[:5008],
        y_train=labels[:5008],
        x_test=images[5008:],
        y_test=labels[5008:],
    )
    blob = buffer.getvalue()
    folder = isolated / "npz"
    folder.mkdir()
    (folder / "mnist.npz").write_bytes(blob)
    data.KNOWN_DIGESTS["mnist"]["mnist.npz"]["raw"].add(hashlib.sha256(blob).hexdigest())
    monkeypatch.setenv("COURSE_DATA_DIR", str(folder))
    train = load_dataset("mnist", "train")
    test = load_dataset("mnist", "test")
    assert (len(train), len(test)) == (8, 4)
    assert np.allclose(train.images[..., 0] * 255, images[train.indices])


def test_checksum_mismatch_is_reported(isolated):
    path = isolated / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(b"not the labels"))
    with pytest.raises(ChecksumMismatchError, match="Expected .* SHA-256 digests .* Received"):
        verify_file(path, "mnist")


def test_corrupt_local_copy_is_skipped_with_a_warning(isolated, monkeypatch):
    folder = isolated / "bad" / "mnist"
    folder.mkdir(parents=True)
    for filename in data._IDX_FILES.values():
        (folder / filename).write_bytes(gzip.compress(b"corrupt"))
    monkeypatch.setenv("COURSE_DATA_DIR", str(isolated / "bad"))
    with pytest.warns(UserWarning, match="SHA-256"), pytest.raises(DataNotFoundError) as info:
        load_dataset("mnist", "train")
    assert "What went wrong" in str(info.value) and "SHA-256" in str(info.value)


def test_the_offline_partition_is_fixed_disjoint_and_checksummed(
    shared_mnist_dir, monkeypatch, tmp_path
):
    monkeypatch.setenv("COURSE_DATA_DIR", str(shared_mnist_dir.parent))
    monkeypatch.setattr(data, "default_data_dir", lambda: tmp_path)
    splits = {split: load_dataset("mnist", split) for split in data.SPLITS}
    assert {s: len(d) for s, d in splits.items()} == dict(data.OFFLINE_PARTITION)
    # Disjoint and together the whole file.
    indices = np.concatenate([d.indices for d in splits.values()])
    assert sorted(indices) == list(range(10_000))
    # The same on every machine: the indices' checksum is the documented one.
    parts = {split: d.indices for split, d in splits.items()}
    assert data.partition_checksum(parts) == data.PARTITION_SHA256["mnist-offline"]
    # A fair shuffle, not contiguous runs: each split spans both writer populations
    # (the file's first and second halves) and holds every class.
    for d in splits.values():
        first_half = np.mean(d.indices < 5000)
        assert 0.45 < first_half < 0.55
        assert set(d.labels) == set(range(10))
    assert "offline partition" in splits["test"].description
    assert "7,000 / 1,000 / 2,000" in splits["test"].description
    # No test image appears among the training images (by content, too).
    train_rows = {img.tobytes() for img in splits["train"].images[:, :, :, 0]}
    assert not any(img.tobytes() in train_rows for img in splits["test"].images[:200, :, :, 0])
    # A prefix is a prefix of the same order.
    first = load_dataset("mnist", "validation", num_examples=50)
    assert np.array_equal(first.indices, splits["validation"].indices[:50])
    assert first.description.startswith("mnist: the first 50 images of the validation split")


def test_partitions_match_their_documented_checksums():
    for tag, num_images, sizes in (
        ("mnist-offline", 10_000, data.OFFLINE_PARTITION),
        ("mnist-train", 60_000, (("validation", data.FULL_VALIDATION_SIZE), ("train", 60_000))),
        ("digits", 1797, data.STAND_IN_PARTITION),
    ):
        parts = data.partition(num_images, sizes, tag)
        assert data.partition_checksum(parts) == data.PARTITION_SHA256[tag]
        assert sum(len(p) for p in parts.values()) == num_images
    # Another tag gives another order: the checksum notices a change of recipe.
    other = data.partition(10_000, data.OFFLINE_PARTITION, "mnist-offline-v2")
    assert data.partition_checksum(other) != data.PARTITION_SHA256["mnist-offline"]


def test_binarize_gives_zeros_and_ones(shared_mnist_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA_DIR", str(shared_mnist_dir.parent))
    monkeypatch.setattr(data, "default_data_dir", lambda: tmp_path)
    binary = load_dataset("mnist", "test", num_examples=100, binarize=True)
    assert set(np.unique(binary.images)) == {0.0, 1.0}
    with pytest.raises(ValueError, match=r"value_range=\(0, 1\) with binarize=True"):
        load_dataset("mnist", "test", binarize=True, value_range=(-1, 1))


def test_no_copy_and_no_network_fails_fast_with_advice(isolated):
    started = time.perf_counter()
    with pytest.raises(DataNotFoundError) as info:
        load_dataset("mnist", "train")
    assert time.perf_counter() - started < 5
    message = str(info.value)
    assert "COURSE_DATA_DIR" in message and "allow_stand_in=True" in message


def test_download_failure_without_offline_flag_is_fast(isolated, monkeypatch):
    monkeypatch.delenv("COURSE_OFFLINE")
    monkeypatch.setattr(data, "MIRRORS", {"mnist": ["http://127.0.0.1:9/"]})  # nothing listens
    monkeypatch.setattr(data.time, "sleep", lambda s: None)
    started = time.perf_counter()
    with pytest.raises(DataNotFoundError, match="could not download"):
        load_dataset("mnist", "train")
    assert time.perf_counter() - started < 10


def test_stand_in_needs_permission_and_announces_itself(isolated, capsys):
    with pytest.warns(UserWarning, match="stand-in"):
        stand_in = load_dataset("mnist", "train", allow_stand_in=True, num_examples=50)
    assert "STAND-IN DATA" in capsys.readouterr().out
    assert stand_in.name == "digits" and stand_in.is_stand_in
    assert stand_in.description.startswith("digits:")
    assert stand_in.images.shape == (50, 28, 28, 1)
    # Digits sit in the middle 20x20 box, like MNIST's: the border stays black.
    assert stand_in.images[:, :3].max() == 0.0


def test_stand_in_by_name_has_disjoint_splits():
    splits = [load_dataset("digits", split) for split in data.SPLITS]
    assert [len(d) for d in splits] == [size for _, size in data.STAND_IN_PARTITION]
    assert sorted(np.concatenate([d.indices for d in splits])) == list(range(1797))


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"name": "cifar10"}, r"Expected `name` to be one of .* Received: name='cifar10'"),
        ({"split": "valid"}, r"Expected `split` to be one of .* Received: split='valid'"),
        ({"num_examples": 0}, r"positive integer. Received: num_examples=0"),
        ({"num_examples": -5}, r"positive integer. Received: num_examples=-5"),
        (
            {"num_examples": 10_000},
            r"Expected `num_examples` <= 1,297.* Received: num_examples=10,000",
        ),
        ({"value_range": (0, 255)}, r"Expected `value_range` to be one of"),
    ],
)
def test_bad_arguments_say_what_was_expected(kwargs, pattern):
    arguments = {"name": "digits", "split": "train", **kwargs}
    name, split = arguments.pop("name"), arguments.pop("split")
    with pytest.raises(ValueError, match=pattern):
        load_dataset(name, split, **arguments)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def mirror(tmp_path):
    """A local HTTP server standing in for a dataset mirror (loopback only)."""
    root = tmp_path / "mirror"
    root.mkdir()

    def handler(*args, **kwargs):
        return _QuietHandler(*args, directory=str(root), **kwargs)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def test_download_verifies_and_caches(isolated, monkeypatch, mirror):
    root, url = mirror
    for split, num in (("train", 5030), ("test", 10)):
        images, labels = fake_split(num)
        write_known(root, "mnist", data._IDX_FILES[(split, "images")], idx_bytes(images))
        write_known(root, "mnist", data._IDX_FILES[(split, "labels")], idx_bytes(labels))
    monkeypatch.delenv("COURSE_OFFLINE")
    monkeypatch.setattr(data, "MIRRORS", {"mnist": [url]})
    train = load_dataset("mnist", "train")
    assert len(train) == 30
    cached = data.default_data_dir() / "mnist" / "train-images-idx3-ubyte.gz"
    assert cached.exists()
    # A second load reads the cache: with the mirror gone it still works.
    monkeypatch.setattr(data, "MIRRORS", {"mnist": ["http://127.0.0.1:9/"]})
    assert len(load_dataset("mnist", "train")) == 30


def test_a_corrupt_download_is_rejected_and_not_cached(isolated, monkeypatch, mirror):
    root, url = mirror
    for filename in data._IDX_FILES.values():
        (root / filename).write_bytes(gzip.compress(b"tampered"))
    monkeypatch.delenv("COURSE_OFFLINE")
    monkeypatch.setattr(data, "MIRRORS", {"mnist": [url]})
    with pytest.raises(DataNotFoundError, match="SHA-256"):
        load_dataset("mnist", "train")
    assert not list((data.default_data_dir() / "mnist").glob("*.gz"))


def test_make_tf_dataset_batches_and_repeats_with_a_seed(tiny_digits):
    images, labels = tiny_digits
    first = [b[1].numpy() for b in make_tf_dataset(images, labels, batch_size=16, seed=3)]
    again = [b[1].numpy() for b in make_tf_dataset(images, labels, batch_size=16, seed=3)]
    assert [len(b) for b in first] == [16, 16, 16, 16]
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert sorted(np.concatenate(first)) == sorted(labels)
    with pytest.raises(ValueError, match="as many labels as images"):
        make_tf_dataset(images, labels[:10])


def translate(image, dy, dx):
    """Move a (height, width, channels) image by whole pixels, filling with zeros."""
    moved = np.zeros_like(image)
    height, width = image.shape[:2]
    rows, cols = slice(max(dy, 0), height + min(dy, 0)), slice(max(dx, 0), width + min(dx, 0))
    moved[rows, cols] = image[max(-dy, 0) : height - max(dy, 0), max(-dx, 0) : width - max(dx, 0)]
    return moved


def test_make_tf_dataset_shifts_each_image_by_whole_pixels(tiny_digits):
    images, labels = tiny_digits
    binary = (images > 0.5).astype("float32")
    dataset = make_tf_dataset(binary, labels, batch_size=64, shuffle=False, shift_pixels=2)
    shifted, kept_labels = (t.numpy() for t in next(iter(dataset)))
    assert shifted.shape == binary.shape
    assert np.array_equal(kept_labels, labels)  # labels travel with their images
    assert set(np.unique(shifted)) <= {0.0, 1.0}  # nearest-neighbour: no grey levels
    offsets = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)]
    found = []
    for original, moved in zip(binary, shifted, strict=True):
        matches = [o for o in offsets if np.array_equal(translate(original, *o), moved)]
        assert matches, "every image must be a whole-pixel shift of at most 2 of its original"
        found.append(matches[0])
    assert len(set(found)) > 5  # shifts vary from image to image
    unshifted = next(iter(make_tf_dataset(binary, batch_size=64, shuffle=False)))
    assert np.array_equal(unshifted.numpy(), binary)


@pytest.mark.parametrize("shift_pixels", [-1, 1.5, True])
def test_make_tf_dataset_rejects_a_bad_shift(tiny_digits, shift_pixels):
    images, _ = tiny_digits
    with pytest.raises(ValueError, match="Expected `shift_pixels` to be an integer >= 0"):
        make_tf_dataset(images, shift_pixels=shift_pixels)


def test_make_tf_dataset_needs_image_axes_to_shift():
    with pytest.raises(ValueError, match=r"\(num_examples, height, width, channels\)"):
        make_tf_dataset(np.zeros((8, 784), "float32"), shift_pixels=1)
