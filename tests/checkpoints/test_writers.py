"""One writer per checkpoint directory, and nothing unlisted deleted (issue 15, items 5 and 6)."""

from __future__ import annotations

import gc
import hashlib
import logging
import os
import signal
import socket
import subprocess
import sys

import keras
import numpy as np
import pytest

import kerastools as kt
import kerastools.checkpoints.store as store_module
from kerastools.callbacks import PeriodicCheckpoint
from kerastools.checkpoints import list_checkpoints, load_checkpoint, resume
from kerastools.checkpoints.record import record_path
from kerastools.checkpoints.store import CheckpointStore
from kerastools.checkpoints.writer_lock import LOCK_NAME
from kerastools.errors import CheckpointError

X = np.random.default_rng(0).uniform(-1, 1, size=(64, 2)).astype("float32")
Y = (X[:, :1] * X[:, 1:]).astype("float32")

HOLDER = """
import sys
from kerastools.checkpoints.record import record_path
from kerastools.checkpoints.store import CheckpointStore
store = CheckpointStore(sys.argv[1])
store.open()
print("locked", flush=True)
sys.stdin.readline()
store.close()
"""


def model(seed=0):
    keras.utils.set_random_seed(seed)
    return kt.compile(kt.build_mlp(2, [8]), optimizer="adam", learning_rate=0.01)


def fit(trained, callbacks, epochs, initial_epoch=0):
    return trained.fit(X, Y, batch_size=16, epochs=epochs, initial_epoch=initial_epoch,
                       verbose=0, callbacks=callbacks)


def sha256s(directory):
    return {
        hashlib.sha256(path.read_bytes()).hexdigest(): path.relative_to(directory)
        for path in directory.rglob("*.weights.h5")
    }


def test_a_second_process_is_refused_with_the_holders_pid_and_host_until_it_dies(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], env=env,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        trained = model()
        with pytest.raises(CheckpointError, match=rf"already has a writer: pid {holder.pid} on "
                           rf"host '{socket.gethostname()}'"):
            fit(trained, [PeriodicCheckpoint(tmp_path)], epochs=1)
        assert list_checkpoints(tmp_path) == []  # readers take no lock
        assert resume(model(), tmp_path) == 0
    finally:
        holder.send_signal(signal.SIGKILL)  # its lock file stays; the lock dies with it
        holder.wait()
    assert (tmp_path / LOCK_NAME).exists()
    fit(trained, [PeriodicCheckpoint(tmp_path)], epochs=1)
    assert [info.epoch for info in list_checkpoints(tmp_path)] == [1]
    assert not (tmp_path / LOCK_NAME).exists()  # released (and deleted) when fit ends


def test_two_checkpoints_on_one_directory_in_one_fit_are_refused(tmp_path):
    trained = model()
    with pytest.raises(CheckpointError, match=rf"already has a writer: pid {os.getpid()} .*"
                       "this process"):
        fit(trained, [PeriodicCheckpoint(tmp_path), PeriodicCheckpoint(tmp_path)], epochs=1)
    # That fit raised (Keras called no on_train_end): the next fit of this thread takes over.
    fit(trained, [PeriodicCheckpoint(tmp_path, keep_last=1)], epochs=2)
    assert [info.epoch for info in list_checkpoints(tmp_path)] == [2]
    assert load_checkpoint(model(), tmp_path).epoch == 2


def test_the_lock_is_released_on_close_failure_and_garbage_collection(tmp_path):
    first = CheckpointStore(tmp_path)
    first.open()
    second = CheckpointStore(tmp_path)
    with pytest.raises(CheckpointError, match="already has a writer"):
        second.open()
    del first
    gc.collect()
    second.open()  # the garbage-collected store gave it back
    second.close()
    (tmp_path / "epoch-0001.weights.h5.json").write_text("{")
    with pytest.raises(CheckpointError, match="is not valid"):
        second.open()
    assert not (tmp_path / LOCK_NAME).exists()  # a refused open keeps no lock
    (tmp_path / "epoch-0001.weights.h5.json").unlink()
    callback = PeriodicCheckpoint(tmp_path)
    fit(model(), [callback], epochs=1)
    fit(model(), [callback], epochs=2, initial_epoch=1)  # the same callback, a second fit
    assert not (tmp_path / LOCK_NAME).exists()


def test_an_older_runs_files_are_moved_aside_never_deleted_or_overwritten(tmp_path, caplog):
    fit(model(), [PeriodicCheckpoint(tmp_path)], epochs=4)
    old = sha256s(tmp_path)
    assert len(old) == 4
    # What a user does to start anew: move the records away (or copies files in by hand).
    for record in tmp_path.glob("*.json"):
        record.rename(tmp_path.parent / f"{tmp_path.name}-old-{record.name}")
    callback = PeriodicCheckpoint(tmp_path, keep_last=2)
    with caplog.at_level(logging.WARNING, logger="kerastools.checkpoints"):
        fit(model(seed=1), [callback], epochs=3)  # another run: other bytes, the same names
        start = resume(resumed := model(seed=1), tmp_path)
        fit(resumed, [callback], epochs=5, initial_epoch=start)
    now = sha256s(tmp_path)
    assert set(old) <= set(now)  # every file of the old run, byte for byte
    aside = {str(now[sha].parent) for sha in old}
    assert len(aside) == 1 and aside.pop().startswith("unlisted-")
    assert "have no record" in caplog.text and "epoch-0004.weights.h5" in caplog.text
    assert [info.epoch for info in list_checkpoints(tmp_path)] == [4, 5]
    listed = sorted(p.name for p in tmp_path.glob("*.weights.h5"))
    assert listed == ["epoch-0004.weights.h5", "epoch-0005.weights.h5"]


def test_a_kill_between_a_record_and_its_file_in_retention_loses_nothing(tmp_path, monkeypatch):
    """Retention removes the record, then the file: a kill between leaves a file without a record,
    which the next writer moves aside (never deletes); the listing never names a missing file."""
    def killed_after_the_record(info):  # the record's unlink happened, the file's did not
        record_path(info.path).unlink()

    monkeypatch.setattr(store_module, "remove_checkpoint", killed_after_the_record)
    store = CheckpointStore(tmp_path, keep_last=1)
    store.open(owner="killed run")
    for epoch in (1, 2):
        store.save(model(), [(f"epoch-{epoch:04d}.weights.h5", "epoch")], epoch=epoch, step=epoch,
                   logs={})
    monkeypatch.undo()
    assert [info.epoch for info in list_checkpoints(tmp_path)] == [2]  # the record went first
    assert (tmp_path / "epoch-0001.weights.h5").exists()
    CheckpointStore(tmp_path, keep_last=1).open(owner="next run")
    names = sorted(p.name for p in tmp_path.iterdir() if p.name != LOCK_NAME)
    assert names[:2] == ["epoch-0002.weights.h5", "epoch-0002.weights.h5.json"]
    assert len(names) == 3 and names[2].startswith("unlisted-")
    assert [p.name for p in (tmp_path / names[2]).iterdir()] == ["epoch-0001.weights.h5"]
