"""Open files that may be untrusted: regular files only, never blocking on a FIFO, size-capped.

A FIFO, a device such as `/dev/zero`, or a symlink to one, in place of a file
kerastools reads would hang the process or fill its memory; these helpers
refuse them with an `OSError` whose `strerror` says why, which each caller
turns into its own kerastools error naming the file.
"""

from __future__ import annotations

import errno
import os
import stat
from typing import IO


def open_regular(path: str | os.PathLike[str]) -> IO[bytes]:
    """`path` opened for binary reading if it is a regular file; an OSError otherwise.

    Examples:
        >>> from kerastools._reading import open_regular
        >>> open_regular("/dev/null")
        Traceback (most recent call last):
        ...
        OSError: [Errno 22] not a regular file (a FIFO, device or socket): '/dev/null'
    """
    if "\0" in os.fsdecode(path):
        raise OSError(errno.EINVAL, "the path contains a NUL character", os.fsdecode(path).replace("\0", "\\0"))
    # O_NONBLOCK: opening a FIFO that has no writer must not hang before the check below.
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise OSError(errno.EINVAL, "not a regular file (a FIFO, device or socket)", os.fsdecode(path))
    os.set_blocking(descriptor, True)
    return os.fdopen(descriptor, "rb")


def read_regular(path: str | os.PathLike[str], max_bytes: int) -> bytes:
    """The bytes of regular file `path`, refused (OSError, EFBIG) when larger than `max_bytes`.

    Examples:
        >>> from kerastools._reading import read_regular
        >>> _ = (tmp_path / "a.json").write_text("{}")
        >>> read_regular(tmp_path / "a.json", max_bytes=10)
        b'{}'
    """
    with open_regular(path) as handle:
        data = handle.read(max_bytes + 1)  # a file growing while read is still capped
    if len(data) > max_bytes:
        raise OSError(errno.EFBIG, f"larger than the {max_bytes} bytes allowed", os.fsdecode(path))
    return data
