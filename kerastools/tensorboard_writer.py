"""TensorBoard event files written without TensorFlow, and trimmed back to a resume point.

The records go through the `tensorboard` package's own `RecordWriter` (the
TFRecord framing and its CRCs) as `Event` protos built from its vendored
proto classes, the same TF-free path `torch.utils.tensorboard` writes
through. `EventFile` opens its file unbuffered, so every record is in the
operating system's hands when `scalars` or `text` returns: a killed process
leaves a file TensorBoard reads up to its last record. Like TensorFlow's
summary writer, it does not fsync: a power cut may lose what the operating
system had not yet written.

Scalars are written as `tf.summary.scalar` writes them (a float32 tensor
with the scalars plugin's metadata), text as `tf.summary.text` does.

Examples:
    >>> events = EventFile(tmp_path / "train")
    >>> events.scalars(0, {"epoch_loss": 0.5})
    >>> events.close()
    >>> [path.name.endswith(".kerastools") for path in event_files(tmp_path / "train")]
    [True]
"""

from __future__ import annotations

import os
import re
import socket
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from kerastools._atomic import fsync_directory, hidden_temporary
from kerastools.tensorboard_events import event_files, require_tensorboard

__all__ = ["SUFFIX", "EventFile", "trim_events"]

# The end of every event file kerastools writes: `trim_events` rewrites only these.
SUFFIX = ".kerastools"
_TIMESTAMP = re.compile(r"tfevents\.(\d+)\.")
_TRIM_PREFIX = ".kerastools-trim-"  # no "tfevents" in it: TensorBoard never reads a temporary


def _file_name(directory: Path) -> str:
    """A new event file name that TensorBoard (which reads a run's files in name order) reads last."""
    stamp = int(time.time())
    for path in event_files(directory):
        match = _TIMESTAMP.search(path.name)
        if match is not None and int(match.group(1)) >= stamp:
            stamp = int(match.group(1)) + 1
    return f"events.out.tfevents.{stamp:010d}.{socket.gethostname()}.{os.getpid()}{SUFFIX}"


class EventFile:
    """A new event file in `directory` (a run: `train/` or `validation/`), appended record by record.

    Examples:
        >>> events = EventFile(tmp_path / "validation")
        >>> events.text(0, "notes", "**hello**")
        >>> events.close()
    """

    def __init__(self, directory: str | os.PathLike[str]):
        require_tensorboard("EventFile")
        from tensorboard.compat.proto import event_pb2, tensor_pb2, tensor_shape_pb2, types_pb2
        from tensorboard.plugins.scalar import metadata as scalar_metadata
        from tensorboard.plugins.text import metadata as text_metadata
        from tensorboard.summary.writer.record_writer import RecordWriter

        self._event = event_pb2.Event
        self._float = lambda value: tensor_pb2.TensorProto(
            dtype=types_pb2.DT_FLOAT, tensor_shape=tensor_shape_pb2.TensorShapeProto(), float_val=[value]
        )
        # Like TensorFlow's writer, the plugin metadata goes with a tag's first value in each file.
        self._described: set[str] = set()
        self._scalar_metadata = scalar_metadata.create_summary_metadata(display_name="", description="")
        self._text_metadata = text_metadata.create_summary_metadata(display_name="", description="")
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / _file_name(folder)
        self._handle = open(self.path, "ab", buffering=0)  # noqa: SIM115 - open until close()
        self._records = RecordWriter(self._handle)
        self._write(
            event_pb2.Event(
                wall_time=time.time(),
                file_version="brain.Event:2",
                source_metadata=event_pb2.SourceMetadata(writer="kerastools"),
            )
        )

    def _write(self, event: Any) -> None:
        self._records.write(event.SerializeToString())

    def scalars(self, step: int, values: Mapping[str, float]) -> None:
        """One event at `step` holding each `tag: value` as a float32 scalar."""
        event = self._event(wall_time=time.time(), step=int(step))
        for tag, value in values.items():
            entry = event.summary.value.add(tag=tag, tensor=self._float(value))
            if tag not in self._described:
                self._described.add(tag)
                entry.metadata.CopyFrom(self._scalar_metadata)
        self._write(event)

    def text(self, step: int, tag: str, markdown: str) -> None:
        """A text summary (TensorBoard renders it as Markdown) at `step`."""
        from tensorboard.util import tensor_util

        event = self._event(wall_time=time.time(), step=int(step))
        event.summary.value.add(
            tag=tag,
            tensor=tensor_util.make_tensor_proto(np.array(markdown, dtype=object)),
            metadata=self._text_metadata,
        )
        self._write(event)

    def close(self) -> None:
        """Close the file (again: nothing)."""
        self._handle.close()


def _records(path: Path) -> tuple[list[bytes], bool]:
    """The intact records of an event file, and whether a torn record (a kill mid-write) ended it."""
    from tensorboard.compat.tensorflow_stub import errors, pywrap_tensorflow

    reader = pywrap_tensorflow.PyRecordReader_New(str(path))
    records: list[bytes] = []
    try:
        while True:
            try:
                reader.GetNext()
            except errors.OutOfRangeError:
                return records, False
            except errors.DataLossError:
                return records, True
            records.append(reader.record())
    finally:
        reader.file_handle.close()


def trim_events(directory: str | os.PathLike[str], keep: Callable[[Any], bool]) -> int:
    """Drop the events `keep` refuses from kerastools' event files in `directory`; return how many.

    Each file that loses an event (or ends in a torn record) is rewritten
    into a temporary file and renamed over itself, so a kill leaves either
    the old file or the new one. Other writers' files are left alone.

    Examples:
        >>> events = EventFile(tmp_path)
        >>> for epoch in range(3):
        ...     events.scalars(epoch, {"epoch_loss": 1.0 / (epoch + 1)})
        >>> events.close()
        >>> trim_events(tmp_path, lambda event: event.step < 2)
        1
    """
    require_tensorboard("trim_events")
    from tensorboard.compat.proto import event_pb2
    from tensorboard.summary.writer.record_writer import RecordWriter

    folder = Path(directory)
    for leftover in folder.glob(f"{_TRIM_PREFIX}*") if folder.is_dir() else ():
        leftover.unlink(missing_ok=True)  # a rewrite a kill interrupted; its original is intact
    dropped = 0
    for path in event_files(folder):
        if not path.name.endswith(SUFFIX):
            continue
        records, torn = _records(path)
        kept = [record for record in records if keep(event_pb2.Event.FromString(record))]
        if len(kept) == len(records) and not torn:
            continue
        dropped += len(records) - len(kept)
        temporary = hidden_temporary(folder, _TRIM_PREFIX, ".tmp")
        try:
            with open(temporary, "wb") as handle:
                writer = RecordWriter(handle)
                for record in kept:
                    writer.write(record)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
        fsync_directory(folder)
    return dropped
