"""LivePlot: PNG output, environment detection, throttle, mid-run keys, atomic files."""

from __future__ import annotations

import io
import json
import os
import struct
import sys
import types

import keras
import numpy as np
import pytest

import kerastools as kt
from kerastools.callbacks.live_plot import ENV_VAR, THROTTLE_FACTOR, LivePlot, downsample
from kerastools.errors import ConfigError, ConfigTypeError
from kerastools.live import sinks as live_plot_sinks

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG_SIGNATURE
    assert png[12:16] == b"IHDR"
    return struct.unpack(">II", png[16:24])


class FakeClock:
    """The throttle's clock, moved by hand."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class FakeIPython:
    """Stands in for IPython.display in sys.modules; records what LivePlot shows."""

    def __init__(self, monkeypatch, kernel=True):
        self.events = []
        ipython = types.ModuleType("IPython")
        shell = types.SimpleNamespace(kernel=object()) if kernel else types.SimpleNamespace()
        ipython.get_ipython = lambda: shell
        display_module = types.ModuleType("IPython.display")
        fake = self

        class Image:
            def __init__(self, data=None, format=None):
                self.data = data
                self.format = format

        class Handle:
            def update(self, obj):
                fake.events.append(("update", obj))

        def display(obj, display_id=None):
            fake.events.append(("display", obj, display_id))
            return Handle()

        def clear_output(*args, **kwargs):
            raise AssertionError("LivePlot must never call clear_output")

        display_module.Image = Image
        display_module.display = display
        display_module.clear_output = clear_output
        ipython.display = display_module
        widgets = types.ModuleType("ipywidgets")

        class WidgetImage:
            def __init__(self, value=b"", format="png"):
                self.value = value
                self.closed = False

            def close(self):
                self.closed = True

        widgets.Image = WidgetImage
        monkeypatch.setitem(sys.modules, "IPython", ipython)
        monkeypatch.setitem(sys.modules, "IPython.display", display_module)
        monkeypatch.setitem(sys.modules, "ipywidgets", widgets)


def feed(plot, epochs, start=0, extra=None):
    for epoch in range(start, start + epochs):
        logs = {"loss": 1.0 / (epoch + 1), "val_loss": 1.2 / (epoch + 1)}
        logs.update(extra(epoch) if extra else {})
        plot.on_epoch_end(epoch, logs)


@pytest.fixture
def clock():
    return FakeClock()


def file_plot(tmp_path, clock=None, **kwargs):
    plot = LivePlot(mode="file", path=tmp_path / "live.png", **kwargs)
    if clock is not None:
        plot._clock = clock
    return plot


# ------------------------------------------------------------------- PNG output


def test_png_has_the_signature_and_a_constant_size(monkeypatch, tmp_path, clock):
    monkeypatch.setenv(ENV_VAR, "file")
    plot = file_plot(tmp_path, clock, figsize=(6, 3), dpi=50)
    plot.on_train_begin()
    sizes = set()
    for epoch in range(12):
        logs = {"loss": 1.0 / (epoch + 1)}
        if epoch >= 4:  # a new panel mid-run does not change the picture's size
            logs.update(accuracy=0.5 + epoch / 30, val_accuracy=0.45 + epoch / 30)
        clock.now = epoch + 1.0  # a second per epoch: every epoch end redraws the file
        plot.on_epoch_end(epoch, logs)
        sizes.add(png_size(plot.render_png()))
    assert sizes == {(300, 150)}
    from PIL import Image  # a matplotlib dependency: decode what we wrote by hand

    image = Image.open(io.BytesIO(plot.render_png()))
    image.load()
    assert image.size == (300, 150) and image.mode == "RGB"
    assert len(np.unique(np.asarray(image).reshape(-1, 3), axis=0)) > 10  # lines and text, not a blank canvas
    on_disk = (tmp_path / "live.png").read_bytes()
    assert png_size(on_disk) == (300, 150)
    assert on_disk.endswith(b"IEND\xaeB`\x82")


def test_render_cost_does_not_depend_on_epochs_drawn(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV_VAR, "off")
    plot = LivePlot(max_points=200)
    plot.on_train_begin()
    feed(plot, 5000)
    plot.render_png()
    for panel in plot._live_figure.panels.values():
        for line in panel.lines.values():
            assert len(line.get_xdata()) <= 200


def test_downsample_keeps_spikes_and_short_lines():
    x = np.arange(5000.0)
    y = np.sin(x / 50)
    y[2345] = 9.0
    small_x, small_y = downsample(x, y, 100)
    assert len(small_x) <= 100 and small_y.max() == 9.0 and np.all(np.diff(small_x) > 0)
    same_x, same_y = downsample(x[:50], y[:50], 100)  # short lines are left as they are
    assert np.array_equal(same_x, x[:50]) and np.array_equal(same_y, y[:50])


# ----------------------------------------------------------- environment


def test_auto_in_a_kernel_uses_one_display_handle(monkeypatch, clock):
    monkeypatch.setenv(ENV_VAR, "auto")
    fake = FakeIPython(monkeypatch, kernel=True)
    plot = LivePlot(min_interval_s=0.0)
    plot._clock = clock
    plot.on_train_begin()
    assert plot.resolved_mode == "notebook" and plot.output_path is None
    for epoch in range(4):
        clock.now += 10
        plot.on_epoch_end(epoch, {"loss": 1.0 / (epoch + 1)})
    plot.on_train_end()
    kinds = [event[0] for event in fake.events]
    assert kinds == ["display", "update", "update", "update", "update"]
    assert fake.events[0][2] is True  # display(..., display_id=True)
    assert all(event[-1].data.startswith(PNG_SIGNATURE) for event in fake.events[1:])


@pytest.mark.parametrize(
    ("kernel", "mode", "env", "expected"),
    [
        (False, "auto", "auto", "file"),  # a terminal IPython is no notebook
        (True, "auto", "auto", "notebook"),
        (True, "auto", "file", "file"),  # the variable beats detection
        (True, "file", "off", "off"),  # and the argument
        (False, "off", "file", "file"),
        (True, "widget", "AUTO", "notebook"),
        (True, "widget", "", "widget"),  # empty: not set
    ],
)
def test_mode_resolution(monkeypatch, tmp_path, kernel, mode, env, expected):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(ENV_VAR, env)
    FakeIPython(monkeypatch, kernel=kernel)
    plot = LivePlot(mode=mode)
    plot.on_train_begin()
    assert plot.resolved_mode == expected


def test_no_ipython_means_file_mode_in_the_working_directory(monkeypatch, tmp_path, clock):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(ENV_VAR, "auto")
    monkeypatch.setitem(sys.modules, "IPython", None)
    plot = LivePlot()
    plot._clock = clock
    plot.on_train_begin()
    feed(plot, 2)
    plot.on_train_end()
    assert plot.resolved_mode == "file"
    assert (tmp_path / "live_plot.png").read_bytes().startswith(PNG_SIGNATURE)


def test_bad_environment_value_is_an_error(monkeypatch):
    monkeypatch.setenv(ENV_VAR, "inline")
    with pytest.raises(ConfigError, match="KERASTOOLS_LIVEPLOT must be one of .*Received: KERASTOOLS_LIVEPLOT='inline'"):
        LivePlot().on_train_begin()


def test_notebook_mode_without_ipython_is_an_error(monkeypatch):
    monkeypatch.setenv(ENV_VAR, "notebook")
    monkeypatch.setitem(sys.modules, "IPython", None)
    monkeypatch.setitem(sys.modules, "IPython.display", None)
    with pytest.raises(ConfigError, match="needs IPython"):
        LivePlot().on_train_begin()


def test_widget_mode_updates_the_widget_and_leaves_a_static_png(monkeypatch, clock):
    monkeypatch.setenv(ENV_VAR, "widget")
    fake = FakeIPython(monkeypatch)
    plot = LivePlot(min_interval_s=0.0)
    plot._clock = clock
    plot.on_train_begin()
    for epoch in range(3):
        clock.now += 10
        plot.on_epoch_end(epoch, {"loss": 1.0 / (epoch + 1)})
    widget = fake.events[0][1]
    assert [event[0] for event in fake.events] == ["display"]
    assert widget.value.startswith(PNG_SIGNATURE)
    plot.on_train_end()
    assert fake.events[-1][0] == "update" and fake.events[-1][1].data == widget.value
    assert widget.closed


def test_only_the_chief_draws(monkeypatch, tmp_path, clock):
    monkeypatch.setenv(ENV_VAR, "file")
    cluster = {"chief": ["host0:2222"], "worker": ["host1:2222"]}
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 0}}))
    plot = file_plot(tmp_path, clock)
    plot.on_train_begin()
    feed(plot, 3)
    plot.on_train_end()
    assert plot.resolved_mode == "off"
    assert not (tmp_path / "live.png").exists()
    assert plot.history["loss"] == pytest.approx([1.0, 0.5, 1 / 3])  # still recorded


# ------------------------------------------------------------------ throttle


def test_throttle_waits_for_min_interval_and_always_draws_at_the_end(monkeypatch, tmp_path, clock):
    monkeypatch.setenv(ENV_VAR, "file")
    plot = file_plot(tmp_path, clock, min_interval_s=0.5)
    plot.on_train_begin()  # at 0.0: the start counts as a redraw
    for epoch, now in enumerate([0.1, 0.2, 0.4, 0.55, 0.6, 1.0, 1.1]):
        clock.now = now
        plot.on_epoch_end(epoch, {"loss": 1.0})
        if now == 0.4:
            assert plot.render_seconds == [] and not (tmp_path / "live.png").exists()
    assert len(plot.render_seconds) == 2  # at 0.55 and 1.1
    plot.on_train_end()
    assert len(plot.render_seconds) == 3


def test_a_first_epoch_longer_than_min_interval_draws_at_its_end(monkeypatch, tmp_path, clock):
    monkeypatch.setenv(ENV_VAR, "file")
    plot = file_plot(tmp_path, clock, min_interval_s=0.5)
    plot.on_train_begin()
    clock.now = 0.6
    plot.on_epoch_end(0, {"loss": 1.0})
    assert len(plot.render_seconds) == 1
    assert png_size((tmp_path / "live.png").read_bytes()) == (800, 280)


@pytest.mark.parametrize(("planned", "drawn_at_epoch_ends"), [(10, [5]), (6, [])])
def test_no_epoch_end_redraw_when_the_final_one_is_nearer_than_min_interval(
    monkeypatch, tmp_path, clock, planned, drawn_at_epoch_ends
):
    monkeypatch.setenv(ENV_VAR, "file")
    plot = file_plot(tmp_path, clock, min_interval_s=0.5)
    plot.params = {"epochs": planned, "steps": 4}
    plot.on_train_begin()
    drawn = []
    for epoch in range(planned):  # 0.1 s an epoch
        clock.now = round(0.1 * (epoch + 1), 6)
        before = len(plot.render_seconds)
        plot.on_epoch_end(epoch, {"loss": 1.0 / (epoch + 1)})
        drawn += [epoch + 1] * (len(plot.render_seconds) - before)
    # 10 epochs: at epoch 5 (0.5 s) the end is 0.5 s away, so it draws; the last epoch's end
    # leaves it to the final redraw. 6 epochs: at 0.5 s the end is 0.1 s away.
    assert drawn == drawn_at_epoch_ends
    plot.on_train_end()
    assert len(plot.render_seconds) == len(drawn_at_epoch_ends) + 1
    assert plot.figure.axes[0].get_lines()[0].get_xdata().tolist() == list(range(1, planned + 1))


def test_throttle_adapts_to_slow_renders(monkeypatch, tmp_path, clock):
    monkeypatch.setenv(ENV_VAR, "file")
    plot = file_plot(tmp_path, clock, min_interval_s=0.5)
    render = plot.render_png

    def slow_render():
        clock.now += 0.1  # each redraw "takes" 100 ms
        return render()

    monkeypatch.setattr(plot, "render_png", slow_render)
    plot.on_train_begin()
    clock.now = 0.5
    plot.on_epoch_end(0, {"loss": 1.0})  # draws at 0.5, ends at 0.6
    wait = THROTTLE_FACTOR * 0.1
    assert wait > 0.5
    clock.now = 0.6 + wait - 0.01
    plot.on_epoch_end(1, {"loss": 0.9})
    assert len(plot.render_seconds) == 1
    clock.now = 0.6 + wait
    plot.on_epoch_end(2, {"loss": 0.8})
    assert len(plot.render_seconds) == 2
    assert plot.render_seconds == pytest.approx([0.1, 0.1])


def test_off_mode_draws_nothing_but_keeps_history(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(ENV_VAR, "off")
    plot = LivePlot(mode="file")
    plot.on_train_begin()
    feed(plot, 3)
    plot.on_train_end()
    assert plot.figure is None and plot.render_seconds == [] and list(tmp_path.iterdir()) == []
    assert plot.epochs == [1, 2, 3]


# ---------------------------------------------------------- keys appearing mid-run


def test_keys_that_appear_mid_run_get_their_lines(monkeypatch, tmp_path, clock):
    monkeypatch.setenv(ENV_VAR, "file")
    plot = file_plot(tmp_path, clock, targets={"val_accuracy": 0.9})
    plot.on_train_begin()
    feed(plot, 3)
    plot.render_png()
    assert [ax.get_title(loc="left") for ax in plot.figure.axes] == ["loss"]
    late = lambda epoch: {"accuracy": 0.8, "val_accuracy": 0.7, "learning_rate": 0.01}  # noqa: E731
    feed(plot, 2, start=3, extra=late)
    plot.render_png()
    assert [ax.get_title(loc="left") for ax in plot.figure.axes] == ["loss", "accuracy", "learning rate"]
    accuracy = plot._live_figure.panels["accuracy"]
    assert sorted(accuracy.lines) == ["accuracy", "val_accuracy"]
    assert list(accuracy.lines["val_accuracy"].get_xdata()) == [4, 5]
    assert accuracy.axes.get_ylim()[0] < 0.7 and accuracy.axes.get_ylim()[1] > 0.9  # target visible
    history = plot.history
    assert plot.epochs == [1, 2, 3, 4, 5]
    assert np.isnan(history["accuracy"][:3]).all() and history["accuracy"][3:] == [0.8, 0.8]


def test_x_axis_spans_the_planned_epochs_then_fits_an_early_stop(monkeypatch, tmp_path, clock):
    monkeypatch.setenv(ENV_VAR, "file")
    plot = file_plot(tmp_path, clock)
    plot.params = {"epochs": 50, "steps": 4}
    plot.on_train_begin()
    clock.now = 1.0  # past the throttle: the epochs redraw
    feed(plot, 3)
    assert plot.figure.axes[0].get_xlim() == (0.0, 50.0)  # fixed: no redraw of the axes per epoch
    plot.on_train_end()  # stopped at epoch 3
    assert plot.figure.axes[0].get_xlim() == (0.0, 3.0)


def test_validation_every_other_epoch_draws_a_connected_line(monkeypatch, tmp_path, clock):
    monkeypatch.setenv(ENV_VAR, "file")
    plot = file_plot(tmp_path, clock)
    plot.on_train_begin()
    for epoch in range(6):
        logs = {"loss": 1.0 / (epoch + 1)}
        if epoch % 2:
            logs["val_loss"] = 1.1 / (epoch + 1)
        plot.on_epoch_end(epoch, logs)
    plot.render_png()
    line = plot._live_figure.panels["loss"].lines["val_loss"]
    assert list(line.get_xdata()) == [2, 4, 6] and not np.isnan(line.get_ydata()).any()


def test_requested_metric_missing_is_logged(monkeypatch, caplog):
    monkeypatch.setenv(ENV_VAR, "off")
    plot = LivePlot(["accuracy"])
    plot.on_train_begin()
    with caplog.at_level("WARNING", logger="kerastools.callbacks.live_plot"):
        feed(plot, 1)
    assert "accuracy (or val_accuracy) not in the logs" in caplog.text
    assert "['loss', 'val_loss']" in caplog.text


def test_metrics_selects_panels(monkeypatch, tmp_path, clock):
    monkeypatch.setenv(ENV_VAR, "file")
    plot = file_plot(tmp_path, clock, metrics=["val_accuracy"], show_lr=False, log_loss=True)
    plot.on_train_begin()
    feed(plot, 3, extra=lambda e: {"accuracy": 0.5, "mae": 0.3, "learning_rate": 0.1})
    plot.render_png()
    assert [ax.get_title(loc="left") for ax in plot.figure.axes] == ["loss", "accuracy"]
    assert plot.figure.axes[0].get_yscale() == "log"


def test_bookkeeping_keys_get_no_panel_unless_named(monkeypatch, tmp_path, clock):
    monkeypatch.setenv(ENV_VAR, "file")
    extra = lambda e: {"iterations": 10 * (e + 1), "epoch_time_s": 0.2, "samples_per_s": 900.0}  # noqa: E731
    default = file_plot(tmp_path, clock)
    named = file_plot(tmp_path, clock, metrics=["epoch_time_s"])
    for plot in (default, named):
        plot.on_train_begin()
        feed(plot, 2, extra=extra)
        plot.render_png()
    assert [ax.get_title(loc="left") for ax in default.figure.axes] == ["loss"]
    assert [ax.get_title(loc="left") for ax in named.figure.axes] == ["loss", "epoch time s"]
    assert default.history["iterations"] == [10, 20]  # recorded all the same


# ------------------------------------------------------------------ files


def test_file_mode_replaces_the_file_atomically(monkeypatch, tmp_path, clock):
    monkeypatch.setenv(ENV_VAR, "file")
    replaced = []
    real_replace = os.replace

    def recording_replace(source, target):
        # What a viewer could open at this moment: the old file, whole.
        if os.path.exists(target):
            assert open(target, "rb").read().endswith(b"IEND\xaeB`\x82")
        replaced.append((str(source), str(target), open(source, "rb").read()))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", recording_replace)
    target = tmp_path / "plots" / "live.png"  # the directory is created
    plot = LivePlot(mode="file", path=target, min_interval_s=0)
    plot._clock = clock
    plot.on_train_begin()
    for epoch in range(3):
        clock.now += 10
        plot.on_epoch_end(epoch, {"loss": 1.0 / (epoch + 1)})
    plot.on_train_end()
    assert len(replaced) == 4
    for source, destination, content in replaced:
        assert destination == str(target)
        assert os.path.dirname(source) == str(target.parent) and source != destination
        assert content.startswith(PNG_SIGNATURE) and content.endswith(b"IEND\xaeB`\x82")
    assert [p.name for p in target.parent.iterdir()] == ["live.png"]  # no temporary left


def test_unwritable_file_warns_once_and_training_goes_on(monkeypatch, tmp_path, clock, caplog):
    monkeypatch.setenv(ENV_VAR, "file")
    plot = file_plot(tmp_path, clock, min_interval_s=0)
    plot.on_train_begin()

    def broken_write(*args, **kwargs):
        raise PermissionError("read-only file system")

    monkeypatch.setattr(live_plot_sinks, "atomic_write", broken_write)
    with caplog.at_level("WARNING", logger="kerastools.callbacks.live_plot"):
        for epoch in range(3):
            clock.now += 10
            plot.on_epoch_end(epoch, {"loss": 1.0})
    assert caplog.text.count("cannot write") == 1
    assert len(plot.render_seconds) == 3


# --------------------------------------------------------------- real fits


def tiny_classifier():
    model = kt.build_mlp(2, [8], output_activation="sigmoid")
    return kt.compile(model, optimizer="adam", learning_rate=0.01, metrics=["accuracy"])


def circles(n=96):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 2)).astype("float32")
    y = (np.linalg.norm(x, axis=1) < 1).astype("float32")
    return x, y


def test_real_fit_writes_the_plot_and_leaves_user_figures_alone(monkeypatch, tmp_path):
    import matplotlib.pyplot as plt

    monkeypatch.setenv(ENV_VAR, "file")
    user_figure, user_axes = plt.subplots()
    user_axes.plot([1, 2, 3])
    numbers = plt.get_fignums()

    def forbidden(*args, **kwargs):
        raise AssertionError("LivePlot must not call pyplot")

    monkeypatch.setattr(plt, "show", forbidden)
    monkeypatch.setattr(plt, "close", forbidden)
    monkeypatch.setattr(plt, "figure", forbidden)
    try:
        x, y = circles()
        model = tiny_classifier()
        plot = LivePlot(mode="file", path=tmp_path / "live.png", targets={"val_accuracy": 0.95})
        model.fit(x, y, validation_split=0.25, epochs=3, batch_size=16, verbose=0, callbacks=[plot])
        assert plt.get_fignums() == numbers and plt.gcf() is user_figure
        assert len(user_figure.axes) == 1 and len(user_axes.lines) == 1
        assert sorted(plot.history) == ["accuracy", "learning_rate", "loss", "val_accuracy", "val_loss"]
        assert plot.history["learning_rate"] == pytest.approx([0.01] * 3)
        assert plot.history["loss"] == pytest.approx(model.history.history["loss"])
        assert png_size((tmp_path / "live.png").read_bytes()) == (800, 280)
        # The figure is whole after training: savefig includes the lines.
        saved = tmp_path / "saved.png"
        plot.figure.savefig(saved)
        assert saved.read_bytes().startswith(PNG_SIGNATURE)
        assert all(not line.get_animated() for line in plot.figure.axes[0].lines)

        # Reuse for a second fit: a fresh run, a fresh figure.
        first_figure = plot.figure
        model.fit(x, y, validation_split=0.25, epochs=2, batch_size=16, verbose=0, callbacks=[plot])
        assert plot.epochs == [1, 2] and plot.figure is not first_figure
    finally:
        monkeypatch.undo()
        plt.close(user_figure)


def test_a_fit_shorter_than_min_interval_draws_once_complete_when_fit_returns(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV_VAR, "file")
    x, y = circles(32)
    plot = LivePlot(mode="file", path=tmp_path / "live.png", min_interval_s=3600.0)
    tiny_classifier().fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=[plot])
    assert len(plot.render_seconds) == 1  # only the final redraw, before fit returned
    assert png_size((tmp_path / "live.png").read_bytes()) == (800, 280)
    assert plot.figure.axes[0].get_lines()[0].get_xdata().tolist() == [1, 2, 3]


def test_a_later_plot_draws_on_an_unread_figure_and_never_on_one_a_user_holds(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV_VAR, "file")
    x, y = circles(32)
    model = tiny_classifier()
    plots = [LivePlot(mode="file", path=tmp_path / f"live{index}.png") for index in range(3)]
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[plots[0]])
    held = plots[0].figure  # read: this figure is the user's from now on
    held_lines = [line.get_ydata().tolist() for line in held.axes[0].get_lines()]
    model.fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=[plots[1]])  # its figure is not read
    model.fit(x, y, epochs=4, batch_size=16, verbose=0, callbacks=[plots[2]])  # may draw on plots[1]'s
    assert [line.get_ydata().tolist() for line in held.axes[0].get_lines()] == held_lines
    figures = [plot.figure for plot in plots]
    assert len({id(figure) for figure in figures}) == 3
    for plot, figure, epochs in zip(plots, figures, [2, 3, 4], strict=True):
        # Read after its run: drawn again, whole, the picture its file holds.
        assert figure.axes[0].get_lines()[0].get_xdata().tolist() == list(range(1, epochs + 1))
        assert all(not line.get_animated() for line in figure.axes[0].get_lines())
        assert plot.render_png() == (tmp_path / f"live{plots.index(plot)}.png").read_bytes()


def test_per_batch_records_running_metrics(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV_VAR, "file")
    x, y = circles(64)
    plot = LivePlot(mode="file", path=tmp_path / "live.png", per_batch=True, show_lr=False)
    assert plot.async_safe is False and LivePlot().async_safe is True
    tiny_classifier().fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[plot])
    positions, values = plot.batch_history["loss"]
    assert positions == pytest.approx([0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0])
    assert np.isfinite(values).all()
    figure = plot.figure  # read after fit: the run drawn again, for the reader
    assert "batch:loss" in plot._live_figure.panels["loss"].lines and figure is plot._live_figure.figure


def test_learning_rate_from_logs_wins_over_the_optimizer(monkeypatch):
    monkeypatch.setenv(ENV_VAR, "off")
    x, y = circles(32)

    class LogRate(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["learning_rate"] = 0.5

    plot = LivePlot()
    tiny_classifier().fit(x, y, epochs=2, verbose=0, callbacks=[LogRate(), plot])
    assert plot.history["learning_rate"] == [0.5, 0.5]


# --------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"metrics": "accuracy"}, ConfigTypeError, r"`metrics` must be a list .*Received: metrics='accuracy'"),
        ({"metrics": [""]}, ConfigTypeError, "non-empty strings"),
        ({"metrics": ["learning_rate"]}, ConfigError, "show_lr"),
        ({"targets": [0.9]}, ConfigTypeError, r"`targets` must be a dict"),
        ({"targets": {"val_accuracy": "high"}}, ConfigTypeError, r"targets\['val_accuracy'\]"),
        ({"targets": {"val_auc": 0.9}, "metrics": ["accuracy"]}, ConfigError, "add 'auc' to `metrics`"),
        ({"targets": {"epoch_time_s": 1.0}}, ConfigError, "add 'epoch_time_s' to `metrics`"),
        ({"targets": {"learning_rate": 0.1}, "show_lr": False}, ConfigError, "'learning_rate', which is not plotted; set show_lr=True"),
        ({"mode": "inline"}, ConfigError, r"`mode` must be one of .*Received: mode='inline'"),
        ({"min_interval_s": -1}, ConfigError, r"`min_interval_s` must be >= 0.0"),
        ({"figsize": (10,)}, ConfigTypeError, r"`figsize` must be a \(width, height\)"),
        ({"figsize": (0, 3)}, ConfigError, r"`figsize` must be >= 0.5"),
        ({"dpi": 5}, ConfigError, r"`dpi` must be >= 10"),
        ({"max_points": 2.5}, ConfigTypeError, r"`max_points` must be an integer"),
        ({"per_batch": "yes"}, ConfigTypeError, r"`per_batch` must be True or False"),
        ({"path": 3}, ConfigTypeError, r"`path` must be a file path"),
        ({"path": ""}, ConfigError, r"`path` must not be empty"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        LivePlot(**kwargs)


def test_is_exported():
    assert kt.callbacks.LivePlot is LivePlot
