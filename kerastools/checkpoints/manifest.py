"""The manifest: the directory's index of checkpoint files, a snapshot plus a journal.

The index lists every periodic file and the best file with the epoch, step,
metrics, wall time, size and SHA-256 it was saved with. It lives in two files:

- `manifest.json`, a snapshot of the whole index, replaced atomically
  (temporary file, fsync, rename), with the `sequence` number of the last
  journal entry it includes;
- `manifest.jsonl`, the journal (`kerastools.checkpoints.journal`): one
  checksummed entry per line, numbered on from the snapshot's `sequence`,
  appended and fsynced by each save. An entry `add`s a record, `remove`s a
  periodic file pruned by `keep_last`, records a `pending` replacement or
  sets the `rule` (monitor and mode) of the best file.

So a save appends a few hundred bytes, whatever the number of records.
Readers take the snapshot and replay the journal after its `sequence`
(opening the journal first, so a compaction in between loses nothing); a
torn last line (a kill mid-append) is ignored. `compact` writes a new
snapshot and deletes the journal: at `close()` (the end of `fit`), on
opening a directory a kill interrupted during a best-file replacement, and
mid-run only once the journal holds 10,000 lines more than twice its records.

A file being replaced in place (`best.weights.h5`) is first recorded as
*pending* (journaled and fsynced before the rename), so a kill between its
rename and the `add` still leaves a record that matches the file on disk.

Examples:
    >>> cb = kt.callbacks.PeriodicCheckpoint(tmp_path, save_best="loss")
    >>> _ = model.fit(x, y, epochs=2, verbose=0, callbacks=[cb])
    >>> from kerastools.checkpoints.manifest import read_manifest
    >>> manifest = read_manifest(tmp_path)
    >>> sorted(manifest.names()), manifest.monitor, manifest.mode
    (['best.weights.h5', 'epoch-0001.weights.h5', 'epoch-0002.weights.h5'], 'loss', 'min')
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kerastools._atomic import atomic_path
from kerastools.checkpoints.journal import JOURNAL_NAME, JournalContent, decode_journal
from kerastools.checkpoints.record_values import (
    Kind,
    check_count,
    check_file_name,
    check_flag,
    check_kind,
    check_metrics,
    check_real,
)
from kerastools.checkpoints.safe_read import MAX_JSON_BYTES, parse_json, read_regular
from kerastools.checkpoints.training_state import check_training_state
from kerastools.errors import CheckpointError

__all__ = [
    "BEST_NAME",
    "MANIFEST_NAME",
    "CheckpointInfo",
    "JOURNAL_NAME",
    "Manifest",
    "read_manifest",
    "read_manifest_and_journal",
    "write_manifest",
]

MANIFEST_NAME = "manifest.json"
BEST_NAME = "best.weights.h5"
MANIFEST_FORMAT = "kerastools-checkpoints"
# 2: the snapshot has a `sequence` and may be followed by a journal. Written as 2
# so that a kerastools that ignores the journal refuses the directory rather than
# missing records (and deleting their files as orphans).
MANIFEST_VERSION = 2


@dataclass(frozen=True)
class CheckpointInfo:
    """One checkpoint file as the manifest records it.

    Examples:
        >>> cb = kt.callbacks.PeriodicCheckpoint(tmp_path)
        >>> _ = model.fit(x, y, epochs=2, verbose=0, callbacks=[cb])
        >>> info = kt.checkpoints.list_checkpoints(tmp_path)[-1]
        >>> info.path.name, info.epoch, info.step, sorted(info.metrics)
        ('epoch-0002.weights.h5', 2, 4, ['loss'])

    Attributes:
        path: the file.
        kind: `"epoch"`, `"step"` (periodic files) or `"best"`; for a Keras
            file `load_checkpoint` read directly, `"keras-file"` (a single
            `.weights.h5` or `.keras` file) or `"keras-backup"` (a
            `BackupAndRestore` directory).
        epoch: epochs whose training batches are all in these weights: the
            `initial_epoch` to resume from.
        step: optimizer steps taken (batches, unless gradient accumulation).
        metrics: the values in `logs` when it was saved (non-finite ones
            are `None`).
        wall_time: when it was saved, seconds since the epoch (`time.time()`).
        size: the file's size in bytes.
        sha256: the file's SHA-256, hex.
        includes_optimizer: whether the optimizer state is in the file.
        callback_states: the `get_state()` dicts of the callbacks of
            `PeriodicCheckpoint(callbacks=...)` at the save, for
            `resume(..., callbacks=...)`; empty when none were recorded.
        training_state: what an exact resume needs besides the file
            (`kerastools.checkpoints.training_state`): batches done in the
            running epoch, data seed, seed generators' states, mid-epoch
            metric totals. None in older records.
    """

    path: Path
    kind: Kind
    epoch: int
    step: int
    metrics: dict[str, float | None] = field(default_factory=dict)
    wall_time: float = 0.0
    size: int = 0
    sha256: str = ""
    includes_optimizer: bool = True
    callback_states: list[dict[str, Any]] = field(default_factory=list)
    training_state: dict[str, Any] | None = None

    def _to_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "file": self.path.name,
            "kind": self.kind,
            "epoch": self.epoch,
            "step": self.step,
            "metrics": self.metrics,
            "wall_time": self.wall_time,
            "size": self.size,
            "sha256": self.sha256,
            "includes_optimizer": self.includes_optimizer,
        }
        if self.callback_states:  # left out when empty: records stay as they were
            record["callback_states"] = self.callback_states
        if self.training_state is not None:  # likewise
            record["training_state"] = self.training_state
        return record

    @classmethod
    def _from_record(cls, directory: Path, record: Mapping[str, Any]) -> CheckpointInfo:
        name = check_file_name(record["file"])  # a manifest must not point outside its directory
        try:
            return cls(
                path=directory / name, kind=check_kind(record["kind"]),
                epoch=check_count("epoch", record["epoch"]), metrics=check_metrics(record["metrics"]),
                step=check_count("step", record["step"]),
                wall_time=check_real("wall_time", record["wall_time"]),
                size=check_count("size", record["size"]), sha256=str(record["sha256"]),
                includes_optimizer=check_flag("includes_optimizer", record["includes_optimizer"]),
                callback_states=_callback_states(name, record.get("callback_states", [])),
                training_state=check_training_state(name, record.get("training_state")),
            )
        except ValueError as error:
            raise ValueError(f"{error}, in the record of {name!r}") from None


def _callback_states(name: str, states: Any) -> list[dict[str, Any]]:
    """The record's `callback_states`: a list of dicts, each with a string `kind`."""
    if not isinstance(states, list) or not all(
        isinstance(state, dict) and isinstance(state.get("kind"), str) for state in states
    ):
        raise ValueError(
            f"`callback_states` of {name!r} must be a list of objects with a string `kind`, "
            f"not {states!r}"
        )
    return states


@dataclass
class Manifest:
    """The directory's index, as read from `manifest.json` and its journal.

    `pending` holds the record of a file being replaced in place
    (best.weights.h5): a kill between the rename and the `add` leaves a file
    that matches the pending record. `sequence` is the number of the last
    journal entry applied.

    Examples:
        >>> manifest = Manifest(tmp_path)
        >>> info = CheckpointInfo(tmp_path / "epoch-0001.weights.h5", "epoch", 1, 2)
        >>> manifest.add(info, keep_last=None)
        []
        >>> sorted(manifest.names())
        ['epoch-0001.weights.h5']
    """

    directory: Path
    checkpoints: list[CheckpointInfo] = field(default_factory=list)
    best: CheckpointInfo | None = None
    monitor: str | None = None
    mode: str | None = None
    pending: list[CheckpointInfo] = field(default_factory=list)
    sequence: int = 0
    # The names in `checkpoints`, so a save does not scan every record.
    _names: set[str] = field(default_factory=set, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._names = {info.path.name for info in self.checkpoints}

    def names(self) -> set[str]:
        """The file names the manifest lists (pending records excluded)."""
        names = {info.path.name for info in self.checkpoints}
        if self.best is not None:
            names.add(self.best.path.name)
        return names

    def lists(self, name: str) -> bool:
        """Whether the manifest lists a file of that name (without building `names()`)."""
        if len(self._names) != len(self.checkpoints):  # `checkpoints` was replaced
            self._names = {info.path.name for info in self.checkpoints}
        return name in self._names or (self.best is not None and self.best.path.name == name)

    def add(self, info: CheckpointInfo, keep_last: int | None) -> list[CheckpointInfo]:
        """Record `info`; return the periodic records `keep_last` drops."""
        if info.kind == "best":
            self.best = info
            return []
        if self.lists(info.path.name):
            self.remove(info.path.name)
        self.checkpoints.append(info)
        self._names.add(info.path.name)
        if keep_last is None or len(self.checkpoints) <= keep_last:
            return []
        dropped = self.checkpoints[:-keep_last]
        self.checkpoints = self.checkpoints[-keep_last:]
        self._names = {info.path.name for info in self.checkpoints}
        return dropped

    def remove(self, name: str) -> None:
        """Forget the periodic record of `name` (nothing when there is none)."""
        self.checkpoints = [old for old in self.checkpoints if old.path.name != name]
        self._names.discard(name)

    def apply(self, entry: Mapping[str, Any]) -> None:
        """Apply one journal entry (see the module docstring); it must be the next in sequence.

        Raises:
            ValueError: the entry is out of sequence or not valid.
        """
        if check_count("seq", entry["seq"]) != self.sequence + 1:
            raise ValueError(f"journal entry {entry['seq']} follows entry {self.sequence}")
        event = entry["event"]
        if event == "add":
            self.pending = []
            self.add(CheckpointInfo._from_record(self.directory, entry["checkpoint"]), None)
        elif event == "remove":
            self.remove(str(entry["file"]))
        elif event == "pending":
            self.pending = [CheckpointInfo._from_record(self.directory, entry["checkpoint"])]
        elif event == "rule":
            self.monitor, self.mode = entry["monitor"], entry["mode"]
        else:
            raise ValueError(f"unknown journal event {event!r}")
        self.sequence += 1

    def to_json(self) -> str:
        """One record per line: readable, and without `indent`, which would
        make `json` use its pure-Python encoder (rewritten at every save)."""

        def dump(value: Any) -> str:
            return json.dumps(value, allow_nan=False)

        def records(infos: list[CheckpointInfo]) -> str:
            if not infos:
                return "[]"
            return "[\n  " + ",\n  ".join(dump(info._to_record()) for info in infos) + "\n ]"

        best = "null" if self.best is None else dump(self.best._to_record())
        return (
            f'{{"format": {dump(MANIFEST_FORMAT)}, "version": {MANIFEST_VERSION}, '
            f'"sequence": {self.sequence}, '
            f'"monitor": {dump(self.monitor)}, "mode": {dump(self.mode)},\n'
            f' "checkpoints": {records(self.checkpoints)},\n'
            f' "best": {best},\n'
            f' "pending": {records(self.pending)}}}\n'
        )


def _parse_manifest(directory: Path, document: Any) -> Manifest:
    if document.get("format") != MANIFEST_FORMAT:
        raise ValueError(f"format is {document.get('format')!r}, not {MANIFEST_FORMAT!r}")
    if int(document.get("version", 0)) > MANIFEST_VERSION:
        raise ValueError(
            f"version {document['version']} is newer than this kerastools reads "
            f"({MANIFEST_VERSION})"
        )
    best = document.get("best")
    return Manifest(
        directory=directory,
        checkpoints=[CheckpointInfo._from_record(directory, r) for r in document["checkpoints"]],
        best=None if best is None else CheckpointInfo._from_record(directory, best),
        monitor=document.get("monitor"),
        mode=document.get("mode"),
        pending=[CheckpointInfo._from_record(directory, r) for r in document.get("pending", [])],
        sequence=check_count("sequence", document.get("sequence", 0)),
    )


def _invalid(path: Path, error: Exception, how: str) -> CheckpointError:
    return CheckpointError(
        f"The checkpoint manifest {path} is not valid ({error}). It is written {how}, "
        "so it was edited or damaged after the fact: restore it, or give a new run another "
        "directory (its files are never deleted: a run here moves unlisted ones aside)."
    )


def _read_bytes(path: Path) -> bytes | None:
    try:
        return read_regular(path, cap=MAX_JSON_BYTES)  # a FIFO, /dev/zero, a huge file: refused
    except CheckpointError as error:
        raise CheckpointError(f"Cannot read the checkpoint manifest {path}: {error}") from None


def read_manifest_and_journal(directory: Path) -> tuple[Manifest, JournalContent]:
    """The manifest of `directory` (snapshot and journal), and what the journal holds.

    The journal is read before the snapshot: a compaction in between makes
    the snapshot newer, never older, than the journal read.

    Examples:
        >>> manifest, journal = read_manifest_and_journal(tmp_path)
        >>> manifest.checkpoints, journal.entries, journal.torn
        ([], [], False)

    Raises:
        CheckpointError: a file cannot be read or is not valid.
    """
    directory = Path(directory)
    journal_path = directory / JOURNAL_NAME
    journal_raw = _read_bytes(journal_path)
    path = directory / MANIFEST_NAME
    raw = _read_bytes(path)
    try:
        # Decoding inside this try: a flipped byte can make the file invalid UTF-8.
        manifest = (
            Manifest(directory) if raw is None
            else _parse_manifest(directory, parse_json(raw, path))
        )
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise _invalid(path, error, "atomically") from error
    try:
        journal = decode_journal(journal_raw or b"")
        for entry in journal.entries:
            if int(entry["seq"]) > manifest.sequence:  # older ones are in the snapshot
                manifest.apply(entry)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise _invalid(journal_path, error, "by appending checksummed lines") from error
    return manifest, journal


def read_manifest(directory: Path) -> Manifest:
    """The manifest of `directory` (snapshot and journal); an empty one when there is none yet.

    Examples:
        >>> read_manifest(tmp_path).checkpoints
        []

    Raises:
        CheckpointError: the manifest cannot be read or is not valid.
    """
    return read_manifest_and_journal(directory)[0]


def write_manifest(manifest: Manifest) -> None:
    """Replace `manifest.json` atomically (temporary file, fsync, rename) with a snapshot.

    The snapshot includes the journal entries up to `manifest.sequence`;
    the journal can be deleted once this returns (see `ManifestWriter`).

    Examples:
        >>> write_manifest(Manifest(tmp_path, monitor="loss", mode="min"))
        >>> read_manifest(tmp_path).monitor
        'loss'

    Raises:
        CheckpointError: the file cannot be written.
    """
    target = manifest.directory / MANIFEST_NAME
    try:
        # atomic_path fsyncs the temporary file before renaming it.
        with atomic_path(target) as temporary:
            temporary.write_text(manifest.to_json(), encoding="utf-8")
    except OSError as error:
        raise CheckpointError(f"Cannot write the checkpoint manifest {target}: {error}") from error
