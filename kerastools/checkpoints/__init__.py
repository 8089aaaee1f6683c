"""Crash-safe weight checkpoints: files that describe themselves, loading and resuming.

`kerastools.callbacks.PeriodicCheckpoint` writes a directory like::

    checkpoints/
        epoch-0004.weights.h5        # Keras' own file: model.load_weights reads it
        epoch-0004.weights.h5.json   # its record: epoch, step, metrics, size, sha256, ...
        best.weights.h5              # with save_best="val_loss"
        best.weights.h5.json

Each file, then its record (the commit), is written to a temporary file,
fsynced and renamed: a kill at any moment leaves the previous checkpoints
intact and listed. A file damaged afterwards fails its SHA-256 and is
skipped with a warning. `list_checkpoints`, `find_checkpoint`,
`load_checkpoint` and `resume` read such a directory, Keras' own checkpoints
(a `.weights.h5` or `.keras` file, a `BackupAndRestore` directory) and what
earlier kerastools versions wrote. docs/architecture.md names each module.
"""

from kerastools.checkpoints.legacy import MANIFEST_NAME
from kerastools.checkpoints.loading import load_checkpoint, resume
from kerastools.checkpoints.record import BEST_NAME, CheckpointInfo
from kerastools.checkpoints.selection import Which, find_checkpoint, list_checkpoints
from kerastools.device.cluster import is_chief

__all__ = [
    "BEST_NAME", "MANIFEST_NAME", "CheckpointInfo", "Which", "find_checkpoint", "is_chief",
    "list_checkpoints", "load_checkpoint", "resume",
]
