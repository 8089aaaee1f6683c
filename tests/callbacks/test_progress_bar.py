"""ProgressBar: Keras' one-line epoch summary stays readable; History keeps every key."""

from __future__ import annotations

import numpy as np
import pytest

import kerastools as kt
from kerastools.callbacks import ProgressBar
from kerastools.errors import ConfigTypeError


def _fit(callbacks, verbose):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 2)).astype("float32")
    model = kt.compile(kt.build_mlp(2, [4]), optimizer="adam")
    return model.fit(x, x[:, :1], batch_size=8, epochs=2, verbose=verbose, callbacks=callbacks)


def _epoch_lines(text):
    return [line for line in text.splitlines() if "loss:" in line]


def test_bookkeeping_keys_stay_off_the_line_and_in_history(capsys):
    history = _fit(kt.callbacks.standard(plot=False), verbose=2)
    lines = _epoch_lines(capsys.readouterr().out)
    assert len(lines) == 2
    for line in lines:
        assert "learning_rate:" in line
        for hidden in ("iterations", "epoch_time_s", "samples_per_s"):
            assert hidden not in line
    assert {"iterations", "epoch_time_s", "samples_per_s", "learning_rate"} <= set(history.history)


def test_without_it_keras_prints_every_key(capsys):
    _fit([kt.callbacks.LearningRateLogger(), kt.callbacks.EpochTimer()], verbose=2)
    assert all("samples_per_s" in line for line in _epoch_lines(capsys.readouterr().out))


def test_follows_fit_verbose_zero(capsys):
    _fit([ProgressBar()], verbose=0)
    assert _epoch_lines(capsys.readouterr().out) == []


def test_hide_must_be_a_collection_of_names():
    with pytest.raises(ConfigTypeError, match="Argument `hide` must be a collection"):
        ProgressBar(hide="iterations")


def test_per_optimizer_counters_of_a_gan_are_hidden_too():
    bar = ProgressBar()
    shown = bar._shown({"d_loss": 0.5, "iterations_d_optimizer": 12, "learning_rate_d_optimizer": 1e-3})
    assert shown == {"d_loss": 0.5, "learning_rate_d_optimizer": 1e-3}
