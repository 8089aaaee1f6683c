"""One writer per checkpoint directory: an advisory lock on `.kerastools.lock`.

Another writer gets a `CheckpointError` naming the holder's pid and host.
`fcntl.flock`: the system releases it when its process dies. The file is
deleted at release while held; a writer that opened it just before finds
its file replaced and tries again. Readers never take it.

Examples:
    >>> lock = WriterLock(tmp_path)
    >>> lock.acquire()
    >>> WriterLock(tmp_path).acquire()
    Traceback (most recent call last):
    ...
    kerastools.errors.CheckpointError: Checkpoint directory ... already has a writer: ...
    >>> lock.release()
    >>> sorted(path.name for path in tmp_path.iterdir())
    []
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import socket
import threading
import weakref
from collections.abc import Callable
from pathlib import Path

from kerastools.errors import CheckpointError

__all__ = ["LOCK_NAME", "WriterLock"]

LOCK_NAME = ".kerastools.lock"
_HOLDER_BYTES = 4096  # what is read of a holder's lock file
# The locks this process holds, by lock file: a fit that raised (Keras then calls no
# callback) leaves its lock held; the next fit in the same thread takes it over.
_HELD: weakref.WeakValueDictionary[Path, WriterLock] = weakref.WeakValueDictionary()
_HELD_LOCK = threading.Lock()

logger = logging.getLogger(__name__)


def _release(fd: int, path: Path) -> None:
    """Delete the lock file (while still holding it, and only if it is ours), then unlock."""
    with contextlib.suppress(OSError):
        if os.fstat(fd).st_ino == os.stat(path).st_ino:
            os.unlink(path)
    with contextlib.suppress(OSError):
        os.close(fd)  # closing the last descriptor releases the flock


def _holder(fd: int) -> str:
    """The pid and host a lock file names, as text for an error message."""
    try:
        document = json.loads(os.pread(fd, _HOLDER_BYTES, 0).decode("utf-8"))
        pid, host = int(document["pid"]), str(document["host"])
    except (OSError, ValueError, KeyError, TypeError):
        return "a writer that has not written its pid and host yet"
    text = f"pid {pid} on host {host!r}"
    if pid == os.getpid() and host == socket.gethostname():
        text += (
            " (this process: another PeriodicCheckpoint or CheckpointStore on this directory, "
            "or one whose fit raised before its end; reuse that one, or close it)"
        )
    return text


class WriterLock:
    """An exclusive advisory lock on a checkpoint directory (which must exist at `acquire()`)."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.path = Path(directory) / LOCK_NAME
        self._finalizer: weakref.finalize | None = None
        self._owner: object = None
        self._thread = 0
        # What waits for the holder's write in flight: `flush(consume)`; consume=True also
        # takes its outcome (a writer taking over), False only waits (a reader).
        self.flush: Callable[[bool], None] | None = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock now."""
        return self._finalizer is not None and self._finalizer.alive

    def acquire(self, owner: object = None) -> None:
        """Take the lock (nothing happens when this object holds it already).

        `owner` names the run (a `fit`): a lock of this process held by another
        owner in this thread belongs to a run that raised, and is taken over.
        CheckpointError (naming the holder's pid and host) when another writer
        holds it, or when the lock file cannot be created.
        """
        import fcntl

        self._take_over(owner)
        while not self.held:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            except OSError as error:
                raise CheckpointError(
                    f"Cannot create the lock file {self.path} of the checkpoint directory: {error}"
                ) from error
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as error:
                holder = _holder(fd)
                os.close(fd)
                if error.errno not in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES):
                    raise CheckpointError(f"Cannot lock {self.path}: {error}") from error
                raise CheckpointError(
                    f"Checkpoint directory {self.path.parent} already has a writer: {holder} "
                    f"holds {self.path.name}. One PeriodicCheckpoint (or CheckpointStore) may "
                    "write a directory at a time: give this one another directory, or wait "
                    "until the other one's fit ends."
                ) from None
            self._take(fd)
        self._owner, self._thread = owner, threading.get_ident()
        with _HELD_LOCK:
            _HELD[self.path.resolve()] = self

    def _take_over(self, owner: object) -> None:
        with _HELD_LOCK:
            holder = _HELD.get(self.path.resolve())
        if holder is None or holder is self or not holder.held or owner is None:
            return
        another_run = holder._owner is not None and holder._owner is not owner
        if another_run and holder._thread == threading.get_ident():
            logger.info("Taking over %s from an earlier fit of this thread that raised.", self.path)
            if holder.flush is not None:
                holder.flush(True)
            holder.release()

    @staticmethod
    def wait_for_writer(directory: Path) -> None:
        """Wait for the write in flight of this process's writer of `directory`, if any: readers
        then list a background save once it is on disk."""
        with _HELD_LOCK:
            holder = _HELD.get((Path(directory) / LOCK_NAME).resolve()) if _HELD else None
        if holder is not None and holder.held and holder.flush is not None:
            holder.flush(False)

    def _take(self, fd: int) -> None:
        """Keep `fd` if it is still the directory's lock file, and write who holds it."""
        try:
            current = os.stat(self.path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            current = False
        if not current:  # released and deleted while we waited: try again
            os.close(fd)
            return
        self._finalizer = weakref.finalize(self, _release, fd, self.path)
        holder = json.dumps({"pid": os.getpid(), "host": socket.gethostname()}).encode()
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, holder, 0)
        except OSError as error:  # a full disk: the flock still excludes, unnamed
            logger.warning("Cannot write the pid and host into %s: %s", self.path, error)

    def release(self) -> None:
        """Give the lock back (nothing happens when it is not held)."""
        if self._finalizer is not None:
            self._finalizer()
            self._finalizer = None
            with _HELD_LOCK:
                if _HELD.get(self.path.resolve()) is self:
                    del _HELD[self.path.resolve()]
        self._owner = None
