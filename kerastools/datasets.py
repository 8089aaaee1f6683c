"""Toy datasets, a train/valid/test split, and an offline Fashion-MNIST loader.

The toy sets are the ones the seed articles generate by hand: `make_squares`
(regression, y = x1² + x2²), `make_xor` and `make_circles` (binary
classification). `split` applies seed 002's rule of thumb for validation and
test sizes. `load_fashion_mnist` reads the IDX files from disk and never
downloads; `load_idx` reads any MNIST-format file and checks it on the way.
"""

from __future__ import annotations

import gzip
import math
import numbers
import os
import zlib
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np

from kerastools._validation import check_bool, check_choice, check_float, check_int
from kerastools.errors import ConfigError, ConfigTypeError, DatasetError

__all__ = [
    "DEBIAN_FASHION_MNIST",
    "DatasetSplit",
    "FASHION_MNIST_CLASSES",
    "load_fashion_mnist",
    "load_idx",
    "make_circles",
    "make_squares",
    "make_xor",
    "split",
]

Pair = tuple[np.ndarray, np.ndarray]

FASHION_MNIST_CLASSES = (
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
)

# Above this many samples, validation and test get a fixed size; below, a
# fraction (seed 002). At exactly 10000 both rules give 1000.
_LARGE_DATASET = 10_000
_LARGE_HOLDOUT = 1_000
_SMALL_HOLDOUT_FRACTION = 0.1


def _check_seed(seed: Any) -> int | None:
    if seed is None:
        return None
    return check_int("seed", seed, low=0)


def _check_n(n: Any) -> int:
    return check_int("n", n, low=1)


def _uniform_inputs(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.uniform(-1.0, 1.0, size=(n, 2))


def _with_noise(rng: np.random.Generator, values: np.ndarray, noise: float) -> np.ndarray:
    return values + rng.normal(0.0, noise, size=values.shape) if noise > 0 else values


def make_squares(n: int, *, noise: float = 0.0, seed: int | None = None) -> Pair:
    """Seed 000's regression set: y = x1² + x2² on the square [-1, 1]².

    Examples:
        >>> X, y = kerastools.datasets.make_squares(100, noise=0.01, seed=0)
        >>> X.shape, y.shape, X.dtype.name, y.dtype.name
        ((100, 2), (100, 1), 'float32', 'float32')

    Args:
        n: number of samples.
        noise: standard deviation of Gaussian noise added to the target.
            Defaults to 0.0.
        seed: seed of the random generator; the same seed gives the same
            data. Defaults to None (fresh randomness each call).

    Returns:
        `(X, y)`: float32 arrays of shapes `(n, 2)` and `(n, 1)`.

    Raises:
        ConfigError: `n` below 1, a negative `noise` or a negative `seed`.
    """
    n = _check_n(n)
    noise = check_float("noise", noise, low=0.0)
    rng = np.random.default_rng(_check_seed(seed))
    inputs = _uniform_inputs(rng, n)
    target = (inputs**2).sum(axis=1, keepdims=True)
    return inputs.astype("float32"), _with_noise(rng, target, noise).astype("float32")


def make_xor(n: int, *, noise: float = 0.0, seed: int | None = None) -> Pair:
    """Seed 000's binary classification set: label 1 where x1 and x2 differ in sign.

    Inputs are uniform on [-1, 1]²; the label comes from the clean inputs,
    then `noise` jitters the inputs, so points near the axes can land on the
    wrong side (as in scikit-learn's generators).

    Examples:
        >>> X, y = kerastools.datasets.make_xor(8, seed=0)
        >>> bool(((X[:, 0] * X[:, 1] < 0) == (y[:, 0] == 1)).all())
        True

    Args:
        n: number of samples.
        noise: standard deviation of Gaussian noise added to the inputs.
            Defaults to 0.0.
        seed: seed of the random generator. Defaults to None.

    Returns:
        `(X, y)`: float32 arrays of shapes `(n, 2)` and `(n, 1)`, labels 0 or 1.

    Raises:
        ConfigError: `n` below 1, a negative `noise` or a negative `seed`.
    """
    n = _check_n(n)
    noise = check_float("noise", noise, low=0.0)
    rng = np.random.default_rng(_check_seed(seed))
    inputs = _uniform_inputs(rng, n)
    label = (inputs[:, 0] * inputs[:, 1] < 0).astype("float32")[:, None]
    return _with_noise(rng, inputs, noise).astype("float32"), label


def make_circles(
    n: int, *, noise: float = 0.0, factor: float = 0.5, seed: int | None = None
) -> Pair:
    """Two concentric rings (seeds 000/001): label 1 on the inner ring, 0 on the outer.

    Half the samples (rounded down) are on each ring; the order is shuffled.

    Examples:
        >>> X, y = kerastools.datasets.make_circles(200, noise=0.05, seed=0)
        >>> X.shape, float(y.mean())
        ((200, 2), 0.5)

    Args:
        n: number of samples.
        noise: standard deviation of Gaussian noise added to each ring's
            radius. Defaults to 0.0.
        factor: inner radius over outer radius (the outer radius is 1), in
            (0, 1). Defaults to 0.5.
        seed: seed of the random generator. Defaults to None.

    Returns:
        `(X, y)`: float32 arrays of shapes `(n, 2)` and `(n, 1)`, labels 0 or 1.

    Raises:
        ConfigError: `n` below 1, a negative `noise`, `factor` outside (0, 1)
            or a negative `seed`.
    """
    n = _check_n(n)
    noise = check_float("noise", noise, low=0.0)
    factor = check_float(
        "factor", factor, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False
    )
    rng = np.random.default_rng(_check_seed(seed))
    label = rng.permutation(np.arange(n) % 2)
    angle = rng.uniform(0.0, 2.0 * math.pi, n)
    radius = _with_noise(rng, np.where(label == 1, factor, 1.0), noise)
    inputs = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    return inputs.astype("float32"), label.astype("float32")[:, None]


class DatasetSplit(NamedTuple):
    """The result of `split`: three `(X, y)` pairs.

    Unpack it (`train, valid, test = split(X, y)`) or use the fields;
    `model.fit(*split.train, validation_data=split.valid)` reads naturally.

    Examples:
        >>> X, y = make_squares(100, seed=0)
        >>> parts = split(X, y, seed=0)
        >>> [len(pair[0]) for pair in parts]
        [80, 10, 10]
    """

    train: Pair
    valid: Pair
    test: Pair


def _holdout_size(argument: str, value: Any, n: int) -> int:
    """A validation or test size: None (seed 002's rule), a fraction in [0, 1), or a count."""
    if value is None:
        if n >= _LARGE_DATASET:
            return _LARGE_HOLDOUT
        return round(_SMALL_HOLDOUT_FRACTION * n)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigTypeError(
            f"Argument `{argument}` must be None, a fraction in [0, 1) or a sample count. "
            f"Received: {argument}={value!r}"
        )
    if isinstance(value, numbers.Integral):
        return check_int(argument, value, low=0, high=n)
    fraction = check_float(argument, value, low=0.0, high=1.0, high_inclusive=False)
    return round(fraction * n)


def _as_array(argument: str, value: Any) -> np.ndarray:
    try:
        return np.asarray(value)
    except (ValueError, TypeError) as error:  # ragged nested lists
        raise ConfigError(
            f"Argument `{argument}` must be an array (or nested lists of equal lengths) with "
            f"samples along the first axis: {error}"
        ) from error


def split(
    X: Any,
    y: Any,
    *,
    valid: float | int | None = None,
    test: float | int | None = None,
    seed: int | None = None,
    shuffle: bool = True,
) -> DatasetSplit:
    """Split `(X, y)` into train, validation and test sets.

    With `valid` and `test` left at None, seed 002's rule applies: a dataset
    of at least 10000 samples gets 1000 each for validation and test, a
    smaller one 10% each (rounded); the rest is for training.

    Examples:
        >>> X, y = kerastools.datasets.make_squares(500, seed=0)
        >>> train, valid, test = kerastools.datasets.split(X, y, seed=0)
        >>> len(train[0]), len(valid[0]), len(test[0])
        (400, 50, 50)
        >>> parts = kerastools.datasets.split(X, y, valid=0.2, test=100, seed=0)
        >>> len(parts.train[0]), len(parts.valid[0]), len(parts.test[0])
        (300, 100, 100)

    Args:
        X: inputs, anything `np.asarray` takes, samples along the first axis.
        y: targets with as many samples as `X`.
        valid: validation size: None for the rule above, a float in [0, 1)
            for a fraction, an int for a count. Defaults to None.
        test: test size, same forms as `valid`. Defaults to None.
        seed: seed of the shuffle. Defaults to None.
        shuffle: shuffle before splitting; without shuffling the last
            samples are the test set and those before them the validation set.
            Defaults to True.

    Returns:
        A `DatasetSplit` named tuple `(train, valid, test)` of `(X, y)` pairs.

    Raises:
        ConfigError: `X` and `y` of different lengths, a bad size or fraction,
            sizes that leave no training sample, or a `seed` with
            `shuffle=False` (it would have no effect).
    """
    inputs = _as_array("X", X)
    targets = _as_array("y", y)
    if inputs.ndim == 0 or targets.ndim == 0:
        raise ConfigError(
            "Arguments `X` and `y` must be arrays with samples along the first axis. "
            f"Received: X.shape={inputs.shape}, y.shape={targets.shape}"
        )
    n = len(inputs)
    if len(targets) != n:
        raise ConfigError(
            f"Arguments `X` and `y` must have the same number of samples. "
            f"Received: len(X)={n}, len(y)={len(targets)}"
        )
    shuffle = check_bool("shuffle", shuffle)
    seed = _check_seed(seed)
    if seed is not None and not shuffle:
        raise ConfigError(
            "Argument `seed` has no effect with shuffle=False; pass one or the other. "
            f"Received: seed={seed}, shuffle=False"
        )
    n_valid = _holdout_size("valid", valid, n)
    n_test = _holdout_size("test", test, n)
    n_train = n - n_valid - n_test
    if n_train < 1:
        raise ConfigError(
            f"Arguments `valid` and `test` leave no training samples: {n_valid} + {n_test} of "
            f"{n} samples. Received: valid={valid!r}, test={test!r}"
        )
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    bounds = (0, n_train, n_train + n_valid, n)
    pairs = [
        (inputs[order[start:stop]], targets[order[start:stop]])
        for start, stop in zip(bounds[:-1], bounds[1:], strict=True)
    ]
    return DatasetSplit(*pairs)


# IDX type codes (the third byte of the magic number) -> big-endian numpy dtype.
_IDX_TYPES: dict[int, np.dtype[Any]] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


def _read_bytes(path: Path) -> bytes | bytearray:
    try:
        with open(path, "rb") as handle:
            head = handle.read(2)
            handle.seek(0)
            if head != _GZIP_MAGIC:
                # bytearray so np.frombuffer gives a writable array without a copy.
                data = bytearray(os.fstat(handle.fileno()).st_size)
                handle.readinto(data)
                return data
        with gzip.open(path, "rb") as compressed:
            return compressed.read()
    except FileNotFoundError as error:
        raise DatasetError(f"IDX file not found: {str(path)!r}") from error
    except IsADirectoryError as error:
        raise DatasetError(f"Expected an IDX file but {str(path)!r} is a directory.") from error
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:
        raise DatasetError(f"Corrupt gzip data in {str(path)!r}: {error}") from error


def load_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read one IDX file (the MNIST format), plain or gzip-compressed.

    The header is checked before any data is used: two zero bytes, a known
    type code, at least one dimension, and a file size that matches the
    dimensions exactly. Multi-byte types are converted to native byte order.

    Examples:
        >>> header = bytes([0, 0, 0x08, 1]) + (3).to_bytes(4, "big")
        >>> _ = (tmp_path / "labels-idx1-ubyte").write_bytes(header + bytes([7, 2, 1]))
        >>> kerastools.datasets.load_idx(tmp_path / "labels-idx1-ubyte")
        array([7, 2, 1], dtype=uint8)

    Args:
        path: the file; gzip files are recognised by their content, not
            their name.

    Returns:
        A numpy array with the file's dimensions and type.

    Raises:
        ConfigTypeError: `path` is not a string or path.
        DatasetError: the file is missing, or its header or size is not valid
            IDX (the message names the file and what is wrong).
    """
    if not isinstance(path, (str, os.PathLike)):
        raise ConfigTypeError(f"Argument `path` must be a file path. Received: path={path!r}")
    file = Path(path)
    data = _read_bytes(file)
    where = f"in {str(file)!r}"
    if len(data) < 4:
        raise DatasetError(f"Not an IDX file {where}: only {len(data)} bytes, no complete header.")
    if data[0] != 0 or data[1] != 0:
        raise DatasetError(
            f"Not an IDX file {where}: the magic number must start with two zero bytes, "
            f"found {bytes(data[:4]).hex()}."
        )
    type_code, ndim = data[2], data[3]
    if type_code not in _IDX_TYPES:
        raise DatasetError(
            f"Bad IDX header {where}: unknown type code 0x{type_code:02x}; "
            f"known: {[f'0x{code:02x}' for code in _IDX_TYPES]}."
        )
    if ndim == 0:
        raise DatasetError(f"Bad IDX header {where}: zero dimensions.")
    offset = 4 + 4 * ndim
    if len(data) < offset:
        raise DatasetError(
            f"Truncated IDX header {where}: {ndim} dimensions need {offset} header bytes, "
            f"the file has {len(data)}."
        )
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = _IDX_TYPES[type_code]
    expected = offset + math.prod(shape) * dtype.itemsize
    if len(data) != expected:
        problem = "truncated" if len(data) < expected else "has trailing bytes"
        raise DatasetError(
            f"Corrupt IDX file {where}: {problem}; the header says shape {shape} of {dtype.name} "
            f"({expected} bytes in all) but the file has {len(data)} bytes."
        )
    array = np.frombuffer(data, dtype=dtype, offset=offset).reshape(shape)
    if dtype.itemsize > 1:
        array = array.astype(dtype.newbyteorder("="))
    return array


_FASHION_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")


def _keras_cache_dirs() -> list[Path]:
    """Where `keras.datasets.fashion_mnist.load_data()` leaves its downloads."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    # Keras falls back to /tmp/.keras when its home is not writable.
    bases = [Path(home), Path("/tmp/.keras")]
    return [base / "datasets" / "fashion-mnist" for base in dict.fromkeys(bases)]


def _find_file(directory: Path, name: str) -> Path | None:
    for candidate in (directory / name, directory / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _find_fashion_mnist(path: str | os.PathLike[str] | None) -> dict[str, Path]:
    if path is None:
        places = [*_keras_cache_dirs(), DEBIAN_FASHION_MNIST]
    elif isinstance(path, (str, os.PathLike)):
        places = [Path(path)]
    else:
        raise ConfigTypeError(
            f"Argument `path` must be None or a directory. Received: path={path!r}"
        )
    for place in places:
        found = {key: _find_file(place, name) for key, name in _FASHION_FILES.items()}
        if all(found.values()):
            return {key: file for key, file in found.items() if file is not None}
    names = ", ".join(f"{name}[.gz]" for name in _FASHION_FILES.values())
    raise DatasetError(
        f"Fashion-MNIST not found (nothing is downloaded). Looked for {names} in: "
        f"{', '.join(repr(str(place)) for place in places)}. To get it: on Debian/Ubuntu "
        "`sudo apt-get install dataset-fashion-mnist` (or `make data`), or run "
        "`keras.datasets.fashion_mnist.load_data()` once on a machine with internet, or "
        "download the four files from https://github.com/zalandoresearch/fashion-mnist and "
        "pass their directory as `path`."
    )


def _check_images(name: str, file: Path, images: np.ndarray, labels: np.ndarray) -> None:
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise DatasetError(
            f"Fashion-MNIST {name} images in {str(file)!r} must be uint8 of shape (n, 28, 28); "
            f"found {images.dtype.name} {images.shape}."
        )
    if labels.ndim != 1 or len(labels) != len(images):
        raise DatasetError(
            f"Fashion-MNIST {name} labels do not match the images: {labels.shape} labels for "
            f"{len(images)} images (next to {str(file)!r})."
        )
    if labels.size and int(labels.max()) >= len(FASHION_MNIST_CLASSES):
        raise DatasetError(
            f"Fashion-MNIST {name} labels must be 0-9; found {int(labels.max())} (next to {str(file)!r})."
        )


def load_fashion_mnist(
    path: str | os.PathLike[str] | None = None,
    *,
    normalize: Literal["standard", "scale"] | None = "standard",
    channels_last: bool = True,
    one_hot: bool = False,
) -> tuple[Pair, Pair]:
    """Load Fashion-MNIST from local IDX files; never downloads.

    Looks in `path` when given (and only there), else in the Keras cache
    (`$KERAS_HOME/datasets/fashion-mnist`, default `~/.keras/...`, and
    `/tmp/.keras/...`), else in Debian's `/usr/share/datasets/fashion-mnist`
    (package `dataset-fashion-mnist`). Plain and `.gz` files are read.

    `normalize="standard"` standardises each pixel with the mean and
    standard deviation of the *training* images (seed 003 used scikit-learn's
    StandardScaler; fitting it on training data only keeps the test set
    unseen). Pixels that never vary keep a scale of 1.

    Examples:
        >>> (x_train, y_train), (x_test, y_test) = kerastools.datasets.load_fashion_mnist()  # doctest: +SKIP
        >>> x_train.shape, y_train.shape, x_test.shape                                   # doctest: +SKIP
        ((60000, 28, 28, 1), (60000,), (10000, 28, 28, 1))

    Args:
        path: a directory holding the four IDX files. Defaults to None
            (search the places above).
        normalize: `"standard"` (float32, per-pixel zero mean and unit
            variance on the training set), `"scale"` (float32 in [0, 1]) or
            None (the raw uint8 pixels). Defaults to `"standard"`.
        channels_last: images as `(n, 28, 28, 1)`; False gives
            `(n, 1, 28, 28)` (channels first). Defaults to True.
        one_hot: labels as float32 one-hot rows of 10; False keeps uint8
            class indices (for `sparse_categorical_crossentropy`).
            Defaults to False.

    Returns:
        `((x_train, y_train), (x_test, y_test))`, like `keras.datasets`.

    Raises:
        DatasetError: the files are in none of the places (the message lists
            them and how to get the data), or a file is corrupt.
        ConfigError: a bad `normalize`, `channels_last` or `one_hot`.
    """
    if normalize is not None:
        normalize = check_choice("normalize", normalize, ["standard", "scale"])  # type: ignore[assignment]
    channels_last = check_bool("channels_last", channels_last)
    one_hot = check_bool("one_hot", one_hot)
    files = _find_fashion_mnist(path)
    arrays = {key: load_idx(file) for key, file in files.items()}
    for part in ("train", "test"):
        _check_images(part, files[f"x_{part}"], arrays[f"x_{part}"], arrays[f"y_{part}"])

    images: dict[str, np.ndarray] = {"train": arrays["x_train"], "test": arrays["x_test"]}
    if normalize == "scale":
        images = {part: (x / np.float32(255)).astype("float32") for part, x in images.items()}
    elif normalize == "standard":
        mean = images["train"].mean(axis=0, dtype="float64")
        std = images["train"].std(axis=0, dtype="float64")
        std[std == 0] = 1.0
        # float32 arithmetic in place: float64 temporaries of 60000 images cost ~400 MB.
        shift, scale = mean.astype("float32"), (1.0 / std).astype("float32")
        standardized = {}
        for part, x in images.items():
            values = x.astype("float32")
            values -= shift
            values *= scale
            standardized[part] = values
        images = standardized
    axis = -1 if channels_last else 1
    images = {part: np.expand_dims(x, axis) for part, x in images.items()}

    labels: dict[str, np.ndarray] = {"train": arrays["y_train"], "test": arrays["y_test"]}
    if one_hot:
        eye = np.eye(len(FASHION_MNIST_CLASSES), dtype="float32")
        labels = {part: eye[y] for part, y in labels.items()}
    return (images["train"], labels["train"]), (images["test"], labels["test"])
