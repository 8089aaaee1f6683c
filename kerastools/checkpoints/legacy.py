"""Directories written before records: read-only translation of their manifest and journal.

kerastools 0.1 kept one `manifest.json` (version 1); 0.2 before records
kept a snapshot `manifest.json` (version 2, with a `sequence`) and a
journal `manifest.jsonl` of CRC-32-checked lines (`add`, `remove`,
`pending`, `rule` events), which a kill may leave uncompacted, its last
line torn. This module turns either into the records they describe; it
never writes. A directory keeps its manifest: `PeriodicCheckpoint`
continues into it with per-file records (`checkpoints.directory`), which
win over the manifest for a file both describe.

Examples:
    >>> import shutil
    >>> fixture = Path("tests/checkpoints/fixtures/manifest-v2-killed/run")
    >>> legacy = read_legacy(fixture)
    >>> [info.path.name for info in legacy.checkpoints], legacy.monitor
    (['epoch-0002.weights.h5', 'epoch-0003.weights.h5'], 'val_loss')
"""

from __future__ import annotations

import dataclasses
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kerastools.checkpoints.files import read_regular
from kerastools.checkpoints.record import CheckpointInfo, check_count, from_fields, parse_json
from kerastools.errors import CheckpointError

__all__ = ["JOURNAL_NAME", "Legacy", "MANIFEST_NAME", "read_legacy"]

MANIFEST_NAME = "manifest.json"
JOURNAL_NAME = "manifest.jsonl"
_FORMAT = "kerastools-checkpoints"
_CAP = 256 << 20  # a manifest or journal larger than this is refused
_PREFIX = b'{"crc32": "'
_PREFIX_LENGTH = len(_PREFIX) + 8 + len(b'", ')


@dataclass
class Legacy:
    """What a manifest (and its journal) records: periodic files in order, the best file."""

    checkpoints: list[CheckpointInfo] = field(default_factory=list)
    best: CheckpointInfo | None = None
    pending: list[CheckpointInfo] = field(default_factory=list)  # a best replacement cut short
    monitor: str | None = None
    mode: str | None = None


def _journal_entries(raw: bytes, path: Path) -> list[dict[str, Any]]:
    """The intact entries; a damaged last line is a torn append and ignored."""
    lines = raw.split(b"\n")
    entries: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        entry = None
        if number < len(lines) and len(line) > _PREFIX_LENGTH and line.startswith(_PREFIX):
            checksum, rest = line[len(_PREFIX) : len(_PREFIX) + 8], line[_PREFIX_LENGTH:]
            if checksum.isalnum() and int(checksum, 16) == zlib.crc32(rest):
                entry = parse_json(b"{" + rest, path)
        if entry is None:
            if number < len(lines) - 1 or (number == len(lines) - 1 and lines[-1]):
                raise ValueError(f"line {number} of the journal is damaged")
            break  # the torn (or empty) last line
        entries.append(entry)
    return entries


def _read(path: Path) -> Any:
    raw = read_regular(path, cap=_CAP)
    return None if raw is None else raw if path.name == JOURNAL_NAME else parse_json(raw, path)


def _apply(legacy: Legacy, directory: Path, entry: dict[str, Any]) -> None:
    event = entry["event"]
    if event in ("add", "pending"):
        info = from_fields(directory, entry["checkpoint"], 0)
        if event == "pending":
            legacy.pending = [info]
        elif info.kind == "best":
            legacy.best, legacy.pending = info, []
        else:
            _remove(legacy, info.path.name)
            legacy.checkpoints.append(info)
    elif event == "remove":
        _remove(legacy, str(entry["file"]))
    elif event == "rule":
        legacy.monitor, legacy.mode = entry["monitor"], entry["mode"]
    else:
        raise ValueError(f"unknown journal event {event!r}")


def _remove(legacy: Legacy, name: str) -> None:
    legacy.checkpoints = [info for info in legacy.checkpoints if info.path.name != name]


def read_legacy(directory: Path) -> Legacy | None:
    """The records of `directory`'s manifest and journal; None when it has neither.

    Raises:
        CheckpointError: the manifest or journal is not valid (edited or
            damaged after the fact), or is newer than this kerastools reads.
    """
    manifest_path, journal_path = directory / MANIFEST_NAME, directory / JOURNAL_NAME
    journal = _read(journal_path)  # first: a compaction in between makes the snapshot newer
    document = _read(manifest_path)
    if document is None and journal is None:
        return None
    legacy, source = Legacy(), manifest_path
    try:
        sequence = 0
        if document is not None:
            if document.get("format") != _FORMAT or int(document.get("version", 0)) > 2:
                raise ValueError(f"format {document.get('format')!r} version "
                                 f"{document.get('version')!r} is not one this kerastools reads")
            legacy.monitor, legacy.mode = document.get("monitor"), document.get("mode")
            sequence = check_count("sequence", document.get("sequence", 0))
            adds = [*document["checkpoints"], *filter(None, [document.get("best")])]
            for record in adds:
                _apply(legacy, directory, {"event": "add", "checkpoint": record})
            for record in document.get("pending") or []:
                _apply(legacy, directory, {"event": "pending", "checkpoint": record})
        source = journal_path
        for entry in _journal_entries(journal or b"", journal_path):
            if check_count("seq", entry["seq"]) > sequence:  # older ones are in the snapshot
                if entry["seq"] != sequence + 1:
                    raise ValueError(f"journal entry {entry['seq']} follows entry {sequence}")
                sequence += 1
                _apply(legacy, directory, entry)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise CheckpointError(
            f"The checkpoint manifest {source} is not valid ({error}). It was written "
            "atomically, so it was edited or damaged after the fact: restore it, or give a new "
            "run another directory."
        ) from None
    return _numbered(legacy)


def _numbered(legacy: Legacy) -> Legacy:
    """Sequence numbers in the order of writing (the best file by its wall time), and the
    manifest's `save_best` rule on the best records."""
    everything = sorted([*legacy.checkpoints, *filter(None, [legacy.best])], key=lambda i: i.wall_time)
    times = sorted({info.wall_time for info in everything})  # one save: one time, one number
    sequence = {id(info): times.index(info.wall_time) + 1 for info in everything}
    monitor, mode = legacy.monitor, legacy.mode
    legacy.checkpoints = [dataclasses.replace(i, sequence=sequence[id(i)]) for i in legacy.checkpoints]
    if legacy.best is not None:
        position = sequence[id(legacy.best)]
        legacy.best = dataclasses.replace(legacy.best, sequence=position, monitor=monitor, mode=mode)
    legacy.pending = [
        dataclasses.replace(i, sequence=len(everything) + 1, monitor=monitor, mode=mode)
        for i in legacy.pending
    ]
    return legacy
