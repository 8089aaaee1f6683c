"""The live figure: a released figure drawn again for a later run gives the picture a new one gives."""

from __future__ import annotations

import matplotlib
import pytest

from kerastools.live.figure import LiveFigure
from kerastools.live.history import RunHistory
from kerastools.live.panels import PanelPlan


def run_history(scale, epochs, keys):
    store = RunHistory()
    for epoch in range(epochs):
        row = {"loss": scale / (epoch + 1), "val_loss": 1.1 * scale / (epoch + 1),
               "accuracy": 0.5 + epoch / (3 * epochs), "learning_rate": 0.01 * scale}
        store.record_epoch(epoch, {key: row[key] for key in keys})
    return store


def settings(plan=None):
    plan = plan or PanelPlan(metrics=None, show_lr=True, log_loss=False, targets={"loss": 0.1})
    return plan, (6, 2.5), 60, 2000, False


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ((3.0, 50, ("loss", "learning_rate")), (1.0, 20, ("loss", "learning_rate"))),  # limits shrink
        ((0.1, 5, ("loss", "val_loss", "learning_rate")), (1.0, 20, ("loss", "learning_rate"))),  # a line less
        ((1.0, 20, ("loss", "learning_rate")), (2.0, 7, ("loss", "accuracy", "learning_rate"))),  # a panel more
    ],
)
def test_a_released_figure_draws_the_next_run_as_a_new_one_does(before, after):
    used = LiveFigure.obtain(*settings())
    used.render(run_history(*before), planned_epochs=30, finished=True)
    used.finish()
    assert used.release()
    again = LiveFigure.obtain(*settings())
    assert again is used
    fresh = LiveFigure(*settings())
    for finished in (False, True):
        history = run_history(*after)
        assert again.render(history, 20, finished) == fresh.render(history, 20, finished)


def test_only_a_figure_with_the_same_settings_and_style_is_reused():
    used = LiveFigure.obtain(*settings())
    used.render(run_history(1.0, 3, ("loss",)), planned_epochs=3, finished=True)
    assert used.release()
    other = PanelPlan(metrics=None, show_lr=True, log_loss=True, targets={"loss": 0.1})
    assert LiveFigure.obtain(*settings(other)) is not used
    with matplotlib.rc_context({"axes.grid": True}):
        assert LiveFigure.obtain(*settings()) is not used  # drawn under other rcParams
    half_drawn = LiveFigure.obtain(*settings())
    with pytest.raises(ValueError, match="Inf"):  # limits beyond float64: matplotlib refuses them
        half_drawn.render(run_history(1.5e308, 3, ("loss",)), planned_epochs=3, finished=False)
    assert not half_drawn.release()  # a render that did not end leaves nothing to reuse
