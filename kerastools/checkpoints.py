"""Crash-safe weight checkpoints: the file format, the manifest, loading and resuming.

`kerastools.callbacks.PeriodicCheckpoint` writes a directory like::

    checkpoints/
        epoch-0004.weights.h5     # periodic files, names sort in time order
        epoch-0006.weights.h5
        best.weights.h5           # with save_best="val_loss"
        manifest.json             # epoch, step, metrics, wall time, size, sha256

Each file is HDF5 written with h5py: the model's variables and, unless
`include_optimizer=False`, the optimizer's (step counter and slots), stored by
position with their paths, so a model of another architecture is refused with
the variable and the shapes that differ. Every file, the manifest included, is
written to a temporary file, fsynced and renamed: a kill at any moment leaves
the previous checkpoints intact. A file that was damaged afterwards
(truncated, a flipped byte) fails its checksum and is skipped with a warning.

This module reads that directory: `list_checkpoints`, `find_checkpoint`,
`load_checkpoint` and `resume`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import numbers
import os
import re
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import keras
import numpy as np

from kerastools._atomic import atomic_path
from kerastools._validation import check_bool, check_choice, check_int, check_name, check_path
from kerastools.device.cluster import is_chief
from kerastools.errors import CheckpointError, ConfigError, ConfigTypeError

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

logger = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.json"
BEST_NAME = "best.weights.h5"
_FORMAT = "kerastools-checkpoint"
_MANIFEST_FORMAT = "kerastools-checkpoints"
_VERSION = 1
_PERIODIC_NAME = re.compile(r"^(epoch-\d{4,}|step-\d{8,})\.weights\.h5$")
# Temporary files left by a kill mid-write (see kerastools._atomic.atomic_path).
_STALE_TEMPORARY = re.compile(r"^\.(epoch-\d+|step-\d+|best|manifest)\..*\.tmp$")

Kind = Literal["epoch", "step", "best"]
Which = str | int | tuple[str, str]
"""What `load_checkpoint` loads: `"latest"`, `"best"`, an epoch number, or
`("min" | "max", metric)`."""


@dataclass(frozen=True)
class CheckpointInfo:
    """One checkpoint file as the manifest records it.

    Examples:
        >>> cb = kt.callbacks.PeriodicCheckpoint(tmp_path)
        >>> _ = model.fit(x, y, epochs=2, verbose=0, callbacks=[cb])
        >>> info = kt.checkpoints.list_checkpoints(tmp_path)[-1]
        >>> info.path.name, info.epoch, info.step, sorted(info.metrics)
        ('epoch-0002.weights.h5', 2, 4, ['loss'])

    Attributes:
        path: the file.
        kind: `"epoch"`, `"step"` (periodic files) or `"best"`.
        epoch: epochs whose training batches are all in these weights: the
            `initial_epoch` to resume from.
        step: optimizer steps taken (batches, unless gradient accumulation).
        metrics: the values in `logs` when it was saved (non-finite ones
            are `None`).
        wall_time: when it was saved, seconds since the epoch (`time.time()`).
        size: the file's size in bytes.
        sha256: the file's SHA-256, hex.
        includes_optimizer: whether the optimizer state is in the file.
    """

    path: Path
    kind: Kind
    epoch: int
    step: int
    metrics: dict[str, float | None] = field(default_factory=dict)
    wall_time: float = 0.0
    size: int = 0
    sha256: str = ""
    includes_optimizer: bool = True

    def _to_record(self) -> dict[str, Any]:
        return {
            "file": self.path.name,
            "kind": self.kind,
            "epoch": self.epoch,
            "step": self.step,
            "metrics": self.metrics,
            "wall_time": self.wall_time,
            "size": self.size,
            "sha256": self.sha256,
            "includes_optimizer": self.includes_optimizer,
        }

    @classmethod
    def _from_record(cls, directory: Path, record: Mapping[str, Any]) -> CheckpointInfo:
        name = str(record["file"])
        if Path(name).name != name:  # a manifest must not point outside its directory
            raise ValueError(f"file name {name!r} is not a plain file name")
        kind = str(record["kind"])
        if kind not in ("epoch", "step", "best"):
            raise ValueError(f"unknown kind {kind!r}")
        return cls(
            path=directory / name,
            kind=kind,  # type: ignore[arg-type]
            epoch=int(record["epoch"]),
            step=int(record["step"]),
            metrics={
                str(k): (None if v is None else float(v)) for k, v in record["metrics"].items()
            },
            wall_time=float(record["wall_time"]),
            size=int(record["size"]),
            sha256=str(record["sha256"]),
            includes_optimizer=bool(record["includes_optimizer"]),
        )


# ---------------------------------------------------------------------------
# The manifest
# ---------------------------------------------------------------------------


@dataclass
class _Manifest:
    """The directory's index. `pending` holds the record of a file being
    replaced in place (best.weights.h5): a kill between the rename and the
    next manifest write leaves a file that matches the pending record."""

    directory: Path
    checkpoints: list[CheckpointInfo] = field(default_factory=list)
    best: CheckpointInfo | None = None
    monitor: str | None = None
    mode: str | None = None
    pending: list[CheckpointInfo] = field(default_factory=list)

    def names(self) -> set[str]:
        names = {info.path.name for info in self.checkpoints}
        if self.best is not None:
            names.add(self.best.path.name)
        return names

    def add(self, info: CheckpointInfo, keep_last: int | None) -> list[CheckpointInfo]:
        """Record `info`; return the periodic records `keep_last` drops."""
        if info.kind == "best":
            self.best = info
            return []
        self.checkpoints = [old for old in self.checkpoints if old.path.name != info.path.name]
        self.checkpoints.append(info)
        if keep_last is None or len(self.checkpoints) <= keep_last:
            return []
        dropped = self.checkpoints[:-keep_last]
        self.checkpoints = self.checkpoints[-keep_last:]
        return dropped

    def to_json(self) -> str:
        """One record per line: readable, and without `indent`, which would
        make `json` use its pure-Python encoder (rewritten at every save)."""

        def dump(value: Any) -> str:
            return json.dumps(value, allow_nan=False)

        def records(infos: list[CheckpointInfo]) -> str:
            if not infos:
                return "[]"
            return "[\n  " + ",\n  ".join(dump(info._to_record()) for info in infos) + "\n ]"

        best = "null" if self.best is None else dump(self.best._to_record())
        return (
            f'{{"format": {dump(_MANIFEST_FORMAT)}, "version": {_VERSION}, '
            f'"monitor": {dump(self.monitor)}, "mode": {dump(self.mode)},\n'
            f' "checkpoints": {records(self.checkpoints)},\n'
            f' "best": {best},\n'
            f' "pending": {records(self.pending)}}}\n'
        )


def _read_manifest(directory: Path) -> _Manifest:
    """The manifest of `directory`; an empty one when there is none yet."""
    path = directory / MANIFEST_NAME
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return _Manifest(directory)
    except OSError as error:
        raise CheckpointError(f"Cannot read the checkpoint manifest {path}: {error}") from error
    try:
        # Decoding inside this try: a flipped byte can make the file invalid UTF-8.
        document = json.loads(raw.decode("utf-8"))
        if document.get("format") != _MANIFEST_FORMAT:
            raise ValueError(f"format is {document.get('format')!r}, not {_MANIFEST_FORMAT!r}")
        if int(document.get("version", 0)) > _VERSION:
            raise ValueError(
                f"version {document['version']} is newer than this kerastools reads ({_VERSION})"
            )
        best = document.get("best")
        return _Manifest(
            directory=directory,
            checkpoints=[
                CheckpointInfo._from_record(directory, r) for r in document["checkpoints"]
            ],
            best=None if best is None else CheckpointInfo._from_record(directory, best),
            monitor=document.get("monitor"),
            mode=document.get("mode"),
            pending=[
                CheckpointInfo._from_record(directory, r) for r in document.get("pending", [])
            ],
        )
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise CheckpointError(
            f"The checkpoint manifest {path} is not valid ({error}). It is written atomically, "
            "so it was edited or damaged after the fact: restore it, or move it away to start "
            "a new checkpoint directory."
        ) from error


def _write_manifest(manifest: _Manifest) -> None:
    target = manifest.directory / MANIFEST_NAME
    try:
        # atomic_path fsyncs the temporary file before renaming it.
        with atomic_path(target) as temporary:
            temporary.write_text(manifest.to_json(), encoding="utf-8")
    except OSError as error:
        raise CheckpointError(f"Cannot write the checkpoint manifest {target}: {error}") from error


def _settle_pending(manifest: _Manifest, keep_last: int | None) -> list[CheckpointInfo]:
    """Resolve the records of in-place replacements a kill interrupted.

    A pending record whose file is on disk (the rename happened) becomes the
    record; otherwise the old file is still there and the record is dropped.
    Returns the periodic records `keep_last` drops as a result.
    """
    dropped: list[CheckpointInfo] = []
    for info in manifest.pending:
        try:
            matches = (
                info.path.stat().st_size == info.size and _file_sha256(info.path) == info.sha256
            )
        except FileNotFoundError:
            matches = False
        if matches:
            dropped += manifest.add(info, keep_last)
    manifest.pending = []
    return dropped


def _remove_orphans(manifest: _Manifest) -> list[str]:
    """Delete periodic files the manifest does not list (a kill between a
    file's rename and the manifest write, or before a dropped file's unlink)."""
    removed = []
    known = manifest.names()
    with contextlib.suppress(FileNotFoundError), os.scandir(manifest.directory) as entries:
        for entry in entries:
            if _PERIODIC_NAME.match(entry.name) and entry.name not in known and entry.is_file():
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
                removed.append(entry.name)
    return removed


def _remove_stale_temporaries(directory: Path) -> list[str]:
    """Delete temporary files a kill mid-write left behind; return their names."""
    removed = []
    with contextlib.suppress(FileNotFoundError), os.scandir(directory) as entries:
        for entry in entries:
            if _STALE_TEMPORARY.match(entry.name) and entry.is_file():
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
                removed.append(entry.name)
    return removed


# ---------------------------------------------------------------------------
# Writing one file
# ---------------------------------------------------------------------------


def _plain_metrics(logs: Mapping[str, Any] | None) -> dict[str, float | None]:
    """Scalar values of `logs` as floats; NaN and inf become None (strict JSON)."""
    metrics: dict[str, float | None] = {}
    for key, value in (logs or {}).items():
        try:
            array = np.asarray(keras.ops.convert_to_numpy(value), dtype="float64")
        except (TypeError, ValueError):
            continue
        if array.size != 1:
            continue
        number = float(array.reshape(()))
        metrics[str(key)] = number if math.isfinite(number) else None
    return metrics


def _optimizer_of(model: keras.Model) -> keras.optimizers.Optimizer | None:
    optimizer = getattr(model, "optimizer", None)
    return optimizer if isinstance(optimizer, keras.optimizers.Optimizer) else None


def _host_array(variable: Any) -> np.ndarray:
    """A host copy of `variable`'s current value that later updates do not change."""
    value = variable.value
    if keras.backend.backend() == "tensorflow":
        # The read tensor itself, without a copy: `tf.Variable.numpy()` adds an
        # identity op per variable, a third of the cost for small models. A
        # read has value semantics: TensorFlow copies the variable's buffer on
        # the next update while this read still holds it.
        return np.asarray(value.value())
    # JAX may donate a buffer a numpy view shares; torch updates in place.
    return np.array(keras.ops.convert_to_numpy(value), copy=True)


@dataclass
class _Snapshot:
    """The state to write, copied to host memory (so training can go on)."""

    model_name: str
    model_paths: list[str]
    model_arrays: list[np.ndarray]
    optimizer_name: str
    optimizer_paths: list[str] | None
    optimizer_arrays: list[np.ndarray] | None


def _take_snapshot(model: keras.Model, include_optimizer: bool) -> _Snapshot:
    weights = model.weights
    optimizer = _optimizer_of(model) if include_optimizer else None
    return _Snapshot(
        model_name=model.name,
        model_paths=[variable.path for variable in weights],
        model_arrays=[_host_array(variable) for variable in weights],
        optimizer_name="" if optimizer is None else type(optimizer).__name__,
        optimizer_paths=None if optimizer is None else [v.path for v in optimizer.variables],
        optimizer_arrays=None
        if optimizer is None
        else [_host_array(variable) for variable in optimizer.variables],
    )


def _write_array(group: Any, name: str, array: np.ndarray) -> None:
    import h5py

    array = np.asarray(array, order="C")  # not ascontiguousarray: it makes scalars 1-d
    if array.dtype.kind not in "biuf":  # other types: h5py's high-level path knows more
        group.create_dataset(name, data=array)
        return
    # h5py's low-level API: half the cost of create_dataset, which matters
    # for models with many small variables.
    if array.ndim == 0:
        space = h5py.h5s.create(h5py.h5s.SCALAR)
    else:
        space = h5py.h5s.create_simple(array.shape)
    dataset = h5py.h5d.create(
        group.id, name.encode(), h5py.h5t.py_create(array.dtype, logical=True), space
    )
    if array.size:
        dataset.write(h5py.h5s.ALL, h5py.h5s.ALL, array)


def _write_group(handle: Any, name: str, paths: list[str], arrays: list[np.ndarray]) -> None:
    import h5py

    group = handle.create_group(name)
    # Paths in a dataset, not an attribute: HDF5 attributes are limited to 64 KiB.
    group.create_dataset("paths", data=np.array(paths, dtype=object), dtype=h5py.string_dtype())
    for index, array in enumerate(arrays):
        _write_array(group, f"{index:05d}", array)


def _file_sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


# Above this size the fsync (disk-bound) runs while the checksum (CPU-bound)
# is computed: both release the GIL, and together they cost about one of them.
_OVERLAP_BYTES = 4 << 20


def _hash_while_syncing(path: Path) -> str:
    if path.stat().st_size < _OVERLAP_BYTES:
        return _file_sha256(path)  # atomic_path fsyncs it next
    errors: list[OSError] = []

    def sync() -> None:
        try:
            with open(path, "rb+") as handle:
                os.fsync(handle.fileno())
        except OSError as error:
            errors.append(error)

    syncer = threading.Thread(target=sync, name="kerastools-fsync")
    syncer.start()
    try:
        return _file_sha256(path)
    finally:
        syncer.join()
        if errors:
            raise errors[0]


def _write_checkpoint_file(
    snapshot: _Snapshot,
    target: Path,
    *,
    kind: Kind,
    epoch: int,
    step: int,
    metrics: dict[str, float | None],
    wall_time: float,
    before_replace: Callable[[CheckpointInfo], None] | None = None,
) -> CheckpointInfo:
    """Write `snapshot` to `target` atomically and return its record.

    `before_replace` runs after the temporary file is complete and before it
    replaces `target` (the manifest's pending record goes there).
    """
    import h5py

    header = {
        "format": _FORMAT,
        "version": _VERSION,
        "kind": kind,
        "epoch": epoch,
        "step": step,
        "wall_time": wall_time,
        "metrics": metrics,
        "model": snapshot.model_name,
        "optimizer": snapshot.optimizer_name,
        "keras_version": keras.__version__,
        "backend": keras.backend.backend(),
    }
    try:
        with atomic_path(target, suffix=".weights.h5") as temporary:
            with h5py.File(temporary, "w") as handle:
                # One JSON attribute: each HDF5 attribute costs a metadata write.
                handle.attrs[_FORMAT] = json.dumps(header, allow_nan=False)
                _write_group(handle, "model", snapshot.model_paths, snapshot.model_arrays)
                if snapshot.optimizer_arrays is not None:
                    _write_group(
                        handle,
                        "optimizer",
                        snapshot.optimizer_paths or [],
                        snapshot.optimizer_arrays,
                    )
            info = CheckpointInfo(
                path=target,
                kind=kind,
                epoch=epoch,
                step=step,
                metrics=metrics,
                wall_time=wall_time,
                size=temporary.stat().st_size,
                sha256=_hash_while_syncing(temporary),
                includes_optimizer=snapshot.optimizer_arrays is not None,
            )
            if before_replace is not None:
                before_replace(info)
    except (OSError, TypeError, ValueError) as error:
        raise CheckpointError(f"Cannot write checkpoint {target}: {error}") from error
    return info


# ---------------------------------------------------------------------------
# Reading and verifying one file
# ---------------------------------------------------------------------------


class _Damaged(Exception):
    """A checkpoint file that fails its checksum or its HDF5 structure."""


class _NothingIntact(CheckpointError):
    """Every candidate for `which` is damaged (each got its own warning)."""


@dataclass
class _Contents:
    model_paths: list[str]
    model_arrays: list[np.ndarray]
    optimizer_name: str
    optimizer_paths: list[str] | None
    optimizer_arrays: list[np.ndarray] | None


def _check_integrity(info: CheckpointInfo, pending: Iterable[CheckpointInfo]) -> CheckpointInfo:
    """Return the record the file on disk matches (`info` or a pending one)."""
    try:
        size = info.path.stat().st_size
    except FileNotFoundError:
        raise _Damaged("the file is missing") from None
    records = [info] + [p for p in pending if p.path.name == info.path.name]
    sized = [record for record in records if record.size == size]
    if not sized:
        raise _Damaged(f"it has {size} bytes but the manifest recorded {info.size} (truncated?)")
    digest = _file_sha256(info.path)
    for record in sized:
        if record.sha256 == digest:
            return record
    raise _Damaged(
        f"its sha256 {digest[:12]}... does not match the manifest's {info.sha256[:12]}..."
    )


def _read_group(handle: Any, name: str) -> tuple[list[str], list[np.ndarray]]:
    group = handle[name]
    paths = [p.decode() if isinstance(p, bytes) else str(p) for p in group["paths"][()]]
    arrays = [np.asarray(group[f"{index:05d}"][()]) for index in range(len(paths))]
    return paths, arrays


def _read_contents(path: Path) -> _Contents:
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            if _FORMAT not in handle.attrs:
                raise _Damaged(f"it is not a kerastools checkpoint (no {_FORMAT!r} attribute)")
            header = json.loads(handle.attrs[_FORMAT])
            model_paths, model_arrays = _read_group(handle, "model")
            optimizer_paths = optimizer_arrays = None
            if "optimizer" in handle:
                optimizer_paths, optimizer_arrays = _read_group(handle, "optimizer")
            optimizer_name = str(header.get("optimizer", ""))
    except (OSError, KeyError, ValueError, TypeError, RuntimeError) as error:
        raise _Damaged(f"its HDF5 structure is broken ({error})") from error
    return _Contents(model_paths, model_arrays, optimizer_name, optimizer_paths, optimizer_arrays)


def _intact(
    candidates: Iterable[CheckpointInfo], manifest: _Manifest
) -> Iterator[tuple[CheckpointInfo, _Contents]]:
    """Yield the candidates that pass their checks, warning about each that does not."""
    for info in candidates:
        try:
            record = _check_integrity(info, manifest.pending)
            yield record, _read_contents(info.path)
        except _Damaged as damage:
            warnings.warn(
                f"Skipping damaged checkpoint {info.path}: {damage}. Trying the previous good one.",
                RuntimeWarning,
                stacklevel=4,
            )


# ---------------------------------------------------------------------------
# Choosing a checkpoint
# ---------------------------------------------------------------------------


def _check_directory(directory: Any) -> Path:
    return check_path("directory", directory)


def _check_which(which: Any) -> Which:
    allowed = (
        "Argument `which` must be 'latest', 'best', an epoch number (int >= 0) or a "
        "(mode, metric) pair such as ('max', 'val_accuracy')."
    )
    if isinstance(which, str):
        if which.lower() not in ("latest", "best"):
            raise ConfigError(f"{allowed} Received: which={which!r}")
        return which.lower()
    if isinstance(which, numbers.Integral) and not isinstance(which, bool):
        return check_int("which", which, low=0)
    if isinstance(which, tuple) and len(which) == 2:
        mode = check_choice("which[0]", which[0], ["min", "max"])
        metric = str(check_name("which[1]", which[1], allow_none=False))
        return (mode, metric)
    raise ConfigTypeError(f"{allowed} Received: which={which!r}")


def _by_metric(
    candidates: list[CheckpointInfo], mode: str, metric: str, *, prefer_best: bool = False
) -> list[CheckpointInfo]:
    """`candidates` that have `metric`, best first; ties go to the best file, then the newest."""
    scored = [
        (info.metrics[metric], position, info)
        for position, info in enumerate(candidates)
        if info.metrics.get(metric) is not None
    ]
    sign = 1.0 if mode == "min" else -1.0

    def key(entry: tuple[float | None, int, CheckpointInfo]) -> tuple[float, int, int]:
        value, position, info = entry
        return (
            sign * float(value or 0.0),
            0 if (prefer_best and info.kind == "best") else 1,
            -position,
        )

    return [info for _, _, info in sorted(scored, key=key)]


def _candidates(manifest: _Manifest, which: Which) -> list[CheckpointInfo]:
    """The checkpoints that satisfy `which`, most wanted first."""
    directory = manifest.directory
    everything = manifest.checkpoints + ([manifest.best] if manifest.best is not None else [])
    if not everything:
        raise CheckpointError(f"No checkpoints in {directory} (no {MANIFEST_NAME} or it is empty).")
    if which == "latest":
        # The last file written: periodic files in manifest order, and the best
        # file where its wall time puts it (it can be newer than all of them).
        ordered = list(reversed(manifest.checkpoints))
        if manifest.best is not None:
            best_time = manifest.best.wall_time
            position = next(
                (i for i, info in enumerate(ordered) if info.wall_time < best_time), len(ordered)
            )
            ordered.insert(position, manifest.best)
        return ordered
    if which == "best":
        if manifest.monitor is None or manifest.mode is None:
            raise CheckpointError(
                f"No best checkpoint in {directory}: it was written without save_best. "
                "Pass which=('min', 'val_loss') or similar to pick by a recorded metric."
            )
        ranked = _by_metric(everything, manifest.mode, manifest.monitor, prefer_best=True)
        if not ranked:
            raise CheckpointError(
                f"No checkpoint in {directory} has a value for {manifest.monitor!r} yet."
            )
        return ranked
    if isinstance(which, int):
        matching = [info for info in reversed(everything) if info.epoch == which]
        if not matching:
            epochs = sorted({info.epoch for info in everything})
            raise CheckpointError(
                f"No checkpoint for epoch {which} in {directory}; epochs available: {epochs}."
            )
        return matching
    if not isinstance(which, tuple):
        raise ConfigError(f"Argument `which` is not understood. Received: which={which!r}")
    mode, metric = which
    ranked = _by_metric(everything, mode, metric)
    if not ranked:
        available = sorted({key for info in everything for key in info.metrics})
        raise CheckpointError(
            f"No checkpoint in {directory} recorded the metric {metric!r}; metrics recorded: "
            f"{available}."
        )
    return ranked


def _pick(directory: Path, which: Which) -> Iterator[tuple[CheckpointInfo, _Contents]]:
    manifest = _read_manifest(directory)
    tried = _candidates(manifest, which)
    yield from _intact(tried, manifest)
    names = ", ".join(info.path.name for info in tried)
    raise _NothingIntact(
        f"No intact checkpoint for which={which!r} in {directory}: all of [{names}] are damaged."
    )


def list_checkpoints(
    directory: str | os.PathLike[str], *, include_best: bool = False
) -> list[CheckpointInfo]:
    """The periodic checkpoints the manifest of `directory` records, newest last.

    "Newest" is the order they were written in: after a resume from an
    earlier checkpoint, the files written since come last. Files are not
    verified here (`load_checkpoint` does that); an empty list when the
    directory has no manifest yet.

    Examples:
        >>> cb = kt.callbacks.PeriodicCheckpoint(tmp_path, keep_last=2, save_best="loss")
        >>> _ = model.fit(x, y, epochs=3, verbose=0, callbacks=[cb])
        >>> [info.path.name for info in kt.checkpoints.list_checkpoints(tmp_path)]
        ['epoch-0002.weights.h5', 'epoch-0003.weights.h5']
        >>> kt.checkpoints.list_checkpoints(tmp_path, include_best=True)[-1].path.name
        'best.weights.h5'

    Args:
        directory: the `PeriodicCheckpoint` directory.
        include_best: append the `best.weights.h5` record (when there is one)
            after the periodic ones. Defaults to False.

    Returns:
        A list of `CheckpointInfo`.

    Raises:
        CheckpointError: the manifest exists but is not valid.
        ConfigTypeError: `directory` is not a path.
    """
    path = _check_directory(directory)
    include_best = check_bool("include_best", include_best)
    manifest = _read_manifest(path)
    infos = list(manifest.checkpoints)
    if include_best and manifest.best is not None:
        infos.append(manifest.best)
    return infos


def find_checkpoint(directory: str | os.PathLike[str], which: Which = "latest") -> CheckpointInfo:
    """The checkpoint `load_checkpoint(model, directory, which)` would load, verified.

    Checks the file's size, SHA-256 and HDF5 structure without needing a
    model; damaged files are skipped with a warning, as when loading.

    Examples:
        >>> cb = kt.callbacks.PeriodicCheckpoint(tmp_path, save_best="loss")
        >>> _ = model.fit(x, y, epochs=3, verbose=0, callbacks=[cb])
        >>> kt.checkpoints.find_checkpoint(tmp_path, "best").path.name
        'best.weights.h5'
        >>> kt.checkpoints.find_checkpoint(tmp_path, ("min", "loss")).epoch
        3

    Args:
        directory: the `PeriodicCheckpoint` directory.
        which: `"latest"`, `"best"`, an epoch number, or `("min" | "max",
            metric)`. Defaults to `"latest"`.

    Returns:
        The `CheckpointInfo` of the first intact candidate.

    Raises:
        CheckpointError: no checkpoint matches `which`, or all that match
            are damaged.
        ConfigError: `which` is not one of the accepted forms.
    """
    path = _check_directory(directory)
    which = _check_which(which)
    for info, _ in _pick(path, which):
        return info
    raise AssertionError("unreachable: _pick raises when nothing is intact")


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------


def _check_fits(
    what: str,
    source: Path,
    model: keras.Model,
    paths: list[str],
    arrays: list[np.ndarray],
    variables: Sequence[Any],
) -> None:
    """Raise CheckpointError naming the first variable whose count or shape differs."""
    prefix = f"Checkpoint {source} does not fit model {model.name!r}:"
    if len(arrays) != len(variables):
        current = [variable.path for variable in variables]
        only_model = [p for p in current if p not in paths][:5]
        only_saved = [p for p in paths if p not in current][:5]
        raise CheckpointError(
            f"{prefix} it holds {len(arrays)} {what} variables, the model has {len(variables)}. "
            f"Only in the model: {only_model}; only in the checkpoint: {only_saved}."
        )
    for saved_path, array, variable in zip(paths, arrays, variables, strict=True):
        if tuple(array.shape) != tuple(variable.shape):
            owner = variable.path.rsplit("/", 1)[0]
            where = f" (layer {owner!r})" if what == "weight" else ""
            raise CheckpointError(
                f"{prefix} {what} variable {variable.path!r}{where} has shape "
                f"{tuple(variable.shape)} in the model but {tuple(array.shape)} in the "
                f"checkpoint (saved as {saved_path!r})."
            )


def _check_model(model: Any) -> keras.Model:
    if not isinstance(model, keras.Model):
        raise ConfigTypeError(f"Argument `model` must be a keras.Model. Received: model={model!r}")
    if not model.built or not model.weights:
        raise ConfigError(
            "Argument `model` must be built (have its weights) before loading a checkpoint: "
            f"build it or call it on a batch first. Received: model={model.name!r}"
        )
    return model


def _apply(
    model: keras.Model, info: CheckpointInfo, contents: _Contents, include_optimizer: bool
) -> None:
    """Check every shape first, then assign: a refused checkpoint leaves the model as it was."""
    _check_fits(
        "weight", info.path, model, contents.model_paths, contents.model_arrays, model.weights
    )
    optimizer = _optimizer_of(model) if include_optimizer else None
    restore_optimizer = optimizer is not None and contents.optimizer_arrays is not None
    if restore_optimizer:
        assert optimizer is not None and contents.optimizer_arrays is not None  # for mypy
        # Keras skips optimizer state it cannot match to built variables
        # (KERAS3-NOTES.md): build first so the step counter really comes back.
        if not optimizer.built:
            optimizer.build(model.trainable_variables)
        try:
            _check_fits(
                "optimizer",
                info.path,
                model,
                contents.optimizer_paths or [],
                contents.optimizer_arrays,
                optimizer.variables,
            )
        except CheckpointError as error:
            raise CheckpointError(
                f"{error} The optimizer state was saved from {contents.optimizer_name or '?'}, the "
                f"model is compiled with {type(optimizer).__name__}; compile it like the saved run, "
                "or pass include_optimizer=False to load the weights only."
            ) from None
    for variable, array in zip(model.weights, contents.model_arrays, strict=True):
        variable.assign(array)
    if restore_optimizer:
        assert optimizer is not None and contents.optimizer_arrays is not None
        for variable, array in zip(optimizer.variables, contents.optimizer_arrays, strict=True):
            variable.assign(array)


def load_checkpoint(
    model: keras.Model,
    directory: str | os.PathLike[str],
    which: Which = "latest",
    *,
    include_optimizer: bool = True,
) -> CheckpointInfo:
    """Load a checkpoint of `directory` into `model` and return its record.

    `which` picks it: `"latest"` (the last one written, periodic or best),
    `"best"` (the `save_best` metric's best value), an epoch number, or
    `("min" | "max", metric)` for the checkpoint with the lowest or highest
    recorded value, e.g. `("max", "val_accuracy")`. A candidate whose size, SHA-256 or HDF5
    structure is wrong is skipped with a warning naming it, and the next one
    (the previous good one, for `"latest"`) is used.

    When the model is compiled and the file holds optimizer state, the
    optimizer is built first and its step counter and slots are restored,
    so a learning-rate schedule continues where it was.

    Examples:
        >>> cb = kt.callbacks.PeriodicCheckpoint(tmp_path)
        >>> _ = model.fit(x, y, epochs=2, verbose=0, callbacks=[cb])
        >>> fresh = kt.compile(kt.build_mlp(2, [8]), optimizer="rmsprop")
        >>> info = kt.checkpoints.load_checkpoint(fresh, tmp_path, which=1)
        >>> info.epoch, int(fresh.optimizer.iterations.numpy())
        (1, 2)

    Args:
        model: a built model of the saved architecture.
        directory: the `PeriodicCheckpoint` directory.
        which: `"latest"`, `"best"`, an epoch number, or `("min" | "max",
            metric)`. Defaults to `"latest"`.
        include_optimizer: also restore the optimizer state when the model
            is compiled and the file has it. Defaults to True.

    Returns:
        The `CheckpointInfo` that was loaded.

    Raises:
        CheckpointError: no checkpoint matches `which`, all candidates are
            damaged, or the checkpoint's architecture differs (the message
            names the variable, its layer and both shapes).
        ConfigError: `which` is not an accepted form or `model` is not built.
    """
    model = _check_model(model)
    path = _check_directory(directory)
    which = _check_which(which)
    include_optimizer = check_bool("include_optimizer", include_optimizer)
    for info, contents in _pick(path, which):
        _apply(model, info, contents, include_optimizer)
        return info
    raise AssertionError("unreachable: _pick raises when nothing is intact")


def resume(model: keras.Model, directory: str | os.PathLike[str]) -> int:
    """Load the latest intact checkpoint and return the epoch to resume from.

    Pass the result as `initial_epoch` to `fit`. The weights and the
    optimizer state come back, so the step counter and a learning-rate
    schedule continue; a checkpoint taken mid-epoch (`every_steps`) resumes
    at the start of that epoch with the saved step counter. Returns 0 when
    the directory has no checkpoint, or none that is intact (each damaged
    file gets a warning), so the same script starts and restarts training.

    Examples:
        >>> cb = kt.callbacks.PeriodicCheckpoint(tmp_path)
        >>> _ = model.fit(x, y, epochs=2, verbose=0, callbacks=[cb])
        >>> fresh = kt.compile(kt.build_mlp(2, [8]), optimizer="rmsprop")
        >>> start = kt.checkpoints.resume(fresh, tmp_path)
        >>> start
        2
        >>> _ = fresh.fit(x, y, initial_epoch=start, epochs=4, verbose=0, callbacks=[cb])

    Args:
        model: a built, compiled model of the saved architecture.
        directory: the `PeriodicCheckpoint` directory (it need not exist yet).

    Returns:
        The number of epochs already done, 0 for a fresh start.

    Raises:
        CheckpointError: the checkpoint's architecture or optimizer differs.
        ConfigError: `model` is not built or not compiled.
    """
    model = _check_model(model)
    path = _check_directory(directory)
    if _optimizer_of(model) is None:
        raise ConfigError(
            "Argument `model` must be compiled before resume, so its optimizer state can be "
            f"restored. Received: model={model.name!r} (not compiled)"
        )
    manifest = _read_manifest(path)
    if not manifest.checkpoints and manifest.best is None:
        logger.info("No checkpoint in %s: starting from epoch 0.", path)
        return 0
    try:
        info = load_checkpoint(model, path, "latest")
    except _NothingIntact as error:
        warnings.warn(f"{error} Starting from epoch 0.", RuntimeWarning, stacklevel=2)
        return 0
    if not info.includes_optimizer:
        warnings.warn(
            f"Checkpoint {info.path} has no optimizer state (include_optimizer=False): the "
            "optimizer restarts at step 0, and so does its learning-rate schedule.",
            RuntimeWarning,
            stacklevel=2,
        )
    logger.info("Resumed from %s (epoch %d, step %d).", info.path, info.epoch, info.step)
    return info.epoch
