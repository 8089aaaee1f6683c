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


def test_save_figure_refuses_a_dpi_past_the_pixel_bound(tmp_path):
    """Issue 15 item 10: dpi=10**6 asked Agg for a 10**12-pixel canvas."""
    from kerastools import _validation

    figure = plots.points([[0.0, 0.0], [1.0, 1.0]], [0.0, 1.0])
    target = tmp_path / "huge.png"
    with pytest.raises(ConfigError, match=r"Argument `dpi` makes a figure of .* pixels; allowed: at most 67108864"):
        plots.save_figure(figure, target, dpi=10**6)
    assert not target.exists()
    width, height = figure.get_size_inches()
    # The bound is overridable (a module-level limit), and checked from the figure's size.
    assert plots.save_figure(figure, target, dpi=10).endswith("huge.png")
    limit = _validation.MAX_FIGURE_PIXELS
    try:
        _validation.MAX_FIGURE_PIXELS = int(width * 10 * height * 10) - 1
        with pytest.raises(ConfigError, match="`dpi`"):
            plots.save_figure(figure, target, dpi=10)
    finally:
        _validation.MAX_FIGURE_PIXELS = limit


def test_check_figure_size_is_the_shared_pixel_bound():
    from kerastools._validation import check_figure_size

    check_figure_size("figsize", 10, 3.5, 80)
    with pytest.raises(ConfigError, match=r"Argument `figsize` makes a figure of 100 x 100 inches at dpi=1000"):
        check_figure_size("figsize", 100, 100, 1000)  # LivePlot's bad_alloc of issue 15 item 8
