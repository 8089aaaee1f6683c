"""The writing side of a checkpoint directory: a host copy on the training thread, the rest on one writer.

`PeriodicCheckpoint` decides when to save; `CheckpointStore.save()` copies
the state to host memory, and one writer thread builds and hashes the
bytes, writes the file durably, then its record (the commit), then applies
`keep_last`. A failed write raises at the next `save()` or at `close()`.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import functools
import json
import logging
import math
import os
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from kerastools.checkpoints.archive import SaveFormat, write_archive
from kerastools.checkpoints.directory import open_for_writing, remove_checkpoint, write_record
from kerastools.checkpoints.files import start_sha256, write_durably
from kerastools.checkpoints.keras_format import mark_built, saved_optimizers, snapshot_weights
from kerastools.checkpoints.record import NEXT_SUFFIX, CheckpointInfo, Kind
from kerastools.checkpoints.writer_lock import WriterLock
from kerastools.errors import CheckpointError

__all__ = ["CheckpointStore"]

logger = logging.getLogger(__name__)


def _plain_metrics(logs: Mapping[str, Any] | None) -> dict[str, float | None]:
    """Scalar values of `logs` as floats; NaN and inf become None (strict JSON)."""
    metrics: dict[str, float | None] = {}
    for key, value in (logs or {}).items():
        try:
            array = np.asarray(keras.ops.convert_to_numpy(value), dtype="float64")
        except (TypeError, ValueError):
            continue
        if array.size == 1:
            number = float(array.reshape(()))
            metrics[str(key)] = number if math.isfinite(number) else None
    return metrics


def _json_copy(states: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A strict-JSON copy of the callbacks' states, taken now (training goes on changing them)."""
    copies = []
    for state in states:
        try:
            copies.append(json.loads(json.dumps(dict(state), allow_nan=False)))
        except (TypeError, ValueError) as error:
            kind = state.get("kind") if isinstance(state, Mapping) else None
            raise CheckpointError(
                f"The state of callback {kind!r} cannot go into its checkpoint record ({error}): "
                "get_state() must return a strict-JSON dict (encode non-finite floats with "
                "kerastools.callbacks.state.encode_float)."
            ) from error
    return copies


@functools.cache
def _writer() -> concurrent.futures.ThreadPoolExecutor:
    """The process's one writer thread, started at the first save and kept (no start per fit)."""
    return concurrent.futures.ThreadPoolExecutor(1, "kerastools-checkpoint")


class CheckpointStore:
    """Write checkpoint files and their records into one directory, one save at a time.

    `open()` locks the directory and cleans up what a kill left; `save()`
    copies the state and hands the rest to the writer thread; `close()` waits
    until all is on disk, raises a failed write's error and unlocks. Internal:
    `PeriodicCheckpoint` checked the arguments. `keep_last` keeps the newest
    periodic files (None: all); with `background`, `save()` returns once the
    state is copied (a kill then keeps the save before); `save_format` is
    `"weights"` (`.weights.h5`) or `"keras"` (`.keras` archives).

    Examples:
        >>> store = CheckpointStore(tmp_path, keep_last=1)
        >>> store.open()
        >>> for epoch in (1, 2):
        ...     store.save(model, [(f"epoch-{epoch:04d}.weights.h5", "epoch")], epoch=epoch,
        ...                step=0, logs={"loss": 0.5})
        >>> store.close()
        >>> sorted(path.name for path in tmp_path.iterdir())
        ['epoch-0002.weights.h5', 'epoch-0002.weights.h5.json']
    """

    def __init__(
        self, directory: str | os.PathLike[str], *, keep_last: int | None = None,
        include_optimizer: bool = True, background: bool = False,
        save_format: SaveFormat = "weights",
    ) -> None:
        self.directory = Path(directory)
        self.save_format = save_format
        self.background = background
        self.keep_last = keep_last
        self.include_optimizer = include_optimizer
        # What the writer keeps of the directory between saves: its periodic records in save
        # order, by name (a re-saved name moves to the end), and the next save's number.
        self._periodic: dict[str, CheckpointInfo] | None = None
        self._sequence = 0
        self._rule: tuple[str | None, str | None] = (None, None)
        self._future: concurrent.futures.Future[None] | None = None
        self._lock = WriterLock(self.directory)
        own = weakref.ref(self)  # not a bound method: the store must stay collectable (its lock)
        self._lock.flush = lambda consume: None if (store := own()) is None else store._flush(consume)

    @property
    def is_open(self) -> bool:
        """Whether `open()` was called, so `save()` may be."""
        return self._periodic is not None

    def open(
        self, monitor: str | None = None, mode: str | None = None, *, owner: object = None
    ) -> float | None:
        """Lock and prepare the directory; return the best file's value of `monitor` (None
        unless saved under the same `monitor` and `mode`). `owner`: see `WriterLock.acquire`.

        CheckpointError when the directory cannot be created or written, a record
        is not valid, or another writer holds it.
        """
        self._flush(consume=True)  # a fit that raised skipped close(): its write may still run
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise CheckpointError(
                f"Cannot create the checkpoint directory {self.directory}: {error}"
            ) from error
        if not os.access(self.directory, os.W_OK):  # read-only: fail now, not at the first save
            raise CheckpointError(
                f"The checkpoint directory {self.directory} is not writable: no checkpoint can be "
                "saved there. Allowed: a directory this process can write; pass another directory."
            )
        self._lock.acquire(owner)  # one writer per directory, until close()
        try:
            index = open_for_writing(self.directory)
        except BaseException:
            self._lock.release()
            raise
        self._periodic = {info.path.name: info for info in index.checkpoints}
        self._sequence, self._rule = index.next_sequence, (monitor, mode)
        best = index.best
        if monitor is None or best is None or (best.monitor, best.mode) != (monitor, mode):
            return None
        return best.metrics.get(monitor)

    def save(
        self, model: keras.Model, files: list[tuple[str, Kind]], *, epoch: int, step: int,
        logs: Mapping[str, Any] | None, callback_states: Sequence[Mapping[str, Any]] = (),
        training_state: Mapping[str, Any] | None = None,
    ) -> None:
        """Copy the state of `model` now; write `files` ((name, kind) pairs, one state) and
        their records on the writer thread, with the callbacks' and training state.

        CheckpointError when the store is not open, a callback state is not strict
        JSON, or this write (`background=False`) or the previous one failed.
        """
        if self._periodic is None:
            raise CheckpointError("CheckpointStore.save() before open().")
        self._wait()  # one save in flight: bounds the memory of host copies; raises its error
        record = CheckpointInfo(
            path=self.directory, kind="epoch", epoch=epoch, step=step,
            metrics=_plain_metrics(logs), wall_time=time.time(),
            callback_states=_json_copy(callback_states),
            training_state=None if training_state is None else _json_copy([training_state])[0],
            monitor=self._rule[0], mode=self._rule[1], sequence=self._sequence,
            includes_optimizer=bool(saved_optimizers(model, self.include_optimizer)),
        )
        build = self._snapshot(model, self.directory / files[0][0])
        self._sequence += 1
        self._future = _writer().submit(self._write, self._periodic, build, files, record)
        if not self.background:
            self._wait()  # durable before training goes on: a kill after this keeps this save

    def close(self) -> None:
        """Wait until every file is on disk; a failed write raises here. Unlocks the directory."""
        try:
            self._wait()
        finally:
            self._lock.release()

    def _wait(self) -> None:
        future, self._future = self._future, None
        if future is not None:
            future.result()

    def _flush(self, consume: bool) -> None:
        """Wait for the write in flight; `consume`: also take its error (logged: its fit is over)."""
        future = self._future
        if consume:
            self._future = None
        error = None if future is None else future.exception()  # waits for it
        if consume and error is not None:
            logger.warning("The last checkpoint write of an earlier fit failed: %s", error)

    def _snapshot(self, model: keras.Model, target: Path) -> Callable[[], bytes | memoryview]:
        """Take the state now, on the training thread; return what builds the file's bytes."""
        mark_built(model, target)
        if self.save_format == "keras":
            data = write_archive(model, target)
            return lambda: data
        return snapshot_weights(model, target, self.include_optimizer)

    def _write(
        self, periodic: dict[str, CheckpointInfo], build: Callable[[], bytes | memoryview],
        files: list[tuple[str, Kind]], record: CheckpointInfo,
    ) -> None:
        """On the writer thread: each file, then its record; then `keep_last`."""
        data = build()
        sha256 = start_sha256(data)  # hashed while the first file is written
        # The files of one save share its number: they hold the same state.
        for name, kind in files:
            info = dataclasses.replace(record, path=self.directory / name, kind=kind, size=len(data))
            if kind == "best":
                self._replace_best(info, data, sha256)
                continue
            write_durably(data, info.path)
            info = dataclasses.replace(info, sha256=sha256())
            write_record(info)  # the commit
            periodic.pop(name, None)
            periodic[name] = info
            self._retain(periodic)

    def _replace_best(
        self, info: CheckpointInfo, data: bytes | memoryview, sha256: Callable[[], str]
    ) -> None:
        """Next record, file renamed over the old, record: a kill anywhere leaves a file and a
        record that match. (The next record waits for the hash, not for the bytes on disk.)"""
        write_durably(
            data, info.path,
            before_rename=lambda: write_record(dataclasses.replace(info, sha256=sha256()), next_best=True),
        )
        info = dataclasses.replace(info, sha256=sha256())
        write_record(info)
        info.path.with_name(info.path.name + NEXT_SUFFIX).unlink(missing_ok=True)

    def _retain(self, periodic: dict[str, CheckpointInfo]) -> None:
        while self.keep_last is not None and len(periodic) > self.keep_last:
            remove_checkpoint(periodic.pop(next(iter(periodic))))  # the oldest
