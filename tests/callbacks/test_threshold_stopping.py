"""ThresholdEarlyStopping: the stop rule as a table, then the callback's hooks and real fits."""

from __future__ import annotations

import logging
import math
import types

import numpy as np
import pytest

import kerastools as kt
from kerastools.callbacks import StoppingReason, ThresholdEarlyStopping
from kerastools.callbacks.threshold_stopping import stop_decision
from kerastools.errors import ConfigError, ConfigTypeError

NAN, INF = math.nan, math.inf
R = StoppingReason

# (id, values, settings, 1-based epoch it must stop at or None, reason at that epoch / at the end)
STOP_TABLE = [
    # Threshold: reached, then one epoch without improvement (patience=1).
    ("max_reached_then_flat", [0.5, 0.8, 0.96, 0.96], dict(mode="max", threshold=0.95), 4, R.THRESHOLD_REACHED),
    ("max_reached_patience_0_stops_at_once", [0.5, 0.96, 0.99], dict(mode="max", threshold=0.95, patience=0), 2, R.THRESHOLD_REACHED),
    ("reaching_exactly_counts", [0.5, 0.95], dict(mode="max", threshold=0.95, patience=0), 2, R.THRESHOLD_REACHED),
    ("reached_but_still_improving", [0.5, 0.96, 0.97, 0.98, 0.98], dict(mode="max", threshold=0.95), 5, R.THRESHOLD_REACHED),
    ("getting_worse_counts_as_not_improving", [0.9, 0.97, 0.96], dict(mode="max", threshold=0.95), 3, R.THRESHOLD_REACHED),
    ("improvement_within_min_delta_is_a_plateau", [0.9, 0.96, 0.965], dict(mode="max", threshold=0.95, min_delta=0.01), 3, R.THRESHOLD_REACHED),
    ("improvement_beyond_min_delta_is_not", [0.9, 0.96, 0.975], dict(mode="max", threshold=0.95, min_delta=0.01), None, R.NOT_STOPPED),
    ("patience_run_broken_by_an_improvement", [0.96, 0.96, 0.97, 0.97, 0.97], dict(mode="max", threshold=0.95, patience=2), 5, R.THRESHOLD_REACHED),
    ("plateau_below_threshold_never_stops", [0.5, 0.5, 0.5, 0.5], dict(mode="max", threshold=0.95), None, R.NOT_STOPPED),
    ("first_epoch_has_no_predecessor", [0.99], dict(mode="max", threshold=0.95), None, R.NOT_STOPPED),
    ("min_mode_loss_target", [1.0, 0.5, 0.09, 0.0899], dict(mode="min", threshold=0.1, min_delta=0.001), 4, R.THRESHOLD_REACHED),
    ("min_mode_above_target_never_stops", [1.0, 0.5, 0.5, 0.5], dict(mode="min", threshold=0.1), None, R.NOT_STOPPED),
    # threshold=None: the plateau rule alone, on consecutive epochs.
    ("plateau_rule_patience_2", [1.0, 0.8, 0.81, 0.79, 0.79, 0.80], dict(mode="min", patience=2), 6, R.PLATEAU),
    ("plateau_rule_patience_1", [1.0, 0.8, 0.8], dict(mode="min"), 3, R.PLATEAU),
    ("plateau_rule_zigzag_never_two_in_a_row", [1.0, 1.1, 0.9, 1.0, 0.8, 0.85, 0.7], dict(mode="min", patience=2), None, R.NOT_STOPPED),
    ("plateau_rule_steady_improvement", [1.0, 0.9, 0.8, 0.7], dict(mode="min", min_delta=0.05), None, R.NOT_STOPPED),
    ("plateau_rule_small_improvements", [1.0, 0.9, 0.89, 0.88], dict(mode="min", min_delta=0.05, patience=2), 4, R.PLATEAU),
    # Divergence and non-finite values stop at once.
    ("diverged_min", [1.0, 2.0, 11.0], dict(mode="min", threshold=0.1, divergence_threshold=10.0), 3, R.DIVERGED),
    ("at_divergence_threshold_is_not_diverged", [1.0, 10.0], dict(mode="min", threshold=0.1, divergence_threshold=10.0), None, R.NOT_STOPPED),
    ("diverged_max", [0.6, 0.2], dict(mode="max", threshold=0.9, divergence_threshold=0.3), 2, R.DIVERGED),
    ("nan", [1.0, NAN], dict(mode="min", threshold=0.1), 2, R.NON_FINITE),
    ("inf", [1.0, INF], dict(mode="min"), 2, R.NON_FINITE),
    ("nan_ignored_without_check_finite", [1.0, NAN, NAN], dict(mode="min", threshold=0.1, check_finite=False), None, R.NOT_STOPPED),
    # start_from_epoch: leading epochs are not checked (except for non-finite values).
    ("warm_up_epochs_not_checked", [0.96, 0.96, 0.5, 0.96, 0.96], dict(mode="max", threshold=0.95, start_from_epoch=2), 5, R.THRESHOLD_REACHED),
    ("divergence_ignored_during_warm_up", [20.0, 5.0, 4.0, 4.0], dict(mode="min", divergence_threshold=10.0, start_from_epoch=1), 4, R.PLATEAU),
    ("nan_stops_even_during_warm_up", [NAN], dict(mode="min", start_from_epoch=3), 1, R.NON_FINITE),
]


def first_stop(values, settings):
    """Feed the values one epoch at a time, as the callback does."""
    for epoch in range(1, len(values) + 1):
        decision = stop_decision(values[:epoch], **settings)
        if decision.should_stop:
            return epoch, decision
    return None, decision


@pytest.mark.parametrize(
    "values, settings, stop_epoch, reason", [case[1:] for case in STOP_TABLE], ids=[case[0] for case in STOP_TABLE]
)
def test_stop_rule_table(values, settings, stop_epoch, reason):
    epoch, decision = first_stop(values, settings)
    assert (epoch, decision.reason) == (stop_epoch, reason)
    assert decision.should_stop == (stop_epoch is not None)
    assert bool(decision.message) == (stop_epoch is not None)


@pytest.mark.parametrize(
    "values, settings, expected",
    [
        ([0.5, 0.96], dict(mode="max", threshold=0.95, patience=0), "val_accuracy=0.96 >= threshold=0.95"),
        ([0.5, 0.05, 0.05], dict(mode="min", threshold=0.1), "val_accuracy=0.05 <= threshold=0.1 and it improved by no more than min_delta=0"),
        ([1.0, 11.0], dict(mode="min", divergence_threshold=10.0), "val_accuracy=11 > divergence_threshold=10"),
        ([1.0, NAN], dict(mode="min"), "val_accuracy=nan is not finite"),
        ([1.0, 0.9, 0.9], dict(mode="min", min_delta=0.01), "val_accuracy=0.9 (previous epoch: 0.9): it improved by no more than min_delta=0.01"),
    ],
)
def test_message_quotes_metric_value_comparison_and_threshold(values, settings, expected):
    decision = stop_decision(values, monitor="val_accuracy", **settings)
    assert decision.should_stop
    assert decision.message.startswith(expected)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(patience=-1), ConfigError, r"Argument `patience` must be >= 0. Received: patience=-1"),
        (dict(patience=0), ConfigError, r"`patience` must be >= 1 when `threshold` is None"),
        (dict(patience=1.5), ConfigTypeError, r"Argument `patience` must be an integer"),
        (dict(mode="up"), ConfigError, r"Argument `mode` must be one of \['auto', 'min', 'max'\]. Received: mode='up'"),
        (dict(monitor=""), ConfigTypeError, r"Argument `monitor` must be a non-empty string"),
        (dict(monitor="val_score"), ConfigError, r"Cannot infer whether 'val_score'.*pass mode='min' or mode='max'"),
        (dict(min_delta=-0.1), ConfigError, r"Argument `min_delta` must be >= 0.0. Received: min_delta=-0.1"),
        (dict(threshold=NAN), ConfigError, r"Argument `threshold` must be a finite number"),
        (dict(threshold="0.9"), ConfigTypeError, r"Argument `threshold` must be a number"),
        (dict(threshold=0.9, divergence_threshold=0.95), ConfigError, r"`divergence_threshold` must lie below `threshold`"),
        (dict(monitor="val_loss", threshold=0.1, divergence_threshold=0.05), ConfigError, r"must lie above `threshold`"),
        (dict(start_from_epoch=-1), ConfigError, r"Argument `start_from_epoch` must be >= 0"),
        (dict(restore_best_weights="yes"), ConfigTypeError, r"Argument `restore_best_weights` must be True or False"),
        (dict(check_finite=None), ConfigTypeError, r"Argument `check_finite` must be True or False"),
        (dict(verbose=-1), ConfigError, r"Argument `verbose` must be >= 0"),
    ],
)
def test_bad_arguments_are_refused(kwargs, error, match):
    with pytest.raises(error, match=match):
        ThresholdEarlyStopping(**kwargs)


def test_stop_decision_refuses_values_that_are_not_numbers():
    with pytest.raises(ConfigTypeError, match="Argument `values` must be a sequence of numbers"):
        stop_decision(["high"], mode="max")
    with pytest.raises(ConfigError, match="Argument `mode`"):
        stop_decision([1.0], mode="auto")


# ---- the callback on fake logs ----------------------------------------------------------


def fake_model():
    return types.SimpleNamespace(stop_training=False)


def run_epochs(callback, values, key="val_accuracy", first_epoch=0):
    """Call the hooks as fit does; returns the number of epochs run."""
    model = fake_model()
    callback.set_model(model)
    callback.on_train_begin()
    for offset, value in enumerate(values):
        callback.on_epoch_end(first_epoch + offset, {"loss": 0.3, key: value})
        if model.stop_training:
            return offset + 1
    return len(values)


def test_hooks_stop_with_a_1_based_epoch_reason_and_message(caplog, capsys):
    stopper = ThresholdEarlyStopping(threshold=0.95, verbose=1)
    with caplog.at_level(logging.INFO, logger="kerastools.callbacks.threshold_stopping"):
        ran = run_epochs(stopper, [0.5, 0.96, 0.96, 0.97])
    assert ran == 3
    assert stopper.stopped_epoch == 3
    assert stopper.stopping_reason is StoppingReason.THRESHOLD_REACHED
    assert stopper.stopping_message.startswith("Epoch 3: val_accuracy=0.96 >= threshold=0.95")
    assert [record.getMessage() for record in caplog.records] == [stopper.stopping_message]
    assert stopper.stopping_message in capsys.readouterr().out


def test_start_from_epoch_counts_keras_epoch_indices():
    # Resumed at epoch 5 (initial_epoch=5): start_from_epoch=3 is already behind.
    stopper = ThresholdEarlyStopping(threshold=0.95, start_from_epoch=3)
    assert run_epochs(stopper, [0.96, 0.96], first_epoch=5) == 2
    assert stopper.stopped_epoch == 7
    # From the start: epochs 0-2 are not checked, so their plateau does not count.
    assert run_epochs(stopper, [0.96, 0.96, 0.96, 0.96, 0.96]) == 5
    assert stopper.stopped_epoch == 5


def test_missing_monitor_key_lists_the_available_keys():
    stopper = ThresholdEarlyStopping("val_accuracy", threshold=0.9)
    stopper.set_model(fake_model())
    stopper.on_train_begin()
    stopper.on_epoch_end(0, {"loss": 0.5, "accuracy": 0.8})  # no validation this epoch: skipped
    with pytest.raises(ConfigError, match=r"'val_accuracy' is not in the logs; available keys: \['accuracy', 'loss'\]"):
        stopper.on_train_end()  # ... but no epoch of the fit validated


def test_missing_monitor_key_on_a_validated_epoch_fails_at_once():
    stopper = ThresholdEarlyStopping("val_accuracy", threshold=0.9)
    stopper.set_model(fake_model())
    stopper.on_train_begin()
    with pytest.raises(ConfigError, match=r"'val_accuracy' is not in the logs; available keys: \['loss', 'val_loss'\]"):
        stopper.on_epoch_end(0, {"loss": 0.5, "val_loss": 0.8})


def test_restore_best_weights_at_train_end_even_without_stopping():
    model = kt.build_mlp(2, [4])
    best = [np.full_like(w, 1.0) for w in model.get_weights()]
    later = [np.full_like(w, 2.0) for w in model.get_weights()]
    stopper = ThresholdEarlyStopping("val_loss", threshold=0.01, restore_best_weights=True)
    stopper.set_model(model)
    stopper.on_train_begin()
    for epoch, (weights, loss) in enumerate([(later, 0.9), (best, 0.2), (later, 0.5), (later, NAN)]):
        model.set_weights(weights)
        stopper.on_epoch_end(epoch, {"val_loss": loss})
        if epoch < 3:
            assert stopper.stopped_epoch == 0
    assert stopper.stopping_reason is StoppingReason.NON_FINITE
    stopper.on_train_end()
    assert (stopper.best, stopper.best_epoch) == (0.2, 2)
    for restored, expected in zip(model.get_weights(), best):
        np.testing.assert_array_equal(restored, expected)


# ---- real fits ---------------------------------------------------------------------------


def tiny_regression(samples=16):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(samples, 2)).astype("float32")
    return x, (x**2).sum(axis=1, keepdims=True)


def test_nan_loss_stops_with_non_finite_and_restores_the_last_finite_weights():
    x, y = tiny_regression()
    y[3] = np.nan  # one bad label makes every epoch's mean loss NaN from the first step on
    model = kt.compile(kt.build_mlp(2, [4]), optimizer="sgd", learning_rate=0.01)
    initial = model.get_weights()
    stopper = ThresholdEarlyStopping("loss", restore_best_weights=True)
    history = model.fit(x, y, batch_size=8, epochs=5, callbacks=[stopper], verbose=0)
    assert len(history.history["loss"]) == 1
    assert (stopper.stopped_epoch, stopper.stopping_reason) == (1, StoppingReason.NON_FINITE)
    assert "loss=nan is not finite" in stopper.stopping_message
    # No checked epoch had a finite loss: nothing to restore, weights are the NaN ones.
    assert stopper.best_weights is None
    assert not np.isfinite(model.get_weights()[0]).all()
    assert np.isfinite(initial[0]).all()


def test_reused_across_two_fits_with_state_reset():
    x, y = tiny_regression()
    model = kt.compile(kt.build_mlp(2, [4]), optimizer="sgd", learning_rate=0.01)
    # Every epoch is a plateau epoch (min_delta is huge) and the threshold is always met,
    # so each fit stops at its second epoch, not at the first of the second fit.
    stopper = ThresholdEarlyStopping("loss", threshold=1e9, min_delta=1e9, patience=1)
    for _ in range(2):
        history = model.fit(x, y, batch_size=8, epochs=4, callbacks=[stopper], verbose=0)
        assert len(history.history["loss"]) == 2
        assert (stopper.stopped_epoch, stopper.stopping_reason) == (2, StoppingReason.THRESHOLD_REACHED)

    never = ThresholdEarlyStopping("loss", threshold=-1.0)
    model.fit(x, y, batch_size=8, epochs=2, callbacks=[never], verbose=0)
    assert (never.stopped_epoch, never.stopping_reason, never.stopping_message) == (0, StoppingReason.NOT_STOPPED, "")


def test_val_accuracy_without_validation_data_fails_with_the_available_keys():
    x, y = tiny_regression()
    model = kt.compile(kt.build_mlp(2, [4], output_activation="sigmoid"), metrics=["accuracy"])
    with pytest.raises(ConfigError, match=r"available keys: \['accuracy', 'loss'\]\. Pass validation_data"):
        model.fit(x, (y > 1).astype("float32"), epochs=1, callbacks=[ThresholdEarlyStopping()], verbose=0)


def test_validation_freq_skips_epochs_without_validation():
    """fit(validation_freq=2): epochs 1, 3, ... have no val_ metrics and are not checked."""
    x, y = tiny_regression()
    model = kt.compile(kt.build_mlp(2, [4]), optimizer="adam", learning_rate=0.01)
    stop = ThresholdEarlyStopping("val_loss", threshold=None, patience=50)
    history = model.fit(x, y, epochs=4, validation_split=0.25, validation_freq=2,
                        callbacks=[stop], verbose=0)
    assert len(history.history["val_loss"]) == 2
    assert len(stop._values) == 2  # only the validated epochs were fed to the rule
    assert stop.best == pytest.approx(min(history.history["val_loss"]))


def test_a_typo_is_still_an_error_on_a_validated_epoch():
    x, y = tiny_regression()
    model = kt.compile(kt.build_mlp(2, [4]))
    with pytest.raises(ConfigError, match=r"'val_los' is not in the logs; available keys: \['loss', 'val_loss'\]"):
        model.fit(x, y, epochs=2, validation_split=0.25, validation_freq=1, verbose=0,
                  callbacks=[ThresholdEarlyStopping("val_los", mode="min")])
