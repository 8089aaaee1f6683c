"""sweep(..., live=...): one figure for every trial, updated in place, the running trial highlighted."""

from __future__ import annotations

import sys

import keras
import numpy as np
import pytest
from sweep_builds import build  # tests/sweep/sweep_builds.py

import kerastools as kt
from kerastools.callbacks.live_plot import ENV_VAR
from kerastools.errors import ConfigError, ConfigTypeError
from kerastools.sweep import LiveSweep, sweep
from kerastools.sweep.live_figure import FINISHED_STYLE, RUNNING_STYLE

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def tiny_split():
    x, y = kt.datasets.make_squares(64, seed=0)
    return kt.datasets.split(x, y, valid=16, test=0, seed=0)


class Inspector(keras.callbacks.Callback):
    """A user callback that looks at the live figure during each trial's last epoch."""

    def __init__(self, live: LiveSweep, trial: list[int]):
        super().__init__()
        self.live = live
        self.trial = trial
        self.seen: list[dict] = []

    def on_epoch_end(self, epoch, logs=None):
        if epoch != self.params["epochs"] - 1:
            return
        self.live.render_png()  # the throttle may have skipped this epoch's redraw
        panel = self.live._live_figure.panels["loss"]
        running = self.live._live_figure.running
        self.seen.append({
            "running": running,
            "styles": {index: (line.get_linewidth(), line.get_alpha(), line.get_animated())
                       for index, line in panel.lines.items()},
            "png": self.live.output_path.read_bytes(),
        })
        self.trial.append(running)


def test_live_file_mode_draws_every_trial_on_one_figure(monkeypatch, tmp_path, tiny_split):
    monkeypatch.setenv(ENV_VAR, "file")
    live = LiveSweep(path=tmp_path / "runs" / "sweep.png", min_interval_s=0.0)
    trials: list[int] = []
    inspector = Inspector(live, trials)
    results = sweep(build, {"units": [2, 4, 8], "optimizer": ["adam"]}, data=tiny_split,
                    fit_kwargs={"epochs": 2, "batch_size": 16}, seed=0, live=live,
                    callbacks=[inspector])
    png = (tmp_path / "runs" / "sweep.png").read_bytes()
    assert png.startswith(PNG_SIGNATURE)
    figure = live.figure
    # One panel per key, one line per trial in each, holding that trial's history.
    assert [axes.get_title(loc="left") for axes in figure.axes] == ["loss", "val loss"]
    for axes, key in zip(figure.axes, ["loss", "val_loss"], strict=True):
        lines = axes.get_lines()
        assert len(lines) == 3
        for line, record in zip(lines, results, strict=True):
            assert line.get_xdata().tolist() == [1.0, 2.0]
            assert line.get_ydata() == pytest.approx(record.history[key])
    # During trial k the running trial's line is thick and animated, the finished ones thin.
    assert trials == [0, 1, 2]
    for seen in inspector.seen:
        for index, (width, alpha, animated) in seen["styles"].items():
            if index == seen["running"]:
                assert (width, alpha, animated) == (RUNNING_STYLE["linewidth"], RUNNING_STYLE["alpha"], True)
            else:
                assert index < seen["running"]
                assert (width, alpha, animated) == (FINISHED_STYLE["linewidth"], FINISHED_STYLE["alpha"], False)
        assert sorted(seen["styles"]) == list(range(seen["running"] + 1))
    # The PNG was replaced while the trials ran: the file during trial 1 differs from the last.
    assert inspector.seen[0]["png"] != inspector.seen[-1]["png"] != png
    # The legend names only the key that varies; after the sweep nothing is animated.
    legend = [text.get_text() for text in figure.texts][:3]
    assert legend == ["units=2", "units=4", "units=8"]
    assert not any(line.get_animated() for axes in figure.axes for line in axes.get_lines())
    assert live.render_seconds and live.resolved_mode == "file"


def test_live_true_in_a_script_asks_for_a_path(monkeypatch, tiny_split):
    monkeypatch.delenv(ENV_VAR, raising=False)
    with pytest.raises(ConfigError, match="needs its path"):
        sweep(build, {"units": [2]}, data=tiny_split, fit_kwargs={"epochs": 1}, live=True)


def test_live_path_in_a_script_writes_it(monkeypatch, tmp_path, tiny_split):
    monkeypatch.delenv(ENV_VAR, raising=False)
    sweep(build, {"units": [2], "lr": [1e-2, 1e-3]}, data=tiny_split, fit_kwargs={"epochs": 1},
          live=tmp_path / "live.png")
    assert (tmp_path / "live.png").read_bytes().startswith(PNG_SIGNATURE)


def test_live_off_draws_nothing_and_keeps_results(monkeypatch, tmp_path, tiny_split):
    monkeypatch.setenv(ENV_VAR, "off")
    live = LiveSweep(path=tmp_path / "live.png")
    results = sweep(build, {"units": [2]}, data=tiny_split, fit_kwargs={"epochs": 1}, live=live)
    assert len(results) == 1 and not (tmp_path / "live.png").exists()
    assert live.resolved_mode == "off" and live.render_seconds == []


def test_legend_names_each_varying_key_and_no_fixed_one(monkeypatch, tiny_split):
    monkeypatch.setenv(ENV_VAR, "off")
    live = LiveSweep()
    sweep(build, {"units": [2, 4], "lr": [1e-2, 1e-3], "optimizer": ["adam"]}, data=tiny_split,
          fit_kwargs={"epochs": 1}, live=live)
    live.render_png()
    labels = [text.get_text() for text in live.figure.texts][:4]
    assert labels == ["units=2, lr=0.01", "units=2, lr=0.001", "units=4, lr=0.01", "units=4, lr=0.001"]


def test_a_trial_that_fails_still_leaves_a_whole_figure(monkeypatch, tmp_path, tiny_split):
    monkeypatch.setenv(ENV_VAR, "file")

    def failing_build(units):
        if units == 4:
            raise RuntimeError("out of memory")
        return build(units=units)

    live = LiveSweep(path=tmp_path / "live.png")
    with pytest.raises(RuntimeError, match="out of memory"):
        sweep(failing_build, {"units": [2, 4]}, data=tiny_split, fit_kwargs={"epochs": 2}, live=live)
    assert [len(axes.get_lines()) for axes in live.figure.axes] == [1, 1]
    assert (tmp_path / "live.png").read_bytes().startswith(PNG_SIGNATURE)


def test_notebook_mode_updates_one_display_in_place(monkeypatch, tiny_split):
    import types

    events = []
    display_module = types.ModuleType("IPython.display")

    class Image:
        def __init__(self, data=None, format=None):
            self.data = data

    class Handle:
        def update(self, image):
            events.append("update")

    def display(image, display_id=None):
        events.append("display")
        return Handle()

    display_module.Image, display_module.display = Image, display
    ipython = types.ModuleType("IPython")
    ipython.display = display_module
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", display_module)
    monkeypatch.setenv(ENV_VAR, "notebook")
    live = LiveSweep(min_interval_s=0.0)
    sweep(build, {"units": [2, 4]}, data=tiny_split, fit_kwargs={"epochs": 2}, live=live)
    assert events[0] == "display" and events.count("display") == 1 and events.count("update") >= 2


@pytest.mark.parametrize(
    ("live", "error", "match"),
    [
        (1, ConfigTypeError, "Argument `live`"),
        ("", ConfigTypeError, "Argument `live`"),
        ([True], ConfigTypeError, "Argument `live`"),
    ],
)
def test_bad_live_raises_before_training(live, error, match, tiny_split):
    with pytest.raises(error, match=match):
        sweep(build, {"units": [2]}, data=tiny_split, fit_kwargs={"epochs": 1}, live=live)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"mode": "screen"}, ConfigError, "mode"),
        ({"path": 3}, ConfigTypeError, "path"),
        ({"figsize": (0, 3)}, ConfigError, "figsize"),
        ({"metrics": "accuracy"}, ConfigTypeError, "metrics"),
        ({"min_interval_s": -1}, ConfigError, "min_interval_s"),
    ],
)
def test_bad_live_sweep_settings_raise(kwargs, error, match):
    with pytest.raises(error, match=match):
        LiveSweep(**kwargs)


def test_render_before_start_says_how_to_use_it():
    with pytest.raises(ConfigError, match="has not started"):
        LiveSweep().render_png()


def test_metrics_choose_the_panels(monkeypatch, tiny_split):
    monkeypatch.setenv(ENV_VAR, "off")
    x, y = kt.datasets.make_squares(64, seed=0)

    def build_with_mae(units):
        return kt.compile(kt.build_mlp(2, [units]), metrics=["mae"])

    live = LiveSweep(metrics=["mae"])
    sweep(build_with_mae, {"units": [2]}, data=(x, y), fit_kwargs={"epochs": 1}, live=live)
    live.render_png()
    assert [axes.get_title(loc="left") for axes in live.figure.axes] == ["loss", "mae"]
    assert np.isfinite(live.figure.axes[1].get_lines()[0].get_ydata()).all()


def test_trials_the_throttle_skipped_still_get_their_lines(monkeypatch, tmp_path, tiny_split):
    monkeypatch.setenv(ENV_VAR, "file")
    live = LiveSweep(path=tmp_path / "live.png", min_interval_s=3600.0)
    live._clock = lambda: 0.0  # the throttle lets no epoch end through; trial ends still redraw
    results = sweep(build, {"units": [2, 4, 8]}, data=tiny_split, fit_kwargs={"epochs": 2}, live=live)
    lines = live.figure.axes[0].get_lines()
    assert len(lines) == 3
    for line, record in zip(lines, results, strict=True):
        assert line.get_ydata() == pytest.approx(record.history["loss"])


def test_the_start_of_the_sweep_counts_as_a_redraw(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV_VAR, "file")
    now = [0.0]
    live = LiveSweep(path=tmp_path / "live.png", min_interval_s=0.5)
    live._clock = lambda: now[0]
    live.start(["units=2"])
    feed = live.trial_callback(0)
    feed.set_params({"epochs": 3})
    feed.on_train_begin()
    now[0] = 0.4
    feed.on_epoch_end(0, {"loss": 1.0})
    assert live.render_seconds == [] and not (tmp_path / "live.png").exists()
    now[0] = 0.5
    feed.on_epoch_end(1, {"loss": 0.5})
    assert len(live.render_seconds) == 1 and (tmp_path / "live.png").exists()
