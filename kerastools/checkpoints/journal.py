"""The manifest's journal: `manifest.jsonl`, one checksummed JSON entry per line, appended and fsynced.

Each line is a JSON object whose first member is the CRC-32 of the rest of
the line: `{"crc32": "1a2b3c4d", "seq": 7, "event": "add", ...}`. The
checksum covers the bytes after the fixed-width `{"crc32": "........", `
prefix, so any JSON tool reads the file and a reader finds a damaged line
without re-encoding it. A kill (or a power cut) during an append leaves at
most the last line incomplete or damaged: readers ignore that last line,
and the writer cuts it off before it appends again. A damaged line followed
by intact ones is not a torn append: the journal was damaged after it was
written, and reading it fails.

What the entries mean (their `event`) is `kerastools.checkpoints.manifest`'s
business; this module only frames, checks, reads and appends lines.

Examples:
    >>> line = encode_entry({"seq": 1, "event": "remove", "file": "epoch-0001.weights.h5"})
    >>> decode_journal(line + line[:20]).entries  # the torn second line is ignored
    [{'seq': 1, 'event': 'remove', 'file': 'epoch-0001.weights.h5'}]
"""

from __future__ import annotations

import contextlib
import json
import os
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kerastools._atomic import fsync_directory
from kerastools.checkpoints.safe_read import parse_json

__all__ = ["JOURNAL_NAME", "JournalContent", "JournalWriter", "decode_journal", "encode_entry"]

JOURNAL_NAME = "manifest.jsonl"
_PREFIX = b'{"crc32": "'
_PREFIX_LENGTH = len(_PREFIX) + 8 + len(b'", ')  # then the entry's own members


def encode_entry(entry: Mapping[str, Any]) -> bytes:
    """One journal line (ending in a newline) holding `entry` and its checksum.

    Examples:
        >>> encode_entry({"seq": 3, "event": "remove", "file": "a"})
        b'{"crc32": "d6120fcc", "seq": 3, "event": "remove", "file": "a"}\\n'
    """
    body = json.dumps(dict(entry), allow_nan=False).encode("utf-8")
    if not body.startswith(b"{") or body == b"{}":
        raise ValueError(f"a journal entry must be a non-empty object, not {entry!r}")
    rest = body[1:]  # '"seq": 3, ...}'
    return _PREFIX + f"{zlib.crc32(rest):08x}".encode() + b'", ' + rest + b"\n"


def _decode_line(line: bytes) -> dict[str, Any] | None:
    """The entry of one complete line (without its newline); None when it is damaged."""
    if len(line) <= _PREFIX_LENGTH or not line.startswith(_PREFIX):
        return None
    checksum, rest = line[len(_PREFIX) : len(_PREFIX) + 8], line[_PREFIX_LENGTH:]
    try:
        if int(checksum, 16) != zlib.crc32(rest):
            return None
    except ValueError:
        return None
    # Its checksum holds: what parse_json refuses (Infinity, 1e400, deep nesting) is crafted.
    entry = parse_json(line, Path(JOURNAL_NAME))
    if not isinstance(entry, dict):
        return None
    entry.pop("crc32", None)
    return entry


@dataclass(frozen=True)
class JournalContent:
    """What a journal holds: its intact entries, and where they end.

    Examples:
        >>> content = decode_journal(encode_entry({"seq": 1, "event": "x"}) + b'{"crc3')
        >>> len(content.entries), content.size, content.torn
        (1, 46, True)

    Attributes:
        entries: the entries of the intact lines, in order.
        size: the bytes those lines take (where the next append goes).
        torn: whether an incomplete or damaged last line follows them.
    """

    entries: list[dict[str, Any]] = field(default_factory=list)
    size: int = 0
    torn: bool = False


def decode_journal(raw: bytes) -> JournalContent:
    """The entries of a journal's bytes; an incomplete or damaged last line is ignored.

    Examples:
        >>> decode_journal(b"").entries
        []

    Raises:
        ValueError: a damaged line is followed by an intact one.
    """
    entries: list[dict[str, Any]] = []
    size = 0
    lines = raw.split(b"\n")  # the last item is what follows the last newline
    for number, line in enumerate(lines, start=1):
        complete = number < len(lines)
        entry = _decode_line(line) if complete else None
        if entry is None:
            if not line and not complete:
                break  # the file ends with a newline: nothing torn
            if any(_decode_line(later) for later in lines[number:]):
                raise ValueError(f"line {number} of the journal is damaged")
            return JournalContent(entries, size, torn=True)
        entries.append(entry)
        size += len(line) + 1
    return JournalContent(entries, size, torn=False)


class JournalWriter:
    """Appends entries to a directory's journal, each batch fsynced before `append` returns.

    Give it the `size` and line count of the intact part (from
    `decode_journal`): a torn last line beyond `size` is cut off first, so a
    new line never continues a broken one. A failed append is cut off too.
    Not thread-safe: the store's single writer thread uses it.

    Examples:
        >>> journal = JournalWriter(tmp_path)
        >>> journal.append([{"seq": 1, "event": "remove", "file": "a"}])
        >>> journal.lines, decode_journal((tmp_path / JOURNAL_NAME).read_bytes()).entries
        (1, [{'seq': 1, 'event': 'remove', 'file': 'a'}])
        >>> journal.close()
    """

    def __init__(self, directory: Path, size: int = 0, lines: int = 0) -> None:
        self.path = Path(directory) / JOURNAL_NAME
        self.size = size
        self.lines = lines
        self._fd: int | None = None

    def append(self, entries: Iterable[Mapping[str, Any]]) -> None:
        """Write the lines of `entries` at the end and fsync the journal.

        Raises:
            OSError: the write or the fsync failed (the journal is cut back
                to what it held before, when it can be).
        """
        data = [encode_entry(entry) for entry in entries]
        if not data:
            return
        fd = self._open()
        payload = b"".join(data)
        try:
            written = 0
            while written < len(payload):  # os.write may write part of it
                written += os.pwrite(fd, payload[written:], self.size + written)
            os.fsync(fd)
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, self.size)
            raise
        self.size += len(payload)
        self.lines += len(data)

    def _open(self) -> int:
        if self._fd is None:
            created = not self.path.exists()
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            try:
                if os.fstat(fd).st_size != self.size:
                    os.ftruncate(fd, self.size)  # a torn last line from a kill
                    os.fsync(fd)
                if created:
                    fsync_directory(self.path.parent)  # the journal's own name, once
            except OSError:
                os.close(fd)
                raise
            self._fd = fd
        return self._fd

    def close(self) -> None:
        """Close the file (the next `append` opens it again)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def remove(self) -> None:
        """Delete the journal (after a compaction made it redundant)."""
        self.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self.size = self.lines = 0
