"""load_fashion_mnist(): local files only, every place listed, checked shapes and labels."""

from __future__ import annotations

import gzip
import math

import numpy as np
import pytest
from idx_files import idx_bytes  # tests/datasets/idx_files.py

from kerastools import datasets
from kerastools.errors import ConfigError, DatasetError


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
