"""The LivePlot history store: epochs, batches of unknown-length epochs, value ranges."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kerastools.live.history import RunHistory, ValueRange, scalar_values


def test_batches_of_an_epoch_without_steps_are_spread_over_it_at_its_end():
    store = RunHistory()
    store.begin_epoch(0)
    assert store.record_batch(0, {"loss": 1.0}, steps=None) is False
    assert store.record_batch(1, {"loss": 0.8}, steps=None) is False
    assert store.batch_series == {}  # waiting for the epoch's end
    store.record_epoch(0, {"loss": 0.9})
    assert store.per_batch() == {"loss": ([0.5, 1.0], [1.0, 0.8])}
    store.begin_epoch(1)
    assert store.record_batch(0, {"loss": 0.7}, steps=4) is True
    assert store.per_batch()["loss"][0] == pytest.approx([0.5, 1.0, 1.25])


def test_series_grow_past_their_first_buffer():
    store = RunHistory()
    for epoch in range(200):
        store.record_epoch(epoch, {"loss": float(epoch)})
    assert store.series["loss"].size == 200 and store.per_epoch()["loss"] == list(np.arange(200.0))


def test_ranges_leave_out_non_finite_values_and_keep_the_positive_ones_apart():
    span = ValueRange()
    for value in (math.inf, -2.0, 0.0, 3.0, math.nan):
        span.add(value)
    assert span.finite == (-2.0, 3.0) and span.positive == (3.0, 3.0)
    assert ValueRange().finite is None


def test_scalar_values_keeps_numbers_and_zero_dimensional_arrays_only():
    logs = {"loss": np.float64(0.25), "flag": True, "matrix": np.eye(2), "name": "x", "lr": 0.1}
    assert scalar_values(logs, skip=("lr",)) == {"loss": 0.25, "flag": 1.0}
    assert scalar_values(None) == {}
