"""`ResumableBatches`: training batches whose order is a pure function of (seed, epoch).

Keras shuffles with a generator it does not save, so a resumed `fit` cannot
see the batches an interrupted one would have seen. Here epoch `e` takes
its samples (NumPy arrays) or its batches (a `keras.utils.PyDataset`) in
the order `np.random.default_rng([seed, e]).permutation(n)`, and the
batches form one stream over all epochs starting at (`start_epoch`,
`start_batch`): batch `i` of the stream is batch
`(start_batch + i) % n` of epoch `start_epoch + (start_batch + i) // n`.

`fit` reads it one epoch at a time: `num_batches` is the length of the
epoch `fit` is in (`epoch`, set by the callback `follow_epochs()` from
Keras' own epoch number before the epoch's batches are read), and index
`i` is batch `i` of that epoch's part of the stream. So an epoch ends
where Keras expects it to: `steps_per_execution` runs a short last
execution instead of taking the next epoch's batches, and a `PyDataset`
with workers keeps batch 0 (Keras loses it to its build step on an
endless one). A stream that starts mid-epoch (`start_batch` > 0) is
read by a `fit` of that one epoch (`epochs=start_epoch + 1`), as
`fit_resumable` does: Keras takes an epoch's length once per `fit`.

Exact for NumPy arrays and for a `PyDataset` whose `__getitem__` is a pure
function of its index. Not exact: a `PyDataset` that reshuffles itself (in
`on_epoch_end`, which is still called) or draws random augmentations from
a global generator, and a `tf.data` pipeline (not accepted here).

Examples:
    >>> from kerastools.resumable import ResumableBatches
    >>> data = ResumableBatches(np.arange(10.0), batch_size=4, seed=0, shuffle=False)
    >>> data.batches_per_epoch, data[0][0].tolist(), data[2][0].tolist(), data[3][0].tolist()
    (3, [0.0, 1.0, 2.0, 3.0], [8.0, 9.0], [0.0, 1.0, 2.0, 3.0])
"""

from __future__ import annotations

import functools
from typing import Any

import keras
import numpy as np

from kerastools._validation import check_bool, check_int
from kerastools.errors import ConfigError, ConfigTypeError

__all__ = ["ResumableBatches"]


def _leaves(name: str, data: Any) -> list[np.ndarray]:
    leaves = [np.asarray(leaf) for leaf in keras.tree.flatten(data)]
    if not leaves or any(leaf.ndim == 0 for leaf in leaves):
        raise ConfigTypeError(
            f"Argument `{name}` must be an array (or a list or dict of arrays) with one row per "
            f"sample, or a keras.utils.PyDataset. Received: {name} of type {type(data).__name__}"
        )
    return leaves


def _sample_count(x: Any, y: Any) -> int:
    counts = {len(leaf) for leaf in _leaves("x", x)}
    if y is not None:
        counts |= {len(leaf) for leaf in _leaves("y", y)}
    if len(counts) != 1:
        raise ConfigError(
            f"Arguments `x` and `y` must have the same number of samples. Received: {sorted(counts)}"
        )
    count = counts.pop()
    if count == 0:
        raise ConfigError("Argument `x` must hold at least one sample. Received: 0 samples")
    return count


class ResumableBatches(keras.utils.PyDataset):
    """Batches in an order fixed by (seed, epoch), starting at any batch of any epoch.

    Examples:
        >>> data = ResumableBatches(np.arange(8.0), np.arange(8.0), batch_size=4, seed=3)
        >>> again = ResumableBatches(np.arange(8.0), np.arange(8.0), batch_size=4, seed=3,
        ...                          start_epoch=1, start_batch=1)
        >>> bool(np.array_equal(data[3][0], again[0][0]))  # epoch 1, batch 1 both
        True
        >>> again.skipped_batches(1), again.skipped_batches(2)
        (1, 0)

    Args:
        x: NumPy arrays (an array, or a list or dict of arrays; one row per
            sample), or a `keras.utils.PyDataset` of known length.
        y: the targets for arrays (same structure rules); None for a
            `PyDataset`, or for arrays without targets. Defaults to None.
        batch_size: samples per batch, for arrays only (the last batch may
            be smaller); None for a `PyDataset`. Defaults to None (32 for arrays).
        seed: the seed of the order. Defaults to 0.
        shuffle: permute the samples (arrays) or batches (a `PyDataset`)
            in each epoch; False keeps their order. Defaults to True.
        start_epoch: the epoch (0-based) of the stream's first batch. Defaults to 0.
        start_batch: the batch of that epoch the stream starts at. Defaults to 0.

    Raises:
        ConfigError: `y` or `batch_size` with a `PyDataset`, a `PyDataset`
            of unknown length, sizes that differ, or `start_batch` past the
            epoch's end.
        ConfigTypeError: an argument of the wrong type.
    """

    def __init__(
        self,
        x: Any,
        y: Any = None,
        *,
        batch_size: int | None = None,
        seed: int = 0,
        shuffle: bool = True,
        start_epoch: int = 0,
        start_batch: int = 0,
    ) -> None:
        self.seed = check_int("seed", seed, low=0)
        self.shuffle = check_bool("shuffle", shuffle)
        self.start_epoch = check_int("start_epoch", start_epoch, low=0)
        if isinstance(x, keras.utils.PyDataset):
            super().__init__(
                workers=x.workers, use_multiprocessing=x.use_multiprocessing,
                max_queue_size=x.max_queue_size,
            )
            self._init_dataset(x, y, batch_size)
        else:
            super().__init__()
            self._init_arrays(x, y, batch_size)
        self.start_batch = check_int(
            "start_batch", start_batch, low=0, high=self.batches_per_epoch - 1
        )
        # The epoch fit is in: `follow_epochs()` sets it at each on_epoch_begin.
        self.epoch = self.start_epoch

    def _init_dataset(self, dataset: keras.utils.PyDataset, y: Any, batch_size: Any) -> None:
        if y is not None or batch_size is not None:
            raise ConfigError(
                "Arguments `y` and `batch_size` must be None when `x` is a keras.utils.PyDataset "
                f"(its batches are its own). Received: y={y!r}, batch_size={batch_size!r}"
            )
        count = dataset.num_batches
        if count is None or count < 1:
            raise ConfigError(
                "Argument `x` must be a PyDataset of known, non-zero length (`num_batches` or "
                f"`__len__`): the order permutes its batches. Received: num_batches={count!r}"
            )
        self._source: Any = dataset
        self._x = self._y = None
        self._size = int(count)
        self.batch_size: int | None = None
        self.batches_per_epoch = int(count)

    def _init_arrays(self, x: Any, y: Any, batch_size: Any) -> None:
        self._size = _sample_count(x, y)
        self.batch_size = 32 if batch_size is None else check_int("batch_size", batch_size, low=1)
        self._source = None
        self._x = keras.tree.map_structure(np.asarray, x)
        self._y = None if y is None else keras.tree.map_structure(np.asarray, y)
        self.batches_per_epoch = -(-self._size // self.batch_size)

    @property
    def num_batches(self) -> int:
        """The batches of the epoch `fit` is in (`epoch`): the stream's part of it."""
        return self.batches_per_epoch - self.skipped_batches(self.epoch)

    def follow_epochs(self) -> keras.callbacks.Callback:
        """The callback that tells this dataset which epoch `fit` is in; pass it to that `fit`.

        Examples:
            >>> data = ResumableBatches(np.arange(8.0), np.arange(8.0), batch_size=4, seed=3)
            >>> follow = data.follow_epochs()
            >>> follow.on_epoch_begin(1)
            >>> data.epoch, data.num_batches
            (1, 2)
        """
        return _FollowEpochs(self)

    def _first_of_epoch(self) -> int:
        """The stream index of the first batch of `epoch`."""
        if self.epoch <= self.start_epoch:
            return 0
        return (self.epoch - self.start_epoch) * self.batches_per_epoch - self.start_batch

    def position(self, index: int) -> tuple[int, int]:
        """The (epoch, batch) of the stream's batch `index`."""
        epoch, batch = divmod(self.start_batch + index, self.batches_per_epoch)
        return self.start_epoch + epoch, batch

    def skipped_batches(self, epoch: int) -> int:
        """The batches of `epoch` this stream leaves out (done before it started)."""
        return self.start_batch if epoch == self.start_epoch else 0

    @functools.lru_cache(maxsize=2)  # noqa: B019 - two epochs at a time, freed with the object
    def _order(self, epoch: int) -> np.ndarray:
        if not self.shuffle:
            return np.arange(self._size)
        return np.random.default_rng([self.seed, epoch]).permutation(self._size)

    def __getitem__(self, index: int) -> Any:
        epoch, batch = self.position(self._first_of_epoch() + int(index))
        order = self._order(epoch)
        if self._source is not None:
            return self._source[int(order[batch])]
        size = self.batch_size or 1
        rows = order[batch * size:(batch + 1) * size]
        x = keras.tree.map_structure(lambda array: array[rows], self._x)
        if self._y is None:
            return (x,)
        return x, keras.tree.map_structure(lambda array: array[rows], self._y)

    def on_epoch_begin(self) -> None:
        if self._source is not None:
            self._source.on_epoch_begin()

    def on_epoch_end(self) -> None:
        if self._source is not None:
            self._source.on_epoch_end()


class _FollowEpochs(keras.callbacks.Callback):
    """Sets `ResumableBatches.epoch` from Keras' epoch number, before the epoch reads a batch."""

    def __init__(self, data: ResumableBatches) -> None:
        super().__init__()
        self.data = data

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self.data.epoch = epoch
