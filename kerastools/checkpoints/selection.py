"""Choosing a checkpoint: by position, epoch or recorded metric, skipping damaged files.

`list_checkpoints` reads the manifest; `find_checkpoint` returns the record
`load_checkpoint` would load, after verifying the file's size, SHA-256 and
HDF5 structure.
"""

from __future__ import annotations

import numbers
import os
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from kerastools._validation import check_bool, check_choice, check_int, check_name, check_path
from kerastools.checkpoints.archive import ARCHIVE_SUFFIX, read_archive
from kerastools.checkpoints.file_format import FORMAT, CheckpointState, read_checkpoint_file
from kerastools.checkpoints.hdf5_checks import MAX_ELEMENTS
from kerastools.checkpoints.integrity import DamagedFile, check_integrity
from kerastools.checkpoints.keras_format import KerasWeightsFile, read_keras_file
from kerastools.checkpoints.manifest import MANIFEST_NAME, CheckpointInfo, Manifest, read_manifest
from kerastools.checkpoints.safe_read import check_regular
from kerastools.errors import CheckpointError, ConfigError, ConfigTypeError
from kerastools.improvement import best_first

__all__ = [
    "Contents",
    "NoIntactCheckpoint",
    "Which",
    "check_directory",
    "check_which",
    "find_checkpoint",
    "list_checkpoints",
    "pick",
    "read_contents",
]

Which = str | int | tuple[str, str]
"""What `load_checkpoint` loads: `"latest"`, `"best"`, an epoch number, or
`("min" | "max", metric)`."""


class NoIntactCheckpoint(CheckpointError):
    """Every candidate for `which` is damaged (each got its own warning)."""


def check_directory(directory: Any) -> Path:
    """`directory` as a Path; raises ConfigTypeError when it is not a path.

    Examples:
        >>> check_directory("checkpoints").name
        'checkpoints'
    """
    return check_path("directory", directory)


def check_which(which: Any) -> Which:
    """`which` in its normal form (lower-case names, a checked epoch or pair).

    Examples:
        >>> check_which("Latest"), check_which(3), check_which(("max", "val_accuracy"))
        ('latest', 3, ('max', 'val_accuracy'))

    Raises:
        ConfigError: `which` is not one of the accepted forms.
    """
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
    def key(entry: tuple[float | None, int, CheckpointInfo]) -> tuple[float, int, int]:
        value, position, info = entry
        return (
            best_first(float(value or 0.0), mode),  # type: ignore[arg-type]
            0 if (prefer_best and info.kind == "best") else 1,
            -position,
        )

    return [info for _, _, info in sorted(scored, key=key)]


def _latest_first(manifest: Manifest) -> list[CheckpointInfo]:
    """The last file written first: periodic files in manifest order, and the best
    file where its wall time puts it (it can be newer than all of them)."""
    ordered = list(reversed(manifest.checkpoints))
    if manifest.best is not None:
        best_time = manifest.best.wall_time
        position = next(
            (i for i, info in enumerate(ordered) if info.wall_time < best_time), len(ordered)
        )
        ordered.insert(position, manifest.best)
    return ordered


def _best_first(manifest: Manifest, everything: list[CheckpointInfo]) -> list[CheckpointInfo]:
    directory = manifest.directory
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


def _candidates(manifest: Manifest, which: Which) -> list[CheckpointInfo]:
    """The checkpoints that satisfy `which`, most wanted first."""
    directory = manifest.directory
    everything = manifest.checkpoints + ([manifest.best] if manifest.best is not None else [])
    if not everything:
        raise CheckpointError(
            f"No checkpoints in {directory} (no {MANIFEST_NAME} or it is empty). Accepted: a "
            "kerastools checkpoint directory, a Keras `.weights.h5` or `.keras` file, or a "
            "keras.callbacks.BackupAndRestore directory."
        )
    if which == "latest":
        return _latest_first(manifest)
    if which == "best":
        return _best_first(manifest, everything)
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


Contents = CheckpointState | KerasWeightsFile


def read_contents(path: Path, *, max_elements: int = MAX_ELEMENTS) -> Contents:
    """Read a checkpoint file: Keras' `.weights.h5` or `.keras`, or the 0.1 format (its JSON header).

    Only a regular file is opened (a FIFO would block), and nothing of it is
    read before its structure passes `hdf5_checks.check_structure` with
    `max_elements`.

    Examples:
        >>> cb = kt.callbacks.PeriodicCheckpoint(tmp_path)
        >>> _ = model.fit(x, y, epochs=1, verbose=0, callbacks=[cb])
        >>> type(read_contents(tmp_path / "epoch-0001.weights.h5")).__name__
        'KerasWeightsFile'

    Raises:
        DamagedFile: it is not HDF5 (nor a Keras archive, for `.keras`), or
            its structure is broken.
        CheckpointError: it is not a regular file, refers to data outside
            itself or declares a dataset larger than `max_elements`.
    """
    import h5py

    try:
        check_regular(path)
    except FileNotFoundError:
        raise DamagedFile("the file is missing") from None
    except OSError as error:
        raise DamagedFile(f"it cannot be opened ({error})") from error
    if path.name.endswith(ARCHIVE_SUFFIX):
        return read_archive(path, max_elements=max_elements)
    try:
        with h5py.File(path, "r") as handle:
            legacy = FORMAT in handle.attrs
    except (OSError, ValueError, RuntimeError) as error:
        raise DamagedFile(f"its HDF5 structure is broken ({error})") from error
    read = read_checkpoint_file if legacy else read_keras_file
    return read(path, max_elements=max_elements)


def _intact(
    candidates: Iterable[CheckpointInfo], manifest: Manifest, max_elements: int
) -> Iterator[tuple[CheckpointInfo, Contents]]:
    """Yield the candidates that pass their checks, warning about each that does not."""
    for info in candidates:
        try:
            record = check_integrity(info, manifest.pending)
            yield record, read_contents(info.path, max_elements=max_elements)
        except DamagedFile as damage:
            warnings.warn(
                f"Skipping damaged checkpoint {info.path}: {damage}. Trying the previous good one.",
                RuntimeWarning,
                stacklevel=4,
            )


def pick(
    directory: Path, which: Which, *, max_elements: int = MAX_ELEMENTS
) -> Iterator[tuple[CheckpointInfo, Contents]]:
    """Yield the intact candidates for `which` with their contents, most wanted first.

    `max_elements` bounds each dataset a file may declare (`read_contents`).

    Damaged candidates are skipped with a warning (its stack level points at
    the caller of `load_checkpoint` or `find_checkpoint`).

    Examples:
        >>> cb = kt.callbacks.PeriodicCheckpoint(tmp_path)
        >>> _ = model.fit(x, y, epochs=2, verbose=0, callbacks=[cb])
        >>> info, state = next(pick(tmp_path, "latest"))
        >>> info.epoch, state.model_name == model.name
        (2, True)

    Raises:
        CheckpointError: no checkpoint matches `which`.
        NoIntactCheckpoint: after the last intact candidate (the caller stops
            at the first one it wants).
    """
    manifest = read_manifest(directory)
    tried = _candidates(manifest, which)
    yield from _intact(tried, manifest, max_elements)
    names = ", ".join(info.path.name for info in tried)
    raise NoIntactCheckpoint(
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
    path = check_directory(directory)
    include_best = check_bool("include_best", include_best)
    manifest = read_manifest(path)
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
    path = check_directory(directory)
    which = check_which(which)
    for info, _ in pick(path, which):
        return info
    raise AssertionError("unreachable: pick raises when nothing is intact")
