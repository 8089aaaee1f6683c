"""A full disk while checkpointing: a clear error, and the previous checkpoint intact.

Several ways to run out of space: a real 128 KiB tmpfs filled to the last byte
(when this process may mount one: root on Linux), and, everywhere, ENOSPC
injected while the weights file's bytes are written (HDF5 builds them in
memory), while the file is fsynced, while its record (the commit) is
written, and while `best.weights.h5` is replaced. A tmpfs that fills
*during* each write is tests/test_full_disk.py. Each time `fit` raises an
error naming the file and "No space left on device" (the writer thread's
error, at the end of `fit`), the previous checkpoint still loads with
exactly its weights, no temporary file is left, and training saves again
once there is space.

SIGKILL at random moments (10 kills, 50 in a slow-marked run) is tested in
tests/checkpoints/test_store.py.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
import uuid
import warnings

import keras
import numpy as np
import pytest

import kerastools as kt
from kerastools.callbacks import PeriodicCheckpoint
from kerastools.checkpoints import list_checkpoints, load_checkpoint
from kerastools.checkpoints.directory import read_index, verified
from kerastools.checkpoints.record import record_path
from kerastools.errors import CheckpointError

FULL = "No space left on device"


def make_model():
    return kt.compile(kt.build_mlp(2, [8]), optimizer="adam", learning_rate=0.01)


class RecordWeights(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.weights = {}

    def on_epoch_end(self, epoch, logs=None):
        self.weights[epoch + 1] = [np.array(w) for w in self.model.get_weights()]


class Run:
    """A model trained one epoch with a checkpoint, ready to go on."""

    def __init__(self, directory, **checkpoint):
        rng = np.random.default_rng(0)
        self.x = rng.uniform(-1, 1, size=(64, 2)).astype("float32")
        self.y = (self.x**2).sum(axis=1, keepdims=True)
        self.directory = directory
        self.model = make_model()
        self.checkpoint = PeriodicCheckpoint(directory, **checkpoint)
        self.recorder = RecordWeights()
        self.fit(0, 1)

    def fit(self, start, stop):
        self.model.fit(
            self.x, self.y, initial_epoch=start, epochs=stop, batch_size=32, verbose=0,
            callbacks=[self.recorder, self.checkpoint],
        )

    def assert_intact(self, epoch):
        """The newest loadable checkpoint is `epoch`, with exactly its weights, and no leftovers."""
        assert not [p.name for p in self.directory.iterdir() if p.name.endswith(".tmp")]
        fresh = make_model()
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no "skipping damaged checkpoint"
            info = load_checkpoint(fresh, self.directory)
        assert info.epoch == epoch
        for loaded, saved in zip(fresh.get_weights(), self.recorder.weights[epoch], strict=True):
            np.testing.assert_array_equal(loaded, saved)

    def assert_recovers(self):
        """With space again, the same callback saves the next epoch."""
        self.fit(1, 2)
        self.assert_intact(2)
        assert [info.epoch for info in list_checkpoints(self.directory)] == [1, 2]


def inside(directory, path) -> bool:
    return os.fspath(path).startswith(os.fspath(directory))


def enospc(path) -> OSError:
    return OSError(errno.ENOSPC, FULL, os.fspath(path))


class FullDiskFile:
    """A file opened for writing whose writes fail as on a full disk."""

    def __init__(self, handle, name):
        self.handle, self.name = handle, name

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.handle.close()

    def write(self, data):
        raise enospc(self.name)

    def __getattr__(self, attribute):
        return getattr(self.handle, attribute)


def test_disk_full_while_writing_weights(tmp_path, monkeypatch):
    """The file's bytes are built in memory (checkpoints.files); the write to disk fails."""
    from kerastools import _atomic

    run = Run(tmp_path / "checkpoints")

    def full_disk(file, mode="r", *args, **kwargs):
        name = os.readlink(f"/proc/self/fd/{file}") if isinstance(file, int) else file
        handle = open(file, mode, *args, **kwargs)
        return FullDiskFile(handle, name) if "w" in mode and inside(run.directory, name) else handle

    monkeypatch.setattr(_atomic, "open", full_disk, raising=False)
    with pytest.raises(CheckpointError, match=FULL) as caught:
        run.fit(1, 2)
    assert str(run.directory / "epoch-0002.weights.h5") in str(caught.value)
    monkeypatch.undo()
    run.assert_intact(1)
    run.assert_recovers()


def test_disk_full_while_syncing_weights(tmp_path, monkeypatch):
    run = Run(tmp_path / "checkpoints")
    real_fsync = os.fsync

    def full_disk(fd):
        path = os.readlink(f"/proc/self/fd/{fd}") if os.path.exists("/proc/self/fd") else ""
        if inside(run.directory, path):
            raise enospc(path)
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(CheckpointError, match=FULL) as caught:
        run.fit(1, 2)
    assert "epoch-0002.weights.h5" in str(caught.value)
    monkeypatch.undo()
    run.assert_intact(1)
    run.assert_recovers()


def test_disk_full_while_writing_the_record(tmp_path, monkeypatch):
    """The weights file is on disk, its record (the commit) is not: epoch 1 stays the newest."""
    run = Run(tmp_path / "checkpoints")
    record = record_path(run.directory / "epoch-0002.weights.h5")
    real_fsync = os.fsync

    def full_disk(fd):
        path = os.readlink(f"/proc/self/fd/{fd}")
        if inside(run.directory, path) and record.name in path:
            raise enospc(path)
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(CheckpointError, match=FULL) as caught:
        run.fit(1, 2)
    assert str(record) in str(caught.value)
    monkeypatch.undo()
    # The new weights file is there, without a record: not a checkpoint.
    assert (run.directory / "epoch-0002.weights.h5").exists() and not record.exists()
    run.assert_intact(1)
    run.assert_recovers()
    # The next writer set the unrecorded file aside (never deleted) before saving again.
    (aside,) = [path for path in run.directory.iterdir() if path.name.startswith("unlisted-")]
    assert [path.name for path in aside.iterdir()] == ["epoch-0002.weights.h5"]


def test_disk_full_while_replacing_the_best_file_keeps_the_old_one(tmp_path, monkeypatch):
    """best.weights.h5 is replaced in place: a failed write leaves the old best with its record."""
    run = Run(tmp_path / "checkpoints", save_best="loss")
    best = run.directory / "best.weights.h5"
    real_fsync = os.fsync

    def full_disk(fd):
        # The best file's temporary (.best.weights.h5.<random>.tmp), not those of its records.
        name = os.path.basename(os.readlink(f"/proc/self/fd/{fd}"))
        if name.startswith(f".{best.name}.") and ".json." not in name:
            raise enospc(name)
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(CheckpointError, match=FULL) as caught:
        run.fit(1, 2)
    assert str(best) in str(caught.value)  # epoch 2 improved the loss: its best save failed
    monkeypatch.undo()
    run.assert_intact(2)  # the periodic file of epoch 2 was written before the best file
    assert_best_file_holds(run, 1)  # the old best file, matching its record
    # The next writer settles the record of the replacement that did not happen.
    run.fit(2, 3)
    assert_best_file_holds(run, 3)
    assert not [p.name for p in run.directory.iterdir() if p.name.endswith(".next.json")]


def assert_best_file_holds(run, epoch):
    """best.weights.h5 matches its record, which says `epoch`, and holds that epoch's weights."""
    index = read_index(run.directory)
    info, _ = verified(index, index.best)  # DamagedFile unless the bytes match a record
    assert info.epoch == epoch
    fresh = make_model()
    fresh.load_weights(info.path)
    for loaded, saved in zip(fresh.get_weights(), run.recorder.weights[epoch], strict=True):
        np.testing.assert_array_equal(loaded, saved)


@contextlib.contextmanager
def tiny_tmpfs(directory, size="128k"):
    directory.mkdir()
    mount, umount = shutil.which("mount"), shutil.which("umount")
    if mount is None or umount is None:
        pytest.skip("no mount command")
    result = subprocess.run(
        [mount, "-t", "tmpfs", "-o", f"size={size}", f"kerastools-test-{uuid.uuid4().hex[:8]}", directory],
        capture_output=True, text=True,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({result.stderr.strip()}); the injected ENOSPC tests cover it")
    try:
        yield directory
    finally:
        subprocess.run([umount, "--lazy", directory], check=False)


def fill(path):
    """Write zeros to `path` until the filesystem is full."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, bytes(4096))
    except OSError as error:
        assert error.errno == errno.ENOSPC
    finally:
        os.close(fd)


def test_disk_really_full_on_a_tiny_tmpfs(tmp_path):
    with tiny_tmpfs(tmp_path / "mnt") as disk:
        run = Run(disk / "checkpoints")
        fill(disk / "filler")
        with pytest.raises(CheckpointError, match=FULL) as caught:
            run.fit(1, 2)
        assert str(run.directory / "epoch-0002.weights.h5") in str(caught.value)
        run.assert_intact(1)
        (disk / "filler").unlink()
        run.assert_recovers()
