"""Checkpoint bytes: made in memory, written durably, read back verified on one descriptor.

HDF5 writing straight to a file that runs out of space kills the process:
h5py's `File.close` segfaults on a full disk (h5py 3.x, HDF5 1.14). So no
HDF5 file is ever opened on the checkpoint's disk for writing: Keras'
`save_weights` and `save` write into an `io.BytesIO` (both accept one whose
`str()` has the right suffix), kerastools' own writers fill one too, and
`write_durably` writes the bytes to a temporary file, fsyncs and renames
it. A full disk is then an `OSError`, turned into a `CheckpointError`
naming the file; the files already there stay as they were.

Reading opens a file once, without blocking (a FIFO would block a plain
open), refuses anything but a regular file, and reads and hashes it from
that one descriptor: what is checked is what is loaded (`read_verified`).

Examples:
    >>> data = weights_bytes(model)
    >>> data[:8] == b"\\x89HDF\\r\\n\\x1a\\n"
    True
    >>> write_durably(data, tmp_path / "epoch-0001.weights.h5")
    >>> model.load_weights(tmp_path / "epoch-0001.weights.h5")  # plain Keras reads it
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import keras

from kerastools._atomic import atomic_write
from kerastools.errors import CheckpointError

__all__ = [
    "DamagedFile",
    "NamedBuffer",
    "archive_bytes",
    "hdf5_bytes",
    "read_regular",
    "read_verified",
    "sha256_hex",
    "weights_bytes",
    "write_durably",
]

_Record = TypeVar("_Record")


class DamagedFile(Exception):
    """A checkpoint file that is missing, fails its checksum or its structure."""


class NamedBuffer(io.BytesIO):
    """An in-memory file that `model.save_weights`, `model.save` and `load_weights` accept.

    They take an `io.BytesIO` for the file but check the name's suffix with
    `str(filepath)` first (`.weights.h5`, `.keras`), so the buffer gives one.
    """

    def __init__(self, name: str, data: bytes = b"") -> None:
        super().__init__(data)
        self._name = name

    def __str__(self) -> str:
        return self._name


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def _open_regular(path: Path) -> int:
    """A descriptor of `path` opened without blocking; CheckpointError unless a regular file."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise CheckpointError(
            f"Cannot read {path}: it is {_kind(mode)}; only a regular file (or a symlink to "
            "one) is read."
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

    Examples:
        >>> read_regular(tmp_path / "missing.json", cap=10) is None
        True
        >>> read_regular(Path("/dev/zero"), cap=10)
        Traceback (most recent call last):
        ...
        kerastools.errors.CheckpointError: Cannot read /dev/zero: it is a character device; ...

    Raises:
        CheckpointError: it is not a regular file, holds more than `cap`
            bytes, or cannot be read (the message names it).
    """
    try:
        fd = _open_regular(path)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise CheckpointError(f"Cannot read {path}: {error}") from error
    try:
        data = _read_all(fd, cap)
    except OSError as error:
        raise CheckpointError(f"Cannot read {path}: {error}") from error
    finally:
        os.close(fd)
    if len(data) > cap:
        raise CheckpointError(
            f"Cannot read {path}: it holds more than {cap} bytes, the most kerastools reads for it."
        )
    return data


def sha256_hex(data: bytes) -> str:
    """The SHA-256 of `data`, hex.

    Examples:
        >>> sha256_hex(b"")[:12]
        'e3b0c44298fc'
    """
    return hashlib.sha256(data).hexdigest()


def read_verified(
    path: Path, records: Sequence[_Record], size_of: Callable[[_Record], int],
    sha_of: Callable[[_Record], str],
) -> tuple[_Record, bytes]:
    """The first of `records` the file at `path` matches, and its bytes, read once.

    One descriptor: opened without blocking, checked to be a regular file,
    its size compared with each record's, then read and hashed once.

    Examples:
        >>> _ = (tmp_path / "best.weights.h5").write_bytes(b"abc")
        >>> read_verified(tmp_path / "best.weights.h5", [(3, sha256_hex(b"abc"))],
        ...               lambda r: r[0], lambda r: r[1])[1]
        b'abc'

    Raises:
        DamagedFile: the file is missing or cannot be opened, or no record
            has its size and SHA-256.
        CheckpointError: it is not a regular file (a FIFO, a device).
    """
    try:
        fd = _open_regular(path)
    except FileNotFoundError:
        raise DamagedFile("the file is missing") from None
    except CheckpointError:
        raise
    except OSError as error:
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


def write_durably(data: bytes, target: Path) -> None:
    """Write `data` to `target` atomically: temporary file, fsync, rename, directory fsync.

    Raises:
        CheckpointError: the file cannot be written, e.g. the disk is full
            (the message names the file; `target` is left as it was).
    """
    try:
        with atomic_write(target) as handle:
            handle.write(data)
    except OSError as error:
        raise CheckpointError(f"Cannot write checkpoint {target}: {error}") from error


def weights_bytes(model: keras.Model, edit: Callable[[Any], None] | None = None) -> bytes:
    """The bytes of `model.save_weights(path)`, made without touching a disk.

    `edit(handle)`, when given, changes the file (an h5py `File` open
    read-write on the same buffer: no second copy) before its bytes are taken.

    Examples:
        >>> data = weights_bytes(model, lambda handle: handle.attrs.create("note", "hi"))
        >>> len(data) > 0
        True
    """
    buffer = NamedBuffer("in-memory.weights.h5")
    model.save_weights(buffer)
    if edit is not None:
        import h5py

        buffer.seek(0)
        with h5py.File(buffer, "r+") as handle:
            edit(handle)
    return _written(buffer, "model.save_weights")


def archive_bytes(model: keras.Model) -> bytes:
    """The bytes of `model.save(path)` (a `.keras` zip), made without touching a disk.

    Examples:
        >>> archive_bytes(model)[:2]
        b'PK'
    """
    buffer = NamedBuffer("in-memory.keras")
    model.save(buffer)
    return _written(buffer, "model.save")


def hdf5_bytes(write: Callable[[Any], None]) -> bytes:
    """Build an HDF5 file in memory: `write(handle)` fills it; return its bytes.

    Examples:
        >>> data = hdf5_bytes(lambda handle: handle.create_dataset("x", data=[1, 2]))
        >>> data[:4]
        b'\\x89HDF'
    """
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
