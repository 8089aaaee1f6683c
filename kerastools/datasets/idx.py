"""Read IDX files, the MNIST format, plain or gzip-compressed, checking them on the way."""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from kerastools.errors import ConfigTypeError, DatasetError

__all__ = ["load_idx"]

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


def _read_bytes(path: Path) -> bytes | bytearray:
    try:
        with open(path, "rb") as handle:
            head = handle.read(2)
            handle.seek(0)
            if head != _GZIP_MAGIC:
                # bytearray so np.frombuffer gives a writable array without a copy.
                data = bytearray(os.fstat(handle.fileno()).st_size)
                handle.readinto(data)
                return data
        with gzip.open(path, "rb") as compressed:
            return compressed.read()
    except FileNotFoundError as error:
        raise DatasetError(f"IDX file not found: {str(path)!r}") from error
    except IsADirectoryError as error:
        raise DatasetError(f"Expected an IDX file but {str(path)!r} is a directory.") from error
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:
        raise DatasetError(f"Corrupt gzip data in {str(path)!r}: {error}") from error


def load_idx(path: str | os.PathLike[str]) -> np.ndarray:
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
            their name.

    Returns:
        A numpy array with the file's dimensions and type.

    Raises:
        ConfigTypeError: `path` is not a string or path.
        DatasetError: the file is missing, or its header or size is not valid
            IDX (the message names the file and what is wrong).
    """
    if not isinstance(path, (str, os.PathLike)):
        raise ConfigTypeError(f"Argument `path` must be a file path. Received: path={path!r}")
    file = Path(path)
    data = _read_bytes(file)
    where = f"in {str(file)!r}"
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
    offset = 4 + 4 * ndim
    if len(data) < offset:
        raise DatasetError(
            f"Truncated IDX header {where}: {ndim} dimensions need {offset} header bytes, "
            f"the file has {len(data)}."
        )
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = _IDX_TYPES[type_code]
    expected = offset + math.prod(shape) * dtype.itemsize
    if len(data) != expected:
        problem = "truncated" if len(data) < expected else "has trailing bytes"
        raise DatasetError(
            f"Corrupt IDX file {where}: {problem}; the header says shape {shape} of {dtype.name} "
            f"({expected} bytes in all) but the file has {len(data)} bytes."
        )
    array = np.frombuffer(data, dtype=dtype, offset=offset).reshape(shape)
    if dtype.itemsize > 1:
        array = array.astype(dtype.newbyteorder("="))
    return array
