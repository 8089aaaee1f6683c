"""What a kill leaves in a checkpoint directory, and how opening it cleans up.

Temporary files of an unfinished write, periodic files the manifest does not
list (a kill between a file's rename and its journal entry, or before a
pruned file's unlink), and the pending record of a best-file replacement
whose rename may or may not have happened.

Examples:
    >>> _ = (tmp_path / ".epoch-0001.weights.h5.x1y2.tmp").write_bytes(b"")
    >>> remove_stale_temporaries(tmp_path)
    ['.epoch-0001.weights.h5.x1y2.tmp']
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from kerastools.checkpoints.integrity import file_sha256
from kerastools.errors import CheckpointError

if TYPE_CHECKING:
    from kerastools.checkpoints.manifest import CheckpointInfo, Manifest

__all__ = ["remove_orphans", "remove_stale_temporaries", "settle_pending"]

_PERIODIC_NAME = re.compile(r"^(epoch-\d{4,}|step-\d{8,})\.(weights\.h5|keras)$")
# Temporary files left by a kill mid-write (see kerastools._atomic.atomic_path).
# ".tmp" ends atomic writes; ".tmp.weights.h5" and ".tmp.keras" end snapshots (Keras wants
# ".weights.h5" or ".keras", see checkpoints.archive).
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
