"""Image datasets for the course: MNIST, Fashion-MNIST and an offline stand-in.

Taught in notebook 00, section 2 ("Datasets"). Every loader returns float32 images
of shape `(num_examples, 28, 28, 1)` in a documented range, integer labels, and
a description of the data actually used, which each run records in its
`metrics.json`.

Where the files come from, in order:

1. the directory named by the environment variable `COURSE_DATA_DIR`;
2. the course's own `data/` folder (the cache);
3. a download from the dataset's mirrors, with retries and a timeout, cached
   in `data/` (skipped when `COURSE_OFFLINE=1`).

Every file is verified by SHA-256 before use. Mirrors re-compress the same IDX
files with different gzip headers, so a file is accepted when either the
digest of the `.gz` matches a known copy or the digest of its decompressed
bytes matches the original data.

Three splits, fixed the same on every machine:

* with the full files, ``train`` is the 60,000-image training file minus 5,000
  images held out as ``validation``, and ``test`` is the 10,000-image test file;
* when only the MNIST *test* file can be found (10,000 digits, as offline), it
  is partitioned into train / validation / test = 7,000 / 1,000 / 2,000, and
  the loader says so.

Which images go where is a fixed shuffle, not a seeded random generator: the
images of a file are ordered by the SHA-256 digest of ``"<tag>:<index>"``, so the
order is the same on every machine and with every NumPy version, and
``PARTITION_SHA256`` records a checksum of the resulting indices (the tests check
it). Every split comes back in that shuffled order, so its first ``n`` images are
a fair sample of the whole split (MNIST's files are sorted by writer population:
its test file's first 5,000 digits are easier than the rest).

Tune on ``validation``; touch ``test`` once, for the headline figures.
When nothing can be found, it raises `DataNotFoundError` that says what to do,
unless the stand-in (scikit-learn's 8x8 digits, resized) is allowed; the
stand-in is always announced with a banner.

Example:
    >>> from course_lib.data import load_dataset
    >>> digits = load_dataset("digits", "train", num_examples=100)  # the stand-in: offline
    >>> digits.images.shape, digits.images.dtype, digits.name
    ((100, 28, 28, 1), dtype('float32'), 'digits')
    >>> # Not run by the doctests, since it may download MNIST:
    >>> train = load_dataset("mnist", "train", num_examples=1000)  # doctest: +SKIP
"""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
import sys
import time
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from course_lib._checks import check_choice, check_positive_int

__all__ = [
    "DATASETS",
    "SPLITS",
    "ChecksumMismatchError",
    "DataNotFoundError",
    "ImageData",
    "default_data_dir",
    "load_dataset",
    "make_tf_dataset",
    "read_idx",
    "verify_file",
]

DATASETS = ("mnist", "fashion_mnist", "digits")
SPLITS = ("train", "validation", "test")
VALUE_RANGES = ((0.0, 1.0), (-1.0, 1.0))

# Images of the training file held out as the validation split (full data).
FULL_VALIDATION_SIZE = 5000
# How a single 10,000-image test file is shared out when the training file is missing.
OFFLINE_PARTITION = (("train", 7000), ("validation", 1000), ("test", 2000))
# The stand-in's 1,797 digits, shared out the same way.
STAND_IN_PARTITION = (("train", 1297), ("validation", 200), ("test", 300))

# SHA-256 of the int64 indices (little-endian) of every split of each partition, so a
# change in how the partition is made cannot pass unnoticed (tests/test_data.py).
# The keys are the tags given to `partition`.
PARTITION_SHA256 = {
    "mnist-offline": "1b20f36c4f7d3d5f2c422861c380d48e8605eec8cb2190b9c1e53b1471eb5926",
    "mnist-train": "d8d3253e21f9803b93c92fb9fb2c2715235e9b60e127039bb2261ad88f6911d5",
    "digits": "66094a1e6f29bd64b9afaff7f4c0d69b4cf2eeb0cd18a79775bf04bb4fbe2c41",
}

CLASS_NAMES = {
    "mnist": tuple(str(d) for d in range(10)),
    "digits": tuple(str(d) for d in range(10)),
    "fashion_mnist": (
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
}

_IDX_FILES = {
    ("train", "images"): "train-images-idx3-ubyte.gz",
    ("train", "labels"): "train-labels-idx1-ubyte.gz",
    ("test", "images"): "t10k-images-idx3-ubyte.gz",
    ("test", "labels"): "t10k-labels-idx1-ubyte.gz",
}

# Known SHA-256 digests. "gz": digests of published .gz copies (one per mirror
# whose copy is known); "raw": digests of the decompressed bytes, which identify
# the data whatever gzip wrapper a mirror used.
KNOWN_DIGESTS = {
    "mnist": {
        "train-images-idx3-ubyte.gz": {
            "gz": {"440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"},
            "raw": set(),
        },
        "train-labels-idx1-ubyte.gz": {
            "gz": {"3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"},
            "raw": set(),
        },
        "t10k-images-idx3-ubyte.gz": {
            "gz": {
                "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                "9fe7630f90c0e670227960a294637bc2e78a29d724810e24204eb342c9f033a1",
            },
            "raw": {"0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"},
        },
        "t10k-labels-idx1-ubyte.gz": {
            "gz": {
                "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                "2c54c993d38068b3c3adb720a5cdee07065a066a7b36e7d1df720548d6359eba",
            },
            "raw": {"ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"},
        },
        # Keras's single-file copy (keras.datasets.mnist).
        "mnist.npz": {
            "gz": set(),
            "raw": {"731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"},
        },
    },
    "fashion_mnist": {
        "train-images-idx3-ubyte.gz": {
            "gz": {"3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"},
            "raw": set(),
        },
        "train-labels-idx1-ubyte.gz": {
            "gz": {"a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"},
            "raw": set(),
        },
        "t10k-images-idx3-ubyte.gz": {
            "gz": {"346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"},
            "raw": set(),
        },
        "t10k-labels-idx1-ubyte.gz": {
            "gz": {"67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"},
            "raw": set(),
        },
    },
}

# Where a download looks, in order. Tests point these at a local server.
MIRRORS = {
    "mnist": [
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
    ],
    "fashion_mnist": [
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    ],
}

DOWNLOAD_TIMEOUT_SECONDS = 20
DOWNLOAD_ATTEMPTS = 2


class DataNotFoundError(RuntimeError):
    """No verified copy of a dataset could be found or downloaded."""


class ChecksumMismatchError(ValueError):
    """A file's SHA-256 digest matches no known copy of the data."""


@dataclass(frozen=True)
class ImageData:
    """Images and labels of one split, with where they came from.

    Attributes:
        images: float32 array `(num_examples, 28, 28, 1)` in `value_range`.
        labels: int64 array `(num_examples,)` of class indices 0-9.
        name: the dataset actually used (`"mnist"`, `"fashion_mnist"` or
            `"digits"` for the stand-in), which may differ from the one asked for.
        split: `"train"`, `"validation"` or `"test"`.
        source: a sentence saying where the data came from and how it was split.
        value_range: the `(low, high)` range of the pixel values.
        binarized: whether pixels were thresholded at 0.5 to {0, 1}.
        indices: each image's position in the file it came from (or in the
            stand-in's 1,797 digits): two splits are disjoint when these are.
    """

    images: np.ndarray
    labels: np.ndarray
    name: str
    split: str
    source: str
    value_range: tuple[float, float] = (0.0, 1.0)
    binarized: bool = False
    indices: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.images)

    @property
    def class_names(self) -> tuple[str, ...]:
        return CLASS_NAMES[self.name]

    @property
    def description(self) -> str:
        """One line for `metrics.json`: the dataset actually used and its split."""
        return f"{self.name}: {self.source}"

    @property
    def is_stand_in(self) -> bool:
        return self.name == "digits"


# --------------------------------------------------------------------------- files


def repo_root() -> Path | None:
    """The course checkout that holds this package, or None for a plain install."""
    root = Path(__file__).resolve().parents[1]
    return root if (root / "pyproject.toml").exists() and (root / "notebooks").exists() else None


def default_data_dir() -> Path:
    """The course's data cache: the checkout's `data/`, else `~/.course_lib/data`."""
    root = repo_root()
    return root / "data" if root is not None else Path.home() / ".course_lib" / "data"


def _search_dirs(data_dir: str | os.PathLike | None) -> list[Path]:
    """Directories to look in, in order, each with and without a per-dataset subfolder."""
    dirs = []
    if data_dir is not None:
        dirs.append(Path(data_dir))
    env = os.environ.get("COURSE_DATA_DIR")
    if env:
        dirs.append(Path(env))
    dirs.append(default_data_dir())
    unique = []
    for d in dirs:
        if d not in unique:
            unique.append(d)
    return unique


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def verify_file(path: str | os.PathLike, dataset: str) -> bytes:
    """Read `path`, check its SHA-256 against the known copies, return the payload.

    Returns:
        The decompressed bytes for a `.gz` file, the raw bytes otherwise.

    Raises:
        ChecksumMismatchError: neither the file's digest nor (for a `.gz`) the
            digest of its decompressed bytes matches a known copy.
    """
    path = Path(path)
    known = KNOWN_DIGESTS.get(dataset, {}).get(path.name)
    if known is None:
        raise ChecksumMismatchError(
            f"Expected one of the files {sorted(KNOWN_DIGESTS.get(dataset, {}))} for dataset "
            f"{dataset!r}. Received: {path.name!r}, which has no known checksum"
        )
    blob = path.read_bytes()
    digest = sha256_of(blob)
    if path.suffix == ".gz":
        try:
            payload = gzip.decompress(blob)
        except (OSError, EOFError) as error:
            raise ChecksumMismatchError(
                f"{path} is not a valid gzip file ({error}); it is corrupt or incomplete. "
                "Delete it and run again."
            ) from error
        if digest in known["gz"] or sha256_of(payload) in known["raw"]:
            return payload
        raw_digest = sha256_of(payload)
    else:
        if digest in known["raw"]:
            return blob
        raw_digest = digest
    expected = sorted(known["gz"] | known["raw"])
    raise ChecksumMismatchError(
        f"Expected {path} to have one of the SHA-256 digests {expected}. "
        f"Received: {digest} (decompressed: {raw_digest}). The file is corrupt, incomplete "
        "or not the published data: delete it and run again."
    )


def read_idx(payload: bytes) -> np.ndarray:
    """Parse the bytes of an (uncompressed) IDX file into a uint8 array.

    IDX: a big-endian header of a magic number (0x0000080D where the last byte
    is the rank: 1 for labels, 3 for images), one int32 per dimension, then the data.

    Raises:
        ValueError: the header or the size is not that of a uint8 IDX file.
    """
    if len(payload) < 8:
        raise ValueError(f"Expected an IDX file of at least 8 bytes. Received: {len(payload)}")
    zero, dtype_code, rank = struct.unpack(">HBB", payload[:4])
    if zero != 0 or dtype_code != 0x08 or rank not in (1, 3):
        raise ValueError(
            "Expected an IDX header for uint8 data of rank 1 or 3 (magic 2049 or 2051). "
            f"Received: magic {int.from_bytes(payload[:4], 'big')}"
        )
    header = 4 + 4 * rank
    shape = struct.unpack(">" + "I" * rank, payload[4:header])
    expected_size = header + int(np.prod(shape))
    if len(payload) != expected_size:
        raise ValueError(
            f"Expected {expected_size} bytes for an IDX array of shape {shape}. "
            f"Received: {len(payload)} bytes"
        )
    return np.frombuffer(payload, dtype=np.uint8, offset=header).reshape(shape)


# ----------------------------------------------------------------------- download


def _download(url: str, destination: Path, dataset: str) -> bytes:
    """Fetch `url` to `destination` with retries, verify it, and return its payload."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    last_error = None
    for attempt in range(DOWNLOAD_ATTEMPTS):
        try:
            with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response:
                blob = response.read()
            partial = destination.with_suffix(destination.suffix + ".part")
            partial.write_bytes(blob)
            partial.replace(destination)
            try:
                return verify_file(destination, dataset)
            except ChecksumMismatchError:
                destination.unlink(missing_ok=True)
                raise
        except urllib.error.HTTPError as error:  # 404 and friends: the mirror lacks it
            last_error = error
            break
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            last_error = error
            # A name that does not resolve means no network: retrying only wastes time.
            if isinstance(getattr(error, "reason", None), OSError) and "resolution" in str(error):
                break
            if attempt + 1 < DOWNLOAD_ATTEMPTS:
                time.sleep(1.0 * (attempt + 1))
    raise OSError(f"could not download {url}: {last_error}")


def _offline() -> bool:
    return os.environ.get("COURSE_OFFLINE", "").strip().lower() in ("1", "true", "yes")


# -------------------------------------------------------------------- resolution


def _find_verified(dataset: str, filename: str, dirs: list[Path], problems: list[str]):
    """The payload of the first verified local copy of `filename`, or None."""
    for d in dirs:
        for candidate in (d / dataset / filename, d / filename):
            if not candidate.is_file():
                continue
            try:
                return verify_file(candidate, dataset), candidate
            except ChecksumMismatchError as error:
                problems.append(str(error))
                warnings.warn(str(error), stacklevel=3)
                # A corrupt file in our own cache is moved aside so it can be re-fetched.
                if candidate.parent.is_relative_to(default_data_dir()):
                    candidate.rename(candidate.with_suffix(candidate.suffix + ".corrupt"))
    return None


def _fetch(dataset: str, filename: str, problems: list[str]):
    """Download `filename` from the dataset's mirrors into the cache; payload or None."""
    if _offline() or dataset not in MIRRORS:
        return None
    destination = default_data_dir() / dataset / filename
    for mirror in MIRRORS[dataset]:
        try:
            return _download(mirror + filename, destination, dataset), destination
        except (OSError, ChecksumMismatchError) as error:
            problems.append(str(error))
    return None


def _load_idx_split(dataset: str, split: str, dirs: list[Path], problems: list[str]):
    """Images, labels and the file they came from, for one split, or None."""
    arrays = {}
    origin = None
    for kind in ("images", "labels"):
        filename = _IDX_FILES[(split, kind)]
        found = _find_verified(dataset, filename, dirs, problems)
        if found is None:
            found = _fetch(dataset, filename, problems)
        if found is None:
            return None
        payload, origin = found
        arrays[kind] = read_idx(payload)
    return arrays["images"], arrays["labels"], origin.parent


def shuffled_order(num_images: int, tag: str) -> np.ndarray:
    """The indices 0..num_images-1 sorted by the SHA-256 of `"<tag>:<index>"`.

    A fixed shuffle: the same on every machine and with every NumPy version,
    unlike a seeded random generator, whose stream a library update may change.

    Example:
        >>> shuffled_order(5, "mnist-test")
        array([4, 0, 3, 2, 1])
    """
    keys = [hashlib.sha256(f"{tag}:{i}".encode()).digest() for i in range(num_images)]
    return np.array(sorted(range(num_images), key=keys.__getitem__), dtype=np.int64)


def partition(num_images: int, sizes, tag: str) -> dict[str, np.ndarray]:
    """Share `num_images` out into consecutive runs of `shuffled_order`: {split: indices}.

    The last split takes whatever is left, so `sizes` may say less than `num_images`.
    """
    order = shuffled_order(num_images, tag)
    parts, start = {}, 0
    for index, (split, size) in enumerate(sizes):
        stop = num_images if index == len(sizes) - 1 else start + size
        parts[split] = order[start:stop]
        start = stop
    return parts


def partition_checksum(parts: dict[str, np.ndarray]) -> str:
    """The SHA-256 of a partition's indices, split by split (as in `PARTITION_SHA256`)."""
    digest = hashlib.sha256()
    for split in SPLITS:
        if split in parts:
            digest.update(split.encode())
            digest.update(np.asarray(parts[split], dtype="<i8").tobytes())
    return digest.hexdigest()


def _load_file(dataset: str, which: str, dirs: list[Path], problems: list[str]):
    """(images, labels, where) of MNIST's or Fashion-MNIST's `which` file ("train"/"test")."""
    if dataset == "mnist":
        found = _find_verified(dataset, "mnist.npz", dirs, problems)
        if found is not None:
            payload, path = found
            import io

            with np.load(io.BytesIO(payload)) as npz:
                key = "x_train" if which == "train" else "x_test"
                return npz[key], npz["y" + key[1:]], str(path)
    found = _load_idx_split(dataset, which, dirs, problems)
    if found is None:
        return None
    images, labels, folder = found
    return images, labels, str(folder)


def _load_real(dataset: str, split: str, dirs: list[Path], problems: list[str]):
    """(images uint8, labels, indices, source sentence) for MNIST or Fashion-MNIST, or None."""
    train_file = _load_file(dataset, "train", dirs, problems)
    if train_file is not None:
        if split == "test":
            test_file = _load_file(dataset, "test", dirs, problems)
            if test_file is None:
                return None
            images, labels, where = test_file
            indices = shuffled_order(len(images), f"{dataset}-test")
            source = f"test split: the full test file ({len(images):,} images), from {where}"
            return images[indices], labels[indices], indices, source
        images, labels, where = train_file
        parts = partition(
            len(images),
            (("validation", FULL_VALIDATION_SIZE), ("train", len(images))),
            f"{dataset}-train",
        )
        indices = parts[split]
        source = (
            f"{split} split ({len(indices):,} images) of the full training file, from {where}: "
            f"{FULL_VALIDATION_SIZE:,} of its {len(images):,} images, fixed by "
            "data.partition, are held out as validation"
        )
        return images[indices], labels[indices], indices, source

    # Only the 10,000-image test file may exist (as in the offline shared data):
    # share it out so that the three splits never overlap.
    test_file = _load_file(dataset, "test", dirs, problems)
    if test_file is None:
        return None
    images, labels, where = test_file
    indices = partition(len(images), OFFLINE_PARTITION, f"{dataset}-offline")[split]
    sizes = " / ".join(f"{size:,}" for _, size in OFFLINE_PARTITION)
    source = (
        f"{split} split ({len(indices):,} images) of an offline partition of the "
        f"{len(images):,}-image test file from {where} into train / validation / test = "
        f"{sizes}, fixed by data.partition (the training file was not found)"
    )
    return images[indices], labels[indices], indices, source


def load_stand_in_digits(split: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """One split of scikit-learn's 1,797 8x8 digits, resized to 28x28 like MNIST, as uint8.

    Why this layout: MNIST centres each digit in a 20x20 box inside 28x28, so the
    8x8 digits are upsampled to 20x20 and padded by 4 pixels on every side.

    Returns:
        (images, labels, indices into the 1,797 digits, source sentence).
    """
    from PIL import Image
    from sklearn.datasets import load_digits

    bunch = load_digits()
    small = bunch.images.astype(np.float32) * (255.0 / 16.0)
    big = np.zeros((len(small), 28, 28), dtype=np.float32)
    for i, image in enumerate(small):
        resized = Image.fromarray(image, mode="F").resize((20, 20), Image.BICUBIC)
        big[i, 4:24, 4:24] = np.asarray(resized)
    images = np.clip(np.rint(big), 0, 255).astype(np.uint8)
    indices = partition(len(images), STAND_IN_PARTITION, "digits")[split]
    sizes = " / ".join(f"{size:,}" for _, size in STAND_IN_PARTITION)
    source = (
        f"{split} split ({len(indices):,} images) of scikit-learn's 8x8 digits resized, "
        f"partitioned into train / validation / test = {sizes} by data.partition"
    )
    return images[indices], bunch.target[indices], indices, source


def _banner(asked: str) -> str:
    line = "=" * 78
    return (
        f"\n{line}\n"
        f"  STAND-IN DATA: no verified copy of {asked!r} was found, so this run uses\n"
        "  scikit-learn's 8x8 digits resized to 28x28 (1,797 images in all).\n"
        "  Results are NOT comparable with MNIST figures; metrics.json records it.\n"
        "  To use the real data, see data/README.md.\n"
        f"{line}\n"
    )


def _not_found_message(dataset: str, dirs: list[Path], problems: list[str]) -> str:
    looked = "\n".join(f"  - {d / dataset}/ and {d}/" for d in dirs)
    files = ", ".join(sorted(KNOWN_DIGESTS.get(dataset, {})))
    tried = "\n".join(f"  - {p}" for p in problems[-6:]) or "  - (nothing else was tried)"
    return (
        f"No verified copy of {dataset!r} could be found or downloaded.\n"
        f"Looked in:\n{looked}\n"
        f"What went wrong:\n{tried}\n"
        "What to do, any one of:\n"
        f"  - put the files ({files}) in one of those folders, or point the environment\n"
        "    variable COURSE_DATA_DIR at a folder that has them;\n"
        "  - connect to the internet and run again (downloads are cached in data/);\n"
        "  - pass allow_stand_in=True (in a notebook: set ALLOW_STAND_IN = True in its\n"
        "    parameters cell) to use scikit-learn's small digits instead."
    )


def load_dataset(
    name: str = "mnist",
    split: str = "train",
    *,
    num_examples: int | None = None,
    value_range: tuple[float, float] = (0.0, 1.0),
    binarize: bool = False,
    allow_stand_in: bool = False,
    data_dir: str | os.PathLike | None = None,
) -> ImageData:
    """Load one split of a dataset as float images in a chosen range.

    Args:
        name: `"mnist"`, `"fashion_mnist"`, or `"digits"` for the stand-in.
        split: `"train"`, `"validation"` (for watching training and tuning) or
            `"test"` (touch it once, for the headline figures).
        num_examples: keep the first this many images (all when None); the
            splits are shuffled once and for all, so these are a fair sample.
        value_range: `(0, 1)` or `(-1, 1)`: `(-1, 1)` suits a `tanh` generator.
        binarize: threshold pixels at 0.5 to {0, 1} (a deterministic binarisation,
            as used for likelihoods in nats); needs `value_range=(0, 1)`.
        allow_stand_in: when no copy of `name` can be had, use the stand-in
            digits (with a banner) instead of raising.
        data_dir: a folder to look in before `COURSE_DATA_DIR` and `data/`.

    Returns:
        An `ImageData`.

    Raises:
        ValueError: an unknown name or split, a bad `num_examples` or range.
        DataNotFoundError: no verified copy and no stand-in allowed.
    """
    check_choice(name, "name", DATASETS)
    check_choice(split, "split", SPLITS)
    value_range = tuple(float(v) for v in value_range)
    check_choice(value_range, "value_range", VALUE_RANGES)
    if num_examples is not None:
        check_positive_int(num_examples, "num_examples")
    if binarize and value_range != (0.0, 1.0):
        raise ValueError(
            f"Expected value_range=(0, 1) with binarize=True. Received: value_range={value_range}"
        )

    dirs = _search_dirs(data_dir)
    problems: list[str] = []
    found = None
    if name != "digits":
        found = _load_real(name, split, dirs, problems)

    used = name
    if found is None:
        if name != "digits" and not allow_stand_in:
            raise DataNotFoundError(_not_found_message(name, dirs, problems))
        if name != "digits":
            print(_banner(name), file=sys.stdout, flush=True)
            warnings.warn(f"Using the stand-in digits instead of {name!r}.", stacklevel=2)
        found = load_stand_in_digits(split)
        used = "digits"

    images, labels, indices, source = found
    if num_examples is not None:
        if num_examples > len(images):
            raise ValueError(
                f"Expected `num_examples` <= {len(images):,}, the size of the {split} split of "
                f"{used!r} ({source}). Received: num_examples={num_examples:,}"
            )
        images, labels, indices = (
            images[:num_examples],
            labels[:num_examples],
            indices[:num_examples],
        )
        source = f"the first {num_examples:,} images of the {source}"

    pixels = images.astype(np.float32)[..., np.newaxis] / 255.0
    if binarize:
        pixels = (pixels > 0.5).astype(np.float32)
    low, high = value_range
    pixels = pixels * (high - low) + low
    return ImageData(
        images=pixels,
        labels=labels.astype(np.int64),
        name=used,
        split=split,
        source=source,
        value_range=value_range,
        binarized=binarize,
        indices=indices.astype(np.int64),
    )


def make_tf_dataset(
    images,
    labels=None,
    *,
    batch_size: int = 128,
    shuffle: bool = True,
    seed: int = 0,
    cache: bool = True,
    drop_remainder: bool = False,
    shift_pixels: int = 0,
):
    """A `tf.data.Dataset` of batches: cached, shuffled with a seed, batched, prefetched.

    With `shift_pixels`, every image is moved by a random whole number of pixels
    (up to `shift_pixels` in each direction, a new draw each epoch): a cheap data
    augmentation that keeps a small training set from being memorised (notebooks
    03 and 04). The shift uses nearest-neighbour sampling and fills with zeros,
    so binary images stay binary.

    Args:
        images: an array `(num_examples, ...)`.
        labels: an optional array `(num_examples,)`; batches are `(images, labels)` then.
        batch_size: examples per batch.
        shuffle: reshuffle each epoch (with `seed`, so runs repeat).
        seed: the shuffle seed.
        cache: keep the tensors in memory after the first epoch.
        drop_remainder: drop the last, smaller batch (useful when a model needs
            a fixed batch size).
        shift_pixels: the largest random shift, in pixels, of each image
            `(num_examples, height, width, channels)`; 0 leaves images as they are.

    Returns:
        A `tf.data.Dataset`.

    Raises:
        ValueError: a non-positive `batch_size`, a negative `shift_pixels`, a
            shift on images that are not `(num_examples, height, width, channels)`,
            or labels that do not match the images.
    """
    import tensorflow as tf

    check_positive_int(batch_size, "batch_size")
    is_integer = isinstance(shift_pixels, (int, np.integer)) and not isinstance(shift_pixels, bool)
    if not is_integer or shift_pixels < 0:
        raise ValueError(
            "Expected `shift_pixels` to be an integer >= 0. "
            f"Received: shift_pixels={shift_pixels!r}"
        )
    if shift_pixels and np.ndim(images) != 4:
        raise ValueError(
            "Expected images of shape (num_examples, height, width, channels) to shift. "
            f"Received: shape {np.shape(images)}"
        )
    if labels is not None and len(labels) != len(images):
        raise ValueError(
            "Expected as many labels as images. "
            f"Received: {len(images)} images and {len(labels)} labels"
        )
    elements = images if labels is None else (images, labels)
    dataset = tf.data.Dataset.from_tensor_slices(elements)
    if cache:
        dataset = dataset.cache()
    if shuffle:
        dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    if shift_pixels:
        import keras

        height, width = np.shape(images)[1:3]
        shift = keras.layers.RandomTranslation(
            shift_pixels / height,
            shift_pixels / width,
            fill_mode="constant",
            interpolation="nearest",
            seed=seed,
        )
        if labels is None:
            dataset = dataset.map(lambda x: shift(x, training=True))
        else:
            dataset = dataset.map(lambda x, y: (shift(x, training=True), y))
    return dataset.prefetch(tf.data.AUTOTUNE)
