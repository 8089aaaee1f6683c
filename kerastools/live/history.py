"""What a live figure recorded of one run (a LivePlot's, a sweep's trial): values per epoch and per batch.

Pure data, no matplotlib: the store keeps growable (x, y) buffers per log key
and each key's value range, updated as values arrive, so that laying out the
figure never has to scan the whole history. `downsample` reduces a long line
to what a figure can show.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["RunHistory", "Series", "ValueRange", "downsample", "scalar_values"]


class Series:
    """A growable (x, y) buffer: appends are O(1) amortised, views are free.

    Examples:
        >>> series = Series()
        >>> series.append(1, 0.5)
        >>> series.size, series.y.tolist()
        (1, [0.5])
    """

    def __init__(self) -> None:
        self._x = np.empty(64)
        self._y = np.empty(64)
        self.size = 0

    def append(self, x: float, y: float) -> None:
        """Add one point, doubling the buffers when they are full."""
        if self.size == len(self._x):
            self._x = np.concatenate([self._x, np.empty(len(self._x))])
            self._y = np.concatenate([self._y, np.empty(len(self._y))])
        self._x[self.size] = x
        self._y[self.size] = y
        self.size += 1

    @property
    def x(self) -> np.ndarray:
        """The positions recorded so far (a view)."""
        return self._x[: self.size]

    @property
    def y(self) -> np.ndarray:
        """The values recorded so far (a view)."""
        return self._y[: self.size]


class ValueRange:
    """The smallest and largest finite value of a key, and of its positive values.

    A log axis shows only positive values, so both ranges are kept as values
    arrive.

    Examples:
        >>> span = ValueRange()
        >>> for value in (-1.0, 2.0, float("nan"), 0.5):
        ...     span.add(value)
        >>> span.finite, span.positive
        ((-1.0, 2.0), (0.5, 2.0))
    """

    def __init__(self) -> None:
        self.finite: tuple[float, float] | None = None
        self.positive: tuple[float, float] | None = None

    def add(self, value: float) -> None:
        """Widen the ranges to include `value`; NaN and infinities are left out."""
        if not math.isfinite(value):
            return
        self.finite = _widened(self.finite, value)
        if value > 0:
            self.positive = _widened(self.positive, value)


def _widened(current: tuple[float, float] | None, value: float) -> tuple[float, float]:
    if current is None:
        return value, value
    return min(current[0], value), max(current[1], value)


class RunHistory:
    """Values logged per epoch (at positions 1, 2, ...) and per batch (between them).

    Batches of an epoch whose length is unknown (a generator without `steps`)
    wait until the epoch ends, then are spread evenly over it.

    Examples:
        >>> store = RunHistory()
        >>> store.record_epoch(0, {"loss": 0.9})
        >>> store.record_epoch(1, {"loss": 0.7, "val_loss": 0.8})
        >>> store.epochs, store.per_epoch()["val_loss"]
        ([1, 2], [nan, 0.8])
    """

    def __init__(self) -> None:
        self.epochs: list[int] = []
        self.series: dict[str, Series] = {}
        self.batch_series: dict[str, Series] = {}
        self.ranges: dict[str, ValueRange] = {}
        self.first_epoch: int | None = None
        self._current_epoch = 0
        self._pending_batches: list[dict[str, float]] = []

    def begin_epoch(self, epoch: int) -> None:
        """Note the epoch that batches now belong to."""
        self._current_epoch = epoch
        if self.first_epoch is None:
            self.first_epoch = epoch

    def record_batch(self, batch: int, values: Mapping[str, float], steps: int | None) -> bool:
        """Record one batch's values; False when they wait for the epoch's end (no `steps`)."""
        if not steps:
            self._pending_batches.append(dict(values))
            return False
        self._add_batch(self._current_epoch + (batch + 1) / steps, values)
        return True

    def record_epoch(self, epoch: int, values: Mapping[str, float]) -> None:
        """Record one epoch's values at position `epoch + 1`, and its waiting batches."""
        if self.first_epoch is None:
            self.first_epoch = epoch
        for index, pending in enumerate(self._pending_batches):
            self._add_batch(epoch + (index + 1) / len(self._pending_batches), pending)
        self._pending_batches = []
        position = epoch + 1
        self.epochs.append(position)
        for key, number in values.items():
            self.series.setdefault(key, Series()).append(position, number)
            self.ranges.setdefault(key, ValueRange()).add(number)

    def _add_batch(self, position: float, values: Mapping[str, float]) -> None:
        for key, number in values.items():
            self.batch_series.setdefault(key, Series()).append(position, number)
            self.ranges.setdefault(key, ValueRange()).add(number)

    def per_epoch(self) -> dict[str, list[float]]:
        """Values per epoch, aligned with `epochs` (NaN where a key was missing)."""
        epochs = np.asarray(self.epochs, dtype=float)
        aligned = {}
        for key, series in self.series.items():
            values = np.full(len(epochs), np.nan)
            values[np.searchsorted(epochs, series.x)] = series.y
            aligned[key] = values.tolist()
        return aligned

    def per_batch(self) -> dict[str, tuple[list[float], list[float]]]:
        """`{key: (positions in epochs, values)}` recorded after each batch."""
        return {key: (series.x.tolist(), series.y.tolist()) for key, series in self.batch_series.items()}


def scalar_values(logs: Mapping[str, Any] | None, skip: tuple[str, ...] = ()) -> dict[str, float]:
    """The scalar entries of `logs` as floats; the rest (a confusion matrix) is left out.

    Examples:
        >>> scalar_values({"loss": np.float32(0.5), "matrix": [[1, 2]], "lr": 0.1}, skip=("lr",))
        {'loss': 0.5}
    """
    values = {}
    for key, value in (logs or {}).items():
        if key not in skip and (number := _as_float(value)) is not None:
            values[key] = number
    return values


def _as_float(value: Any) -> float | None:
    """A log value as a float; None for what is not a scalar (a confusion matrix)."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, numbers.Real):
        return float(value)
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return None
    return float(array) if array.ndim == 0 else None


def downsample(x: np.ndarray, y: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """At most `max_points` points of (x, y), keeping each bucket's min and max.

    Spikes (a diverging batch, a bad epoch) survive the reduction, unlike with
    plain striding.

    Examples:
        >>> x = np.arange(10_000.0)
        >>> y = np.zeros(10_000); y[1234] = 5.0
        >>> small_x, small_y = downsample(x, y, 100)
        >>> len(small_x) <= 100, float(small_y.max())
        (True, 5.0)
    """
    n = len(x)
    if n <= max_points:
        return x, y
    buckets_wanted = max(max_points // 2, 1)
    size = -(-n // buckets_wanted)
    buckets = -(-n // size)
    padded = np.full(buckets * size, np.nan)
    padded[:n] = y
    rows = padded.reshape(buckets, size)
    finite = np.isfinite(rows)
    lowest = np.where(finite, rows, np.inf).argmin(axis=1)
    highest = np.where(finite, rows, -np.inf).argmax(axis=1)
    starts = np.arange(buckets) * size
    picks = np.unique(np.concatenate([starts + lowest, starts + highest]))
    picks = picks[picks < n]
    return x[picks], y[picks]
