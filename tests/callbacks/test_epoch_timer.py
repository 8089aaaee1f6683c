"""EpochTimer: epoch time and training throughput reach History, with and without validation."""

from __future__ import annotations

import logging
import types

import keras
import numpy as np
import pytest

import kerastools as kt
from kerastools.callbacks import EpochTimer

SAMPLES = 20


def tiny_fit_setup():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(SAMPLES, 2)).astype("float32")
    model = kt.compile(kt.build_mlp(2, [4]), optimizer="sgd", learning_rate=0.01)
    return model, x, (x**2).sum(axis=1, keepdims=True)


def test_time_and_throughput_are_logged_and_reset_across_two_fits():
    model, x, y = tiny_fit_setup()
    timer = EpochTimer()
    for epochs in (2, 1):  # the same callback reused
        history = model.fit(x, y, batch_size=8, epochs=epochs, callbacks=[timer], verbose=0)
        times = np.array(history.history["epoch_time_s"])
        rates = np.array(history.history["samples_per_s"])
        assert len(times) == len(rates) == epochs
        assert (times > 0).all()
        # Without validation the whole epoch is training: rate * time = the 20 samples.
        # The two are read from the clock microseconds apart: under load that is 0.1 % of a
        # tiny epoch, while a miscount (24 for the padded last batch, 16 without it) is 20 %.
        np.testing.assert_allclose(rates * times, SAMPLES, rtol=0.02)


def test_throughput_excludes_validation_time():
    model, x, y = tiny_fit_setup()
    history = model.fit(
        x, y, batch_size=8, epochs=2, validation_data=(x, y), callbacks=[EpochTimer()], verbose=0
    )
    times = np.array(history.history["epoch_time_s"])
    rates = np.array(history.history["samples_per_s"])
    # The training part is shorter than the whole epoch, so rate * epoch time > samples.
    assert (rates * times > SAMPLES).all()


def test_model_that_counts_no_samples_gets_time_only_and_one_warning(caplog):
    timer = EpochTimer()
    timer.set_model(types.SimpleNamespace())  # no loss tracker: a model compiled without a loss
    timer.on_train_begin()
    all_logs = []
    with caplog.at_level(logging.WARNING, logger="kerastools.callbacks.epoch_timer"):
        for epoch in range(2):
            logs: dict = {}
            timer.on_epoch_begin(epoch)
            timer.on_epoch_end(epoch, logs)
            all_logs.append(logs)
    assert [sorted(logs) for logs in all_logs] == [["epoch_time_s"], ["epoch_time_s"]]
    assert len(caplog.records) == 1
    assert "not compiled with a loss, so no training samples were counted" in caplog.records[0].getMessage()


def test_standalone_evaluate_outside_an_epoch_is_ignored():
    model, x, y = tiny_fit_setup()
    timer = EpochTimer()
    model.evaluate(x, y, callbacks=[timer], verbose=0)  # on_test_begin with no epoch running
    history = model.fit(x, y, batch_size=8, epochs=1, callbacks=[timer], verbose=0)
    assert history.history["samples_per_s"][0] * history.history["epoch_time_s"][
        0
    ] == pytest.approx(SAMPLES, rel=1e-3)


def test_is_a_keras_callback_with_no_batch_hooks():
    # Per-batch hooks would turn off Keras' asynchronous callback dispatch.
    assert isinstance(EpochTimer(), keras.callbacks.Callback)
    for hook in ("on_train_batch_begin", "on_train_batch_end", "on_batch_end"):
        assert getattr(EpochTimer, hook) is getattr(keras.callbacks.Callback, hook)


def test_private_loss_tracker_still_exists():
    """Fails loudly when Keras renames the compiled loss tracker (checked on 3.15.1)."""
    from kerastools.callbacks.epoch_timer import keras_loss_tracker

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((10, 2)), np.ones((10, 1)), batch_size=4, epochs=1, verbose=0)
    tracker = keras_loss_tracker(model)
    assert tracker is not None and tracker in model.metrics
    assert float(keras.ops.convert_to_numpy(tracker.count)) == 10


class GuideStyleModel(keras.Model):
    """A custom train_step as Keras' guides write it: the loss tracker counts batches."""

    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(1)
        self.batch_loss = keras.metrics.Mean(name="loss")

    def call(self, x):
        return self.dense(x)

    def train_step(self, data):
        x, y = data
        # No gradient step: what matters here is what the trackers count.
        loss = keras.ops.mean((self(x) - y) ** 2)
        self.batch_loss.update_state(loss)
        return {"loss": self.batch_loss.result()}

    @property
    def metrics(self):
        return [self.batch_loss]


@pytest.mark.skipif(keras.backend.backend() == "jax",
                    reason="a JAX train_step takes (state, data); this one is the TF/torch form")
def test_custom_train_step_is_never_reported_too_low(caplog):
    """The guides' tracker counts one per batch: 32x too low at batch 32. Leave it out instead."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 2)).astype("float32")
    model = GuideStyleModel()
    model.compile(optimizer="sgd", loss="mse")
    with caplog.at_level(logging.WARNING, logger="kerastools.callbacks.epoch_timer"):
        history = model.fit(x, x[:, :1], batch_size=32, epochs=2, callbacks=[EpochTimer()], verbose=0)
    assert "samples_per_s" not in history.history
    assert len(history.history["epoch_time_s"]) == 2
    warnings = [r.getMessage() for r in caplog.records
                if r.levelno == logging.WARNING and r.name == "kerastools.callbacks.epoch_timer"]
    assert len(warnings) == 1 and "GuideStyleModel has its own train_step" in warnings[0]
    assert "compute_loss" not in warnings[0]
