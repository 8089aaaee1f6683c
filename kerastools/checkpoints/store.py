"""The writing side of a checkpoint directory: files, manifest, pruning, one writer thread.

`CheckpointStore` is how `kerastools.callbacks.PeriodicCheckpoint` writes:
the callback decides when to save and what is best; the store copies the
state to host memory, writes the file and the manifest on a writer thread
(and waits for it, unless `background=True`), replaces the best file
through a pending record, prunes to `keep_last` and cleans up what a kill
left behind.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from kerastools.checkpoints.archive import SaveFormat, write_archive
from kerastools.checkpoints.file_format import take_state, write_checkpoint_file
from kerastools.checkpoints.in_memory import place_bytes
from kerastools.checkpoints.integrity import RecordFields
from kerastools.checkpoints.keras_format import can_write, saved_optimizers, write_snapshot
from kerastools.checkpoints.leftovers import remove_stale_temporaries, set_aside_unlisted
from kerastools.checkpoints.manifest import CheckpointInfo, Manifest
from kerastools.checkpoints.manifest_writer import ManifestWriter
from kerastools.checkpoints.record_values import Kind
from kerastools.checkpoints.writer_lock import WriterLock
from kerastools.errors import CheckpointError

__all__ = ["CheckpointStore"]

# Writes one file of a save: (target, is the last file of the save, fields=, before_replace=)
# -> its record.
_FileWriter = Callable[..., CheckpointInfo]

logger = logging.getLogger(__name__)

# The last write submitted for each directory, by any CheckpointStore. A fit
# that raised (Ctrl-C in a notebook) skips on_train_end, so its last write may
# still be running when the next fit on that directory starts.
_LAST_WRITE: dict[Path, concurrent.futures.Future[None]] = {}
_LAST_WRITE_LOCK = threading.Lock()


def _wait_for_earlier_writes(directory: Path) -> None:
    with _LAST_WRITE_LOCK:
        future = _LAST_WRITE.pop(directory.resolve(), None)
    if future is None:
        return
    error = future.exception()  # waits; the error belongs to the earlier fit
    if error is not None:
        logger.warning("The last checkpoint write of an earlier fit failed: %s", error)


class _BackgroundWriter:
    """Runs checkpoint writes on one thread, one at a time, in order.

    Training continues while a file is written and fsynced; at most one write
    is in flight (a new save first waits for the previous one), which bounds
    the memory held by snapshots. A failed write raises in the training
    thread at the next save or at the end of `fit`.
    """

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._future: concurrent.futures.Future[None] | None = None

    def submit(self, job: Callable[[], None]) -> None:
        self.wait()
        if self._executor is None:
            self._executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="kerastools-checkpoint"
            )
        self._future = self._executor.submit(job)
        with _LAST_WRITE_LOCK:
            _LAST_WRITE[self._directory.resolve()] = self._future

    def wait(self) -> None:
        future, self._future = self._future, None
        if future is not None:
            future.result()

    def reset(self) -> None:
        """Forget the last write (`_wait_for_earlier_writes` still sees it)."""
        self._future = None
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None

    def close(self) -> None:
        try:
            self.wait()
        finally:
            if self._executor is not None:
                self._executor.shutdown(wait=True)
                self._executor = None


def _plain_metrics(logs: Mapping[str, Any] | None) -> dict[str, float | None]:
    """Scalar values of `logs` as floats; NaN and inf become None (strict JSON)."""
    metrics: dict[str, float | None] = {}
    for key, value in (logs or {}).items():
        try:
            array = np.asarray(keras.ops.convert_to_numpy(value), dtype="float64")
        except (TypeError, ValueError):
            continue
        if array.size != 1:
            continue
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
                f"The state of callback {kind!r} cannot go into the manifest ({error}): "
                "get_state() must return a strict-JSON dict (encode non-finite floats with "
                "kerastools.callbacks.state.encode_float)."
            ) from error
    return copies


class CheckpointStore:
    """Write checkpoint files and the manifest of one directory, durably or in the background.

    `open()` prepares the directory (it waits for a write an interrupted
    earlier fit left running, locks the directory against a second writer,
    removes temporary files a kill left and the files its journal pruned,
    moves other unlisted checkpoint files aside into `unlisted-<time>/`
    (`checkpoints.leftovers`), and settles a pending best-file replacement);
    `save()` copies the state to host memory and has one writer thread
    write the files and the manifest, one save at a time; `close()` waits
    until everything is on disk and raises the error of a failed write.
    One store (one writer) per directory. An internal class: it trusts its
    arguments, which `PeriodicCheckpoint` (the public entry point) checked.

    By default `save()` returns once its files and the manifest are on disk
    (fsynced and renamed), so a kill right after it loses nothing it saved.
    With `background=True` it returns as soon as the state is copied and
    the write overlaps training: a kill before that write ends falls back
    to the save before it.

    Examples:
        >>> store = CheckpointStore(tmp_path, keep_last=1)
        >>> store.open()
        >>> for epoch in (1, 2):
        ...     store.save(model, [(f"epoch-{epoch:04d}.weights.h5", "epoch")], epoch=epoch,
        ...                step=0, logs={"loss": 0.5})
        >>> store.close()
        >>> sorted(path.name for path in tmp_path.iterdir())
        ['epoch-0002.weights.h5', 'manifest.json']

    Args:
        directory: where the files and `manifest.json` go; created by `open()`.
        keep_last: keep only the newest this many periodic files (the best
            file is kept apart); None keeps all. Defaults to None.
        include_optimizer: also save the optimizer's step counter and slot
            variables. Defaults to True.
        on_saved: called with the record of each file written, on the
            writer thread. Defaults to None.
        background: return from `save()` before the files are on disk (the
            next `save()` or `close()` waits for them). Defaults to False.
        save_format: `"weights"` (`model.save_weights`) or `"keras"` (full
            `.keras` archives through `model.save`; name the files
            `*.keras`; it needs `include_optimizer=True`). Defaults to `"weights"`.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        keep_last: int | None = None,
        include_optimizer: bool = True,
        on_saved: Callable[[CheckpointInfo], None] | None = None,
        background: bool = False,
        save_format: SaveFormat = "weights",
    ) -> None:
        # Internal: PeriodicCheckpoint, the public entry point, checked these arguments.
        self.directory = Path(directory)
        self.save_format = save_format
        self.background = background
        self.keep_last = keep_last
        self.include_optimizer = include_optimizer
        self._on_saved = on_saved
        self._manifest: Manifest | None = None
        self._manifest_writer = ManifestWriter(self.directory)
        self._writer = _BackgroundWriter(self.directory)
        self._lock = WriterLock(self.directory)

    @property
    def is_open(self) -> bool:
        """Whether `open()` was called, so `save()` may be."""
        return self._manifest is not None

    def open(
        self, monitor: str | None = None, mode: str | None = None, *, owner: object = None
    ) -> float | None:
        """Prepare the directory for saving; return the recorded best value of `monitor`.

        The value is the best file's, when the directory was kept with the
        same `monitor` and `mode`; None otherwise (or without a monitor).
        The directory stays locked against other writers until `close()`;
        `owner` names the run (`checkpoints.writer_lock.WriterLock.acquire`).

        Raises:
            CheckpointError: the directory cannot be created or written, its
                manifest is not valid, or another writer holds it (the message
                names its pid and host).
        """
        # A fit that raised skipped close(): its write may still be running.
        self._writer.reset()
        _wait_for_earlier_writes(self.directory)
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
            return self._open_locked(monitor, mode)
        except BaseException:
            self._lock.release()
            raise

    def _open_locked(self, monitor: str | None, mode: str | None) -> float | None:
        stale = remove_stale_temporaries(self.directory)
        if stale:
            logger.info("Removed %d unfinished checkpoint writes: %s", len(stale), stale)
        # Settles (and compacts) a best-file replacement a kill interrupted.
        manifest = self._manifest_writer.open(self.keep_last)
        recorded = None
        if monitor is not None:
            if (manifest.monitor, manifest.mode) == (monitor, mode) and manifest.best is not None:
                recorded = manifest.best.metrics.get(monitor)
            manifest.monitor, manifest.mode = monitor, mode
        self._manifest = manifest
        # Never deletes what the manifest does not list, unless its journal pruned it.
        deleted, _ = set_aside_unlisted(manifest, self._manifest_writer.dropped)
        if deleted:
            logger.info("Removed checkpoint files the journal had pruned: %s", deleted)
        return recorded

    def save(
        self,
        model: keras.Model,
        files: list[tuple[str, Kind]],
        *,
        epoch: int,
        step: int,
        logs: Mapping[str, Any] | None,
        callback_states: Sequence[Mapping[str, Any]] = (),
        training_state: Mapping[str, Any] | None = None,
    ) -> None:
        """Copy the state of `model` now and write `files` and the manifest.

        `files` are (name, kind) pairs; all get the same state and record.
        `callback_states` (callbacks' `get_state()` dicts) and
        `training_state` (`checkpoints.training_state.capture`) go into the record.
        Returns once they are on disk, or at once with `background=True`.

        Raises:
            CheckpointError: the store is not open, a callback state is not
                strict JSON, this write failed, or (with `background=True`)
                the previous one did.
        """
        manifest = self._manifest
        if manifest is None:
            raise CheckpointError("CheckpointStore.save() before open().")
        states = _json_copy(callback_states)
        training = None if training_state is None else _json_copy([training_state])[0]
        metrics = _plain_metrics(logs)
        wall_time = time.time()
        writer = self._snapshot(model, files)
        self._writer.submit(
            lambda: self._write(
                manifest, writer, files, epoch, step, metrics, wall_time, states, training
            )
        )
        if not self.background:
            # Durable before training goes on: a kill after this line keeps this save.
            self._writer.wait()

    def close(self) -> None:
        """Wait until every file is on disk, then compact the manifest; a failed write raises here."""
        try:
            try:
                self._writer.close()
            except BaseException:
                self._manifest_writer.release()  # the next open() reads the journal as it is
                raise
            if self._manifest is not None:
                self._manifest_writer.close()
        finally:
            self._lock.release()

    def _snapshot(self, model: keras.Model, files: list[tuple[str, Kind]]) -> _FileWriter:
        """Take the state now, on the training thread; return what writes each file of it.

        Keras' own `.weights.h5` through `model.save_weights`; a model Keras
        refuses to save (never marked built) gets the 0.1 format. With
        `save_format="keras"`, Keras' `.keras` archive through `model.save`.
        """
        target = self.directory / files[0][0]
        if self.save_format == "keras":
            snapshot = write_archive(model, target)
        elif not can_write(model):
            state = take_state(model, self.include_optimizer)
            return lambda target, **record: write_checkpoint_file(state, target, **record)
        else:
            snapshot = write_snapshot(model, target, self.include_optimizer)
        includes_optimizer = bool(saved_optimizers(model, self.include_optimizer))

        def place(target: Path, **record: Any) -> CheckpointInfo:
            return place_bytes(snapshot, target, includes_optimizer=includes_optimizer, **record)

        return place

    def _write(
        self,
        manifest: Manifest,
        write_file: _FileWriter,
        files: list[tuple[str, Kind]],
        epoch: int,
        step: int,
        metrics: dict[str, float | None],
        wall_time: float,
        states: list[dict[str, Any]],
        training: dict[str, Any] | None = None,
    ) -> None:
        def with_states(info: CheckpointInfo) -> CheckpointInfo:
            return dataclasses.replace(info, callback_states=states, training_state=training)

        def record_pending(info: CheckpointInfo) -> None:
            # Replacing a file the manifest lists (best.weights.h5): journal
            # the new version first, so a kill right after the rename still
            # finds a record that matches the file.
            self._manifest_writer.record_pending(with_states(info))

        fields = [RecordFields(kind, epoch, step, metrics, wall_time) for _, kind in files]
        dropped: list[CheckpointInfo] = []
        for position, (name, _) in enumerate(files):
            info = write_file(
                self.directory / name,
                fields=fields[position],
                before_replace=record_pending if manifest.lists(name) else None,
            )
            info = with_states(info)
            dropped += self._manifest_writer.add(info, self.keep_last)
            if self._on_saved is not None:
                self._on_saved(info)
        self._commit(manifest, dropped)

    def _commit(self, manifest: Manifest, dropped: list[CheckpointInfo]) -> None:
        """Journal the save's records (one fsync), then delete the files `keep_last` dropped."""
        self._manifest_writer.commit(dropped)
