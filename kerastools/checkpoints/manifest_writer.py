"""The writing side of the manifest: each save's journal entries, made durable before files go.

`ManifestWriter` is how `CheckpointStore` keeps the manifest
(`kerastools.checkpoints.manifest`): every change is a journal entry,
applied to the in-memory `Manifest` with the same `Manifest.apply` readers
replay, and appended to `manifest.jsonl` (one write and one fsync per
commit, whatever the number of records). The order of a save:

1. the file is fsynced, renamed into place and the directory fsynced
   (`kerastools._atomic`); for a file replaced in place (`best.weights.h5`)
   its `pending` entry is appended and fsynced before that rename;
2. its `add` entry, and a `remove` entry for each file `keep_last` drops,
   are appended and fsynced;
3. only then are the dropped files deleted.

So a kill at any byte leaves either the old record and the old file, or the
new record and a file that matches it: a file is deleted only once the
journal says it is gone, and a record is never durable before its file.
Entries an append failed to write stay queued and go out with the next
commit, so the journal never skips a number.

Compaction (a new `manifest.json`, then the journal deleted) happens at
`close()`, at `open()` when a pending replacement had to be settled, and
mid-run when the journal holds `COMPACT_AFTER_LINES` more lines than twice
the records: with `keep_last` that is a snapshot of a few records every few
thousand saves; without it the journal never outgrows the records that much
(a best file replaced at every save makes it about three lines per record),
so the amortised cost per save stays constant.

Examples:
    >>> from kerastools.checkpoints.manifest import CheckpointInfo, read_manifest
    >>> writer = ManifestWriter(tmp_path)
    >>> _ = writer.open(keep_last=1)
    >>> for epoch in (1, 2):
    ...     info = CheckpointInfo(tmp_path / f"epoch-{epoch:04d}.weights.h5", "epoch", epoch, epoch)
    ...     writer.commit(writer.add(info, keep_last=1))
    >>> [info.epoch for info in read_manifest(tmp_path).checkpoints]
    [2]
    >>> writer.close()
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from kerastools.checkpoints.journal import JournalWriter
from kerastools.checkpoints.leftovers import journal_drops, settle_pending
from kerastools.checkpoints.manifest import (
    CheckpointInfo,
    Manifest,
    read_manifest_and_journal,
    write_manifest,
)
from kerastools.errors import CheckpointError

__all__ = ["COMPACT_AFTER_LINES", "ManifestWriter"]

COMPACT_AFTER_LINES = 10_000

logger = logging.getLogger(__name__)


class ManifestWriter:
    """Keeps one directory's manifest durable: journal entries per save, compaction, deletions.

    `open()` reads the snapshot and the journal and settles what a kill
    left pending; `add()`, `remove_pending()` and the `rule` change queue
    entries; `commit()` appends them with one fsync and then deletes the
    files they dropped; `close()` compacts. Used from one thread at a time.

    Examples:
        >>> writer = ManifestWriter(tmp_path)
        >>> writer.open(keep_last=None).checkpoints
        []
        >>> writer.close()
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.manifest: Manifest | None = None
        self._journal = JournalWriter(self.directory)
        self._queued: list[dict[str, Any]] = []
        self._rule: tuple[str | None, str | None] = (None, None)
        # Files the journal read at open() says were pruned (name -> SHA-256 of their record).
        self.dropped: dict[str, str | None] = {}

    def open(self, keep_last: int | None) -> Manifest:
        """Read the manifest, settle an interrupted replacement; return the in-memory manifest.

        Raises:
            CheckpointError: the manifest is not valid, or settling it
                cannot be written.
        """
        self._journal.close()
        manifest, content = read_manifest_and_journal(self.directory)
        self._journal = JournalWriter(self.directory, content.size, len(content.entries))
        self._queued = []
        self.dropped = journal_drops(content.entries)
        self._rule = (manifest.monitor, manifest.mode)
        self.manifest = manifest
        if manifest.pending:
            dropped = settle_pending(manifest, keep_last)
            self.compact()
            _delete(dropped)
        return manifest

    def _record(self, entry: dict[str, Any]) -> None:
        manifest = self._opened()
        rule = (manifest.monitor, manifest.mode)
        if rule != self._rule:  # the store set a new monitor: journal it first
            self._rule = rule
            self._record({"event": "rule", "monitor": rule[0], "mode": rule[1]})
        entry = {"seq": manifest.sequence + 1, **entry}
        manifest.apply(entry)
        self._queued.append(entry)

    def add(self, info: CheckpointInfo, keep_last: int | None) -> list[CheckpointInfo]:
        """Queue the record of a file now in place; return the records `keep_last` drops."""
        self._record({"event": "add", "checkpoint": info._to_record()})
        manifest = self._opened()
        if keep_last is None or len(manifest.checkpoints) <= keep_last:
            return []
        dropped = manifest.checkpoints[:-keep_last]
        for old in dropped:
            self._record({"event": "remove", "file": old.path.name})
        return dropped

    def record_pending(self, info: CheckpointInfo) -> None:
        """Make the record of a file about to replace a listed one durable, before the rename."""
        self._record({"event": "pending", "checkpoint": info._to_record()})
        self._flush()

    def commit(self, dropped: list[CheckpointInfo]) -> None:
        """Append the queued entries (one fsync), compact if due, then delete `dropped`.

        Raises:
            CheckpointError: the journal cannot be written (the entries stay
                queued for the next commit), or a file cannot be deleted.
        """
        self._flush()
        manifest = self._opened()
        live = len(manifest.checkpoints) + len(manifest.pending) + (manifest.best is not None)
        if self._journal.lines > 2 * live + COMPACT_AFTER_LINES:
            self.compact()
        _delete(dropped)

    def compact(self) -> None:
        """Write the whole manifest as the snapshot, then delete the journal it includes.

        Raises:
            CheckpointError: the snapshot or the queued entries cannot be written.
        """
        self._flush()  # queued entries first: they are in the snapshot's sequence
        write_manifest(self._opened())
        self._journal.remove()

    def close(self) -> None:
        """Compact (when the journal has lines) and close the journal.

        A snapshot that cannot be written is only logged: the journal still
        holds every record, and readers replay it.

        Raises:
            CheckpointError: queued entries cannot be appended.
        """
        try:
            if self.manifest is not None and (self._journal.lines or self._queued):
                self._flush()
                try:
                    self.compact()
                except CheckpointError as error:
                    logger.warning("The manifest stays a snapshot and a journal: %s", error)
        finally:
            self._journal.close()

    def release(self) -> None:
        """Close the journal without compacting (after a failed write; `open()` reads it)."""
        self._journal.close()

    def _flush(self) -> None:
        if not self._queued:
            return
        try:
            self._journal.append(self._queued)
        except OSError as error:
            raise CheckpointError(
                f"Cannot write the checkpoint manifest {self._journal.path}: {error}"
            ) from error
        self._queued = []

    def _opened(self) -> Manifest:
        if self.manifest is None:
            raise CheckpointError("ManifestWriter used before open().")
        return self.manifest


def _delete(dropped: list[CheckpointInfo]) -> None:
    for info in dropped:
        try:
            info.path.unlink(missing_ok=True)
        except OSError as error:
            raise CheckpointError(f"Cannot delete old checkpoint {info.path}: {error}") from error
