"""The endless stream of training batches a sweep draws from.

Arrays are shuffled into batches of `batch_size` (a new order each pass, the
last incomplete batch dropped so every step sees as many samples); a
`keras.utils.PyDataset` and a `tf.data.Dataset` give their own batches, again
from the start when they run out. The sweep takes as many as it has steps.

Examples:
    >>> stream = batch_stream(x, y, batch_size=16, seed=0)
    >>> first_x, first_y, _ = next(stream)
    >>> first_x.shape, first_y.shape
    ((16, 2), (16, 1))
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import keras
import numpy as np

from kerastools._validation import check_int
from kerastools.errors import ConfigError, ConfigTypeError

__all__ = ["DEFAULT_BATCH_SIZE", "Batch", "batch_stream"]

DEFAULT_BATCH_SIZE = 32  # as `fit`'s
Batch = tuple[Any, Any, Any]


def _is_tf_dataset(x: Any) -> bool:
    return hasattr(x, "as_numpy_iterator") and hasattr(x, "element_spec")


def _refuse_with_dataset(name: str, value: Any, kind: str) -> None:
    if value is not None:
        raise ConfigError(
            f"Argument `{name}` must be None when `x` is a {kind}, which gives its own batches. "
            f"Received: {name}={value!r}"
        )


def _leaves(name: str, value: Any) -> list[np.ndarray]:
    try:
        leaves = [np.asarray(leaf) for leaf in keras.tree.flatten(value)]
    except (TypeError, ValueError) as error:
        raise ConfigTypeError(
            f"Argument `{name}` must be a NumPy array (or a list/dict of them), a "
            f"keras.utils.PyDataset or a tf.data.Dataset. Received: {name}={value!r}"
        ) from error
    if not leaves or any(leaf.ndim == 0 or leaf.dtype == object for leaf in leaves):
        raise ConfigTypeError(
            f"Argument `{name}` must be a NumPy array (or a list/dict of them), a "
            f"keras.utils.PyDataset or a tf.data.Dataset. Received: {name}={value!r}"
        )
    return leaves


def _sample_count(x: Any, y: Any) -> int:
    sizes = {len(leaf) for leaf in _leaves("x", x)}
    if y is not None:
        sizes |= {len(leaf) for leaf in _leaves("y", y)}
    if len(sizes) != 1 or 0 in sizes:
        raise ConfigError(
            f"Arguments `x` and `y` must hold the same number of samples, at least one. "
            f"Received: sample counts {sorted(sizes)}"
        )
    return sizes.pop()


def _rows(data: Any, rows: np.ndarray) -> Any:
    """The same rows of every array in `data` (one array, or a list/dict of them)."""
    return keras.tree.map_structure(lambda array: array[rows], data)


def _array_batches(
    x: Any, y: Any, batch_size: int, count: int, seed: int | None
) -> Iterator[Batch]:
    x = keras.tree.map_structure(np.asarray, x)
    y = None if y is None else keras.tree.map_structure(np.asarray, y)
    rng = np.random.default_rng(seed)
    size = min(batch_size, count)
    while True:
        order = rng.permutation(count)
        for start in range(0, count - size + 1, size):
            rows = order[start : start + size]
            yield _rows(x, rows), None if y is None else _rows(y, rows), None


def _py_dataset_batches(dataset: keras.utils.PyDataset) -> Iterator[Batch]:
    total = dataset.num_batches
    index = 0
    while True:
        yield keras.utils.unpack_x_y_sample_weight(dataset[index])
        index += 1
        if total is not None and index >= total:
            dataset.on_epoch_end()
            index = 0


def _tf_dataset_batches(dataset: Any) -> Iterator[Batch]:
    tensors = keras.backend.backend() == "tensorflow"
    while True:
        empty = True
        for batch in dataset if tensors else dataset.as_numpy_iterator():
            empty = False
            yield keras.utils.unpack_x_y_sample_weight(batch)
        if empty:
            raise ConfigError(
                f"Argument `x` is a tf.data.Dataset with no batches. Received: x={dataset!r}"
            )


def batch_stream(
    x: Any, y: Any = None, *, batch_size: int | None = None, seed: int | None = None
) -> Iterator[Batch]:
    """`(x, y, sample_weight)` batches without end, from arrays, a PyDataset or a tf.data.Dataset.

    Examples:
        >>> batches = batch_stream(x, y, batch_size=64)
        >>> [next(batches)[0].shape[0] for _ in range(3)]   # 64 samples: one batch a pass
        [64, 64, 64]

    Args:
        x: the inputs: an array (or a list/dict of arrays), a
            `keras.utils.PyDataset` or a `tf.data.Dataset` of batches.
        y: the targets, for array inputs. Defaults to None.
        batch_size: samples per batch, for array inputs. Defaults to None (32).
        seed: seeds the shuffling of array inputs (NumPy's global state is
            untouched). Defaults to None (a fresh order each call).

    Raises:
        ConfigError: `y` or `batch_size` given with a dataset, inputs of
            different lengths, or an empty dataset.
    """
    if isinstance(x, keras.utils.PyDataset) or _is_tf_dataset(x):
        kind = (
            "keras.utils.PyDataset" if isinstance(x, keras.utils.PyDataset) else "tf.data.Dataset"
        )
        _refuse_with_dataset("y", y, kind)
        _refuse_with_dataset("batch_size", batch_size, kind)
        return _py_dataset_batches(x) if kind == "keras.utils.PyDataset" else _tf_dataset_batches(x)
    batch_size = (
        DEFAULT_BATCH_SIZE if batch_size is None else check_int("batch_size", batch_size, low=1)
    )
    return _array_batches(x, y, batch_size, _sample_count(x, y), seed)
