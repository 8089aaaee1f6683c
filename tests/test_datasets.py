"""Toy datasets, split, IDX reader and the offline Fashion-MNIST loader."""

from __future__ import annotations

import gzip
import math

import numpy as np
import pytest

from kerastools import datasets
from kerastools.errors import ConfigError, DatasetError

MAKERS = [datasets.make_squares, datasets.make_xor, datasets.make_circles]


# --------------------------------------------------------------------------- toy datasets


@pytest.mark.parametrize("make", MAKERS)
def test_toy_sets_are_float32_with_column_targets(make):
    X, y = make(50, noise=0.1, seed=1)
    assert X.shape == (50, 2) and y.shape == (50, 1)
    assert X.dtype == np.float32 and y.dtype == np.float32


@pytest.mark.parametrize("make", MAKERS)
def test_same_seed_same_data_other_seed_other_data(make):
    first, second, other = (
        make(30, noise=0.05, seed=3),
        make(30, noise=0.05, seed=3),
        make(30, noise=0.05, seed=4),
    )
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert not np.array_equal(first[0], other[0])


def test_squares_target_is_sum_of_squares_without_noise():
    X, y = datasets.make_squares(100, seed=0)
    np.testing.assert_allclose(y[:, 0], X[:, 0] ** 2 + X[:, 1] ** 2, rtol=1e-6)
    assert X.min() >= -1 and X.max() <= 1


def test_xor_labels_follow_the_quadrant():
    X, y = datasets.make_xor(200, seed=0)
    np.testing.assert_array_equal(y[:, 0] == 1, X[:, 0] * X[:, 1] < 0)
    assert 0.3 < y.mean() < 0.7


def test_circles_are_balanced_rings_with_the_inner_radius_given():
    X, y = datasets.make_circles(101, factor=0.3, seed=0)
    radius = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(radius[y[:, 0] == 1], 0.3, rtol=1e-5)
    np.testing.assert_allclose(radius[y[:, 0] == 0], 1.0, rtol=1e-5)
    assert int(y.sum()) == 50


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n": 0}, r"Argument `n` must be >= 1. Received: n=0"),
        ({"n": 2.5}, r"`n` must be an integer"),
        ({"n": 10, "noise": -0.1}, r"`noise` must be >= 0"),
        ({"n": 10, "seed": -1}, r"`seed` must be >= 0"),
        ({"n": 10, "seed": "a"}, r"`seed` must be an integer"),
    ],
)
def test_toy_set_arguments_are_checked(kwargs, match):
    with pytest.raises(ValueError if "integer" not in match else TypeError, match=match):
        datasets.make_squares(**kwargs)


@pytest.mark.parametrize("factor", [0.0, 1.0, 1.5])
def test_circles_factor_must_be_inside_the_unit_interval(factor):
    with pytest.raises(ConfigError, match="`factor` must be"):
        datasets.make_circles(10, factor=factor)


# --------------------------------------------------------------------------- split


@pytest.mark.parametrize(
    ("n", "held_out"), [(500, 50), (9_999, 1_000), (10_000, 1_000), (25_000, 1_000), (15, 2)]
)
def test_split_follows_the_default_holdout_rule(n, held_out):
    X, y = np.arange(n * 2).reshape(n, 2), np.arange(n)
    train, valid, test = datasets.split(X, y, seed=0)
    assert len(valid[0]) == len(valid[1]) == held_out
    assert len(test[0]) == len(test[1]) == held_out
    assert len(train[0]) == n - 2 * held_out


def test_split_partitions_the_samples_and_keeps_pairs_together():
    X = np.arange(100).reshape(100, 1)
    y = np.arange(100) * 10
    parts = datasets.split(X, y, valid=0.2, test=10, seed=0)
    assert [len(part[0]) for part in parts] == [70, 20, 10]
    seen = np.concatenate([part[0][:, 0] for part in parts])
    assert sorted(seen.tolist()) == list(range(100))
    for inputs, targets in parts:
        np.testing.assert_array_equal(inputs[:, 0] * 10, targets)
    assert isinstance(parts, datasets.DatasetSplit)
    assert parts.valid is parts[1]


def test_split_is_deterministic_by_seed_and_ordered_without_shuffle():
    X, y = np.arange(50), np.arange(50)
    first = datasets.split(X, y, seed=7)
    again = datasets.split(X, y, seed=7)
    np.testing.assert_array_equal(first.train[0], again.train[0])
    ordered = datasets.split(X, y, shuffle=False)
    np.testing.assert_array_equal(ordered.train[0], np.arange(40))
    np.testing.assert_array_equal(ordered.test[0], np.arange(45, 50))


def test_split_sizes_of_zero_give_empty_parts():
    train, valid, test = datasets.split(np.zeros((10, 2)), np.zeros(10), valid=0, test=0, seed=0)
    assert len(train[0]) == 10 and valid[0].shape == (0, 2) and len(test[1]) == 0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"valid": 1.0}, r"Argument `valid` must be < 1.0. Received: valid=1.0"),
        ({"test": -0.1}, r"Argument `test` must be >= 0.0"),
        ({"valid": 200}, r"Argument `valid` must be <= 100. Received: valid=200"),
        ({"valid": 60, "test": 40}, r"leave no training samples: 60 \+ 40 of 100"),
        ({"valid": 0.5, "test": 0.5}, r"leave no training samples"),
        ({"valid": "10%"}, r"`valid` must be None, a fraction in \[0, 1\) or a sample count"),
        ({"seed": 1, "shuffle": False}, r"`seed` has no effect with shuffle=False"),
        ({"shuffle": "yes"}, r"`shuffle` must be True or False"),
    ],
)
def test_split_rejects_bad_sizes(kwargs, match):
    with pytest.raises((ConfigError, TypeError), match=match):
        datasets.split(np.zeros((100, 2)), np.zeros(100), **kwargs)


def test_split_rejects_ragged_inputs():
    with pytest.raises(
        ConfigError, match=r"Argument `X` must be an array \(or nested lists of equal lengths\)"
    ):
        datasets.split([[1, 2], [3]], [0, 1])


def test_split_needs_matching_lengths():
    with pytest.raises(
        ConfigError, match=r"same number of samples. Received: len\(X\)=10, len\(y\)=9"
    ):
        datasets.split(np.zeros((10, 2)), np.zeros(9))


# --------------------------------------------------------------------------- IDX files


def idx_bytes(array: np.ndarray, type_code: int) -> bytes:
    header = bytes([0, 0, type_code, array.ndim]) + b"".join(
        d.to_bytes(4, "big") for d in array.shape
    )
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


@pytest.mark.parametrize(
    ("dtype", "code"),
    [
        (np.uint8, 0x08),
        (np.int8, 0x09),
        (np.int16, 0x0B),
        (np.int32, 0x0C),
        (np.float32, 0x0D),
        (np.float64, 0x0E),
    ],
)
def test_load_idx_reads_every_type_in_native_byte_order(tmp_path, dtype, code):
    array = (
        (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
        if dtype != np.uint8
        else np.arange(24, dtype=dtype).reshape(2, 3, 4)
    )
    path = tmp_path / "data-idx3"
    path.write_bytes(idx_bytes(array, code))
    loaded = datasets.load_idx(path)
    np.testing.assert_array_equal(loaded, array)
    assert loaded.dtype == np.dtype(dtype) and loaded.dtype.isnative
    assert loaded.flags.writeable


def test_load_idx_reads_gzip_by_content(tmp_path):
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    path = tmp_path / "labels-idx1-ubyte"  # no .gz suffix: recognised by its magic bytes
    path.write_bytes(gzip.compress(idx_bytes(labels, 0x08)))
    np.testing.assert_array_equal(datasets.load_idx(path), labels)


GOOD = idx_bytes(np.arange(6, dtype=np.uint8).reshape(2, 3), 0x08)


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (
            GOOD[:-1],
            r"truncated; the header says shape \(2, 3\) of uint8 \(18 bytes in all\) but the file has 17",
        ),
        (GOOD + b"\x00", r"has trailing bytes"),
        (b"\x01" + GOOD[1:], r"must start with two zero bytes"),
        (GOOD[:2] + b"\x07" + GOOD[3:], r"unknown type code 0x07"),
        (GOOD[:3] + b"\x00" + GOOD[4:], r"zero dimensions"),
        (GOOD[:6], r"Truncated IDX header.*2 dimensions need 12 header bytes"),
        (b"\x00\x00", r"no complete header"),
        (gzip.compress(GOOD)[:-6], r"Corrupt gzip data"),
    ],
    ids=["truncated", "trailing", "magic", "type", "ndim", "header", "tiny", "gzip"],
)
def test_load_idx_rejects_corrupt_files_naming_them(tmp_path, content, match):
    path = tmp_path / "broken-idx2-ubyte"
    path.write_bytes(content)
    with pytest.raises(DatasetError, match=match) as info:
        datasets.load_idx(path)
    assert "broken-idx2-ubyte" in str(info.value)
    assert isinstance(info.value, OSError)


def test_load_idx_missing_file_and_bad_argument(tmp_path):
    with pytest.raises(DatasetError, match="IDX file not found: .*nothing-here"):
        datasets.load_idx(tmp_path / "nothing-here")
    with pytest.raises(TypeError, match=r"`path` must be a file path. Received: path=3"):
        datasets.load_idx(3)


# --------------------------------------------------------------------------- Fashion-MNIST


def write_fake_fashion(directory, *, n_train=6, n_test=4, compress=True):
    """Four tiny IDX files with the real names; pixel values chosen so statistics are easy."""
    rng = np.random.default_rng(0)
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": np.arange(n_train, dtype=np.uint8) % 10,
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": np.arange(n_test, dtype=np.uint8) % 10,
    }
    arrays["train-images-idx3-ubyte"][:, 0, 0] = 7  # a pixel that never varies
    for name, array in arrays.items():
        content = idx_bytes(array, 0x08)
        if compress:
            (directory / f"{name}.gz").write_bytes(gzip.compress(content))
        else:
            (directory / name).write_bytes(content)
    return arrays


def test_fashion_loader_shapes_and_normalizations(tmp_path):
    raw = write_fake_fashion(tmp_path / "fm")
    (x_train, y_train), (x_test, y_test) = datasets.load_fashion_mnist(tmp_path / "fm")
    assert x_train.shape == (6, 28, 28, 1) and x_test.shape == (4, 28, 28, 1)
    assert x_train.dtype == np.float32 and y_train.dtype == np.uint8
    # Standardised with the training statistics: each training pixel has mean 0, std 1 (or is constant).
    np.testing.assert_allclose(x_train.mean(axis=0), 0, atol=1e-5)
    assert np.all(np.isfinite(x_test)) and float(x_train[:, 0, 0].max()) == 0.0
    np.testing.assert_array_equal(y_test, raw["t10k-labels-idx1-ubyte"])

    (x_scaled, _), _ = datasets.load_fashion_mnist(tmp_path / "fm", normalize="scale")
    np.testing.assert_allclose(x_scaled[..., 0], raw["train-images-idx3-ubyte"] / 255, rtol=1e-6)
    (x_raw, y_hot), _ = datasets.load_fashion_mnist(
        tmp_path / "fm", normalize=None, channels_last=False, one_hot=True
    )
    assert x_raw.shape == (6, 1, 28, 28) and x_raw.dtype == np.uint8
    assert y_hot.shape == (6, 10) and y_hot.dtype == np.float32
    np.testing.assert_array_equal(y_hot.argmax(axis=1), raw["train-labels-idx1-ubyte"])


def test_fashion_loader_reads_plain_files_from_the_keras_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    write_fake_fashion(tmp_path / "keras-home" / "datasets" / "fashion-mnist", compress=False)
    (x_train, _), _ = datasets.load_fashion_mnist(normalize=None)
    assert x_train.shape == (6, 28, 28, 1)


def test_fashion_loader_lists_where_it_looked_and_never_downloads(tmp_path):
    with pytest.raises(DatasetError) as info:
        datasets.load_fashion_mnist(tmp_path / "empty")
    message = str(info.value)
    assert "empty" in message and "train-images-idx3-ubyte[.gz]" in message
    assert "apt-get install dataset-fashion-mnist" in message and "nothing is downloaded" in message


def test_fashion_loader_default_search_lists_every_place(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    monkeypatch.setattr(datasets.fashion_mnist, "DEBIAN_FASHION_MNIST", tmp_path / "debian")
    with pytest.raises(DatasetError) as info:
        datasets.load_fashion_mnist()
    for place in (
        "keras-home/datasets/fashion-mnist",
        "/tmp/.keras/datasets/fashion-mnist",
        "debian",
    ):
        assert place in str(info.value)


def test_fashion_loader_rejects_mismatched_labels(tmp_path):
    write_fake_fashion(tmp_path / "fm")
    labels = np.arange(5, dtype=np.uint8)  # 5 labels for 6 images
    (tmp_path / "fm" / "train-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(idx_bytes(labels, 0x08))
    )
    with pytest.raises(
        DatasetError, match=r"labels do not match the images: \(5,\) labels for 6 images"
    ):
        datasets.load_fashion_mnist(tmp_path / "fm")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"normalize": "minmax"}, r"`normalize` must be one of \['standard', 'scale'\]"),
        ({"channels_last": "yes"}, r"`channels_last` must be True or False"),
        ({"one_hot": 1}, r"`one_hot` must be True or False"),
        ({"path": 5}, r"`path` must be None or a directory"),
    ],
)
def test_fashion_loader_arguments_are_checked(tmp_path, kwargs, match):
    write_fake_fashion(tmp_path / "fm")
    kwargs.setdefault("path", tmp_path / "fm")
    with pytest.raises((ConfigError, TypeError), match=match):
        datasets.load_fashion_mnist(**kwargs)


@pytest.mark.skipif(
    not (datasets.DEBIAN_FASHION_MNIST / "train-images-idx3-ubyte.gz").is_file(),
    reason="Debian's dataset-fashion-mnist is not installed (`make data` installs it as root)",
)
def test_fashion_mnist_from_debian(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))  # an empty Keras cache: Debian's files are used
    (x_train, y_train), (x_test, y_test) = datasets.load_fashion_mnist(normalize="scale")
    assert x_train.shape == (60_000, 28, 28, 1) and x_test.shape == (10_000, 28, 28, 1)
    assert y_train.shape == (60_000,) and y_test.shape == (10_000,)
    assert 0.0 <= float(x_train.min()) and float(x_train.max()) <= 1.0
    # Ten balanced classes, as the dataset's documentation says.
    assert np.bincount(y_train).tolist() == [6_000] * 10
    assert np.bincount(y_test).tolist() == [1_000] * 10
    assert math.isclose(float(x_test.mean()), 0.2868, abs_tol=0.01)
