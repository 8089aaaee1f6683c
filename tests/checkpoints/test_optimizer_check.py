"""Loading compares the saved optimizer's class and hyper-parameters with the model's (issue 15, item 9)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import kerastools as kt
from kerastools.callbacks import PeriodicCheckpoint
from kerastools.checkpoints import load_checkpoint, resume
from kerastools.errors import CheckpointError, ConfigError
from tests.checkpoints.helpers import iterations

X = np.random.default_rng(0).uniform(-1, 1, size=(64, 2)).astype("float32")
Y = (X[:, :1] * X[:, 1:]).astype("float32")


def compiled(optimizer):
    keras.utils.set_random_seed(0)
    return kt.compile(kt.build_mlp(2, [8]), optimizer=optimizer)


def rate(model):
    return float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))


@pytest.fixture(scope="module")
def saved_adam(tmp_path_factory):
    """Two epochs of Adam(0.01, beta_1=0.8), a checkpoint each."""
    directory = tmp_path_factory.mktemp("adam")
    model = compiled(keras.optimizers.Adam(0.01, beta_1=0.8))
    model.fit(X, Y, batch_size=16, epochs=2, verbose=0, callbacks=[PeriodicCheckpoint(directory)])
    return directory, iterations(model)


def test_a_newly_compiled_learning_rate_is_refused_and_the_model_left_as_it_was(saved_adam):
    directory, _ = saved_adam
    model = compiled(keras.optimizers.Adam(1e-5, beta_1=0.8))
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(CheckpointError, match=r"learning_rate: saved 0\.01, compiled now 1e-05.*"
                       r'optimizer_config="checkpoint".*optimizer_config="current"'):
        resume(model, directory)
    for weight, old in zip(model.get_weights(), before, strict=True):
        np.testing.assert_array_equal(weight, old)
    assert iterations(model) == 0 and rate(model) == pytest.approx(1e-5)


def test_current_keeps_the_new_learning_rate_and_loads_the_state(saved_adam):
    directory, steps = saved_adam
    model = compiled(keras.optimizers.Adam(1e-5, beta_1=0.8))
    assert resume(model, directory, optimizer_config="current") == 2
    assert iterations(model) == steps and rate(model) == pytest.approx(1e-5)
    model.fit(X, Y, batch_size=16, epochs=3, initial_epoch=2, verbose=0)
    assert rate(model) == pytest.approx(1e-5)


def test_checkpoint_takes_the_saved_hyper_parameters(saved_adam):
    directory, steps = saved_adam
    model = compiled(keras.optimizers.Adam(1e-5, beta_1=0.5))
    with pytest.raises(CheckpointError, match=r"beta_1: saved 0\.8, compiled now 0\.5"):
        load_checkpoint(model, directory)
    info = load_checkpoint(model, directory, optimizer_config="checkpoint")
    assert info.epoch == 2 and iterations(model) == steps
    assert rate(model) == pytest.approx(0.01) and model.optimizer.beta_1 == pytest.approx(0.8)


@pytest.mark.parametrize("optimizer_config", ["check", "current", "checkpoint"])
def test_another_optimizer_class_is_refused_unless_the_optimizer_is_left_out(
    saved_adam, optimizer_config
):
    directory, _ = saved_adam
    model = compiled(keras.optimizers.AdamW(0.01, beta_1=0.8))
    with pytest.raises(CheckpointError, match=r"saved from Adam, the model is compiled with AdamW.*include_optimizer"):
        load_checkpoint(model, directory, optimizer_config=optimizer_config)
    assert iterations(model) == 0
    assert load_checkpoint(model, directory, include_optimizer=False).epoch == 2
    assert iterations(model) == 0


def test_a_learning_rate_a_callback_lowered_is_state_not_a_new_config(tmp_path):
    halve = keras.callbacks.LearningRateScheduler(lambda epoch, lr: 0.01 * 0.5**epoch)
    model = compiled(keras.optimizers.Adam(0.01))
    model.fit(X, Y, batch_size=16, epochs=3, verbose=0,
              callbacks=[halve, PeriodicCheckpoint(tmp_path)])
    fresh = compiled(keras.optimizers.Adam(0.01))  # compiled like the saved run
    assert resume(fresh, tmp_path) == 3
    assert rate(fresh) == pytest.approx(0.0025)  # the lowered rate comes back
    fresh.fit(X, Y, batch_size=16, epochs=4, initial_epoch=3, verbose=0,
              callbacks=[PeriodicCheckpoint(tmp_path)])
    again = compiled(keras.optimizers.Adam(0.01))  # and a second resume still matches
    assert resume(again, tmp_path) == 4


def test_optimizer_config_is_validated(saved_adam):
    directory, _ = saved_adam
    model = compiled(keras.optimizers.Adam(0.01, beta_1=0.8))
    with pytest.raises(ConfigError, match=r"optimizer_config.*'check'.*Received: optimizer_config='new'"):
        resume(model, directory, optimizer_config="new")
    with pytest.raises(ConfigError, match="optimizer_config"):
        load_checkpoint(model, directory, optimizer_config=None)
