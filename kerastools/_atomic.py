"""Atomic file writes: a reader (or a crash) never sees half a file.

Write to a temporary file in the same directory, flush and fsync it, then
`os.replace` it over the target; fsync the directory so the rename survives
a power cut too.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

__all__ = ["atomic_path", "atomic_write", "fsync_directory", "hidden_temporary"]


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


def hidden_temporary(directory: str | os.PathLike[str], prefix: str, suffix: str) -> Path:
    """Create an empty hidden temporary file in `directory` with the permissions open() gives.

    mkstemp creates 0600; a checkpoint should get what a plain open() would.
    """
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=directory)
    umask = os.umask(0)
    os.umask(umask)
    os.fchmod(fd, 0o666 & ~umask)
    os.close(fd)
    return Path(name)


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str], suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path next to `target`; on success it replaces `target`.

    For writers that want a file name (h5py, `model.save_weights`). `suffix`
    keeps libraries that check the extension happy (".weights.h5"). On any
    error the temporary file is removed and `target` is left as it was.
    """
    target = Path(target)
    temporary = hidden_temporary(target.parent, f".{target.name}.", suffix + ".tmp")
    try:
        yield temporary
        with open(temporary, "rb+") as handle:
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
        fsync_directory(target.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


@contextlib.contextmanager
def atomic_write(target: str | os.PathLike[str], mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file for writing; on success it atomically replaces `target`.

    Examples:
        >>> with atomic_write(tmp_path / "manifest.json", "w") as handle:
        ...     _ = handle.write("{}")
        >>> (tmp_path / "manifest.json").read_text()
        '{}'
    """
    if "w" not in mode:
        raise ValueError(f"atomic_write only writes; got mode={mode!r}")
    # The handle is closed before atomic_path fsyncs and renames the file: one fsync.
    with atomic_path(target) as temporary, open(temporary, mode) as handle:
        yield handle
