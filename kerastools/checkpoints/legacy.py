"""What earlier versions wrote, read only: their directories' manifests and 0.1's HDF5 files.

0.1 kept one `manifest.json` (version 1); 0.2 a snapshot `manifest.json`
(version 2) and a journal `manifest.jsonl` of CRC-32-checked events, whose
last line a kill may have torn. `read_legacy` turns either into the records
they describe; records written since win over them. 0.1's HDF5 layout
(`read_checkpoint_file`): a JSON header attribute, `model` and `optimizer`
groups (and `optimizers`, of those kept as attributes, with the positions
they train), each with its variables' `paths` and values by position.

Examples:
    >>> fixture = Path("tests/checkpoints/fixtures/manifest-v2-killed/run")
    >>> legacy = read_legacy(fixture)
    >>> [info.path.name for info in legacy.checkpoints], legacy.monitor
    (['epoch-0002.weights.h5', 'epoch-0003.weights.h5'], 'val_loss')
"""

from __future__ import annotations

import dataclasses
import io
import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kerastools.checkpoints.file_checks import MAX_ELEMENTS, check_structure
from kerastools.checkpoints.files import DamagedFile, damaged_on, read_regular
from kerastools.checkpoints.optimizers import OptimizerState
from kerastools.checkpoints.record import CheckpointInfo, check_count, from_fields, parse_json
from kerastools.errors import CheckpointError
from kerastools.learning_rates import COMPILED_OPTIMIZER

__all__ = [
    "FORMAT", "JOURNAL_NAME", "MANIFEST_NAME", "CheckpointState", "Legacy", "read_checkpoint_file",
    "read_legacy",
]

MANIFEST_NAME = "manifest.json"
JOURNAL_NAME = "manifest.jsonl"
_FORMAT = "kerastools-checkpoints"
_CAP = 256 << 20  # a manifest or journal larger than this is refused
_PREFIX = b'{"crc32": "'
_PREFIX_LENGTH = len(_PREFIX) + 8 + len(b'", ')
FORMAT = "kerastools-checkpoint"  # 0.1's HDF5 layout: its header attribute
ATTRIBUTE_OPTIMIZERS = "optimizers"  # its group of optimizers kept as model attributes


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

    CheckpointError when they are not valid (edited or damaged) or too new.
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
    """Sequence numbers in the order of writing (by wall time); the `save_best` rule on the best."""
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


@dataclass
class CheckpointState:
    """The variables of one 0.1-format checkpoint file, in host memory."""

    model_name: str
    model_paths: list[str]
    model_arrays: list[np.ndarray]
    optimizers: dict[str, OptimizerState]  # by attribute name; "optimizer" is the compiled one
    build_config: dict[str, Any] | None = None  # model.get_build_config() at the save

    @property
    def optimizer_name(self) -> str:
        """The compiled optimizer's class, "" when it is not in the file."""
        state = self.optimizers.get(COMPILED_OPTIMIZER)
        return "" if state is None else state.class_name


def _read_group(group: Any) -> tuple[list[str], list[np.ndarray]]:
    paths = [p.decode() if isinstance(p, bytes) else str(p) for p in group["paths"][()]]
    arrays = [np.asarray(group[f"{index:05d}"][()]) for index in range(len(paths))]
    return paths, arrays


def read_checkpoint_file(
    path: Path, *, data: bytes | None = None, max_elements: int = MAX_ELEMENTS
) -> CheckpointState:
    """Read the variables a 0.1 checkpoint file holds (from `data`, its bytes, when given).

    Its structure passes `file_checks.check_structure` first (CheckpointError);
    DamagedFile when it is not a kerastools file or its HDF5 is broken.

    Examples:
        >>> state = read_checkpoint_file(Path("tests/checkpoints/fixtures/v0.1/run/epoch-0004.weights.h5"))
        >>> state.model_name, state.optimizer_name, len(state.model_arrays)
        ('fixture', 'Adam', 6)
    """
    import h5py

    broken = (OSError, KeyError, ValueError, TypeError, RuntimeError, AttributeError)
    with damaged_on(broken), h5py.File(path if data is None else io.BytesIO(data), "r") as handle:
        if FORMAT not in handle.attrs:
            raise DamagedFile(f"it is not a kerastools checkpoint (no {FORMAT!r} attribute)")
        check_structure(handle, path, max_elements=max_elements)
        header = json.loads(handle.attrs[FORMAT])
        model_paths, model_arrays = _read_group(handle["model"])
        optimizers = _read_optimizers(handle, str(header.get("optimizer", "")))
    build_config = header.get("build_config")
    return CheckpointState(
        model_name=str(header.get("model", "")),
        model_paths=model_paths,
        model_arrays=model_arrays,
        optimizers=optimizers,
        build_config=build_config if isinstance(build_config, dict) else None,
    )


def _read_optimizers(handle: Any, compiled_class: str) -> dict[str, OptimizerState]:
    optimizers: dict[str, OptimizerState] = {}
    if COMPILED_OPTIMIZER in handle:
        paths, arrays = _read_group(handle[COMPILED_OPTIMIZER])
        optimizers[COMPILED_OPTIMIZER] = OptimizerState(compiled_class, paths, arrays)
    for name, group in handle.get(ATTRIBUTE_OPTIMIZERS, {}).items():
        trains = [int(index) for index in group["trains"][()]] if "trains" in group else None
        class_name = str(group.attrs.get("class_name", ""))
        optimizers[name] = OptimizerState(class_name, *_read_group(group), trains)
    return optimizers
