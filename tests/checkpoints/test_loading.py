"""kerastools.checkpoints.loading: exact weights and optimizer state, architecture checks, resuming."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import kerastools as kt
from kerastools.callbacks import PeriodicCheckpoint
from kerastools.checkpoints import list_checkpoints, load_checkpoint, resume
from kerastools.errors import CheckpointError, ConfigError, ConfigTypeError
from tests.checkpoints.helpers import assert_same_weights, iterations, make_model

# -- loading ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("which", "epoch_of"),
    [
        ("latest", lambda h: 4),
        ("best", lambda h: 1 + int(np.argmin(h["val_loss"]))),
        (2, lambda h: 2),
        (("min", "val_loss"), lambda h: 1 + int(np.argmin(h["val_loss"]))),
        (("max", "loss"), lambda h: 1 + int(np.argmax(h["loss"]))),
    ],
    ids=["latest", "best", "epoch", "min-metric", "max-metric"],
)
def test_load_restores_exact_weights_and_optimizer_step(trained, which, epoch_of):
    directory, probe, history = trained
    model = make_model()
    info = load_checkpoint(model, directory, which)
    assert info.epoch == epoch_of(history)
    assert_same_weights(model, probe.weights[info.epoch])
    assert iterations(model) == probe.steps[info.epoch] == info.step


def test_empty_directory_loads_nothing_and_resumes_at_zero(tmp_path):
    with pytest.raises(CheckpointError, match="No checkpoints in"):
        load_checkpoint(make_model(), tmp_path)
    assert resume(make_model(), tmp_path / "not yet created") == 0


def test_model_must_be_built_and_compiled_for_resume(trained):
    with pytest.raises(ConfigError, match="must be built"):
        load_checkpoint(keras.Sequential([keras.layers.Dense(1)]), trained[0])
    with pytest.raises(ConfigError, match="must be compiled before resume"):
        resume(kt.build_mlp(2, [8]), trained[0])
    with pytest.raises(ConfigTypeError, match="`model` must be a keras.Model"):
        load_checkpoint("model", trained[0])


# -- architecture checks --------------------------------------------------------------


def test_other_width_names_the_variable_and_shapes(trained):
    model = make_model(width=16)
    before = [np.array(w) for w in model.get_weights()]
    with pytest.raises(
        CheckpointError,
        match=r"variable 'dense_1/kernel' \(layer 'dense_1'\) has shape \(2, 16\) in the model "
        r"but \(2, 8\) in the checkpoint",
    ):
        load_checkpoint(model, trained[0])
    assert_same_weights(model, before)  # a refused checkpoint changes nothing


def test_other_depth_names_the_extra_variables(trained):
    model = kt.compile(kt.build_mlp(2, [8, 8]), optimizer="adam")
    with pytest.raises(
        CheckpointError, match=r"holds 4 weight variables, the model has 6. Only in the model: \['dense_2/kernel'"
    ):
        load_checkpoint(model, trained[0])


def test_other_optimizer_is_refused_unless_weights_only(trained):
    directory, probe, _ = trained
    model = make_model(optimizer="sgd")
    with pytest.raises(CheckpointError, match="saved from Adam, the model is compiled with SGD"):
        load_checkpoint(model, directory)
    load_checkpoint(model, directory, include_optimizer=False)
    assert_same_weights(model, probe.weights[4])
    assert iterations(model) == 0


def test_uncompiled_model_gets_the_weights(trained):
    directory, probe, _ = trained
    model = kt.build_mlp(2, [8])
    load_checkpoint(model, directory, 3)
    assert_same_weights(model, probe.weights[3])


# -- resume -----------------------------------------------------------------------------


def test_resume_continues_the_epoch_count_and_the_schedule(tmp_path, squares_data):
    x, y = squares_data  # 8 steps per epoch
    keras.utils.set_random_seed(3)
    uninterrupted = make_model()
    keras.utils.set_random_seed(3)
    crashed = make_model()
    uninterrupted.fit(x, y, batch_size=32, epochs=4, shuffle=False, verbose=0)
    crashed.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0, callbacks=[PeriodicCheckpoint(tmp_path)])

    restarted = make_model()  # what a new process would build
    start = resume(restarted, tmp_path)
    assert start == 2 and iterations(restarted) == 16
    assert kt.current_learning_rate(restarted) == pytest.approx(0.01 / (1 + 0.5 * 16))
    history = restarted.fit(
        x, y, batch_size=32, epochs=4, initial_epoch=start, shuffle=False, verbose=0,
        callbacks=[PeriodicCheckpoint(tmp_path)],
    )
    assert len(history.history["loss"]) == 2
    assert [i.path.name for i in list_checkpoints(tmp_path)][-2:] == [
        "epoch-0003.weights.h5", "epoch-0004.weights.h5"
    ]
    assert iterations(restarted) == iterations(uninterrupted) == 32
    assert kt.current_learning_rate(restarted) == pytest.approx(kt.current_learning_rate(uninterrupted))
    for resumed, straight in zip(restarted.get_weights(), uninterrupted.get_weights(), strict=True):
        np.testing.assert_allclose(resumed, straight, rtol=1e-5, atol=1e-6)


def test_resume_without_optimizer_state_warns(tmp_path, squares_data):
    x, y = squares_data
    make_model().fit(x, y, epochs=1, verbose=0, callbacks=[PeriodicCheckpoint(tmp_path, include_optimizer=False)])
    with pytest.warns(RuntimeWarning, match="no optimizer state"):
        assert resume(make_model(), tmp_path) == 1


# -- a subclassed model that was never called: built from the recorded input shape ------------------------------------------------


class Subclassed(keras.Model):
    def __init__(self, width=4, **kwargs):
        super().__init__(**kwargs)
        self.hidden = keras.layers.Dense(width, activation="relu")
        self.norm = keras.layers.BatchNormalization()
        self.out = keras.layers.Dense(1)

    def call(self, x, training=False):
        return self.out(self.norm(self.hidden(x), training=training))


def compiled_subclassed(width=4):
    model = Subclassed(width)
    model.compile(optimizer="adam", loss="mse")
    return model


def test_resume_builds_a_subclassed_model_from_the_recorded_input_shape(tmp_path, squares_data):
    x, y = squares_data
    keras.utils.set_random_seed(0)
    model = compiled_subclassed()
    model.fit(x, y, epochs=2, batch_size=32, verbose=0,
              callbacks=[kt.callbacks.PeriodicCheckpoint(tmp_path)])
    fresh = compiled_subclassed()
    assert not fresh.weights  # never called
    assert resume(fresh, tmp_path) == 2
    assert_same_weights(fresh, model.get_weights())
    assert iterations(fresh) == iterations(model) == 16
    fresh.fit(x, y, epochs=3, initial_epoch=2, batch_size=32, verbose=0)
    assert iterations(fresh) == 24


def test_an_unbuilt_model_that_does_not_fit_the_recorded_shape_is_refused(tmp_path, squares_data):
    x, y = squares_data
    compiled_subclassed().fit(x, y, epochs=1, verbose=0,
                              callbacks=[kt.callbacks.PeriodicCheckpoint(tmp_path)])
    with pytest.raises(ConfigError, match=r"must be built .*built for .*input_shape.*does not fit"):
        load_checkpoint(compiled_subclassed(width=8), tmp_path)
