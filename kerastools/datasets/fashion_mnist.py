"""Find and load Fashion-MNIST from local files; nothing is ever downloaded."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import numpy as np

from kerastools._validation import check_bool, check_choice
from kerastools.datasets.idx import load_idx
from kerastools.datasets.toy import Pair
from kerastools.errors import ConfigTypeError, DatasetError

__all__ = ["DEBIAN_FASHION_MNIST", "FASHION_MNIST_CLASSES", "load_fashion_mnist"]

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
    standard deviation of the *training* images (what scikit-learn's
    StandardScaler does when fitted on the training set; fitting on training
    data only keeps the test set unseen). Pixels that never vary keep a scale of 1.

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
