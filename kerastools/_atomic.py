"""Atomic file writes: a reader (or a crash) never sees half a file.

Write to a temporary file in the same directory, flush and fsync it, then
`os.replace` it over the target; fsync the directory so the rename survives
a power cut too.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import IO

__all__ = ["atomic_write", "fsync_directory", "hidden_temporary"]


def fsync_directory(directory: str | os.PathLike[str]) -> None:
    """Persist a directory entry change (a rename) on filesystems that need it."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems (tmpfs on some kernels) refuse fsync on directories
    finally:
        os.close(fd)


def _open_temporary(directory: str | os.PathLike[str], prefix: str, suffix: str) -> tuple[int, Path]:
    """A new hidden file in `directory`, open for writing, with the permissions open() gives
    (mode 0o666 less the umask at creation: no chmod, unlike mkstemp's 0600)."""
    for _ in range(100):
        temporary = Path(directory, f"{prefix}{secrets.token_hex(4)}{suffix}")
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
            return os.open(temporary, flags, 0o666), temporary
        except FileExistsError:  # another writer's name: draw again
            continue
    raise FileExistsError(f"No free temporary name like {prefix}*{suffix} in {directory}")


def hidden_temporary(directory: str | os.PathLike[str], prefix: str, suffix: str) -> Path:
    """Create an empty hidden temporary file in `directory` with the permissions open() gives."""
    fd, temporary = _open_temporary(directory, prefix, suffix)
    os.close(fd)
    return temporary


@contextlib.contextmanager
def atomic_write(target: str | os.PathLike[str], mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file for writing; on success it atomically replaces `target`.

    One descriptor from creation to fsync: the few system calls matter to a
    checkpoint writer thread, which takes the GIL back after each.

    Examples:
        >>> with atomic_write(tmp_path / "manifest.json", "w") as handle:
        ...     _ = handle.write("{}")
        >>> (tmp_path / "manifest.json").read_text()
        '{}'
    """
    if "w" not in mode:
        raise ValueError(f"atomic_write only writes; got mode={mode!r}")
    target = Path(target)
    fd, temporary = _open_temporary(target.parent, f".{target.name}.", ".tmp")
    try:
        with open(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(fd)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    fsync_directory(target.parent)
