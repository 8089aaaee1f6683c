"""keras_tuner_hypermodel: a sweep's build runs a keras-tuner search; bad spaces are rejected."""

from __future__ import annotations

import keras
import pytest
from sweep_builds import build  # tests/sweep/sweep_builds.py

import kerastools as kt
from kerastools.errors import ConfigError


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


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ({"min": 8, "max": 2}, r"must have 'min' <= 'max'. Received: min=8, max=2"),
        ({"min": 0.0, "max": 1.0, "sampling": "log"}, r"sampling='log' needs 'min' > 0"),
        ({"min": 1, "max": 4, "step": 0}, r"`space\['units'\]\['step'\]` must be > 0"),
        ({"min": 1, "max": float("inf")}, r"`space\['units'\]\['max'\]` must be a finite number"),
        ({"min": 1, "max": 4, "sampling": "cubic"}, r"`space\['units'\]\['sampling'\]` must be one of"),
    ],
    ids=["min-above-max", "log-from-zero", "zero-step", "infinite-max", "unknown-sampling"],
)
def test_keras_tuner_ranges_are_checked_when_the_hypermodel_is_made(spec, match):
    """Issue 15 item 10: min > max was accepted, and keras-tuner failed mid-search."""
    with pytest.raises(ConfigError, match=match):
        kt.sweep.keras_tuner_hypermodel(build, {"units": spec})
