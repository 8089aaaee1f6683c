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
    return json.loads(json.dumps(state, allow_nan=False))  # strict JSON, as a checkpoint record holds it


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


def _notebook_callbacks(tmp_path):
    plot = LivePlot(mode="off")
    rates = kt.callbacks.LearningRateLogger()
    stopper = ThresholdEarlyStopping("val_loss", threshold=None, patience=50)
    report = kt.callbacks.RunReport(tmp_path / "report", html_every_seconds=1e9)
    saver = kt.callbacks.PeriodicCheckpoint(tmp_path / "ckpt", callbacks=[plot, rates, stopper])
    return plot, rates, stopper, report, saver


def test_a_notebook_refit_continues_every_callback_and_its_checkpoints(tmp_path):
    x, y = _data()
    model = _model()
    callbacks = _notebook_callbacks(tmp_path)
    plot, rates, stopper, report, _ = callbacks
    fit = dict(batch_size=16, validation_split=0.25, shuffle=False, verbose=0, callbacks=list(callbacks))
    first = model.fit(x, y, epochs=3, **fit)
    second = model.fit(x, y, initial_epoch=3, epochs=6, **fit)  # the next cell: one run, continued

    seen = first.history["val_loss"] + second.history["val_loss"]
    assert plot.epochs == [1, 2, 3, 4, 5, 6]
    assert plot.history["val_loss"] == pytest.approx(seen)
    assert len(rates.history) == 6
    assert stopper._values == pytest.approx(seen) and stopper.best == pytest.approx(min(seen))
    document = kt.callbacks.read_report(tmp_path / "report")
    assert document["epochs"] == [1, 2, 3, 4, 5, 6] and document["initial_epoch"] == 0
    last = kt.checkpoints.find_checkpoint(tmp_path / "ckpt", "latest")
    assert last.epoch == 6 and last.callback_states[0]["epochs"] == [1, 2, 3, 4, 5, 6]

    # A kernel restart: new objects, resumed from the directory, trained on to epoch 8.
    restarted = _model()
    plot, rates, stopper, report, saver = _notebook_callbacks(tmp_path)
    assert kt.checkpoints.resume(restarted, tmp_path / "ckpt", callbacks=[plot, rates, stopper]) == 6
    restarted.fit(x, y, initial_epoch=6, epochs=8, **{**fit, "callbacks": [plot, rates, stopper, saver]})
    assert plot.epochs == list(range(1, 9))
    assert len(rates.history) == 8 and len(stopper._values) == 8

    # A fit from epoch 0 is a new run: the same objects start afresh.
    restarted.fit(x, y, epochs=2, **{**fit, "callbacks": [plot, rates, stopper]})
    assert plot.epochs == [1, 2] and len(rates.history) == 2 and len(stopper._values) == 2


def test_a_refit_that_goes_back_keeps_only_the_epochs_before_it():
    x, y = _data()
    model = _model()
    plot, rates = LivePlot(mode="off"), kt.callbacks.LearningRateLogger()
    fit = dict(batch_size=16, shuffle=False, verbose=0, callbacks=[plot, rates])
    model.fit(x, y, epochs=4, **fit)
    model.fit(x, y, initial_epoch=2, epochs=3, **fit)  # epochs 3 and 4 are done again, once
    assert plot.epochs == [1, 2, 3] and len(rates.history) == 3
