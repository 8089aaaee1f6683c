"""Checksums of checkpoint files, and the check that a file is the one the manifest recorded.

A file damaged after it was written (truncated, a flipped byte) has another
size or SHA-256 than its manifest record; loading skips it with a warning.

Examples:
    >>> _ = (tmp_path / "data.bin").write_bytes(b"abc")
    >>> file_sha256(tmp_path / "data.bin")[:12]
    'ba7816bf8f01'
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from kerastools.checkpoints.manifest import CheckpointInfo
from kerastools.checkpoints.record_values import Kind
from kerastools.checkpoints.safe_read import check_regular

__all__ = [
    "DamagedFile",
    "RecordFields",
    "bytes_record",
    "check_integrity",
    "file_sha256",
]


@dataclass(frozen=True)
class RecordFields:
    """What a save records about each of its files, besides the file's size and checksum.

    Examples:
        >>> RecordFields("best", epoch=3, step=6, metrics={"loss": 0.5}, wall_time=0.0).kind
        'best'

    Attributes:
        kind: `"epoch"`, `"step"` or `"best"`.
        epoch: epochs completed.
        step: optimizer steps taken.
        metrics: the scalar values of `logs` (non-finite ones as None).
        wall_time: when it was saved (`time.time()`).
    """

    kind: Kind
    epoch: int
    step: int
    metrics: dict[str, float | None]
    wall_time: float


class DamagedFile(Exception):
    """A checkpoint file that fails its checksum or its HDF5 structure."""


def file_sha256(path: Path) -> str:
    """The SHA-256 of the file at `path`, hex.

    Examples:
        >>> _ = (tmp_path / "empty").write_bytes(b"")
        >>> file_sha256(tmp_path / "empty")[:12]
        'e3b0c44298fc'
    """
    check_regular(path)  # a FIFO would block the open
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def check_integrity(info: CheckpointInfo, pending: Iterable[CheckpointInfo]) -> CheckpointInfo:
    """Return the record the file on disk matches (`info` or a pending one).

    Examples:
        >>> from kerastools.checkpoints.manifest import CheckpointInfo
        >>> _ = (tmp_path / "best.weights.h5").write_bytes(b"abc")
        >>> info = CheckpointInfo(tmp_path / "best.weights.h5", "best", 1, 2, size=3,
        ...                       sha256=file_sha256(tmp_path / "best.weights.h5"))
        >>> check_integrity(info, []) is info
        True

    Raises:
        DamagedFile: the file is missing, or no record has its size and SHA-256.
        CheckpointError: it is not a regular file (a FIFO, a device).
    """
    try:
        check_regular(info.path)
        size = info.path.stat().st_size
    except FileNotFoundError:
        raise DamagedFile("the file is missing") from None
    # A pending record first: it is the newer one, and a file of the same bytes
    # (a save of an unchanged model) matches both.
    records = [p for p in pending if p.path.name == info.path.name] + [info]
    sized = [record for record in records if record.size == size]
    if not sized:
        raise DamagedFile(
            f"it has {size} bytes but the manifest recorded {info.size} (truncated?)"
        )
    digest = file_sha256(info.path)
    for record in sized:
        if record.sha256 == digest:
            return record
    raise DamagedFile(
        f"its sha256 {digest[:12]}... does not match the manifest's {info.sha256[:12]}..."
    )


def bytes_record(
    data: bytes, target: Path, *, includes_optimizer: bool, fields: RecordFields
) -> CheckpointInfo:
    """The record of a file that will hold `data` at `target`: its size and SHA-256.

    Hashed in memory, before the bytes reach the disk: nothing is read back.

    Examples:
        >>> fields = RecordFields("best", epoch=1, step=2, metrics={}, wall_time=0.0)
        >>> info = bytes_record(b"abc", tmp_path / "best.weights.h5",
        ...                     includes_optimizer=False, fields=fields)
        >>> info.path.name, info.size, info.sha256[:12]
        ('best.weights.h5', 3, 'ba7816bf8f01')
    """
    return CheckpointInfo(
        path=target,
        kind=fields.kind,
        epoch=fields.epoch,
        step=fields.step,
        metrics=fields.metrics,
        wall_time=fields.wall_time,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        includes_optimizer=includes_optimizer,
    )
