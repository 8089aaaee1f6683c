"""Read IDX files, the MNIST format, plain or gzip-compressed, checking them on the way."""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from kerastools._reading import open_regular
from kerastools._validation import check_int, check_path
from kerastools.errors import DatasetError

__all__ = ["MAX_IDX_BYTES", "load_idx"]

# IDX type codes (the third byte of the magic number) -> big-endian numpy dtype.
_IDX_TYPES: dict[int, np.dtype[Any]] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


# numpy arrays have at most this many dimensions.
_MAX_NDIM = 64
# `load_idx` refuses files (or gzip contents) larger than this unless given `max_bytes`.
MAX_IDX_BYTES = 2**31


def _open_regular(path: Path) -> Any:
    """`path` opened for reading if it is a regular file (never blocks on a FIFO or device)."""
    try:
        return open_regular(path)
    except FileNotFoundError as error:
        raise DatasetError(f"IDX file not found: {str(path)!r}") from error
    except IsADirectoryError as error:
        raise DatasetError(f"Expected an IDX file but {str(path)!r} is a directory.") from error
    except OSError as error:
        raise DatasetError(f"Expected an IDX file but {str(path)!r}: {error.strerror}; only regular files are read.") from error


def _too_large(path: Path, size: int, max_bytes: int, what: str) -> DatasetError:
    return DatasetError(
        f"IDX file {str(path)!r} is too large: {what} {size} bytes, more than "
        f"max_bytes={max_bytes}. Pass a larger `max_bytes` to load_idx to read it."
    )


# Decompressed data is read in pieces of this size, so memory follows what is really there.
_CHUNK = 1 << 20


def _read_up_to(stream: Any, count: int, data: bytearray) -> None:
    """Append at most `count` bytes of `stream` to `data` (fewer at its end)."""
    end = len(data) + count
    while len(data) < end:
        chunk = stream.read(min(end - len(data), _CHUNK))
        if not chunk:
            return
        data += chunk


def _check_magic(data: bytearray, where: str) -> int:
    """The number of dimensions of the IDX header starting `data` (its first 4 bytes)."""
    if len(data) < 4:
        raise DatasetError(f"Not an IDX file {where}: only {len(data)} bytes, no complete header.")
    if data[0] != 0 or data[1] != 0:
        raise DatasetError(
            f"Not an IDX file {where}: the magic number must start with two zero bytes, "
            f"found {bytes(data[:4]).hex()}."
        )
    type_code, ndim = data[2], data[3]
    if type_code not in _IDX_TYPES:
        raise DatasetError(
            f"Bad IDX header {where}: unknown type code 0x{type_code:02x}; "
            f"known: {[f'0x{code:02x}' for code in _IDX_TYPES]}."
        )
    if ndim == 0:
        raise DatasetError(f"Bad IDX header {where}: zero dimensions.")
    if ndim > _MAX_NDIM:
        raise DatasetError(
            f"Bad IDX header {where}: {ndim} dimensions; allowed: 1 to {_MAX_NDIM} (numpy's limit)."
        )
    return int(ndim)


def _read_idx(path: Path, stream: Any, size: int | None, max_bytes: int) -> np.ndarray:
    """The array in `stream` (`size`: the file's size, None for gzip content).

    Reads the header, then at most one byte past the size it declares: peak
    memory is bounded by the declared size, however much data follows.
    """
    where = f"in {str(path)!r}"
    data = bytearray()
    _read_up_to(stream, 4, data)
    ndim = _check_magic(data, where)
    offset = 4 + 4 * ndim
    _read_up_to(stream, offset - 4, data)
    if len(data) < offset:
        raise DatasetError(
            f"Truncated IDX header {where}: {ndim} dimensions need {offset} header bytes, "
            f"the file has {len(data)}."
        )
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = _IDX_TYPES[data[2]]
    expected = offset + math.prod(shape) * dtype.itemsize
    if expected > max_bytes:
        raise _too_large(path, expected, max_bytes, "its header declares")
    if size is None:  # gzip content: one byte past the declared size tells of trailing data
        _read_up_to(stream, expected - offset + 1, data)
        found = len(data)
    else:  # a plain file: its size tells, and its data is read in place
        found = size
        if size == expected:
            whole = bytearray(expected)
            whole[:offset] = data
            found = offset + stream.readinto(memoryview(whole)[offset:])
            data = whole
    if found != expected:
        problem = "truncated" if found < expected else "has trailing bytes"
        amount = f"more than {expected}" if size is None and found > expected else str(found)
        raise DatasetError(
            f"Corrupt IDX file {where}: {problem}; the header says shape {shape} of {dtype.name} "
            f"({expected} bytes in all) but the file has {amount} bytes."
        )
    # A bytearray, so np.frombuffer gives a writable array without a copy.
    array = np.frombuffer(data, dtype=dtype, offset=offset).reshape(shape)
    if dtype.itemsize > 1:
        array = array.astype(dtype.newbyteorder("="))
    return array


def _load(path: Path, max_bytes: int) -> np.ndarray:
    try:
        with _open_regular(path) as handle:
            size = os.fstat(handle.fileno()).st_size
            head = handle.read(2)
            handle.seek(0)
            if head != _GZIP_MAGIC:
                if size > max_bytes:
                    raise _too_large(path, size, max_bytes, "it has")
                return _read_idx(path, handle, size, max_bytes)
            if size >= 18:  # the trailer's ISIZE: the uncompressed size modulo 2**32
                handle.seek(size - 4)
                declared = int.from_bytes(handle.read(4), "little")
                if declared > max_bytes:
                    raise _too_large(path, declared, max_bytes, "its gzip header declares")
                handle.seek(0)
            with gzip.GzipFile(fileobj=handle, mode="rb") as content:
                return _read_idx(path, content, None, max_bytes)
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:
        raise DatasetError(f"Corrupt gzip data in {str(path)!r}: {error}") from error
    except OSError as error:
        if isinstance(error, DatasetError):
            raise
        raise DatasetError(f"Cannot read IDX file {str(path)!r}: {error}") from error


def load_idx(path: str | os.PathLike[str], *, max_bytes: int = MAX_IDX_BYTES) -> np.ndarray:
    """Read one IDX file (the MNIST format), plain or gzip-compressed.

    The header is checked before any data is used: two zero bytes, a known
    type code, at least one dimension, and a file size that matches the
    dimensions exactly. Multi-byte types are converted to native byte order.

    Examples:
        >>> header = bytes([0, 0, 0x08, 1]) + (3).to_bytes(4, "big")
        >>> _ = (tmp_path / "labels-idx1-ubyte").write_bytes(header + bytes([7, 2, 1]))
        >>> kerastools.datasets.load_idx(tmp_path / "labels-idx1-ubyte")
        array([7, 2, 1], dtype=uint8)

    Args:
        path: the file; gzip files are recognised by their content, not
            their name. Only regular files are read (never a FIFO or device).
        max_bytes: the largest file, or decompressed gzip content, read; a
            gzip file is refused from the size its trailer declares before
            decompressing, and any file from the size its IDX header declares
            before its data is read. At most one byte past that size is read:
            more is refused as trailing data. Defaults to `MAX_IDX_BYTES` (2 GiB).

    Returns:
        A numpy array with the file's dimensions and type.

    Raises:
        ConfigTypeError: `path` is not a string or path.
        ConfigError: a NUL character in `path`, or `max_bytes` below 1.
        DatasetError: the file is missing, not a regular file, larger than
            `max_bytes`, or its header or size is not valid IDX (the message
            names the file and what is wrong).
    """
    file = check_path("path", path)
    max_bytes = check_int("max_bytes", max_bytes, low=1)
    return _load(file, max_bytes)
