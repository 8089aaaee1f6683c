"""standard(): the usual callbacks in one call, agreeing on one metric."""

from __future__ import annotations

import numpy as np
import pytest

import kerastools as kt
from kerastools.callbacks import (
    EpochTimer,
    LearningRateLogger,
    LivePlot,
    PeriodicCheckpoint,
    ThresholdEarlyStopping,
    standard,
)
from kerastools.callbacks.live_plot import ENV_VAR
from kerastools.errors import ConfigError, ConfigTypeError


def names(callbacks):
    return [type(callback).__name__ for callback in callbacks]


def test_default_bundle_in_call_order():
    callbacks = standard()
    assert names(callbacks) == ["LearningRateLogger", "EpochTimer", "LivePlot", "ProgressBar"]
    assert callbacks[-2].targets == {} and callbacks[-2].mode == "auto"
    assert standard() is not standard() and standard()[0] is not callbacks[0]  # fresh each call


def test_full_bundle_agrees_on_one_metric(tmp_path):
    callbacks = standard(
        checkpoint_dir=tmp_path / "ckpt", stop_at={"val_accuracy": 0.98}, patience=2,
        restore_best_weights=True, keep_last=2, plot_mode="file", plot_path=tmp_path / "live.png",
    )
    logger, timer, stopper, plot, checkpoint, report, bar = callbacks
    assert isinstance(bar, kt.callbacks.ProgressBar)
    # The report, after the checkpoint, in its directory, reading the stopper and the checkpoint.
    assert isinstance(report, kt.callbacks.RunReport) and report.path == tmp_path / "ckpt" / "report"
    assert report.callbacks == [logger, stopper, plot, checkpoint]
    assert isinstance(logger, LearningRateLogger) and isinstance(timer, EpochTimer)
    assert isinstance(stopper, ThresholdEarlyStopping) and isinstance(checkpoint, PeriodicCheckpoint)
    assert isinstance(plot, LivePlot)
    assert (stopper.monitor, stopper.threshold, stopper.mode, stopper.patience) == ("val_accuracy", 0.98, "max", 2)
    assert stopper.restore_best_weights is True
    assert checkpoint.directory == tmp_path / "ckpt" and checkpoint.keep_last == 2
    assert plot.targets == {"val_accuracy": 0.98}  # the target drawn where the stop happens
    assert plot.mode == "file" and plot.path == tmp_path / "live.png"
    assert checkpoint.callbacks == [logger, stopper, plot]  # their state goes into each checkpoint


def test_plot_can_be_left_out():
    assert names(standard(plot=False)) == ["LearningRateLogger", "EpochTimer", "ProgressBar"]


def test_real_fit_with_the_bundle(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV_VAR, "file")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 2)).astype("float32")
    y = (np.linalg.norm(x, axis=1) < 1).astype("float32")
    model = kt.compile(
        kt.build_mlp(2, [8], output_activation="sigmoid"), optimizer="adam", learning_rate=0.01,
        metrics=["accuracy"],
    )
    callbacks = standard(
        checkpoint_dir=tmp_path / "ckpt", stop_at={"val_accuracy": 0.0}, patience=0,
        plot_path=tmp_path / "live.png",
    )
    history = model.fit(x, y, validation_split=0.25, epochs=4, batch_size=16, verbose=0, callbacks=callbacks)
    stopper, plot = callbacks[2], callbacks[3]
    assert len(history.history["loss"]) == 1 and stopper.stopped_epoch == 1  # target 0.0: met at once
    assert {"learning_rate", "iterations", "epoch_time_s", "samples_per_s"} <= set(history.history)
    assert sorted(path.name for path in (tmp_path / "ckpt").iterdir()) == [
        "best.weights.h5", "best.weights.h5.json", "epoch-0001.weights.h5",
        "epoch-0001.weights.h5.json", "report",
    ]
    assert kt.callbacks.read_report(tmp_path / "ckpt" / "report")["stop"]["reason"] == "THRESHOLD_REACHED"
    assert (tmp_path / "live.png").read_bytes().startswith(b"\x89PNG")
    # The plot saw what the logger and timer wrote: LR in its own panel, no
    # panels for the step counter or the timings.
    assert [axes.get_title(loc="left") for axes in plot.figure.axes] == ["loss", "accuracy", "learning rate"]
    assert plot.history["epoch_time_s"] == history.history["epoch_time_s"]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"stop_at": 0.98}, ConfigTypeError, r"`stop_at` must be a dict .*Received: stop_at=0.98"),
        ({"stop_at": {}}, ConfigError, "exactly one entry"),
        ({"stop_at": {"val_accuracy": 0.9, "val_loss": 0.1}}, ConfigError, "exactly one entry"),
        ({"stop_at": {"val_accuracy": "high"}}, ConfigTypeError, r"stop_at\['val_accuracy'\]"),
        ({"stop_at": {3: 0.9}}, ConfigTypeError, "metric name"),
        ({"plot": "yes"}, ConfigTypeError, "`plot` must be True or False"),
        ({"plot_mode": "inline"}, ConfigError, r"`plot_mode` must be one of"),
        ({"keep_last": 0, "checkpoint_dir": "ckpt"}, ConfigError, r"`keep_last` must be >= 1"),
        ({"stop_at": {"val_accuracy": 0.9}, "patience": -1}, ConfigError, "patience"),
        ({"stop_at": {"val_score": 0.9}}, ConfigError, "mode='min' or mode='max'"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        standard(**kwargs)


def test_is_exported():
    assert kt.callbacks.standard is standard
