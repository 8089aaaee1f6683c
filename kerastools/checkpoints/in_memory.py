"""Checkpoint files built in memory, then written to disk with plain writes.

HDF5 writing straight to a file that runs out of space kills the process:
h5py's `File.close` segfaults on a full disk (h5py 3.x, HDF5 1.14; plain
h5py does it too). So no HDF5 file is ever opened on the checkpoint's disk
for writing: Keras' `save_weights` and `save` write into an `io.BytesIO`
(both accept one), the 0.1 format is built the same way, and the bytes are
written, fsynced and renamed by `place_bytes`. A full disk is then an
`OSError` from `write` or `fsync`, turned into a `CheckpointError` naming
the file; the temporary is removed and the files already there stay as
they were.

The hash in the record is of the bytes in memory: the file is not read
back (the previous layout re-read every file it wrote to hash it).

Examples:
    >>> data = weights_bytes(model)
    >>> data[:8] == b"\\x89HDF\\r\\n\\x1a\\n"
    True
    >>> fields = RecordFields("epoch", epoch=1, step=0, metrics={}, wall_time=0.0)
    >>> info = place_bytes(data, tmp_path / "epoch-0001.weights.h5", includes_optimizer=True,
    ...                    fields=fields)
    >>> info.size == len(data)
    True
    >>> model.load_weights(info.path)  # plain Keras reads it
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keras

from kerastools._atomic import atomic_write
from kerastools.checkpoints.integrity import RecordFields, bytes_record
from kerastools.errors import CheckpointError

if TYPE_CHECKING:
    from kerastools.checkpoints.manifest import CheckpointInfo

__all__ = ["archive_bytes", "hdf5_bytes", "place_bytes", "weights_bytes"]


class _NamedBuffer(io.BytesIO):
    """An in-memory file that `model.save_weights` and `model.save` accept.

    Both take an `io.BytesIO` for the file but check the name's suffix with
    `str(filepath)` first (`.weights.h5`, `.keras`), so the buffer gives one.
    """

    def __init__(self, name: str) -> None:
        super().__init__()
        self._name = name

    def __str__(self) -> str:
        return self._name


def weights_bytes(model: keras.Model, edit: Callable[[Any], None] | None = None) -> bytes:
    """The bytes of `model.save_weights(path)`, made without touching a disk.

    `edit(handle)`, when given, changes the file (an h5py `File` open
    read-write on the same buffer: no second copy) before its bytes are taken.

    Examples:
        >>> data = weights_bytes(model, lambda handle: handle.attrs.create("note", "hi"))
        >>> len(data) > 0
        True
    """
    buffer = _NamedBuffer("in-memory.weights.h5")
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
    buffer = _NamedBuffer("in-memory.keras")
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


def place_bytes(
    data: bytes,
    target: Path,
    *,
    includes_optimizer: bool,
    fields: RecordFields,
    before_replace: Callable[[CheckpointInfo], None] | None = None,
) -> CheckpointInfo:
    """Write `data` to `target` atomically (temporary file, fsync, rename); return its record.

    `before_replace` runs after the bytes are written and before the file
    is fsynced and replaces `target` (the manifest's pending record goes
    there).

    Raises:
        CheckpointError: the file cannot be written, e.g. the disk is full
            (the message names the file; `target` is left as it was).
    """
    try:
        with atomic_write(target) as handle:
            handle.write(data)
            info = bytes_record(data, target, includes_optimizer=includes_optimizer, fields=fields)
            if before_replace is not None:
                before_replace(info)
    except OSError as error:
        raise CheckpointError(f"Cannot write checkpoint {target}: {error}") from error
    return info
