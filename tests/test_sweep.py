"""sweep(): grid and random search, records, ranking, tables, plots, keras-tuner adapter."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

import kerastools as kt
from kerastools.errors import ConfigError
from kerastools.sweep import SweepResults, TrialRecord, sweep
from kerastools.sweep import grid as sweep_grid
from kerastools.sweep import records as sweep_records


def build(units=4, lr=1e-2, optimizer="adam"):
    return kt.compile(kt.build_mlp(2, [units]), optimizer=optimizer, learning_rate=lr)


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


def test_random_mode_draws_distinct_combinations_reproducibly():
    grid = {"a": [1, 2, 3], "b": ["x", "y"], "c": [0.1, 0.2]}
    first = sweep_grid._combinations(grid, "random", 5, np.random.default_rng(3))
    again = sweep_grid._combinations(grid, "random", 5, np.random.default_rng(3))
    assert first == again and len(first) == 5
    assert len({tuple(combo.values()) for combo in first}) == 5
    every = sweep_grid._combinations(grid, "random", 12, np.random.default_rng(0))
    assert sorted(tuple(c.values()) for c in every) == sorted(
        tuple(c.values())
        for c in sweep_grid._combinations(grid, "grid", None, np.random.default_rng(0))
    )


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


def make_results(histories, grid):
    combos = [dict(zip(grid, values)) for values in zip(*grid.values())]
    varying = sweep_records.varying_keys(grid, combos)
    records = [
        TrialRecord(i, combo, history, {k: v[-1] for k, v in history.items()}, 0.1, varying)
        for i, (combo, history) in enumerate(zip(combos, histories))
    ]
    return SweepResults(records, grid)


def test_best_infers_direction_and_treats_nan_as_worst():
    results = make_results(
        [
            {"loss": [1.0, 0.5], "val_accuracy": [0.5, 0.9]},
            {"loss": [1.0, math.nan], "val_accuracy": [0.5, 0.95]},
            {"loss": [1.0, 0.7], "val_accuracy": [0.5, 0.6]},
        ],
        {"units": [1, 2, 3]},
    )
    assert results.best("loss").index == 0
    assert results.best("val_accuracy").index == 1
    assert results.best("val_accuracy", mode="min").index == 2


def test_describe_lists_every_param_when_nothing_varies_and_joins_lists():
    results = make_results([{"loss": [1.0]}], {"dims": [[16, 16]], "act": ["relu"]})
    assert results[0].describe() == "dims=16-16, act=relu"


def test_plot_with_many_params_titles_the_legend_and_lists_values():
    grid = {"a": [1, 2], "b": ["x", "y"], "c": [0.1, 0.2]}
    results = make_results([{"loss": [1.0, 0.5]}, {"loss": [2.0, 1.5]}], grid)
    legend = results.plot().axes[0].get_legend()
    assert legend.get_title().get_text() == "a, b, c"
    assert [t.get_text() for t in legend.get_texts()] == ["1, x, 0.1", "2, y, 0.2"]


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda r: r.best("val_loss"),
            r"`metric` is not a logged metric of this sweep; available: \['loss'\]",
        ),
        (lambda r: r.best("loss", mode="up"), r"`mode` must be one of \['auto', 'min', 'max'\]"),
        (lambda r: r.plot("loss", style_by="depth"), r"`style_by` must name a parameter"),
        (
            lambda r: r.plot("loss", color_by=["units", "x"]),
            r"`color_by` must name a parameter of the sweep, one of \['units'\]",
        ),
        (
            lambda r: r[0].describe(["lr"]),
            r"`keys` names unknown parameters \['lr'\]; parameters: \['units'\]",
        ),
    ],
)
def test_results_methods_check_their_arguments(call, match):
    results = make_results([{"loss": [1.0]}, {"loss": [2.0]}], {"units": [1, 2]})
    with pytest.raises(ConfigError, match=match):
        call(results)


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


def test_keras_tuner_hypermodel_runs_a_bayesian_search(tmp_path, squares_data):
    keras_tuner = pytest.importorskip("keras_tuner")
    pytest.importorskip(
        "sklearn", reason="BayesianOptimization needs scikit-learn (kerastools[tune])"
    )
    seen = []

    def build_and_record(units, lr):
        seen.append((units, lr))
        return build(units, lr)

    hypermodel = kt.sweep.keras_tuner_hypermodel(
        build_and_record, {"units": [2, 4], "lr": {"min": 1e-4, "max": 1e-1, "sampling": "log"}}
    )
    tuner = keras_tuner.BayesianOptimization(
        hypermodel,
        objective="val_loss",
        max_trials=2,
        directory=str(tmp_path),
        project_name="t",
        seed=0,
    )
    x, y = squares_data
    tuner.search(x, y, validation_split=0.25, epochs=1, verbose=0)
    best = tuner.get_best_hyperparameters()[0].values
    assert best["units"] in (2, 4) and 1e-4 <= best["lr"] <= 1e-1
    assert len(seen) >= 2 and all(isinstance(units, int) for units, _ in seen)


def test_keras_tuner_space_as_a_function_and_bad_spaces():
    keras_tuner = pytest.importorskip("keras_tuner")
    hypermodel = kt.sweep.keras_tuner_hypermodel(build, lambda hp: {"units": hp.Int("units", 2, 4)})
    model = hypermodel.build(keras_tuner.HyperParameters())
    assert isinstance(model, keras.Model) and model.compiled
    with pytest.raises(ConfigError, match=r"choices must all be ints, all floats"):
        kt.sweep.keras_tuner_hypermodel(build, {"units": [2, "4"]})
    with pytest.raises(ConfigError, match=r"as a range needs 'min' and 'max'"):
        kt.sweep.keras_tuner_hypermodel(build, {"lr": {"low": 1}})
    with pytest.raises(ConfigError, match=r"does not accept the grid keys \['depth'\]"):
        kt.sweep.keras_tuner_hypermodel(build, {"depth": [1, 2]})
