"""Reading files that may be crafted or damaged: regular files only, with a size cap, strict JSON.

A manifest, a journal or a checkpoint may be replaced by a FIFO (opening it
would wait for a writer forever), a symlink to `/dev/zero` (reading it would
never end) or a huge file. `read_regular` opens without blocking, refuses
anything but a regular file and reads at most `cap` bytes; `check_regular`
does the same check for a file another library opens. `parse_json` refuses
`NaN`, `Infinity`, numbers that overflow a float (`1e400`) and nesting
so deep that Python's parser meets a `RecursionError`.

Examples:
    >>> _ = (tmp_path / "a.json").write_text('{"size": 3}')
    >>> parse_json(read_regular(tmp_path / "a.json", cap=1024), tmp_path / "a.json")
    {'size': 3}
    >>> parse_json(b'{"size": 2e696}', tmp_path / "a.json")
    Traceback (most recent call last):
    ...
    kerastools.errors.CheckpointError: The file .../a.json is not valid JSON for kerastools: the number 2e696 is not finite...
"""

from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path
from typing import Any

from kerastools.errors import CheckpointError

__all__ = ["MAX_JSON_BYTES", "check_regular", "parse_json", "read_regular"]

MAX_JSON_BYTES = 256 << 20  # a manifest or journal larger than this is refused


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


def check_regular(path: Path) -> None:
    """Raise CheckpointError unless `path` is a regular file (a missing one raises OSError).

    Examples:
        >>> _ = (tmp_path / "x.weights.h5").write_bytes(b"")
        >>> check_regular(tmp_path / "x.weights.h5")
        >>> check_regular(Path("/dev/zero"))
        Traceback (most recent call last):
        ...
        kerastools.errors.CheckpointError: Cannot read /dev/zero: it is a character device; ...
    """
    os.close(_open_regular(path))


def read_regular(path: Path, *, cap: int) -> bytes | None:
    """The bytes of the regular file `path`, None when it does not exist.

    Examples:
        >>> read_regular(tmp_path / "missing.json", cap=10) is None
        True

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
        chunks, size = [], 0
        while size <= cap:
            chunk = os.read(fd, min(cap + 1 - size, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as error:
        raise CheckpointError(f"Cannot read {path}: {error}") from error
    finally:
        os.close(fd)
    if size > cap:
        raise CheckpointError(
            f"Cannot read {path}: it holds more than {cap} bytes, the most kerastools reads "
            "for it."
        )
    return b"".join(chunks)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"the constant {name} is not allowed (numbers must be finite)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is not finite (it overflows a float)")
    return value


def parse_json(raw: bytes, path: Path) -> Any:
    """The JSON document `raw` (UTF-8) read from `path`, with finite numbers only.

    Examples:
        >>> parse_json(b'[1, 2.5, null]', tmp_path / "x.json")
        [1, 2.5, None]

    Raises:
        CheckpointError: it is not UTF-8 JSON, holds `NaN`, `Infinity` or a
            number that overflows a float, or nests so deep that Python's
            parser gives up (the message names `path`).
    """
    try:
        text = raw.decode("utf-8")
        return json.loads(text, parse_float=_finite_float, parse_constant=_refuse_constant)
    except RecursionError:
        raise CheckpointError(
            f"The file {path} is not valid JSON for kerastools: it nests too deep."
        ) from None
    except ValueError as error:
        raise CheckpointError(
            f"The file {path} is not valid JSON for kerastools: {error}."
        ) from None
