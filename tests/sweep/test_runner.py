"""sweep(): grid and random runs, a fresh session per trial, arguments checked before training."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from sweep_builds import build  # tests/sweep/sweep_builds.py

import kerastools as kt
from kerastools.errors import ConfigError
from kerastools.sweep import sweep


@pytest.fixture
def tiny_split(squares_data):
    x, y = squares_data
    return kt.datasets.split(x[:96], y[:96], valid=32, test=0, seed=0)


@pytest.fixture(scope="module")
def two_by_two():
    """The one real 2x2 sweep of this module (4 tiny fits), shared by the tests that read it."""
    keras.utils.set_random_seed(0)
    x, y = kt.datasets.make_squares(96, seed=0)
    data = kt.datasets.split(x, y, valid=32, test=0, seed=0)
    return sweep(
        build,
        {"units": [2, 8], "lr": [1e-3, 1e-2], "optimizer": ["adam"]},
        data=data,
        fit_kwargs={"epochs": 2, "batch_size": 32},
        seed=0,
    )


def test_two_by_two_grid_gives_four_records_with_varying_descriptions(two_by_two):
    assert len(two_by_two) == 4
    assert [record.describe() for record in two_by_two] == [
        "units=2, lr=0.001",
        "units=2, lr=0.01",
        "units=8, lr=0.001",
        "units=8, lr=0.01",
    ]
    assert two_by_two.varying == ("units", "lr")  # "optimizer" has one value: not in the legend
    record = two_by_two[3]
    assert record.params == {"units": 8, "lr": 0.01, "optimizer": "adam"}
    assert record.describe(["optimizer", "units"]) == "optimizer=adam, units=8"
    assert sorted(record.history) == ["loss", "val_loss"] and record.epochs == 2
    assert record.metrics["val_loss"] == record.history["val_loss"][-1]
    assert record.fit_seconds > 0


def test_best_table_and_plot_of_a_real_sweep(two_by_two):
    best = two_by_two.best("val_loss")
    assert best.metrics["val_loss"] == min(r.metrics["val_loss"] for r in two_by_two)
    rows = two_by_two.table()
    rows = rows.to_dict("records") if not isinstance(rows, list) else rows
    assert [row["trial"] for row in rows] == [0, 1, 2, 3]
    assert {"units", "lr", "optimizer", "epochs", "fit_seconds", "loss", "val_loss"} <= set(rows[0])

    fig = two_by_two.plot("val_loss", log=True)
    ax = fig.axes[0]
    assert len(fig.axes) == 1 and ax.get_yscale() == "log"
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels == [record.describe() for record in two_by_two]
    # Colour by units, line style by lr (the last varying key with <= 4 values).
    lines = ax.get_lines()
    assert lines[0].get_color() == lines[1].get_color() != lines[2].get_color()
    assert lines[0].get_linestyle() != lines[1].get_linestyle()
    assert lines[0].get_linestyle() == lines[2].get_linestyle()


def test_sweep_clears_the_session_between_trials(monkeypatch, squares_data):
    calls = []
    real_clear = keras.backend.clear_session
    monkeypatch.setattr(
        keras.backend, "clear_session", lambda *a, **k: (calls.append(1), real_clear())[1]
    )
    names = []

    def build_and_name(units):
        model = build(units)
        names.append(model.layers[1].name)
        return model

    sweep(
        build_and_name,
        {"units": [2, 3, 4]},
        data=squares_data,
        fit_kwargs={"epochs": 1, "steps_per_epoch": 1},
    )
    assert len(calls) == 2  # between 3 trials
    assert names == ["dense_1"] * 3  # fresh name counters in each trial


def test_random_mode_trains_n_trials_and_callbacks_factory_is_called_per_trial(squares_data):
    made = []

    def fresh_callbacks():
        made.append(keras.callbacks.History())
        return [made[-1]]

    results = sweep(
        build,
        {"units": [2, 3, 4, 5]},
        data=squares_data,
        fit_kwargs={"epochs": 1, "steps_per_epoch": 1},
        mode="random",
        n_trials=2,
        seed=1,
        callbacks=fresh_callbacks,
    )
    assert len(results) == 2 and len(made) == 2 and made[0] is not made[1]
    assert len({record.params["units"] for record in results}) == 2


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"grid": {}}, r"`grid` must be a non-empty dict"),
        ({"grid": [("units", [1])]}, r"`grid` must be a non-empty dict"),
        ({"grid": {"units": []}}, r"`grid\['units'\]` must be a non-empty list of values"),
        ({"grid": {"units": 4}}, r"`grid\['units'\]` must be a non-empty list"),
        ({"grid": {"units": "48"}}, r"`grid\['units'\]` must be a non-empty list"),
        ({"grid": {"not a name": [1]}}, r"keys must be valid Python names"),
        (
            {"grid": {"depth": [1]}},
            r"`build` does not accept the grid keys \['depth'\]; its parameters are \['units', 'lr', 'optimizer'\]",
        ),
        ({"mode": "bayes"}, r"`mode` must be one of \['grid', 'random'\]"),
        ({"n_trials": 2}, r"`n_trials` applies to mode='random' only"),
        ({"mode": "random"}, r"`n_trials` is required with mode='random' \(at most 2"),
        (
            {"mode": "random", "n_trials": 3},
            r"Argument `n_trials` must be <= 2. Received: n_trials=3",
        ),
        ({"fit_kwargs": {"callbacks": []}}, r"`fit_kwargs` must not contain \['callbacks'\]"),
        ({"fit_kwargs": [("epochs", 1)]}, r"`fit_kwargs` must be a dict"),
        ({"data": (1, 2, 3)}, r"`data` as a tuple must be `\(x, y\)`"),
        ({"data": 5}, r"`data` must be `\(x, y\)`, a kerastools.datasets.DatasetSplit"),
        ({"data": "abc"}, r"`data` must be `\(x, y\)`"),
        ({"data": {"x": np.zeros((4, 2))}}, r"`data` must be `\(x, y\)`"),
        (
            {"data": (np.zeros((10, 2)), np.zeros((16, 1)))},
            r"as many targets as inputs. Received: 10 inputs and 16 targets",
        ),
        (
            {"fit_kwargs": {"epoch": 1}},
            r"keys `model.fit` does not take: \['epoch'\]. 'epoch': did you mean 'epochs'\?",
        ),
        ({"callbacks": ["early"]}, r"`callbacks` must be a list of keras callbacks or a function"),
        ({"seed": -1}, r"`seed` must be >= 0"),
    ],
)
def test_sweep_validates_before_training(kwargs, match, squares_data):
    arguments = {"grid": {"units": [1, 2]}, "data": squares_data, "fit_kwargs": {"epochs": 1}}
    arguments.update(kwargs)
    with pytest.raises((ConfigError, TypeError), match=match):
        sweep(build, arguments.pop("grid"), **arguments)


def test_sweep_rejects_a_split_with_validation_plus_validation_kwargs(tiny_split):
    with pytest.raises(ConfigError, match=r"must not set \['validation_split'\] as well"):
        sweep(build, {"units": [2]}, data=tiny_split, fit_kwargs={"validation_split": 0.2})


def test_build_must_return_a_compiled_model(squares_data):
    with pytest.raises(
        ConfigError,
        match=r"must return a compiled keras.Model .* It returned Functional for params \{'units': 2\}",
    ):
        sweep(lambda units: kt.build_mlp(2, [units]), {"units": [2]}, data=squares_data)


# --------------------------------------------------------------------------- issue 15, item 10


def never_build(units):
    raise AssertionError("sweep built a model for data it should have refused")


@pytest.mark.parametrize(
    ("fit_kwargs", "match"),
    [
        ({"epochs": -1}, r"`fit_kwargs\['epochs'\]` must be >= 1"),
        ({"batch_size": 0}, r"`fit_kwargs\['batch_size'\]` must be >= 1"),
        ({"validation_split": 1.5}, r"`fit_kwargs\['validation_split'\]` must be < 1.0"),
        ({"epochs": 2, "initial_epoch": 2}, r"initial_epoch < epochs"),
        ({"shuffle": "yes"}, r"`fit_kwargs\['shuffle'\]` must be True or False"),
    ],
    ids=["epochs", "batch_size", "validation_split", "initial_epoch", "shuffle"],
)
def test_fit_values_are_refused_before_a_model_is_built(squares_data, fit_kwargs, match):
    x, y = squares_data
    with pytest.raises((ConfigError, kt.errors.ConfigTypeError), match=match):
        sweep(never_build, {"units": [2]}, data=(x[:16], y[:16]), fit_kwargs=fit_kwargs)


def test_empty_arrays_are_refused(squares_data):
    x, y = squares_data
    with pytest.raises(ConfigError, match=r"`data` must hold at least one sample"):
        sweep(never_build, {"units": [2]}, data=(x[:0], y[:0]))


def test_data_of_the_wrong_width_is_refused_before_the_first_fit(squares_data):
    x, y = squares_data
    wide = np.concatenate([x[:16], x[:16, :1]], axis=1)  # 3 features for a 2-input model
    built = []

    def build_two_inputs(units):
        built.append(units)
        return build(units)

    with pytest.raises(ConfigError, match=r"`data` has inputs of shape \(16, 3\) but the model .* takes \(batch, 2\)"):
        sweep(build_two_inputs, {"units": [2, 4]}, data=(wide, y[:16]), fit_kwargs={"epochs": 1})
    assert built == [2]  # refused at the first model, before any fit
