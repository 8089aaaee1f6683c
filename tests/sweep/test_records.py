"""TrialRecord and SweepResults: ranking, labels and plots of records, arguments checked."""

from __future__ import annotations

import math

import pytest

from kerastools.errors import ConfigError
from kerastools.sweep import SweepResults, TrialRecord
from kerastools.sweep import records as sweep_records


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
