"""Crash-safe weight checkpoints: files that describe themselves, loading and resuming.

`kerastools.callbacks.PeriodicCheckpoint` writes a directory like::

    checkpoints/
        epoch-0004.weights.h5        # Keras' own file: model.load_weights reads it
        epoch-0004.weights.h5.json   # its record: epoch, step, metrics, size, sha256, ...
        epoch-0006.weights.h5
        epoch-0006.weights.h5.json
        best.weights.h5              # with save_best="val_loss"
        best.weights.h5.json

Each file is written to a temporary file, fsynced and renamed; its record
(`record`) is written the same way after it, and is the commit: a kill at
any moment leaves the previous checkpoints intact and listed. The directory
listing is the index (`directory`). A file damaged afterwards (truncated, a
flipped byte) fails its SHA-256 and is skipped with a warning.

This package reads such a directory with `list_checkpoints`,
`find_checkpoint`, `load_checkpoint` and `resume`, which also read Keras'
own checkpoints (a `.weights.h5` or `.keras` file, a `BackupAndRestore`
directory: `keras_sources`) and directories of earlier kerastools versions
(`manifest.json`) and 0.1's HDF5 files (`legacy`). Its modules: `record` (one checkpoint's
record), `files` (bytes in memory, durable writes, verified reads),
`directory` (the index and what a kill leaves), `legacy`, `keras_format`
(Keras' `.weights.h5` layout, from host copies), `archive` (`.keras`),
`file_checks` (crafted files),
`optimizer_state`, `training_state` (RNG, metrics and data position for an
exact resume), `selection` (which file `which` means: the one reading
path), `loading` (into a model), `writer_lock` and `store` (the writer
`PeriodicCheckpoint` uses).
"""

from kerastools.checkpoints.legacy import MANIFEST_NAME
from kerastools.checkpoints.loading import load_checkpoint, resume
from kerastools.checkpoints.record import BEST_NAME, CheckpointInfo
from kerastools.checkpoints.selection import Which, find_checkpoint, list_checkpoints
from kerastools.device.cluster import is_chief

__all__ = [
    "BEST_NAME",
    "MANIFEST_NAME",
    "CheckpointInfo",
    "Which",
    "find_checkpoint",
    "is_chief",
    "list_checkpoints",
    "load_checkpoint",
    "resume",
]
