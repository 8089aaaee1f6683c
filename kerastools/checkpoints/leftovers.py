"""What a kill leaves in a checkpoint directory, and how opening it cleans up.

Temporary files of an unfinished write, checkpoint files the manifest does
not list, and the pending record of a best-file replacement whose rename may
or may not have happened.

An unlisted file is deleted only when this directory's journal says the
store pruned it (its `remove` entry, and the SHA-256 of its `add` entry
matches the file: a kill came before the unlink). Any other file named like
a checkpoint (an older run's, after its manifest was moved away; one a kill
left between its rename and its journal entry) is moved into an
`unlisted-<time>/` folder with a warning: nothing is deleted or overwritten
that the manifest does not list, and moving it back undoes it.

Examples:
    >>> _ = (tmp_path / ".epoch-0001.weights.h5.x1y2.tmp").write_bytes(b"")
    >>> remove_stale_temporaries(tmp_path)
    ['.epoch-0001.weights.h5.x1y2.tmp']
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import time
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from kerastools.checkpoints.integrity import file_sha256
from kerastools.errors import CheckpointError

if TYPE_CHECKING:
    from kerastools.checkpoints.manifest import CheckpointInfo, Manifest

__all__ = [
    "journal_drops",
    "remove_orphans",
    "remove_stale_temporaries",
    "set_aside_unlisted",
    "settle_pending",
]

logger = logging.getLogger(__name__)

_PERIODIC_NAME = re.compile(r"^(epoch-\d{4,}|step-\d{8,})\.(weights\.h5|keras)$")
# What PeriodicCheckpoint names its files: what a new run could overwrite.
_CHECKPOINT_NAME = re.compile(r"^(epoch-\d{4,}|step-\d{8,}|best)\.(weights\.h5|keras)$")
# Temporary files left by a kill mid-write (see kerastools._atomic.atomic_path).
# ".tmp" ends atomic writes; ".tmp.weights.h5" and ".tmp.keras" ended the on-disk snapshots
# of kerastools 0.2 (snapshots are now made in memory, checkpoints.in_memory).
_STALE_TEMPORARY = re.compile(
    r"^\.(epoch-\d+|step-\d+|best|manifest)\..*\.tmp(\.weights\.h5|\.keras)?$"
)


def settle_pending(manifest: Manifest, keep_last: int | None) -> list[CheckpointInfo]:
    """Resolve the records of in-place replacements a kill interrupted.

    A pending record whose file is on disk (the rename happened) becomes the
    record; otherwise the old file is still there and the record is dropped.
    Returns the periodic records `keep_last` drops as a result.

    Examples:
        >>> from kerastools.checkpoints.manifest import CheckpointInfo, Manifest
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
                try:
                    os.unlink(entry.path)
                except FileNotFoundError:
                    pass
                except OSError as error:
                    _left_in_place(directory, entry.name, error)
                    continue
                removed.append(entry.name)
    return removed


def _left_in_place(directory: Path, name: str, error: OSError) -> None:
    """A leftover that cannot be deleted: fatal only when nothing can be written there."""
    if error.errno == errno.EROFS or not os.access(directory, os.W_OK):
        raise CheckpointError(
            f"The checkpoint directory {directory} is not writable ({error}): no checkpoint can be "
            f"saved there, and its leftover {name!r} cannot be deleted. Allowed: a directory this "
            "process can write; pass another checkpoint directory or make this one writable."
        ) from error
    warnings.warn(
        f"Cannot delete the leftover checkpoint file {directory / name} ({error}); it is left in "
        "place and ignored.",
        RuntimeWarning,
        stacklevel=4,
    )


def remove_orphans(manifest: Manifest) -> list[str]:
    """Delete periodic files the manifest does not list; return their names.

    They are left by a kill between a file's rename and the manifest write,
    or before a dropped file's unlink.

    Examples:
        >>> from kerastools.checkpoints.manifest import Manifest
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


def journal_drops(entries: Iterable[Mapping[str, object]]) -> dict[str, str | None]:
    """The files a journal's `remove` entries pruned, with the SHA-256 of their last `add`.

    Examples:
        >>> journal_drops([{"event": "add", "checkpoint": {"file": "epoch-0001.weights.h5",
        ...                 "sha256": "ab"}}, {"event": "remove", "file": "epoch-0001.weights.h5"}])
        {'epoch-0001.weights.h5': 'ab'}
    """
    added: dict[str, str | None] = {}
    dropped: dict[str, str | None] = {}
    for entry in entries:
        record = entry.get("checkpoint")
        if entry.get("event") == "add" and isinstance(record, Mapping):
            sha = record.get("sha256")
            added[str(record.get("file"))] = sha if isinstance(sha, str) else None
        elif entry.get("event") == "remove":
            dropped[str(entry.get("file"))] = added.get(str(entry.get("file")))
    return dropped


def _aside_folder(directory: Path) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    folder, number = directory / f"unlisted-{stamp}", 1
    while folder.exists():
        number += 1
        folder = directory / f"unlisted-{stamp}-{number}"
    return folder


def set_aside_unlisted(
    manifest: Manifest, dropped: Mapping[str, str | None]
) -> tuple[list[str], list[str]]:
    """Delete the unlisted files the journal pruned; move the other unlisted checkpoints aside.

    Returns the names deleted and the names moved (into `unlisted-<time>/`).

    Examples:
        >>> from kerastools.checkpoints.manifest import Manifest
        >>> _ = (tmp_path / "epoch-0009.weights.h5").write_bytes(b"an older run's")
        >>> set_aside_unlisted(Manifest(tmp_path), dropped={})
        ([], ['epoch-0009.weights.h5'])
        >>> [path.name.startswith("unlisted-") for path in tmp_path.iterdir()]
        [True]

    Raises:
        CheckpointError: a file cannot be moved (the message names it).
    """
    directory, listed = manifest.directory, manifest.names()
    deleted, unlisted = [], []
    with os.scandir(directory) as entries:
        names = sorted(e.name for e in entries if _CHECKPOINT_NAME.match(e.name) and e.is_file())
    for name in (name for name in names if name not in listed):
        sha = dropped.get(name)
        if sha is not None and file_sha256(directory / name) == sha:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(directory / name)  # pruned by this directory's store; the unlink was lost
            deleted.append(name)
        else:
            unlisted.append(name)
    if unlisted:
        folder = _aside_folder(directory)
        for name in unlisted:
            try:
                folder.mkdir(exist_ok=True)
                os.rename(directory / name, folder / name)
            except OSError as error:
                raise CheckpointError(
                    f"Cannot move {directory / name}, which the manifest does not list, into "
                    f"{folder}: {error}. Move it yourself (or give this run another directory)."
                ) from error
        logger.warning(
            "Moved %d checkpoint files the manifest of %s does not list into %s (kept, never "
            "deleted: an older run's, or written just before a kill): %s",
            len(unlisted), directory, folder.name, unlisted,
        )
    return deleted, unlisted
