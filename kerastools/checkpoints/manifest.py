"""The manifest: the directory's JSON index of checkpoint files, written atomically.

`manifest.json` lists every periodic file and the best file with the epoch,
step, metrics, wall time, size and SHA-256 it was saved with. A file being
replaced in place (`best.weights.h5`) is first recorded as *pending*, so a
kill between its rename and the next manifest write still leaves a record
that matches the file on disk.

Examples:
    >>> cb = kt.callbacks.PeriodicCheckpoint(tmp_path, save_best="loss")
    >>> _ = model.fit(x, y, epochs=2, verbose=0, callbacks=[cb])
    >>> from kerastools.checkpoints.manifest import read_manifest
    >>> manifest = read_manifest(tmp_path)
    >>> sorted(manifest.names()), manifest.monitor, manifest.mode
    (['best.weights.h5', 'epoch-0001.weights.h5', 'epoch-0002.weights.h5'], 'loss', 'min')
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from kerastools._atomic import atomic_path
from kerastools.checkpoints.integrity import file_sha256
from kerastools.checkpoints.training_state import check_training_state
from kerastools.errors import CheckpointError

__all__ = [
    "BEST_NAME",
    "MANIFEST_NAME",
    "CheckpointInfo",
    "Kind",
    "Manifest",
    "read_manifest",
    "remove_orphans",
    "remove_stale_temporaries",
    "settle_pending",
    "write_manifest",
]

MANIFEST_NAME = "manifest.json"
BEST_NAME = "best.weights.h5"
MANIFEST_FORMAT = "kerastools-checkpoints"
MANIFEST_VERSION = 1
_PERIODIC_NAME = re.compile(r"^(epoch-\d{4,}|step-\d{8,})\.weights\.h5$")
# Temporary files left by a kill mid-write (see kerastools._atomic.atomic_path).
# ".tmp" ends atomic writes; ".tmp.weights.h5" ends snapshots (Keras wants ".weights.h5").
_STALE_TEMPORARY = re.compile(r"^\.(epoch-\d+|step-\d+|best|manifest)\..*\.tmp(\.weights\.h5)?$")

Kind = Literal["epoch", "step", "best"]


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
        kind: `"epoch"`, `"step"` (periodic files) or `"best"`.
        epoch: epochs whose training batches are all in these weights: the
            `initial_epoch` to resume from.
        step: optimizer steps taken (batches, unless gradient accumulation).
        metrics: the values in `logs` when it was saved (non-finite ones
            are `None`).
        wall_time: when it was saved, seconds since the epoch (`time.time()`).
        size: the file's size in bytes.
        sha256: the file's SHA-256, hex.
        includes_optimizer: whether the optimizer state is in the file.
        callback_states: the `get_state()` dicts of the callbacks that
            `PeriodicCheckpoint(callbacks=...)` records, taken at the save;
            `resume(..., callbacks=...)` gives them back. Empty for records
            without it (older checkpoints, or no callbacks given).
        training_state: what an exact resume needs besides the file (see
            `kerastools.checkpoints.training_state`): the epoch and the
            batches done in the running epoch, the data seed, the seed
            generators' states and, mid-epoch, the metrics' totals. None
            for records without it (older checkpoints).
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
        name = str(record["file"])
        if Path(name).name != name:  # a manifest must not point outside its directory
            raise ValueError(f"file name {name!r} is not a plain file name")
        kind = str(record["kind"])
        if kind not in ("epoch", "step", "best"):
            raise ValueError(f"unknown kind {kind!r}")
        return cls(
            path=directory / name,
            kind=kind,  # type: ignore[arg-type]
            epoch=int(record["epoch"]),
            step=int(record["step"]),
            metrics={
                str(k): (None if v is None else float(v)) for k, v in record["metrics"].items()
            },
            wall_time=float(record["wall_time"]),
            size=int(record["size"]),
            sha256=str(record["sha256"]),
            includes_optimizer=bool(record["includes_optimizer"]),
            callback_states=_callback_states(name, record.get("callback_states", [])),
            training_state=(
                None
                if record.get("training_state") is None
                else check_training_state(name, record["training_state"])
            ),
        )


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
    """The directory's index, as read from or written to `manifest.json`.

    `pending` holds the record of a file being replaced in place
    (best.weights.h5): a kill between the rename and the next manifest
    write leaves a file that matches the pending record.

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

    def names(self) -> set[str]:
        """The file names the manifest lists (pending records excluded)."""
        names = {info.path.name for info in self.checkpoints}
        if self.best is not None:
            names.add(self.best.path.name)
        return names

    def add(self, info: CheckpointInfo, keep_last: int | None) -> list[CheckpointInfo]:
        """Record `info`; return the periodic records `keep_last` drops."""
        if info.kind == "best":
            self.best = info
            return []
        self.checkpoints = [old for old in self.checkpoints if old.path.name != info.path.name]
        self.checkpoints.append(info)
        if keep_last is None or len(self.checkpoints) <= keep_last:
            return []
        dropped = self.checkpoints[:-keep_last]
        self.checkpoints = self.checkpoints[-keep_last:]
        return dropped

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
    )


def read_manifest(directory: Path) -> Manifest:
    """The manifest of `directory`; an empty one when there is none yet.

    Examples:
        >>> read_manifest(tmp_path).checkpoints
        []

    Raises:
        CheckpointError: the manifest cannot be read or is not valid.
    """
    directory = Path(directory)
    path = directory / MANIFEST_NAME
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Manifest(directory)
    except OSError as error:
        raise CheckpointError(f"Cannot read the checkpoint manifest {path}: {error}") from error
    try:
        # Decoding inside this try: a flipped byte can make the file invalid UTF-8.
        return _parse_manifest(directory, json.loads(raw.decode("utf-8")))
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise CheckpointError(
            f"The checkpoint manifest {path} is not valid ({error}). It is written atomically, "
            "so it was edited or damaged after the fact: restore it, or move it away to start "
            "a new checkpoint directory."
        ) from error


def write_manifest(manifest: Manifest) -> None:
    """Replace `manifest.json` atomically (temporary file, fsync, rename).

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


def settle_pending(manifest: Manifest, keep_last: int | None) -> list[CheckpointInfo]:
    """Resolve the records of in-place replacements a kill interrupted.

    A pending record whose file is on disk (the rename happened) becomes the
    record; otherwise the old file is still there and the record is dropped.
    Returns the periodic records `keep_last` drops as a result.

    Examples:
        >>> lost = CheckpointInfo(tmp_path / "best.weights.h5", "best", 1, 2, size=10)
        >>> manifest = Manifest(tmp_path, pending=[lost])
        >>> settle_pending(manifest, keep_last=None), manifest.best, manifest.pending
        ([], None, [])
    """
    dropped: list[CheckpointInfo] = []
    for info in manifest.pending:
        try:
            matches = (
                info.path.stat().st_size == info.size and file_sha256(info.path) == info.sha256
            )
        except FileNotFoundError:
            matches = False
        if matches:
            dropped += manifest.add(info, keep_last)
    manifest.pending = []
    return dropped


def _remove_matching(directory: Path, pattern: re.Pattern[str], keep: set[str]) -> list[str]:
    removed = []
    with contextlib.suppress(FileNotFoundError), os.scandir(directory) as entries:
        for entry in entries:
            if pattern.match(entry.name) and entry.name not in keep and entry.is_file():
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
                removed.append(entry.name)
    return removed


def remove_orphans(manifest: Manifest) -> list[str]:
    """Delete periodic files the manifest does not list; return their names.

    They are left by a kill between a file's rename and the manifest write,
    or before a dropped file's unlink.

    Examples:
        >>> _ = (tmp_path / "epoch-0009.weights.h5").write_bytes(b"")
        >>> remove_orphans(Manifest(tmp_path))
        ['epoch-0009.weights.h5']
    """
    return _remove_matching(manifest.directory, _PERIODIC_NAME, manifest.names())


def remove_stale_temporaries(directory: Path) -> list[str]:
    """Delete temporary files a kill mid-write left behind; return their names.

    Examples:
        >>> _ = (tmp_path / ".manifest.json.x1y2.tmp").write_bytes(b"")
        >>> remove_stale_temporaries(tmp_path)
        ['.manifest.json.x1y2.tmp']
    """
    return _remove_matching(directory, _STALE_TEMPORARY, set())
