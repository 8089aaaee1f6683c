"""Checkpoint bytes: made in memory, written durably, read back verified on one descriptor.

h5py's `File.close` segfaults on a full disk (h5py 3.x, HDF5 1.14), so no
HDF5 file is opened for writing on the checkpoint's disk: Keras and our
writers fill an in-memory file, and `write_durably` writes its bytes
atomically (a full disk is then a `CheckpointError` naming the file) while
`start_sha256` hashes them on a second thread. Reading opens a file once
without blocking (a FIFO would block), refuses all but a regular file, and
hashes what it loads (`read_verified`).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import hashlib
import io
import os
import stat
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import keras

from kerastools._atomic import atomic_write
from kerastools.errors import CheckpointError

__all__ = [
    "DamagedFile", "NamedBuffer", "archive_bytes", "damaged_on", "hdf5_bytes", "read_regular",
    "read_verified", "sha256_hex", "start_sha256", "weights_bytes", "write_durably",
]

# Files this large are hashed on a second thread while they are written (hashlib and os.write
# release the GIL); a smaller one is hashed at once, cheaper than a hand-over.
_PARALLEL_HASH_BYTES = 1 << 22

_Record = TypeVar("_Record")


class DamagedFile(Exception):
    """A checkpoint file that is missing, fails its checksum or its structure."""


@contextlib.contextmanager
def damaged_on(
    errors: tuple[type[Exception], ...], what: str = "its HDF5 structure is broken"
) -> Iterator[None]:
    """A parser's `errors` become `DamagedFile("what (error)")`; a CheckpointError passes as is."""
    try:
        yield
    except CheckpointError:
        raise
    except errors as error:
        raise DamagedFile(f"{what} ({error})") from error


class NamedBuffer(io.BytesIO):
    """An `io.BytesIO` whose `str()` is a file name: Keras' save and load check its suffix."""

    def __init__(self, name: str, data: bytes = b"") -> None:
        super().__init__(data)
        self._name = name

    def __str__(self) -> str:
        return self._name


_NOT_REGULAR = (
    (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a directory"), (stat.S_ISSOCK, "a socket"),
)


def _open_regular(path: Path) -> int:
    """A descriptor of `path` opened without blocking; CheckpointError unless a regular file."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = next((name for test, name in _NOT_REGULAR if test(mode)), "not a regular file")
        raise CheckpointError(
            f"Cannot read {path}: it is {kind}; only a regular file (or a symlink to one) is read."
        )
    return fd


def _read_all(fd: int, cap: int) -> bytes:
    chunks, size = [], 0
    while size <= cap:
        chunk = os.read(fd, min(cap + 1 - size, 1 << 24))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def read_regular(path: Path, *, cap: int) -> bytes | None:
    """The bytes of the regular file `path`, None when it does not exist.

    CheckpointError (naming it) when it is not a regular file, holds more than
    `cap` bytes, or cannot be read.

    Examples:
        >>> read_regular(Path("/dev/zero"), cap=10)
        Traceback (most recent call last):
        ...
        kerastools.errors.CheckpointError: Cannot read /dev/zero: it is a character device; ...
    """
    try:
        fd = _open_regular(path)
        try:
            data = _read_all(fd, cap)
        finally:
            os.close(fd)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise CheckpointError(f"Cannot read {path}: {error}") from error
    if len(data) > cap:
        raise CheckpointError(
            f"Cannot read {path}: it holds more than {cap} bytes, the most kerastools reads for it."
        )
    return data


def sha256_hex(data: bytes | memoryview) -> str:
    """The SHA-256 of `data`, hex."""
    return hashlib.sha256(data).hexdigest()


@functools.cache
def _hasher() -> concurrent.futures.ThreadPoolExecutor:
    return concurrent.futures.ThreadPoolExecutor(1, "kerastools-checkpoint-hash")


def start_sha256(data: bytes | memoryview) -> Callable[[], str]:
    """Start hashing `data` (SHA-256, hex) and return what waits for the digest.

    A large `data` is hashed on a second thread, so that writing it to disk
    meanwhile costs no extra time; `data` must not change until then.

    Examples:
        >>> digest = start_sha256(b"abc")
        >>> digest()[:16]
        'ba7816bf8f01cfea'
    """
    if len(data) < _PARALLEL_HASH_BYTES:
        digest = sha256_hex(data)
        return lambda: digest
    return _hasher().submit(sha256_hex, data).result


def read_verified(
    path: Path, records: Sequence[_Record], size_of: Callable[[_Record], int],
    sha_of: Callable[[_Record], str],
) -> tuple[_Record, bytes]:
    """The first of `records` the file at `path` matches (size, then SHA-256), and its bytes.

    DamagedFile when it is missing, cannot be opened or matches no record;
    CheckpointError when it is not a regular file (a FIFO, a device).
    """
    try:
        fd = _open_regular(path)
    except FileNotFoundError:
        raise DamagedFile("the file is missing") from None
    except OSError as error:  # not a CheckpointError (a FIFO, a device): that is no OSError
        raise DamagedFile(f"it cannot be opened ({error})") from error
    try:
        size = os.fstat(fd).st_size
        sized = [record for record in records if size_of(record) == size]
        if not sized:
            expected = " or ".join(str(size_of(record)) for record in records)
            raise DamagedFile(f"it has {size} bytes but its record says {expected} (truncated?)")
        data = _read_all(fd, size)
    except OSError as error:
        raise DamagedFile(f"it cannot be read ({error})") from error
    finally:
        os.close(fd)
    digest = sha256_hex(data)
    for record in sized:
        if len(data) == size and sha_of(record) == digest:
            return record, data
    raise DamagedFile(
        f"its sha256 {digest[:12]}... does not match its record's {sha_of(sized[0])[:12]}..."
    )


def write_durably(
    data: bytes | memoryview, target: Path, before_rename: Callable[[], None] | None = None
) -> None:
    """Write `data` to `target` atomically (temporary file, fsync, rename, directory fsync).

    `before_rename` runs once the bytes are in the temporary file. CheckpointError
    naming the file when it cannot (a full disk): `target` stays as it was.
    """
    try:
        with atomic_write(target) as handle:
            handle.write(data)
            if before_rename is not None:
                before_rename()
    except OSError as error:
        raise CheckpointError(f"Cannot write checkpoint {target}: {error}") from error


def weights_bytes(model: keras.Model, edit: Callable[[Any], None] | None = None) -> bytes:
    """The bytes of `model.save_weights(path)`, made in memory; `edit(handle)` (h5py, read-write
    on the same buffer) changes them first."""
    buffer = NamedBuffer("in-memory.weights.h5")
    model.save_weights(buffer)
    if edit is not None:
        import h5py

        buffer.seek(0)
        with h5py.File(buffer, "r+") as handle:
            edit(handle)
    return _written(buffer, "model.save_weights")


def archive_bytes(model: keras.Model) -> bytes:
    """The bytes of `model.save(path)` (a `.keras` zip), made in memory."""
    buffer = NamedBuffer("in-memory.keras")
    model.save(buffer)
    return _written(buffer, "model.save")


def hdf5_bytes(write: Callable[[Any], None]) -> bytes:
    """The bytes of an HDF5 file built in memory, which `write(handle)` fills."""
    import h5py

    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as handle:
        write(handle)
    return _written(buffer, "h5py")


def _written(buffer: io.BytesIO, writer: str) -> bytes:
    data = buffer.getvalue()
    if not data:  # a Keras that stops writing into the buffer must not give empty checkpoints
        raise CheckpointError(f"{writer} wrote nothing into an in-memory file.")
    return data
