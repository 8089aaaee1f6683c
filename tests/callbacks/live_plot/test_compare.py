"""LivePlot(compare_to=...): earlier runs drawn as faint reference curves, on every backend."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import kerastools as kt
from kerastools.callbacks.live_plot import ENV_VAR, LivePlot
from kerastools.errors import ConfigError, ConfigTypeError


def tiny_model() -> keras.Model:
    return kt.compile(kt.build_mlp(2, [4]), optimizer="adam", learning_rate=0.01)


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 2)).astype("float32")
    return x, (x[:, :1] ** 2).astype("float32")


def references(plot: LivePlot, panel: int) -> dict[str, tuple[list[float], list[float]]]:
    """The reference lines of one panel: gid -> (x, y)."""
    return {
        line.get_gid(): (line.get_xdata().tolist(), line.get_ydata().tolist())
        for line in plot.figure.axes[panel].get_lines()
        if (line.get_gid() or "").startswith("reference:")
    }


def test_history_and_dict_are_drawn_behind_the_new_run(monkeypatch, tmp_path, data):
    monkeypatch.setenv(ENV_VAR, "file")
    x, y = data
    first = tiny_model().fit(x, y, validation_split=0.25, epochs=3, verbose=0)
    plot = LivePlot(path=tmp_path / "live.png", show_lr=False,
                    compare_to=[first, {"loss": [0.5, 0.4], "val_loss": [0.6, 0.5]}])
    tiny_model().fit(x, y, validation_split=0.25, epochs=2, verbose=0, callbacks=[plot])
    drawn = references(plot, 0)
    assert sorted(drawn) == ["reference:run 1:loss", "reference:run 1:val_loss",
                             "reference:run 2:loss", "reference:run 2:val_loss"]
    assert drawn["reference:run 1:loss"] == ([1.0, 2.0, 3.0], pytest.approx(first.history["loss"]))
    assert drawn["reference:run 2:val_loss"] == ([1.0, 2.0], [0.6, 0.5])
    # Faint: lighter than the live lines and drawn under them; the axes show all three epochs.
    faint = [line for line in plot.figure.axes[0].get_lines() if line.get_gid()]
    assert all(line.get_alpha() < 1 and line.get_zorder() < 2 for line in faint)
    assert plot.figure.axes[0].get_xlim()[1] >= 3
    low, high = plot.figure.axes[0].get_ylim()
    assert low <= min(first.history["loss"] + [0.4]) and high >= max(first.history["loss"])
    # The key names each earlier run.
    assert {"run 1", "run 2"} <= {text.get_text() for text in plot.figure.texts}
    assert (tmp_path / "live.png").read_bytes().startswith(b"\x89PNG")


def test_checkpoint_directory_reads_its_epoch_records(monkeypatch, tmp_path, data):
    monkeypatch.setenv(ENV_VAR, "file")
    x, y = data
    checkpoint = kt.callbacks.PeriodicCheckpoint(tmp_path / "run1")
    history = tiny_model().fit(x, y, epochs=3, verbose=0, callbacks=[checkpoint])
    plot = LivePlot(path=tmp_path / "live.png", compare_to=tmp_path / "run1")
    tiny_model().fit(x, y, epochs=2, verbose=0, callbacks=[plot])
    drawn = references(plot, 0)
    assert list(drawn) == ["reference:run1:loss"]
    assert drawn["reference:run1:loss"] == ([1.0, 2.0, 3.0], pytest.approx(history.history["loss"]))


def test_a_sweep_record_is_labelled_by_its_parameters(monkeypatch, tmp_path, data):
    monkeypatch.setenv(ENV_VAR, "off")
    x, y = data
    results = kt.sweep.sweep(lambda units: kt.compile(kt.build_mlp(2, [units])), {"units": [2, 4]},
                             data=(x, y), fit_kwargs={"epochs": 2})
    plot = LivePlot(compare_to=results)  # every record of the sweep
    plot.on_train_begin()
    plot.on_epoch_end(0, {"loss": 1.0})
    plot.render_png()
    assert sorted(references(plot, 0)) == ["reference:units=2:loss", "reference:units=4:loss"]


@pytest.mark.parametrize(
    ("compare_to", "error", "match"),
    [
        (3, ConfigTypeError, "Argument `compare_to` must be a keras History"),
        ([], ConfigError, "must not be an empty list"),
        ({"loss": "abc"}, ConfigTypeError, r"compare_to\['loss'\]"),
        ({"loss": [0.5, "x"]}, ConfigError, "must hold numbers"),
        ({"loss": []}, ConfigError, "no values"),
        ("no/such/directory", ConfigError, "does not exist"),
        ([{"loss": [1.0]}, 3.5], ConfigTypeError, "Received: compare_to=3.5"),
    ],
)
def test_bad_compare_to_raises(compare_to, error, match):
    with pytest.raises(error, match=match):
        LivePlot(compare_to=compare_to)


def test_a_directory_without_epoch_checkpoints_raises(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no epoch checkpoints"):
        LivePlot(compare_to=tmp_path / "empty")
