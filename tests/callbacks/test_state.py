"""get_state()/set_state(): a resumed fit continues what the callbacks learned."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

import kerastools as kt
from kerastools.callbacks import LivePlot, ThresholdEarlyStopping
from kerastools.callbacks.state import decode_float, encode_float
from kerastools.errors import ConfigError, ConfigTypeError


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 2)).astype("float32")
    return x, (x**2).sum(axis=1, keepdims=True)


def _model():
    keras.utils.set_random_seed(1)
    return kt.compile(kt.build_mlp(2, [8]), optimizer="adam", learning_rate=0.01)


def _round_trip(state):
    return json.loads(json.dumps(state, allow_nan=False))  # strict JSON, as a manifest holds it


def test_stopper_state_spans_a_restart():
    x, y = _data()
    model = _model()
    first = ThresholdEarlyStopping("val_loss", threshold=None, patience=50)
    fit = dict(batch_size=16, validation_split=0.25, shuffle=False, verbose=0)
    history = model.fit(x, y, epochs=3, callbacks=[first], **fit)
    resumed = ThresholdEarlyStopping("val_loss", threshold=None, patience=50)
    resumed.set_state(_round_trip(first.get_state()))
    more = model.fit(x, y, epochs=5, initial_epoch=3, callbacks=[resumed], **fit)
    seen = history.history["val_loss"] + more.history["val_loss"]
    assert resumed._values == pytest.approx(seen)
    assert resumed.best == pytest.approx(min(seen))
    assert resumed.best_epoch == int(np.argmin(seen)) + 1

    fresh = ThresholdEarlyStopping("val_loss", threshold=None, patience=50)
    model.fit(x, y, epochs=6, initial_epoch=5, callbacks=[fresh], **fit)
    assert len(fresh._values) == 1  # without set_state, a new fit starts afresh


def test_plateau_count_continues_across_the_restart():
    stopper = ThresholdEarlyStopping("loss", threshold=1.0, patience=2)
    stopper.set_model(_model())
    stopper.set_state({"kind": "ThresholdEarlyStopping", "monitor": "loss", "values": [0.5, 0.5],
                       "first_epoch": 0, "best": 0.5, "best_epoch": 1})
    stopper.on_train_begin()
    stopper.on_epoch_end(2, {"loss": 0.5})  # the third flat epoch: two plateau epochs in a row
    assert stopper.stopped_epoch == 3 and stopper.stopping_reason.name == "THRESHOLD_REACHED"


def test_live_plot_of_a_resumed_run_starts_at_epoch_one(tmp_path, monkeypatch):
    monkeypatch.setenv("KERASTOOLS_LIVEPLOT", "file")  # the suite turns plots off by default
    x, y = _data()
    model = _model()
    plot = LivePlot(mode="file", path=tmp_path / "live.png")
    model.fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=[plot])
    state = _round_trip(plot.get_state())
    resumed = LivePlot(mode="file", path=tmp_path / "live.png")
    resumed.set_state(state)
    model.fit(x, y, epochs=5, initial_epoch=3, batch_size=16, verbose=0, callbacks=[resumed])
    assert resumed.epochs == [1, 2, 3, 4, 5]
    assert resumed.history["loss"][:3] == pytest.approx(plot.history["loss"])
    assert (tmp_path / "live.png").read_bytes().startswith(b"\x89PNG")


def test_state_of_another_callback_is_refused():
    with pytest.raises(ConfigError, match="written by a LivePlot, not a ThresholdEarlyStopping"):
        ThresholdEarlyStopping("loss", threshold=0.1).set_state(LivePlot(mode="off").get_state())
    with pytest.raises(ConfigTypeError, match="must be a dict"):
        LivePlot(mode="off").set_state([1, 2])


def test_damaged_state_is_refused_at_the_start_of_fit():
    stopper = ThresholdEarlyStopping("loss", threshold=0.1)
    stopper.set_model(_model())
    stopper.set_state({"kind": "ThresholdEarlyStopping", "monitor": "loss", "values": ["x"],
                       "first_epoch": 0, "best": 1.0, "best_epoch": 1})
    with pytest.raises(ConfigTypeError, match=r"values\[0\]"):
        stopper.on_train_begin()


@pytest.mark.parametrize("value", [0.25, float("inf"), float("-inf")])
def test_floats_round_trip_through_strict_json(value):
    assert decode_float(_round_trip([encode_float(value)])[0]) == value
