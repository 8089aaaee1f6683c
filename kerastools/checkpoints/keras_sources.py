"""Keras' own checkpoints as sources for `load_checkpoint` and `resume`.

So a project can switch to kerastools mid-way: a `.weights.h5` or `.keras`
file (epoch 0: it records none) and a `BackupAndRestore` directory (the
`"epoch"` of its `training_metadata.json`, where Keras itself resumes).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import keras

from kerastools.checkpoints.archive import ARCHIVE_SUFFIX, WEIGHTS_SUFFIX
from kerastools.checkpoints.file_checks import MAX_ELEMENTS
from kerastools.checkpoints.files import DamagedFile, read_regular, sha256_hex
from kerastools.checkpoints.legacy import JOURNAL_NAME, MANIFEST_NAME, CheckpointState
from kerastools.checkpoints.optimizers import optimizer_step
from kerastools.checkpoints.record import (
    KERAS_KINDS,
    MAX_RECORD_BYTES,
    CheckpointInfo,
    Kind,
    check_count,
    is_record_name,
    parse_json,
)
from kerastools.checkpoints.selection import Candidate, Which, read_contents
from kerastools.errors import CheckpointError, ConfigError

__all__ = ["ACCEPTED", "BACKUP_METADATA", "BACKUP_WEIGHTS", "keras_candidates", "loaded_record"]

BACKUP_WEIGHTS = "latest.weights.h5"  # keras.callbacks.BackupAndRestore's file names
BACKUP_METADATA = "training_metadata.json"
ACCEPTED = (
    "a kerastools checkpoint directory (its files' records, or a manifest.json), a Keras `.weights.h5` file "
    "(model.save_weights, ModelCheckpoint(save_weights_only=True)), a `.keras` file "
    "(model.save, ModelCheckpoint) or a keras.callbacks.BackupAndRestore directory "
    f"({BACKUP_WEIGHTS} and {BACKUP_METADATA})"
)


def _is_backup(path: Path) -> bool:
    """A directory without kerastools records or manifest that has BackupAndRestore's files."""
    names = set(os.listdir(path))
    ours = {MANIFEST_NAME, JOURNAL_NAME} & names or any(map(is_record_name, names))
    return not ours and bool({BACKUP_WEIGHTS, BACKUP_METADATA} & names)


def _only_latest(what: str, path: Path, which: Which) -> None:
    if which != "latest":
        raise ConfigError(
            f"Argument `which` must be 'latest' for {what} {path}: it holds one checkpoint "
            f"(epochs, 'best' and metrics need a kerastools directory). Received: which={which!r}"
        )


def _read(path: Path, kind: Kind, epoch: int, max_elements: int) -> Candidate:
    """A Keras file read once: its record, contents and bytes; or a CheckpointError naming it."""
    if not path.name.endswith((WEIGHTS_SUFFIX, ARCHIVE_SUFFIX)):
        raise CheckpointError(
            f"Cannot load {path}: it is neither a directory nor a file ending in "
            f"{WEIGHTS_SUFFIX!r} or {ARCHIVE_SUFFIX!r}. Accepted: {ACCEPTED}."
        )
    try:
        data = read_regular(path, cap=1 << 62)
        if data is None:
            raise DamagedFile("the file is missing")
        contents = read_contents(path, data, max_elements=max_elements)
    except DamagedFile as damage:
        raise CheckpointError(f"Cannot load {path}: {damage}. Accepted: {ACCEPTED}.") from None
    saved = contents.optimizers if isinstance(contents, CheckpointState) else contents.optimizer_classes
    info = CheckpointInfo(
        path=path, kind=kind, epoch=epoch, step=0, wall_time=path.stat().st_mtime,
        size=len(data), sha256=sha256_hex(data), includes_optimizer=bool(saved),
    )
    return info, contents, data


def _backup_epoch(directory: Path) -> int:
    """The epochs done that `training_metadata.json` records; 0 without it, as in Keras."""
    metadata = directory / BACKUP_METADATA
    if not metadata.exists():
        return 0
    try:
        document = parse_json(read_regular(metadata, cap=MAX_RECORD_BYTES) or b"", metadata)
        return check_count("epoch", document["epoch"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CheckpointError(
            f"Cannot read the BackupAndRestore metadata {metadata}: {error!r}. It must be JSON "
            'with an integer "epoch" >= 0, as keras.callbacks.BackupAndRestore writes it.'
        ) from None


def keras_candidates(
    path: Path, which: Which, *, max_elements: int = MAX_ELEMENTS
) -> list[Candidate] | None:
    """What `load_checkpoint` loads from one of Keras' own checkpoints at `path`.

    None for a kerastools directory (any that is not a BackupAndRestore one).
    CheckpointError (naming the path) for none of the accepted sources, a file
    that cannot be read, or a BackupAndRestore directory without weights or
    with broken metadata; ConfigError when `which` is not `"latest"`.

    Examples:
        >>> model.save(tmp_path / "model.keras")
        >>> [(info.path.name, info.kind) for info, _, _ in keras_candidates(tmp_path / "model.keras", "latest")]
        [('model.keras', 'keras-file')]
    """
    if path.is_dir():
        if not _is_backup(path):
            return None  # a kerastools directory, maybe new
        _only_latest("the BackupAndRestore directory", path, which)
        if not (path / BACKUP_WEIGHTS).is_file():
            raise CheckpointError(
                f"The BackupAndRestore directory {path} has {BACKUP_METADATA} but no "
                f"{BACKUP_WEIGHTS}: there are no weights to load."
            )
        return [_read(path / BACKUP_WEIGHTS, "keras-backup", _backup_epoch(path), max_elements)]
    if not path.exists() and not path.name.endswith((WEIGHTS_SUFFIX, ARCHIVE_SUFFIX)):
        return None  # a kerastools directory to be: no checkpoint yet
    if not path.exists():
        raise CheckpointError(f"No checkpoints in {path}: it does not exist. Accepted: {ACCEPTED}.")
    _only_latest("the file", path, which)
    return [_read(path, "keras-file", 0, max_elements)]


def loaded_record(info: CheckpointInfo, model: keras.Model, include_optimizer: bool) -> CheckpointInfo:
    """`info` with the optimizer step it loaded, for Keras' own files (kerastools records
    carry theirs; one loaded without the optimizer keeps step 0)."""
    if info.kind not in KERAS_KINDS or not (include_optimizer and info.includes_optimizer):
        return info
    return dataclasses.replace(info, step=optimizer_step(model))

