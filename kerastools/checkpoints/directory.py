"""A checkpoint directory: its listing is the index; what a kill leaves is cleaned up at open.

A file is listed when its record is, and a record is written after its
file, so a kill leaves only complete checkpoints listed. `best.weights.h5`
is replaced by: next record, file, record; the reader keeps the record the
file's SHA-256 matches. A legacy manifest (`checkpoints.legacy`) gets its
records written at the first writer's open, which also deletes unfinished
temporary files and moves files without a record into `unlisted-<time>/`.

Examples:
    >>> cb = kt.callbacks.PeriodicCheckpoint(tmp_path, keep_last=2, save_best="loss")
    >>> _ = model.fit(x, y, epochs=3, verbose=0, callbacks=[cb])
    >>> index = read_index(tmp_path)
    >>> [i.path.name for i in index.checkpoints], index.best.path.name, index.monitor
    (['epoch-0002.weights.h5', 'epoch-0003.weights.h5'], 'best.weights.h5', 'loss')
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import logging
import os
import re
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from kerastools.checkpoints.files import DamagedFile, read_regular, read_verified, write_durably
from kerastools.checkpoints.legacy import JOURNAL_NAME, MANIFEST_NAME, read_legacy
from kerastools.checkpoints.record import (
    CHECKPOINT_NAME,
    MAX_RECORD_BYTES,
    NEXT_SUFFIX,
    RECORD_SUFFIX,
    CheckpointInfo,
    encode_record,
    is_record_name,
    parse_record,
    record_path,
)
from kerastools.checkpoints.writer_lock import WriterLock
from kerastools.errors import CheckpointError

__all__ = ["Index", "open_for_writing", "read_index", "remove_checkpoint", "verified"]

logger = logging.getLogger(__name__)

# Temporary files left by a kill mid-write (kerastools._atomic names them).
_STALE_TEMPORARY = re.compile(r"^\.(epoch-\d+|step-\d+|best|manifest)\..*\.tmp(\.weights\.h5|\.keras)?$")


@dataclass
class Index:
    """The checkpoints of one directory, as their records (and a legacy manifest) describe them."""

    directory: Path
    checkpoints: list[CheckpointInfo] = field(default_factory=list)  # periodic, oldest first
    best: CheckpointInfo | None = None
    best_next: CheckpointInfo | None = None  # a replacement of the best file a kill cut short
    legacy: bool = False  # some records come from a manifest written before records

    @property
    def monitor(self) -> str | None:
        """The `save_best` metric of the newest record that has one."""
        return self._rule()[0]

    @property
    def mode(self) -> str | None:
        """`"min"` or `"max"` for `monitor`."""
        return self._rule()[1]

    def _rule(self) -> tuple[str | None, str | None]:
        ruled = [i for i in self.everything() if i.monitor is not None]
        newest = max(ruled, key=lambda info: info.sequence, default=None)
        return (None, None) if newest is None else (newest.monitor, newest.mode)

    def everything(self) -> list[CheckpointInfo]:
        """Every record: the periodic ones, then the best file's."""
        return self.checkpoints + ([self.best] if self.best is not None else [])

    @property
    def next_sequence(self) -> int:
        """The sequence number of the next save."""
        records = [*self.everything(), *([self.best_next] if self.best_next else [])]
        return 1 + max((info.sequence for info in records), default=0)


def _listing(directory: Path) -> list[str]:
    try:
        with os.scandir(directory) as entries:
            return sorted(entry.name for entry in entries)
    except FileNotFoundError:
        return []
    except OSError as error:
        raise CheckpointError(f"Cannot list the checkpoint directory {directory}: {error}") from error


# Records already parsed, by path, with their (inode, size, mtime): a record is replaced by
# a rename (a new inode), so an unchanged key is an unchanged record. Resume, the writer and
# the live plot's compare_to all list the directory: each record is parsed once.
_PARSED: dict[Path, tuple[tuple[int, int, int], CheckpointInfo]] = {}
_PARSED_LIMIT = 100_000


def _read_record(directory: Path, name: str) -> CheckpointInfo:
    path = directory / name
    facts = os.stat(path)  # FileNotFoundError: deleted since the listing (retention)
    key = (facts.st_ino, facts.st_size, facts.st_mtime_ns)
    known = _PARSED.get(path)
    if known is not None and known[0] == key:
        return known[1]
    raw = read_regular(path, cap=MAX_RECORD_BYTES)
    if raw is None:
        raise FileNotFoundError(path)
    info = parse_record(directory, raw, path)
    if len(_PARSED) >= _PARSED_LIMIT:
        _PARSED.clear()
    _PARSED[path] = (key, info)
    return info


def read_index(directory: Path) -> Index:
    """The index of `directory`: one listing, each record read once; CheckpointError when a record
    (or manifest) is not valid or the directory cannot be listed.
    """
    WriterLock.wait_for_writer(directory)  # this process's save in flight counts as written
    names = _listing(directory)
    index = Index(directory)
    records: dict[str, CheckpointInfo] = {}
    for name in filter(is_record_name, names):
        with contextlib.suppress(FileNotFoundError):
            info = _read_record(directory, name)
            if name.endswith(NEXT_SUFFIX):
                index.best_next = info
            else:
                records[info.path.name] = info
    if MANIFEST_NAME in names or JOURNAL_NAME in names:
        legacy = read_legacy(directory)
        if legacy is not None:
            index.legacy = True
            for info in [*legacy.checkpoints, *filter(None, [legacy.best])]:
                records.setdefault(info.path.name, info)
            if legacy.pending and index.best_next is None and legacy.best is records.get(
                legacy.pending[0].path.name
            ):
                index.best_next = legacy.pending[0]
    for info in sorted(records.values(), key=lambda info: info.sequence):
        if info.kind == "best":
            index.best = info
        else:
            index.checkpoints.append(info)
    return index


def verified(index: Index, info: CheckpointInfo) -> tuple[CheckpointInfo, bytes]:
    """`info`'s file read once and checked against its record (the best file: either record).

    DamagedFile when it is missing or matches no record; CheckpointError when not a regular file.
    """
    records = [info]
    if index.best_next is not None and index.best_next.path == info.path:
        records.insert(0, index.best_next)  # newer; a file of the same bytes matches both
    return read_verified(info.path, records, lambda r: r.size, lambda r: r.sha256)


def write_record(info: CheckpointInfo, *, next_best: bool = False) -> None:
    """Commit `info`: its record (or next record), written durably after its file."""
    suffix = NEXT_SUFFIX if next_best else RECORD_SUFFIX
    write_durably(encode_record(info), info.path.with_name(info.path.name + suffix))


def remove_checkpoint(info: CheckpointInfo) -> None:
    """Retention: the record first (the checkpoint is gone), then the file."""
    for path in (record_path(info.path), info.path):
        path.unlink(missing_ok=True)


def _remove_stale(directory: Path, names: list[str]) -> None:
    stale = [name for name in names if _STALE_TEMPORARY.match(name)]
    for name in stale:
        try:
            (directory / name).unlink(missing_ok=True)
        except OSError as error:
            if error.errno == errno.EROFS or not os.access(directory, os.W_OK):
                raise CheckpointError(
                    f"The checkpoint directory {directory} is not writable ({error}): its leftover "
                    f"{name!r} cannot be deleted. Allowed: a directory this process can write."
                ) from error
            warnings.warn(
                f"Cannot delete the leftover checkpoint file {directory / name} ({error}); it is "
                "left in place and ignored.", RuntimeWarning, stacklevel=2,
            )
    if stale:
        logger.info("Removed %d unfinished checkpoint writes: %s", len(stale), stale)


def _settle_best(index: Index) -> None:
    """Make the record of the best file the one its bytes match; drop the other."""
    best_next = index.best_next
    if best_next is None:
        return
    try:
        matched, _ = verified(index, index.best or best_next)
    except DamagedFile:
        matched = None
    if matched is best_next:
        index.best = dataclasses.replace(best_next)
        write_record(index.best)  # a legacy directory's next record is in its journal
    best_next.path.with_name(best_next.path.name + NEXT_SUFFIX).unlink(missing_ok=True)
    index.best_next = None


def _migrate(index: Index) -> None:
    """Write the records a legacy manifest describes, then rename the manifest away."""
    for info in index.everything():
        if not record_path(info.path).exists():
            write_record(info)
    for name in (MANIFEST_NAME, JOURNAL_NAME):
        with contextlib.suppress(FileNotFoundError):
            os.replace(index.directory / name, index.directory / f"{name}.migrated")
    index.legacy = False


def _set_aside(index: Index, names: list[str]) -> None:
    """Move checkpoint files without a record into `unlisted-<time>/` (never delete them)."""
    listed = {info.path.name for info in index.everything()}
    unlisted = [name for name in names if CHECKPOINT_NAME.match(name) and name not in listed]
    unlisted = [name for name in unlisted if (index.directory / name).is_file()]
    if not unlisted:
        return
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    folder, number = index.directory / f"unlisted-{stamp}", 1
    while folder.exists():
        number += 1
        folder = index.directory / f"unlisted-{stamp}-{number}"
    for name in unlisted:
        try:
            folder.mkdir(exist_ok=True)
            os.rename(index.directory / name, folder / name)
        except OSError as error:
            raise CheckpointError(
                f"Cannot move {index.directory / name}, which has no record, into {folder}: "
                f"{error}. Move it yourself (or give this run another directory)."
            ) from error
    logger.warning(
        "Moved %d checkpoint files of %s that have no record into %s (kept, never deleted: an "
        "older run's, or written just before a kill): %s",
        len(unlisted), index.directory, folder.name, unlisted,
    )


def open_for_writing(directory: Path) -> Index:
    """Clean up what a kill left, migrate a legacy manifest, and return the index.

    Call it holding the writer lock. CheckpointError when a record is not valid,
    or a file cannot be moved or written.
    """
    names = _listing(directory)
    _remove_stale(directory, names)
    index = read_index(directory)
    _settle_best(index)
    if index.legacy:
        _migrate(index)
    _set_aside(index, names)
    return index
