"""kerastools.checkpoints.loading: exact weights and optimizer state, architecture checks, resuming."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

import kerastools as kt
from kerastools.callbacks import PeriodicCheckpoint, ThresholdEarlyStopping
from kerastools.callbacks.live_plot import ENV_VAR
from kerastools.checkpoints import list_checkpoints, load_checkpoint, resume
from kerastools.checkpoints.record import record_path
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


# -- callbacks' states across a restart ---------------------------------------------------------


def _bundle(directory, tmp_path):
    return kt.callbacks.standard(checkpoint_dir=directory, stop_at={"loss": 1e-9}, patience=50,
                                 plot_mode="file", plot_path=tmp_path / "live.png")


def _parts(bundle):
    kinds = {type(callback).__name__: callback for callback in bundle}
    return kinds["ThresholdEarlyStopping"], kinds["LivePlot"], kinds["LearningRateLogger"]


@pytest.fixture
def plots_to_file(monkeypatch):
    monkeypatch.setenv(ENV_VAR, "file")  # the suite turns plots off by default


def test_resume_with_a_new_bundle_continues_every_callback_history(tmp_path, squares_data, plots_to_file):
    x, y = squares_data
    directory = tmp_path / "ckpt"
    fit = dict(batch_size=32, shuffle=False, verbose=0)
    first = _bundle(directory, tmp_path)
    history = make_model().fit(x, y, epochs=3, callbacks=first, **fit)
    stopper, plot, rates = _parts(first)

    bundle = _bundle(directory, tmp_path)
    model = make_model()
    assert resume(model, directory, callbacks=bundle) == 3
    more = model.fit(x, y, epochs=5, initial_epoch=3, callbacks=bundle, **fit)
    resumed_stopper, resumed_plot, resumed_rates = _parts(bundle)
    seen = history.history["loss"] + more.history["loss"]
    assert resumed_stopper._values == pytest.approx(seen) and len(seen) == 5
    assert resumed_stopper.best == pytest.approx(min(seen))
    assert resumed_plot.epochs == [1, 2, 3, 4, 5]
    assert resumed_plot.history["loss"][:3] == pytest.approx(plot.history["loss"])
    assert resumed_rates.history[:3] == pytest.approx(rates.history) and len(resumed_rates.history) == 5
    assert resumed_rates.history[3:] == pytest.approx(more.history["learning_rate"])

    # Each record holds the states at its own epoch, in strict JSON.
    for record in directory.glob("*.json"):
        json.loads(record.read_text(), parse_constant=pytest.fail)
    latest = list_checkpoints(directory)[-1]
    assert [state["kind"] for state in latest.callback_states] == [
        "LearningRateLogger", "ThresholdEarlyStopping", "LivePlot"]
    assert latest.callback_states[2]["epochs"] == [1, 2, 3, 4, 5]


def test_a_checkpoint_without_states_resumes_as_before(tmp_path, squares_data, plots_to_file):
    x, y = squares_data
    directory = tmp_path / "ckpt"
    make_model().fit(x, y, epochs=2, batch_size=32, verbose=0, callbacks=[PeriodicCheckpoint(directory)])
    assert all(info.callback_states == [] for info in list_checkpoints(directory))
    bundle = _bundle(directory, tmp_path)
    model = make_model()
    assert resume(model, directory, callbacks=bundle) == 2
    model.fit(x, y, epochs=3, initial_epoch=2, batch_size=32, verbose=0, callbacks=bundle)
    stopper, plot, rates = _parts(bundle)
    assert plot.epochs == [3] and len(stopper._values) == 1 and len(rates.history) == 1


def test_several_callbacks_of_one_kind_get_their_states_in_order(tmp_path, squares_data):
    x, y = squares_data
    directory = tmp_path / "ckpt"

    def stoppers():
        return [ThresholdEarlyStopping(monitor, threshold=None, patience=50) for monitor in ("loss", "val_loss")]

    first = stoppers()
    fit = dict(batch_size=32, validation_split=0.25, verbose=0)
    make_model().fit(x, y, epochs=2, callbacks=[*first, PeriodicCheckpoint(directory, callbacks=first)], **fit)
    again = stoppers()
    model = make_model()
    assert resume(model, directory, callbacks=[*again, kt.callbacks.EpochTimer()]) == 2
    model.fit(x, y, epochs=3, initial_epoch=2, callbacks=again, **fit)  # a swap would refuse the monitor
    assert [len(stopper._values) for stopper in again] == [3, 3]
    assert again[0]._values[:2] == pytest.approx(first[0]._values)
    assert again[1]._values[:2] == pytest.approx(first[1]._values)


def _damage_latest_states(directory, damage):
    path = record_path(directory / "epoch-0002.weights.h5")
    record = json.loads(path.read_text())
    damage(record["callback_states"])
    path.write_text(json.dumps(record))


def test_a_damaged_state_record_is_an_error_naming_the_field(tmp_path, squares_data, plots_to_file):
    x, y = squares_data
    directory = tmp_path / "ckpt"
    make_model().fit(x, y, epochs=2, batch_size=32, verbose=0, callbacks=_bundle(directory, tmp_path))

    def drop_kind(states):
        del states[1]["kind"]

    _damage_latest_states(directory, drop_kind)
    with pytest.raises(CheckpointError, match="`callback_states` of 'epoch-0002.weights.h5'"):
        resume(make_model(), directory, callbacks=_bundle(directory, tmp_path))

    def damage_values(states):
        states[1]["kind"] = "ThresholdEarlyStopping"
        states[1]["values"] = "oops"

    _damage_latest_states(directory, damage_values)
    bundle = _bundle(directory, tmp_path)
    model = make_model()
    assert resume(model, directory, callbacks=bundle) == 2
    with pytest.raises(ConfigTypeError, match="State entry `values` must be a list"):
        model.fit(x, y, epochs=3, initial_epoch=2, batch_size=32, verbose=0, callbacks=bundle)


def test_resume_refuses_callbacks_that_are_not_a_list(tmp_path):
    with pytest.raises(ConfigTypeError, match="`callbacks` must be a list"):
        resume(make_model(), tmp_path, callbacks=kt.callbacks.EpochTimer())
