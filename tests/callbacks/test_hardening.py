"""Issue 15, items 8 and 11: what used to kill a long run at `fit` start or at the first epoch.

Item 8: a read-only checkpoint directory (with a stale temporary, an orphan or
nothing left over), a leftover that cannot be deleted, a LivePlot path whose
directory cannot be created, a figure too big to allocate, and a loss of 1e308
that makes matplotlib's tick code overflow. Item 11: a vector metric
(`F1Score(average=None)`) or a string as the monitored value, and a per-class
metric LivePlot was asked to draw.

Read-only directories: the tests run as root here, where `chmod` does not stop
writes, so a directory is made read-only with a read-only bind mount of itself
(`mount --bind`, then `remount,ro,bind`); as another user `chmod 0o500` does
it. Where neither works the test is skipped, saying why.

Backend-neutral: run it with KERAS_BACKEND=jax and torch too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import warnings

import keras
import numpy as np
import pytest

import kerastools as kt
from kerastools.callbacks import LivePlot, PeriodicCheckpoint, RunReport, ThresholdEarlyStopping
from kerastools.callbacks.live_plot import ENV_VAR
from kerastools.checkpoints.directory import open_for_writing
from kerastools.errors import CheckpointError, ConfigError
from kerastools.sweep import LiveSweep

STALE = ".epoch-0009.weights.h5.x1y2.tmp"
ORPHAN = "epoch-0042.weights.h5"


@pytest.fixture(autouse=True)
def _plots_draw(monkeypatch):
    # The test session may set KERASTOOLS_LIVEPLOT=off; these tests need the drawing.
    monkeypatch.delenv(ENV_VAR, raising=False)


def squares_model():
    return kt.compile(kt.build_mlp(2, [4]), optimizer="adam", learning_rate=0.01)


def fit(model, data, callbacks, epochs=2, **kwargs):
    x, y = data
    return model.fit(x, y, epochs=epochs, batch_size=64, verbose=0, callbacks=callbacks, **kwargs)


def _run(*command):
    return subprocess.run(command, capture_output=True, text=True, check=False)


@pytest.fixture
def make_read_only():
    """Make a directory read-only for this process; undone after the test."""
    undo = []

    def make(directory):
        if os.geteuid() != 0:
            directory.chmod(0o500)
            undo.append(lambda: directory.chmod(0o700))
            return
        if shutil.which("mount") is None:
            pytest.skip("root without `mount`: chmod does not stop root's writes")
        bound = _run("mount", "--bind", str(directory), str(directory))
        if bound.returncode != 0:
            pytest.skip(f"root without bind mounts (chmod does not stop root): {bound.stderr.strip()}")
        undo.append(lambda: _run("umount", str(directory)))
        remounted = _run("mount", "-o", "remount,ro,bind", str(directory))
        if remounted.returncode != 0:
            pytest.skip(f"cannot remount read-only: {remounted.stderr.strip()}")

    yield make
    for step in reversed(undo):
        step()


# -- item 8: the checkpoint directory ----------------------------------------------


@pytest.mark.parametrize("leftover", [STALE, ORPHAN, None])
def test_read_only_checkpoint_directory_is_a_checkpoint_error_at_fit_start(
    tmp_path, squares_data, make_read_only, leftover
):
    directory = tmp_path / "run"
    fit(squares_model(), squares_data, [PeriodicCheckpoint(directory, keep_last=2)], epochs=1)
    if leftover is not None:
        (directory / leftover).write_bytes(b"left by a kill")
    before = sorted(path.name for path in directory.iterdir())
    make_read_only(directory)
    model = squares_model()
    weights = [w.copy() for w in model.get_weights()]
    with pytest.raises(CheckpointError, match=rf"directory {directory} is not writable") as caught:
        fit(model, squares_data, [PeriodicCheckpoint(directory, keep_last=2)])
    assert "Allowed: a directory this process can write" in str(caught.value)
    # Refused before the first batch: the model did not train, the directory is as it was.
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights(), strict=True))
    assert sorted(path.name for path in directory.iterdir()) == before


def test_cleanup_in_a_read_only_directory_names_the_directory(tmp_path, make_read_only):
    (tmp_path / STALE).write_bytes(b"")
    make_read_only(tmp_path)
    with pytest.raises(CheckpointError, match=rf"directory {tmp_path} is not writable.*{STALE!r}"):
        open_for_writing(tmp_path)


def test_a_leftover_that_cannot_be_deleted_is_a_warning_and_fit_goes_on(tmp_path, squares_data):
    directory = tmp_path / "run"
    fit(squares_model(), squares_data, [PeriodicCheckpoint(directory)], epochs=1)
    stale = directory / STALE
    stale.write_bytes(b"")
    # A mount point cannot be unlinked (EBUSY) while its directory stays writable.
    if os.geteuid() != 0 or _run("mount", "--bind", "/dev/null", str(stale)).returncode != 0:
        pytest.skip("needs root and bind mounts to make one file undeletable in a writable directory")
    try:
        with pytest.warns(RuntimeWarning, match=rf"Cannot delete the leftover checkpoint file {stale}"):
            history = fit(squares_model(), squares_data, [PeriodicCheckpoint(directory)], epochs=2)
    finally:
        _run("umount", str(stale))
    assert len(history.history["loss"]) == 2
    assert (directory / "epoch-0002.weights.h5").is_file()


# -- item 8: LivePlot's file and figure ---------------------------------------------


def test_live_plot_path_whose_directory_cannot_be_made_warns_and_fit_goes_on(tmp_path, squares_data):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the plot's directory should be")
    plot = LivePlot(mode="file", path=blocker / "plots" / "live.png", min_interval_s=0)
    with pytest.warns(RuntimeWarning, match=r"cannot create the directory of path=.*not-a-directory"):
        history = fit(squares_model(), squares_data, [plot], epochs=3)
    assert len(history.history["loss"]) == 3
    assert plot.epochs == [1, 2, 3]  # still recorded; only the file is left out
    assert blocker.read_text().startswith("a file")


@pytest.mark.parametrize("make", [LivePlot, LiveSweep])
def test_a_figure_too_big_to_allocate_is_refused_at_construction(make):
    with pytest.raises(ConfigError, match=r"100000 x 100000 = 10000000000 pixels.*max_pixels=25000000"):
        make(figsize=(100, 100), dpi=1000)
    with pytest.raises(ConfigError, match=r"36000000 pixels.*max_pixels=25000000"):
        make(figsize=(60, 60), dpi=100)
    assert make(figsize=(60, 60), dpi=100, max_pixels=40_000_000).dpi == 100  # overridable
    # Agg draws no side of 2**16 pixels, whatever max_pixels says.
    with pytest.raises(ConfigError, match=r"under 65536 pixels a side"):
        make(figsize=(100, 1), dpi=1000, max_pixels=10**9)


# -- item 8: a loss matplotlib cannot draw ------------------------------------------


def huge_loss(value):
    def loss(y_true, y_pred):
        # value + 0 * the usual loss: a real, differentiable loss that logs `value`.
        return value + 0.0 * keras.ops.mean(keras.ops.square(y_true - y_pred))

    return loss


@pytest.fixture
def float64():
    if keras.backend.backend() == "jax":
        pytest.skip("JAX without jax_enable_x64 computes in float32, where 1e308 is inf")
    if keras.backend.backend() == "torch":
        pytest.skip("Keras' torch trainer logs the loss in float32 (a float64 4e38 logs as inf)")
    previous = keras.config.floatx()
    keras.config.set_floatx("float64")
    yield
    keras.config.set_floatx(previous)


@pytest.fixture
def one_sample(squares_data):
    # Keras' loss tracker sums loss x batch size: one sample keeps the logged mean at `value`.
    x, y = squares_data
    return x[:1], y[:1]


def float64_model(value):
    model = kt.build_mlp(2, [4])
    model.compile(optimizer="sgd", loss=huge_loss(value))
    return model


def plot_warnings(caught, name):
    return [
        w for w in caught
        if issubclass(w.category, RuntimeWarning) and str(w.message).startswith(name)
        and "stopped drawing" in str(w.message)
    ]


@pytest.mark.parametrize("value", [1e308, 1.5e308])
def test_a_loss_of_1e308_warns_once_and_live_plot_lets_fit_finish(tmp_path, one_sample, float64, value):
    plot = LivePlot(mode="file", path=tmp_path / "live.png", min_interval_s=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = fit(float64_model(value), one_sample, [plot], epochs=4)
    assert history.history["loss"] == [value] * 4
    found = plot_warnings(caught, "LivePlot")
    assert len(found) == 1, [str(w.message) for w in caught]
    assert "Error" in str(found[0].message)  # names the cause: OverflowError or ValueError
    assert plot.history["loss"] == [1.0 * value] * 4  # the values are still recorded


def test_a_loss_of_1e308_warns_once_and_the_live_sweep_finishes(tmp_path, one_sample, float64):
    live = LiveSweep(mode="file", path=tmp_path / "sweep.png", min_interval_s=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = kt.sweep.sweep(
            lambda units: float64_model(1e308), {"units": [2, 4]}, data=one_sample,
            fit_kwargs={"epochs": 2, "batch_size": 64}, live=live,
        )
    assert len(results) == 2 and all(record.history["loss"] == [1e308] * 2 for record in results)
    assert len(plot_warnings(caught, "LiveSweep")) == 1


def test_a_loss_of_1e308_warns_once_and_the_run_report_is_written_without_curves(
    tmp_path, one_sample, float64
):
    report = RunReport(tmp_path / "report", html_every_seconds=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit(float64_model(1.5e308), one_sample, [report], epochs=3)
    assert len(plot_warnings(caught, "RunReport")) == 1
    assert kt.callbacks.read_report(tmp_path / "report")["status"] == "finished"
    page = (tmp_path / "report" / "report.html").read_text()
    assert "data:image/png" not in page and "status finished" in page


@pytest.mark.parametrize(("value", "warned"), [(1e308, 1), (1.5e308, 1), (float("inf"), 0)])
def test_every_plot_survives_values_matplotlib_cannot_draw(tmp_path, value, warned):
    """Backend-free: the values fed straight to the hooks (on JAX too); inf was always drawn."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plot = LivePlot(mode="file", path=tmp_path / "live.png", min_interval_s=0)
        plot.set_params({"epochs": 3})
        plot.on_train_begin()
        for epoch, loss in enumerate([1.0, value, 2.0]):
            plot.on_epoch_end(epoch, {"loss": loss})
        plot.on_train_end()
    assert plot.epochs == [1, 2, 3]
    assert len(plot_warnings(caught, "LivePlot")) == warned


# -- item 11: the monitored value must be one number -------------------------------


def f1_model():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "categorical_crossentropy", metrics=[keras.metrics.F1Score(average=None)])
    return model


@pytest.fixture
def three_classes(squares_data):
    x, _ = squares_data
    labels = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0.5).astype(int)
    return x, keras.utils.to_categorical(labels, 3)


@pytest.mark.parametrize(
    "make",
    [
        lambda tmp: ThresholdEarlyStopping(monitor="val_f1_score", threshold=0.9),
        lambda tmp: PeriodicCheckpoint(tmp / "run", save_best="val_f1_score"),
        lambda tmp: RunReport(tmp / "report", monitor="val_f1_score"),
    ],
    ids=["ThresholdEarlyStopping", "PeriodicCheckpoint.save_best", "RunReport"],
)
def test_a_per_class_metric_as_monitor_is_a_config_error_saying_how_to_get_a_scalar(
    tmp_path, three_classes, make
):
    with pytest.raises(ConfigError) as caught:
        fit(f1_model(), three_classes, [make(tmp_path)], epochs=2, validation_split=0.25)
    message = str(caught.value)
    assert "'val_f1_score' must be a scalar" in message
    assert "shape (3,)" in message and "average='macro'" in message


class WritesText(keras.callbacks.Callback):
    """Puts a string into the logs, as a user's callback might."""

    def on_epoch_end(self, epoch, logs=None):
        logs["phase"] = "warm-up"


@pytest.mark.parametrize(
    "make",
    [
        lambda tmp: ThresholdEarlyStopping(monitor="phase", threshold=1.0, mode="max"),
        lambda tmp: PeriodicCheckpoint(tmp / "run", save_best="phase", mode="max"),
        lambda tmp: RunReport(tmp / "report", monitor="phase", mode="max"),
    ],
    ids=["ThresholdEarlyStopping", "PeriodicCheckpoint.save_best", "RunReport"],
)
def test_a_string_as_the_monitored_value_is_a_config_error(tmp_path, squares_data, make):
    with pytest.raises(ConfigError, match=r"'phase' must be a scalar .* not a number\. Received: phase='warm-up'"):
        fit(squares_model(), squares_data, [WritesText(), make(tmp_path)], epochs=1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(np.float32(0.5), 0.5), (np.array([0.5]), 0.5), (np.array([[0.25]]), 0.25), (1, 1.0), (True, 1.0)],
)
def test_one_number_in_any_shape_is_a_monitored_value(value, expected):
    from kerastools.callbacks.monitor import scalar_monitor_value  # new in issue 15

    assert scalar_monitor_value("val_loss", value) == expected


def test_live_plot_says_once_why_a_per_class_metric_it_was_asked_for_has_no_panel(tmp_path, three_classes):
    plot = LivePlot(["f1_score"], mode="file", path=tmp_path / "live.png", min_interval_s=0)
    with pytest.warns(RuntimeWarning, match=r"not plotted: \['f1_score', 'val_f1_score'\].*average='macro'"):
        fit(f1_model(), three_classes, [plot], epochs=2, validation_split=0.25)
    assert plot.epochs == [1, 2] and "f1_score" not in plot.history
    assert (tmp_path / "live.png").is_file()
