"""Crash-safe weight checkpoints: the file format, the manifest, loading and resuming.

`kerastools.callbacks.PeriodicCheckpoint` writes a directory like::

    checkpoints/
        epoch-0004.weights.h5     # periodic files, names sort in time order
        epoch-0006.weights.h5
        best.weights.h5           # with save_best="val_loss"
        manifest.json             # epoch, step, metrics, wall time, size, sha256
        manifest.jsonl            # while training: the records since manifest.json

Each file is HDF5 written with h5py: the model's variables and, unless
`include_optimizer=False`, the optimizer's (step counter and slots), stored by
position with their paths, so a model of another architecture is refused with
the variable and the shapes that differ. Every file, `manifest.json` included,
is written to a temporary file, fsynced and renamed, and each save appends its
record to the journal `manifest.jsonl` (fsynced, checksummed lines; it is
folded into `manifest.json` when `fit` ends): a kill at any moment leaves the
previous checkpoints intact. A file that was damaged afterwards
(truncated, a flipped byte) fails its checksum and is skipped with a warning.

This package reads that directory: `list_checkpoints`, `find_checkpoint`,
`load_checkpoint` and `resume`, which also read Keras' own checkpoints: a
`.weights.h5` or `.keras` file and a `BackupAndRestore` directory
(`keras_sources`). With `save_format="keras"` the files are `.keras`
archives (`archive`). Its modules: `file_format` (one HDF5 file),
`manifest` (the JSON index), `journal` and `manifest_writer` (its append-only
log and how saves write it), `leftovers` (what a kill leaves), `training_state` (RNG,
metrics and data position for an exact resume), `integrity` (checksums), `selection` (which
file `which` means), `loading` (into a model) and `store` (the writer
`PeriodicCheckpoint` uses).
"""

from kerastools.checkpoints.loading import load_checkpoint, resume
from kerastools.checkpoints.manifest import BEST_NAME, MANIFEST_NAME, CheckpointInfo
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
