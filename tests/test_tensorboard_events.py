"""TensorBoard log directories read back: LivePlot(compare_to=...), training_curves, the real server.

The logger itself is tested on every backend in tests/callbacks/test_tensorboard_logger.py;
reading is backend-neutral, so these run on the TensorFlow pass, where Keras' own
`keras.callbacks.TensorBoard` can write the directory kerastools must also read.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import keras
import numpy as np
import pytest

import kerastools as kt
from kerastools.callbacks.live_plot import ENV_VAR, LivePlot
from kerastools.errors import ConfigError
from kerastools.tensorboard_events import epoch_curves, is_log_dir
from kerastools.tensorboard_writer import EventFile, trim_events

SERVER_START_S = 90  # the bound on TensorBoard's start-up on a loaded machine


@pytest.fixture
def run(tmp_path, squares_data):
    """A 3-epoch run with validation logged by TensorBoardLogger, and its History."""
    history = kt.compile(kt.build_mlp(2, [8])).fit(
        *squares_data, batch_size=64, validation_split=0.25, epochs=3, verbose=0,
        callbacks=[kt.callbacks.TensorBoardLogger(tmp_path / "ours")],
    )
    return tmp_path / "ours", history


def test_epoch_curves_are_the_history_in_float32(run):
    log_dir, history = run
    curves = epoch_curves(log_dir)
    assert set(curves) == set(history.history) | {"learning_rate"}
    for key, values in history.history.items():
        epochs, read = curves[key]
        assert epochs == [1, 2, 3]
        assert np.float32(read).tolist() == np.float32(values).tolist()


@pytest.mark.tf_only
def test_keras_own_tensorboard_directory_is_a_reference_run(tmp_path, squares_data, monkeypatch):
    monkeypatch.setenv(ENV_VAR, "file")
    model = kt.compile(kt.build_mlp(2, [8]))
    history = model.fit(*squares_data, batch_size=64, validation_split=0.25, epochs=2, verbose=0,
                        callbacks=[keras.callbacks.TensorBoard(tmp_path / "keras")])
    plot = LivePlot(path=tmp_path / "live.png", show_lr=False, compare_to=[tmp_path / "keras"])
    kt.compile(kt.build_mlp(2, [8])).fit(*squares_data, batch_size=64, validation_split=0.25,
                                         epochs=1, verbose=0, callbacks=[plot])
    drawn = {
        line.get_gid(): (line.get_xdata().tolist(), line.get_ydata().tolist())
        for line in plot.figure.axes[0].get_lines()
        if (line.get_gid() or "").startswith("reference:")
    }
    assert sorted(drawn) == ["reference:keras:loss", "reference:keras:val_loss"]
    x, y = drawn["reference:keras:val_loss"]
    assert x == [1.0, 2.0]
    assert np.float32(y).tolist() == np.float32(history.history["val_loss"]).tolist()


def test_training_curves_draw_a_log_directory_like_its_history(run):
    log_dir, history = run
    from_files = kt.plots.training_curves(log_dir)
    from_history = kt.plots.training_curves(history)
    assert [ax.get_title() for ax in from_files.axes] == [ax.get_title() for ax in from_history.axes]
    line = from_files.axes[0].get_lines()[1]  # validation
    assert line.get_xdata().tolist() == [1, 2, 3]
    assert np.float32(line.get_ydata()).tolist() == np.float32(history.history["val_loss"]).tolist()


def test_a_directory_without_epoch_scalars_lists_its_tags(tmp_path):
    events = EventFile(tmp_path / "logs" / "train")
    events.scalars(1, {"batch_loss": 0.5})
    events.text(0, "notes", "hello")
    events.close()
    assert is_log_dir(tmp_path / "logs") and not is_log_dir(tmp_path)
    message = r"Argument `{}` names .* no `epoch_\*` scalars.*Tags found: \['train/batch_loss', 'train/notes'\]"
    with pytest.raises(ConfigError, match=message.format("history")):
        kt.plots.training_curves(tmp_path / "logs")
    with pytest.raises(ConfigError, match=message.format("compare_to")):
        LivePlot(compare_to=tmp_path / "logs")
    with pytest.raises(ConfigError, match="must be a TensorBoard log directory that exists"):
        epoch_curves(tmp_path / "missing")


def test_trimming_a_torn_file_keeps_every_intact_record(tmp_path):
    events = EventFile(tmp_path)
    for epoch in range(3):
        events.scalars(epoch, {"epoch_loss": float(epoch)})
    events.close()
    with open(events.path, "ab") as handle:
        handle.write(b"\x10\x00\x00")  # a kill in the middle of the next record
    (tmp_path / ".kerastools-trim-old.tmp").write_bytes(b"left by a killed rewrite")
    assert trim_events(tmp_path, lambda event: True) == 0
    assert epoch_curves(tmp_path)["loss"] == ([1, 2, 3], [0.0, 1.0, 2.0])
    assert sorted(path.name for path in tmp_path.iterdir()) == [events.path.name]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_tensorboard_server_serves_epoch_loss(run, tmp_path):
    """The real `tensorboard` server (here without TensorFlow) reads a kerastools log directory."""
    log_dir, history = run
    port = _free_port()
    code = (
        "import sys; sys.modules['tensorflow'] = None\n"  # TensorBoard without TensorFlow
        "from tensorboard.main import run_main\n"
        f"sys.argv = ['tensorboard', '--logdir', {str(log_dir)!r}, '--host', '127.0.0.1', "
        f"'--port', '{port}', '--reload_interval', '1']\n"
        "sys.exit(run_main())\n"
    )
    with open(tmp_path / "server.log", "wb") as log:
        server = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=log,
                                  env=dict(os.environ))
    url = f"http://127.0.0.1:{port}/data/plugin/scalars/scalars?run=train&tag=epoch_loss"
    try:
        deadline, points = time.monotonic() + SERVER_START_S, None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback only
                    points = json.loads(response.read())
                if len(points) == 3:
                    break
            except (urllib.error.URLError, ConnectionError, json.JSONDecodeError):
                pass
            time.sleep(0.5)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    assert points is not None, (tmp_path / "server.log").read_text()[-2000:]
    assert [step for _, step, _ in points] == [0, 1, 2]
    assert np.float32([value for _, _, value in points]).tolist() == np.float32(history.history["loss"]).tolist()
