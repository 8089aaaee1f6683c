"""Figures are Agg-backed, never pyplot's, redrawn in place on request, saved atomically and freed once dropped."""

from __future__ import annotations

import gc
import sys
import weakref

import matplotlib
import pytest
from matplotlib.figure import Figure
from plot_checks import render  # tests/plots/plot_checks.py

from kerastools import plots
from kerastools.errors import ConfigError


def test_backend_is_agg_and_pyplot_keeps_no_figures(tmp_path, squares_data):
    assert matplotlib.get_backend().lower() == "agg"
    pyplot = sys.modules.get("matplotlib.pyplot")  # Keras imports it; kerastools does not use it
    open_before = pyplot.get_fignums() if pyplot else []
    render(plots.points(*squares_data), tmp_path)
    assert (pyplot.get_fignums() if pyplot else []) == open_before


def test_figure_argument_redraws_in_place(squares_data):
    first = plots.points(*squares_data)
    again = plots.training_curves({"loss": [1.0, 0.5]}, figure=first)
    assert again is first and len(first.axes) == 2
    with pytest.raises(TypeError, match=r"`figure` must be a matplotlib Figure"):
        plots.points(*squares_data, figure="fig")


def test_save_figure_checks_the_format(tmp_path, squares_data):
    fig = plots.points(*squares_data)
    with pytest.raises(ConfigError, match=r"`path` must end in a format matplotlib writes"):
        plots.save_figure(fig, tmp_path / "points.bmpx")
    assert plots.save_figure(fig, tmp_path / "points.svg").endswith("points.svg")
    assert (tmp_path / "points.svg").read_text().lstrip().startswith("<?xml")


def test_figures_are_freed_once_dropped(squares_data):
    """A long session that draws many figures does not keep them alive."""
    references = []
    for _ in range(5):
        fig = plots.training_curves({"loss": [1.0, 0.5], "val_loss": [1.1, 0.6]})
        fig.canvas.draw()
        references.append(weakref.ref(fig))
        del fig
    gc.collect()
    assert [ref() for ref in references] == [None] * 5
    assert isinstance(plots.points(*squares_data), Figure)
