"""training_curves and sweep_curves: the right panels and curves, arguments checked."""

from __future__ import annotations

import pytest
from plot_checks import render  # tests/plots/plot_checks.py

import kerastools as kt
from kerastools import plots
from kerastools.errors import ConfigError


def test_training_curves_has_loss_log_loss_and_each_metric(tmp_path, squares_data):
    model = kt.compile(kt.build_mlp(2, [4]), metrics=["mae"])
    history = model.fit(*squares_data, validation_split=0.25, epochs=2, verbose=0)
    fig = plots.training_curves(history)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "loss (log scale)", "mae"]
    assert fig.axes[1].get_yscale() == "log"
    assert [line.get_label() for line in fig.axes[0].get_lines()] == ["train", "validation"]
    render(fig, tmp_path)


def test_training_curves_from_a_dict_with_a_key_that_appears_mid_run():
    history = {
        "loss": [3.0, 2.0, 1.0, 0.5],
        "learning_rate": [0.1, 0.05],
        "accuracy": [0.1, 0.5, 0.7, 0.9],
    }
    fig = plots.training_curves(history)
    assert [ax.get_title() for ax in fig.axes] == [
        "loss",
        "loss (log scale)",
        "accuracy",
    ]  # bookkeeping left out
    fig = plots.training_curves(history, metrics=["learning_rate"])
    (line,) = fig.axes[2].get_lines()
    assert list(line.get_xdata()) == [3, 4]  # the last two epochs, where it was logged


@pytest.mark.parametrize(
    ("history", "metrics", "match"),
    [
        ({"accuracy": [1.0]}, None, r"no 'loss' to draw. Available keys: \['accuracy'\]"),
        (
            {"loss": [1.0]},
            ["accuracy"],
            r"`metrics` names keys that are not in the history: \['accuracy'\]",
        ),
        ([1.0, 2.0], None, r"`history` must be a keras History"),
        ({"loss": "1.0"}, None, r"must map metric names to lists of numbers"),
    ],
)
def test_training_curves_errors(history, metrics, match):
    with pytest.raises((ConfigError, TypeError), match=match):
        plots.training_curves(history, metrics)


def _results(grid, histories):
    """A SweepResults built from histories, without training anything."""
    from kerastools.sweep import SweepResults, TrialRecord

    combos = [dict(zip(grid, values, strict=True)) for values in zip(*grid.values(), strict=True)]
    varying = tuple(grid)
    records = [
        TrialRecord(i, combo, history, {k: v[-1] for k, v in history.items()}, 0.1, varying)
        for i, (combo, history) in enumerate(zip(combos, histories, strict=True))
    ]
    return SweepResults(records, grid)


def test_sweep_curves_is_what_sweep_results_plot_draws(tmp_path):
    grid = {"units": [2, 2, 4, 4], "lr": [0.1, 0.01, 0.1, 0.01]}
    results = _results(grid, [{"loss": [1.0, 0.5 + i / 10]} for i in range(4)])
    fig = plots.sweep_curves(results, "loss", log=True)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and ax.get_title() == "loss: 4 trials"
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels == [record.describe() for record in results]
    via_method = results.plot("loss", log=True).axes[0]
    assert [text.get_text() for text in via_method.get_legend().get_texts()] == labels
    lines = ax.get_lines()
    assert [line.get_linestyle() for line in lines] == ["-", "--", "-", "--"]  # style: lr
    assert lines[0].get_color() == lines[1].get_color() != lines[2].get_color()  # colour: units
    render(fig, tmp_path)


def test_sweep_curves_errors():
    results = _results({"units": [1, 2]}, [{"loss": [1.0]}, {"loss": [2.0]}])
    with pytest.raises(ConfigError, match=r"`metric` is not a logged metric of this sweep"):
        plots.sweep_curves(results, "val_loss")
    with pytest.raises(ConfigError, match=r"`style_by` must name a parameter"):
        plots.sweep_curves(results, style_by="depth")
    with pytest.raises(ConfigError, match=r"no trials to plot"):
        plots.sweep_curves(_results({"units": []}, []))


@pytest.mark.parametrize(
    "history",
    [{"loss": ["a", "b"]}, {"loss": [[1.0, 2.0], [3.0]]}, {"loss": [object()]}],
    ids=["strings", "nested", "objects"],
)
def test_training_curves_refuses_values_that_are_not_numbers(history):
    """Issue 15 item 10: a raw ValueError/TypeError from float() before."""
    with pytest.raises(kt.errors.ConfigTypeError, match=r"Argument `history` must map metric names to lists of numbers"):
        plots.training_curves(history)


def test_sweep_curves_refuses_what_is_not_a_sweep_result():
    with pytest.raises(kt.errors.ConfigTypeError, match=r"Argument `results` must be what kerastools.sweep.sweep returns"):
        plots.sweep_curves({"loss": [1.0]})
