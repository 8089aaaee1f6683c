"""kerastools.checkpoints.store: writing in the background, pruning, the best file, SIGKILL at random moments."""

from __future__ import annotations

import json
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import kerastools as kt
import kerastools.checkpoints.store as store_module
from kerastools.checkpoints import find_checkpoint, list_checkpoints, load_checkpoint
from kerastools.checkpoints.directory import read_index
from kerastools.checkpoints.record import record_path
from kerastools.checkpoints.store import CheckpointStore
from kerastools.errors import CheckpointError
from tests.checkpoints.helpers import assert_same_weights, make_model

# -- the store on its own ------------------------------------------------------------------


def save_epochs(store, model, epochs, logs=None):
    for epoch in epochs:
        store.save(model, [(f"epoch-{epoch:04d}.weights.h5", "epoch")], epoch=epoch, step=epoch,
                   logs=logs or {"loss": float(epoch)})


def test_save_before_open_is_refused(tmp_path):
    store = CheckpointStore(tmp_path / "ckpt")
    assert not store.is_open
    with pytest.raises(CheckpointError, match=r"save\(\) before open\(\)"):
        save_epochs(store, make_model(), [1])
    assert not (tmp_path / "ckpt").exists()


def test_open_creates_the_directory_and_close_leaves_everything_on_disk(tmp_path):
    model = make_model()
    store = CheckpointStore(tmp_path / "ckpt", keep_last=2)
    assert store.open() is None and store.is_open
    save_epochs(store, model, [1, 2, 3])
    store.close()
    assert [info.epoch for info in list_checkpoints(tmp_path / "ckpt")] == [2, 3]
    assert sorted(path.name for path in (tmp_path / "ckpt").iterdir()) == [
        "epoch-0002.weights.h5", "epoch-0002.weights.h5.json",
        "epoch-0003.weights.h5", "epoch-0003.weights.h5.json",
    ]
    restored = make_model()
    load_checkpoint(restored, tmp_path / "ckpt")
    assert_same_weights(restored, model.get_weights())


def test_open_returns_the_recorded_best_only_under_the_same_rule(tmp_path):
    model = make_model()
    store = CheckpointStore(tmp_path)
    store.open("loss", "min")
    store.save(model, [("best.weights.h5", "best")], epoch=1, step=1, logs={"loss": 0.25})
    store.close()
    assert CheckpointStore(tmp_path).open("loss", "min") == 0.25
    assert CheckpointStore(tmp_path).open("loss", "max") is None
    record = json.loads((tmp_path / "best.weights.h5.json").read_text())
    assert (record["monitor"], record["mode"], record["epoch"]) == ("loss", "min", 1)


def replace_best_killed(tmp_path, monkeypatch, where):
    """Save a best file at epoch 1, then replace it at epoch 2 with a kill at `where`."""
    model = make_model()
    store = CheckpointStore(tmp_path)
    store.open("loss", "min")
    store.save(model, [("best.weights.h5", "best")], epoch=1, step=1, logs={"loss": 0.5})
    real_record, real_file = store_module.write_record, store_module.write_durably

    def record(info, *, next_best=False):
        if where == "before the record" and not next_best:
            raise KeyboardInterrupt
        real_record(info, next_best=next_best)

    def file(data, target, before_rename=None):
        if where == "before the rename":
            before_rename()  # the next record is written once the new bytes are hashed
            raise KeyboardInterrupt
        real_file(data, target, before_rename)

    monkeypatch.setattr(store_module, "write_record", record)
    monkeypatch.setattr(store_module, "write_durably", file)
    model.set_weights([w + 1 for w in model.get_weights()])  # other bytes than epoch 1's
    with pytest.raises(KeyboardInterrupt):
        store.save(model, [("best.weights.h5", "best")], epoch=2, step=2, logs={"loss": 0.25})
    store.close()
    monkeypatch.undo()
    assert (tmp_path / "best.weights.h5.next.json").exists()  # the kill left both records


@pytest.mark.parametrize("where, epoch", [("before the rename", 1), ("before the record", 2)])
def test_a_kill_while_the_best_file_is_replaced_leaves_a_file_and_its_record(
    tmp_path, monkeypatch, where, epoch
):
    replace_best_killed(tmp_path, monkeypatch, where)
    assert find_checkpoint(tmp_path, "best").epoch == epoch  # the record the bytes match
    assert list_checkpoints(tmp_path, include_best=True)[-1].epoch == epoch
    assert CheckpointStore(tmp_path).open("loss", "min") == (0.5 if epoch == 1 else 0.25)
    assert not (tmp_path / "best.weights.h5.next.json").exists()  # open() settled it
    assert json.loads(record_path(tmp_path / "best.weights.h5").read_text())["epoch"] == epoch
    assert read_index(tmp_path).best.epoch == epoch


def test_a_failed_write_raises_at_the_save(tmp_path):
    store = CheckpointStore(tmp_path)
    store.open()
    (tmp_path / "epoch-0001.weights.h5").mkdir()  # os.replace cannot put a file there
    with pytest.raises(CheckpointError, match="Cannot write checkpoint"):
        save_epochs(store, make_model(), [1])
    store.close()
    store.open()
    assert list_checkpoints(tmp_path) == []


def test_a_failed_background_write_raises_at_close_and_the_next_open_waits_for_it(tmp_path):
    store = CheckpointStore(tmp_path, background=True)
    store.open()
    (tmp_path / "epoch-0001.weights.h5").mkdir()  # os.replace cannot put a file there
    save_epochs(store, make_model(), [1])
    with pytest.raises(CheckpointError, match="Cannot write checkpoint"):
        store.close()
    store.open()  # a later fit starts cleanly
    assert list_checkpoints(tmp_path) == []


# -- SIGKILL at random moments -------------------------------------------------------------

WORKER = Path(__file__).parents[1] / "crash_training_worker.py"


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
