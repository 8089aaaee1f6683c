"""The record of one checkpoint: what it holds, in a JSON file beside it that is its commit.

Checkpoint file `F` has its record in `F.json`, written after `F` is on
disk: a file without a record was never written. A record may have been
edited, so every field is checked, and a bad one is refused with a
`CheckpointError` naming the file and the field.

Examples:
    >>> info = CheckpointInfo(tmp_path / "epoch-0001.weights.h5", "epoch", 1, 2, sequence=1)
    >>> parse_record(tmp_path, encode_record(info), record_path(info.path)) == info
    True
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from kerastools.checkpoints.training_state import check_training_state
from kerastools.errors import CheckpointError

__all__ = [
    "BEST_NAME", "CHECKPOINT_NAME", "KERAS_KINDS", "NEXT_SUFFIX", "RECORD_SUFFIX", "SAVED_KINDS",
    "CheckpointInfo", "Kind", "check_count", "encode_record", "is_record_name", "parse_json",
    "parse_record", "record_path",
]

# The kinds of files a directory holds (periodic files and the best file), and those of
# Keras' own files, recorded when they are read (checkpoints.keras_sources), never written.
Kind = Literal["epoch", "step", "best", "keras-file", "keras-backup"]
SAVED_KINDS: tuple[Kind, ...] = ("epoch", "step", "best")
KERAS_KINDS: tuple[Kind, ...] = ("keras-file", "keras-backup")

BEST_NAME = "best.weights.h5"
RECORD_SUFFIX = ".json"
NEXT_SUFFIX = ".next.json"  # the record of a best file being replaced (checkpoints.directory)
RECORD_FORMAT = "kerastools-checkpoint-record"
RECORD_VERSION = 1
MAX_RECORD_BYTES = 64 << 20  # a record larger than this is refused (callbacks' states included)


@dataclass(frozen=True)
class CheckpointInfo:
    """One checkpoint file as its record describes it.

    Examples:
        >>> cb = kt.callbacks.PeriodicCheckpoint(tmp_path)
        >>> _ = model.fit(x, y, epochs=2, verbose=0, callbacks=[cb])
        >>> info = kt.checkpoints.list_checkpoints(tmp_path)[-1]
        >>> info.path.name, info.epoch, info.step, sorted(info.metrics)
        ('epoch-0002.weights.h5', 2, 4, ['loss'])

    Attributes:
        path: the file.
        kind: `"epoch"`, `"step"` (periodic files) or `"best"`; for Keras'
            own files, `"keras-file"` or `"keras-backup"` (`BackupAndRestore`).
        epoch: epochs whose batches are all in these weights: the
            `initial_epoch` to resume from.
        step: optimizer steps taken (batches, unless gradient accumulation).
        metrics: the values in `logs` when it was saved (non-finite ones
            are `None`).
        wall_time: when it was saved, seconds since the epoch (`time.time()`).
        size: the file's size in bytes.
        sha256: the file's SHA-256, hex.
        includes_optimizer: whether the optimizer state is in the file.
        callback_states: the `get_state()` dicts of the callbacks of
            `PeriodicCheckpoint(callbacks=...)`, for `resume(..., callbacks=...)`.
        training_state: what an exact resume needs besides the file
            (`checkpoints.training_state`); None in older records.
        sequence: the save's number in its directory (later saves: larger).
        monitor: the `save_best` metric the run kept its best file by, or None.
        mode: `"min"` or `"max"` for `monitor`, or None.
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
    sequence: int = 0
    monitor: str | None = None
    mode: str | None = None


# What PeriodicCheckpoint names its files (and, with RECORD_SUFFIX, their records).
CHECKPOINT_NAME = re.compile(r"^(epoch-\d{4,}|step-\d{8,}|best)\.(weights\.h5|keras)$")


def is_record_name(name: str) -> bool:
    """Whether `name` is the record (or next record) of a checkpoint file.

    Examples:
        >>> is_record_name("epoch-0004.weights.h5.json"), is_record_name("training_metadata.json")
        (True, False)
    """
    base = name.removesuffix(NEXT_SUFFIX) if name.endswith(NEXT_SUFFIX) else name.removesuffix(RECORD_SUFFIX)
    return name != base and CHECKPOINT_NAME.match(base) is not None


def record_path(path: Path) -> Path:
    """Where the record of the checkpoint file `path` lives."""
    return path.with_name(path.name + RECORD_SUFFIX)


def encode_record(info: CheckpointInfo) -> bytes:
    """The record file's bytes: `info`'s fields, strict JSON, one line; CheckpointError if not."""
    values = {f.name: getattr(info, f.name) for f in fields(info) if f.name != "path"}
    document = {"format": RECORD_FORMAT, "version": RECORD_VERSION, "file": info.path.name, **values}
    try:
        return json.dumps(document, allow_nan=False).encode("utf-8") + b"\n"
    except (TypeError, ValueError) as error:
        raise CheckpointError(f"The record of {info.path} is not strict JSON: {error}") from error


def parse_record(directory: Path, raw: bytes, source: Path) -> CheckpointInfo:
    """The record in `raw`, read from `source`, every field checked; CheckpointError naming
    `source` and the field when it is not a kerastools record or a field is not valid.
    """
    document = parse_json(raw, source)
    try:
        if not isinstance(document, dict) or document.get("format") != RECORD_FORMAT:
            raise ValueError(f"it is not a {RECORD_FORMAT!r} document")
        if check_count("version", document["version"]) > RECORD_VERSION:
            raise ValueError(
                f"version {document['version']} is newer than this kerastools reads ({RECORD_VERSION})"
            )
        info = from_fields(directory, document, check_count("sequence", document["sequence"]))
    except (ValueError, KeyError, TypeError) as error:
        raise CheckpointError(
            f"The checkpoint record {source} is not valid ({error}). Records are written "
            "atomically, so it was edited or damaged after the fact: restore it, or move it and "
            "its file out of the directory."
        ) from None
    if source.name not in (info.path.name + RECORD_SUFFIX, info.path.name + NEXT_SUFFIX):
        raise CheckpointError(f"The checkpoint record {source} describes {info.path.name!r}, another file.")
    return info


def from_fields(directory: Path, record: Mapping[str, Any], sequence: int) -> CheckpointInfo:
    """A `CheckpointInfo` from the fields of a record (or of a 0.1/0.2 manifest): ValueError
    naming the field and file when one is not valid, KeyError when one is missing."""
    name = record["file"]  # a plain name: a record must not point outside its directory
    if not isinstance(name, str) or name in ("", ".", "..") or any(c in name for c in "\0/\\"):
        raise _invalid("file", name, "a plain file name of the checkpoint directory (no NUL, no "
                       "path separator, not '.' or '..')")
    try:
        if (kind := record["kind"]) not in SAVED_KINDS:
            raise _invalid("kind", kind, f"one of {SAVED_KINDS}")
        epoch, step = check_count("epoch", record["epoch"]), check_count("step", record["step"])
        if not isinstance(metrics := record["metrics"], dict):
            raise _invalid("metrics", metrics, "an object")
        metrics = {str(k): None if v is None else _real(f"metrics.{k}", v) for k, v in metrics.items()}
        wall_time = _real("wall_time", record["wall_time"])
        size, sha256 = check_count("size", record["size"]), str(record["sha256"])
        if not isinstance(flag := record["includes_optimizer"], bool):
            raise _invalid("includes_optimizer", flag, "true or false")
        states = record.get("callback_states") or []
        if not isinstance(states, list) or not all(
            isinstance(state, dict) and isinstance(state.get("kind"), str) for state in states
        ):
            raise ValueError(
                f"`callback_states` of {name!r} must be a list of objects with a string `kind`, "
                f"not {states!r:.200}"
            )
        return CheckpointInfo(
            path=directory / name, kind=kind, epoch=epoch, step=step, metrics=metrics,
            wall_time=wall_time, size=size, sha256=sha256, includes_optimizer=flag,
            callback_states=states,
            training_state=check_training_state(name, record.get("training_state")),
            sequence=sequence, monitor=_text("monitor", record.get("monitor")),
            mode=_text("mode", record.get("mode")),
        )
    except ValueError as error:
        raise ValueError(f"{error}, in the record of {name!r}") from None


def _invalid(name: str, value: Any, allowed: str) -> ValueError:
    return ValueError(f"field `{name}` must be {allowed}, not {value!r:.80}")


def check_count(name: str, value: Any) -> int:
    """`value` as an integer >= 0 (not a bool, not a float).

    Examples:
        >>> check_count("epoch", 2.9)
        Traceback (most recent call last):
        ...
        ValueError: field `epoch` must be an integer >= 0, not 2.9
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _invalid(name, value, "an integer >= 0")
    return value


def _real(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _invalid(name, value, "a finite number")
    return float(value)


def _text(name: str, value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise _invalid(name, value, "a string or null")
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"the constant {name} is not allowed (numbers must be finite)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is not finite (it overflows a float)")
    return value


def parse_json(raw: bytes, path: Path) -> Any:
    """The JSON document `raw` (UTF-8) read from `path`, with finite numbers only.

    Raises:
        CheckpointError: it is not UTF-8 JSON, holds `NaN`, `Infinity` or a
            number that overflows a float, or nests too deep (naming `path`).
    """
    try:
        text = raw.decode("utf-8")
        return json.loads(text, parse_float=_finite_float, parse_constant=_refuse_constant)
    except RecursionError:
        raise CheckpointError(
            f"The file {path} is not valid JSON for kerastools: it nests too deep."
        ) from None
    except ValueError as error:
        raise CheckpointError(f"The file {path} is not valid JSON for kerastools: {error}.") from None
