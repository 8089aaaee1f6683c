"""kerastools.checkpoints: listing, loading by latest/best/epoch/metric, resuming, damage, crashes."""

from __future__ import annotations

import json
import os
import queue
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import keras
import numpy as np
import pytest

import kerastools as kt
from kerastools.callbacks import PeriodicCheckpoint
from kerastools.checkpoints import find_checkpoint, list_checkpoints, load_checkpoint, resume
from kerastools.errors import CheckpointError, ConfigError, ConfigTypeError


def make_model(width=8, optimizer="adam"):
    return kt.compile(
        kt.build_mlp(2, [width]), optimizer=optimizer, learning_rate=0.01,
        schedule="inverse_time", decay_rate=0.5,
    )


def iterations(model):
    return int(keras.ops.convert_to_numpy(model.optimizer.iterations))


class RecordState(keras.callbacks.Callback):
    """Test probe: weights and optimizer step after every epoch (1-based)."""

    def __init__(self):
        super().__init__()
        self.weights, self.steps = {}, {}

    def on_epoch_end(self, epoch, logs=None):
        self.weights[epoch + 1] = [np.array(w) for w in self.model.get_weights()]
        self.steps[epoch + 1] = iterations(self.model)


@pytest.fixture(scope="module")
def trained_once(tmp_path_factory):
    """4 epochs, a checkpoint each, best by val_loss; 192 training points = 6 steps/epoch."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(256, 2)).astype("float32")
    y = (x[:, :1] ** 2 + x[:, 1:] ** 2).astype("float32")
    keras.utils.set_random_seed(0)
    directory = tmp_path_factory.mktemp("trained")
    probe = RecordState()
    history = make_model().fit(
        x, y, validation_split=0.25, batch_size=32, epochs=4, shuffle=False, verbose=0,
        callbacks=[probe, PeriodicCheckpoint(directory, save_best="val_loss")],
    )
    return directory, probe, history.history


@pytest.fixture
def trained(trained_once, tmp_path):
    """A copy of the trained directory per test, which may damage it."""
    directory, probe, history = trained_once
    shutil.copytree(directory, tmp_path / "checkpoints")
    return tmp_path / "checkpoints", probe, history


def assert_same_weights(model, expected):
    for loaded, saved in zip(model.get_weights(), expected, strict=True):
        np.testing.assert_array_equal(loaded, saved)


# -- listing -----------------------------------------------------------------------


def test_list_is_empty_without_a_manifest(tmp_path):
    assert list_checkpoints(tmp_path / "nothing here") == []


def test_list_matches_the_files_newest_last(trained):
    directory, probe, history = trained
    infos = list_checkpoints(directory)
    assert [(i.path.name, i.kind, i.epoch, i.step) for i in infos] == [
        (f"epoch-{e:04d}.weights.h5", "epoch", e, probe.steps[e]) for e in (1, 2, 3, 4)
    ]
    for info, loss in zip(infos, history["val_loss"], strict=True):
        assert info.metrics["val_loss"] == pytest.approx(loss)
        assert info.size == info.path.stat().st_size and len(info.sha256) == 64
    best = list_checkpoints(directory, include_best=True)[-1]
    assert best.kind == "best" and best.path.name == "best.weights.h5"


@pytest.mark.parametrize("bad", [None, 5])
def test_list_needs_a_path(bad):
    with pytest.raises(ConfigTypeError, match="`directory` must be a path"):
        list_checkpoints(bad)


# -- loading ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("which", "epoch_of"),
    [
        ("latest", lambda h: 4),
        ("best", lambda h: 1 + int(np.argmin(h["val_loss"]))),
        (2, lambda h: 2),
        (("min", "val_loss"), lambda h: 1 + int(np.argmin(h["val_loss"]))),
        (("max", "loss"), lambda h: 1 + int(np.argmax(h["loss"]))),
    ],
    ids=["latest", "best", "epoch", "min-metric", "max-metric"],
)
def test_load_restores_exact_weights_and_optimizer_step(trained, which, epoch_of):
    directory, probe, history = trained
    model = make_model()
    info = load_checkpoint(model, directory, which)
    assert info.epoch == epoch_of(history)
    assert_same_weights(model, probe.weights[info.epoch])
    assert iterations(model) == probe.steps[info.epoch] == info.step


def test_find_names_the_checkpoint_without_a_model(trained):
    directory, _, history = trained
    assert find_checkpoint(directory, ("min", "val_loss")).metrics["val_loss"] == pytest.approx(
        min(history["val_loss"])
    )


@pytest.mark.parametrize(
    ("which", "error", "match"),
    [
        ("newest", ConfigError, r"`which` must be 'latest', 'best', an epoch number .* Received: which='newest'"),
        (-1, ConfigError, r"`which` must be >= 0. Received: which=-1"),
        (2.0, ConfigTypeError, r"Received: which=2.0"),
        (("low", "loss"), ConfigError, r"`which\[0\]` must be one of \['min', 'max'\]"),
        (("min", ""), ConfigTypeError, r"`which\[1\]` must be a non-empty string"),
        (["min", "loss"], ConfigTypeError, r"a \(mode, metric\) pair"),
    ],
)
def test_bad_which_is_refused(trained, which, error, match):
    with pytest.raises(error, match=match):
        load_checkpoint(make_model(), trained[0], which)


@pytest.mark.parametrize(
    ("which", "match"),
    [
        (9, r"No checkpoint for epoch 9 .*epochs available: \[1, 2, 3, 4\]"),
        (("max", "val_accuracy"), r"No checkpoint .* recorded the metric 'val_accuracy'; metrics recorded: \['loss', 'val_loss'\]"),
    ],
)
def test_missing_epoch_or_metric_says_what_exists(trained, which, match):
    with pytest.raises(CheckpointError, match=match):
        load_checkpoint(make_model(), trained[0], which)


def test_best_without_save_best_is_an_error(tmp_path, squares_data):
    x, y = squares_data
    make_model().fit(x, y, epochs=1, verbose=0, callbacks=[PeriodicCheckpoint(tmp_path)])
    with pytest.raises(CheckpointError, match="written without save_best"):
        load_checkpoint(make_model(), tmp_path, "best")


def test_empty_directory_loads_nothing_and_resumes_at_zero(tmp_path):
    with pytest.raises(CheckpointError, match="No checkpoints in"):
        load_checkpoint(make_model(), tmp_path)
    assert resume(make_model(), tmp_path / "not yet created") == 0


def test_model_must_be_built_and_compiled_for_resume(trained):
    with pytest.raises(ConfigError, match="must be built"):
        load_checkpoint(keras.Sequential([keras.layers.Dense(1)]), trained[0])
    with pytest.raises(ConfigError, match="must be compiled before resume"):
        resume(kt.build_mlp(2, [8]), trained[0])
    with pytest.raises(ConfigTypeError, match="`model` must be a keras.Model"):
        load_checkpoint("model", trained[0])


# -- architecture checks --------------------------------------------------------------


def test_other_width_names_the_variable_and_shapes(trained):
    model = make_model(width=16)
    before = [np.array(w) for w in model.get_weights()]
    with pytest.raises(
        CheckpointError,
        match=r"variable 'dense_1/kernel' \(layer 'dense_1'\) has shape \(2, 16\) in the model "
        r"but \(2, 8\) in the checkpoint",
    ):
        load_checkpoint(model, trained[0])
    assert_same_weights(model, before)  # a refused checkpoint changes nothing


def test_other_depth_names_the_extra_variables(trained):
    model = kt.compile(kt.build_mlp(2, [8, 8]), optimizer="adam")
    with pytest.raises(
        CheckpointError, match=r"holds 4 weight variables, the model has 6. Only in the model: \['dense_2/kernel'"
    ):
        load_checkpoint(model, trained[0])


def test_other_optimizer_is_refused_unless_weights_only(trained):
    directory, probe, _ = trained
    model = make_model(optimizer="sgd")
    with pytest.raises(CheckpointError, match="saved from Adam, the model is compiled with SGD"):
        load_checkpoint(model, directory)
    load_checkpoint(model, directory, include_optimizer=False)
    assert_same_weights(model, probe.weights[4])
    assert iterations(model) == 0


def test_uncompiled_model_gets_the_weights(trained):
    directory, probe, _ = trained
    model = kt.build_mlp(2, [8])
    load_checkpoint(model, directory, 3)
    assert_same_weights(model, probe.weights[3])


# -- resume -----------------------------------------------------------------------------


def test_resume_continues_the_epoch_count_and_the_schedule(tmp_path, squares_data):
    x, y = squares_data  # 8 steps per epoch
    keras.utils.set_random_seed(3)
    uninterrupted = make_model()
    keras.utils.set_random_seed(3)
    crashed = make_model()
    uninterrupted.fit(x, y, batch_size=32, epochs=4, shuffle=False, verbose=0)
    crashed.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0, callbacks=[PeriodicCheckpoint(tmp_path)])

    restarted = make_model()  # what a new process would build
    start = resume(restarted, tmp_path)
    assert start == 2 and iterations(restarted) == 16
    assert kt.current_learning_rate(restarted) == pytest.approx(0.01 / (1 + 0.5 * 16))
    history = restarted.fit(
        x, y, batch_size=32, epochs=4, initial_epoch=start, shuffle=False, verbose=0,
        callbacks=[PeriodicCheckpoint(tmp_path)],
    )
    assert len(history.history["loss"]) == 2
    assert [i.path.name for i in list_checkpoints(tmp_path)][-2:] == [
        "epoch-0003.weights.h5", "epoch-0004.weights.h5"
    ]
    assert iterations(restarted) == iterations(uninterrupted) == 32
    assert kt.current_learning_rate(restarted) == pytest.approx(kt.current_learning_rate(uninterrupted))
    for resumed, straight in zip(restarted.get_weights(), uninterrupted.get_weights(), strict=True):
        np.testing.assert_allclose(resumed, straight, rtol=1e-5, atol=1e-6)


def test_resume_without_optimizer_state_warns(tmp_path, squares_data):
    x, y = squares_data
    make_model().fit(x, y, epochs=1, verbose=0, callbacks=[PeriodicCheckpoint(tmp_path, include_optimizer=False)])
    with pytest.warns(RuntimeWarning, match="no optimizer state"):
        assert resume(make_model(), tmp_path) == 1


# -- damage -------------------------------------------------------------------------------


def truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def flip_a_byte(path, offset=None):
    data = bytearray(path.read_bytes())
    offset = len(data) - 100 if offset is None else offset
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", [truncate, flip_a_byte], ids=["truncated", "flipped-byte"])
def test_damaged_latest_is_skipped_for_the_previous_good_one(trained, damage):
    directory, probe, _ = trained
    # The newest files: epoch 4, and best.weights.h5 when epoch 4 was also the best.
    damage(directory / "epoch-0004.weights.h5")
    damage(directory / "best.weights.h5")
    model = make_model()
    with pytest.warns(RuntimeWarning, match=r"Skipping damaged checkpoint .*weights.h5") as caught:
        info = load_checkpoint(model, directory)
    assert "epoch-0004.weights.h5" in str(caught[0].message)
    assert info.epoch == 3
    assert_same_weights(model, probe.weights[3])


def test_latest_can_be_the_best_file(tmp_path, squares_data):
    x, y = squares_data
    callback = PeriodicCheckpoint(tmp_path, every_epochs=5, save_best="loss")
    history = make_model().fit(x, y, epochs=7, verbose=0, callbacks=[callback])
    assert np.argmin(history.history["loss"]) == 6  # the loss still falls at epoch 7
    assert [i.epoch for i in list_checkpoints(tmp_path)] == [5]
    latest = find_checkpoint(tmp_path)
    assert (latest.path.name, latest.epoch) == ("best.weights.h5", 7)
    assert resume(make_model(), tmp_path) == 7


def test_damaged_header_byte_is_caught(trained):
    directory, _, _ = trained
    for name in ("epoch-0004.weights.h5", "best.weights.h5"):
        flip_a_byte(directory / name, offset=3)  # the HDF5 signature
    with pytest.warns(RuntimeWarning, match="does not match the manifest"):
        assert find_checkpoint(directory).epoch == 3


def test_damaged_best_falls_back_to_the_best_intact_file(trained):
    directory, _, history = trained
    flip_a_byte(directory / "best.weights.h5")
    with pytest.warns(RuntimeWarning, match="best.weights.h5"):
        info = find_checkpoint(directory, "best")
    assert info.kind == "epoch" and info.epoch == 1 + int(np.argmin(history["val_loss"]))


def test_all_damaged_resumes_at_zero_with_warnings(trained):
    directory, _, _ = trained
    for path in directory.glob("*.weights.h5"):
        truncate(path)
    with pytest.raises(CheckpointError, match="No intact checkpoint"), pytest.warns(RuntimeWarning):
        load_checkpoint(make_model(), directory)
    with pytest.warns(RuntimeWarning) as caught:
        assert resume(make_model(), directory) == 0
    named = " ".join(str(w.message) for w in caught)
    assert all(f"epoch-000{e}.weights.h5" in named for e in (1, 2, 3, 4))


@pytest.mark.parametrize(
    "content",
    ["{not json", json.dumps({"format": "something else"}),
     json.dumps({"format": "kerastools-checkpoints", "version": 1, "checkpoints": [
         {"file": "../outside.weights.h5", "kind": "epoch", "epoch": 1, "step": 1, "metrics": {},
          "wall_time": 0, "size": 1, "sha256": "", "includes_optimizer": True}]})],
    ids=["not-json", "other-format", "path-outside"],
)
def test_invalid_manifest_is_an_error(tmp_path, content):
    (tmp_path / "manifest.json").write_text(content)
    with pytest.raises(CheckpointError, match="manifest .* is not valid"):
        list_checkpoints(tmp_path)


# -- SIGKILL at random moments -------------------------------------------------------------

WORKER = Path(__file__).with_name("crash_training_worker.py")


class ForkServer:
    """tests/crash_training_worker.py: imports once, forks one trainer per `run`."""

    def __init__(self, directory, epochs, log):
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen(
            [sys.executable, str(WORKER), str(directory), "--epochs", str(epochs),
             "--every-steps", "2", "--min-step-seconds", "0.02"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True, env=env,
        )
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.put(line.split())
        self.lines.put(["EOF"])

    def expect(self, word, timeout=120):
        deadline = time.monotonic() + timeout
        while True:
            line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            if line and line[0] == word:
                return line[1:]
            assert line[0] not in ("EOF", "ERROR"), f"worker said {line} while waiting for {word}"

    def run(self):
        self.process.stdin.write("run\n")
        self.process.stdin.flush()
        return int(self.expect("STARTED")[0])

    def close(self):
        if self.process.poll() is None:
            self.process.stdin.write("quit\n")
            self.process.stdin.flush()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def kill_and_wait(pid):
    os.kill(pid, signal.SIGKILL)
    while True:  # the server reaps its children, so the pid disappears once dead
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.01)


def crash_probe_model():
    # The worker's architecture and optimizer.
    return kt.compile(
        kt.build_mlp(2, [16]), optimizer="adam", learning_rate=0.01,
        schedule="inverse_time", decay_rate=0.01,
    )


@pytest.mark.parametrize("kills", [10, pytest.param(50, marks=pytest.mark.slow)])
def test_sigkill_at_random_moments_always_leaves_a_loadable_checkpoint(tmp_path, kills):
    """Kill a trainer at seeded random moments; every time the latest checkpoint must load,
    the next trainer must resume exactly from it, and the last one must finish training."""
    rng = random.Random(kills)
    directory = tmp_path / "checkpoints"
    # A trainer makes at most 26 steps (>= 20 ms each) before its kill, so at most one
    # epoch (16 steps) of progress: it cannot finish before the last kill.
    epochs = kills + 2
    probe = crash_probe_model()
    stats = {"kills": 0, "killed_mid_write": 0, "killed_before_first_save": 0, "clean_recoveries": 0}
    expected = ["0", "0"]  # what the next trainer must resume from: epoch, step
    latest_step = 0
    with open(tmp_path / "worker.log", "w") as log:
        server = ForkServer(directory, epochs, log)
        try:
            server.expect("READY")
            for _ in range(kills):
                pid = server.run()
                assert server.expect("RESUMED") == expected
                server.expect("TRAINING")
                time.sleep(rng.uniform(0.0, 0.5))
                kill_and_wait(pid)
                stats["kills"] += 1
                if any(directory.glob(".*.tmp")):
                    stats["killed_mid_write"] += 1
                if not list_checkpoints(directory):
                    stats["killed_before_first_save"] += 1  # a fresh start is right
                    continue
                with warnings.catch_warnings():
                    warnings.simplefilter("error", RuntimeWarning)  # nothing recorded is damaged
                    info = load_checkpoint(probe, directory)
                assert info.step >= latest_step, "a kill lost a recorded checkpoint"
                latest_step = info.step
                expected = [str(info.epoch), str(info.step)]
                stats["clean_recoveries"] += 1
            server.run()
            assert server.expect("RESUMED") == expected
            done = server.expect("DONE", timeout=300)
        finally:
            server.close()
    print(f"\ncrash test: {stats}")
    assert stats["kills"] == kills
    assert stats["clean_recoveries"] + stats["killed_before_first_save"] == kills
    assert stats["clean_recoveries"] >= kills // 2
    assert int(done[0]) == epochs and np.isfinite(float(done[2]))
    final = load_checkpoint(probe, directory)
    assert final.epoch == epochs and final.step == int(done[1])
    assert len(list_checkpoints(directory)) == 3  # keep_last=3 after all those kills
