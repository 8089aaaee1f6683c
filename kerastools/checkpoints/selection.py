"""Choosing a checkpoint: by position, epoch or recorded metric, skipping damaged files.

`list_checkpoints` reads the records; `find_checkpoint` returns the record
`load_checkpoint` would load, after verifying the file's size, SHA-256 and
HDF5 structure. Both, `load_checkpoint`, `resume` and the live plot's
`compare_to` go through `pick`, the one reading path.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import numbers
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kerastools._validation import check_bool, check_choice, check_int, check_name, check_path
from kerastools.checkpoints.archive import ARCHIVE_SUFFIX, read_archive
from kerastools.checkpoints.directory import Index, read_index, verified
from kerastools.checkpoints.file_checks import MAX_ELEMENTS
from kerastools.checkpoints.files import DamagedFile, damaged_on
from kerastools.checkpoints.keras_format import KerasWeightsFile, read_keras_file
from kerastools.checkpoints.legacy import FORMAT, CheckpointState, read_checkpoint_file
from kerastools.checkpoints.record import CheckpointInfo
from kerastools.errors import CheckpointError, ConfigError, ConfigTypeError
from kerastools.improvement import best_first

__all__ = [
    "Candidate", "Contents", "NoCheckpoint", "NoIntactCheckpoint", "Which", "check_which",
    "find_checkpoint", "list_checkpoints", "pick", "read_contents", "warn_caller",
]

Which = str | int | tuple[str, str]
"""What `load_checkpoint` loads: `"latest"`, `"best"`, an epoch number, or
`("min" | "max", metric)`."""


class NoIntactCheckpoint(CheckpointError):
    """Every candidate for `which` is damaged (each got its own warning)."""


class NoCheckpoint(CheckpointError):
    """The directory holds no checkpoint at all."""


def check_which(which: Any) -> Which:
    """`which` in its normal form (lower-case names, a checked epoch or pair); ConfigError if not.

    Examples:
        >>> check_which("Latest"), check_which(3), check_which(("max", "val_accuracy"))
        ('latest', 3, ('max', 'val_accuracy'))
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
    def key(position: int) -> tuple[float, int, int]:
        info = candidates[position]
        value = best_first(float(info.metrics[metric] or 0.0), mode)  # type: ignore[arg-type]
        return value, 0 if prefer_best and info.kind == "best" else 1, -position

    scored = [p for p, info in enumerate(candidates) if info.metrics.get(metric) is not None]
    return [candidates[position] for position in sorted(scored, key=key)]


def _candidates(index: Index, which: Which) -> list[CheckpointInfo]:
    """The checkpoints that satisfy `which`, most wanted first."""
    directory = index.directory
    # In save order; within one save (one sequence number) the periodic file is the latest.
    everything = sorted(index.everything(), key=lambda info: (info.sequence, info.kind != "best"))
    if not everything:
        raise NoCheckpoint(
            f"No checkpoints in {directory} (no checkpoint records). Accepted: a kerastools "
            "checkpoint directory, a Keras `.weights.h5` or `.keras` file, or a "
            "keras.callbacks.BackupAndRestore directory."
        )
    if which == "latest":
        return everything[::-1]
    if isinstance(which, int):
        matching = [info for info in reversed(everything) if info.epoch == which]
        if not matching:
            epochs = sorted({info.epoch for info in everything})
            raise CheckpointError(
                f"No checkpoint for epoch {which} in {directory}; epochs available: {epochs}."
            )
        return matching
    pair = (index.mode, index.monitor) if which == "best" else which
    if not isinstance(pair, tuple):
        raise ConfigError(f"Argument `which` is not understood. Received: which={which!r}")
    mode, metric = pair
    if mode is None or metric is None:  # "best" of a directory without a `save_best` rule
        raise CheckpointError(
            f"No best checkpoint in {directory}: it was written without save_best. "
            "Pass which=('min', 'val_loss') or similar to pick by a recorded metric."
        )
    ranked = _by_metric(everything, mode, metric, prefer_best=which == "best")
    if not ranked:
        available = sorted({key for info in everything for key in info.metrics})
        raise CheckpointError(
            f"No checkpoint in {directory} recorded the metric {metric!r}; metrics recorded: "
            f"{available}."
        )
    return ranked


Contents = CheckpointState | KerasWeightsFile


def read_contents(path: Path, data: bytes, *, max_elements: int = MAX_ELEMENTS) -> Contents:
    """Read a checkpoint file's `data`: Keras' `.weights.h5` or `.keras`, or the 0.1 format.

    Its structure passes `file_checks.check_structure` first (CheckpointError);
    DamagedFile when it is not HDF5 (nor a `.keras` zip) or its structure is broken.
    """
    import h5py

    if path.name.endswith(ARCHIVE_SUFFIX):
        return read_archive(path, data=data, max_elements=max_elements)
    with damaged_on((OSError, ValueError, RuntimeError)), h5py.File(io.BytesIO(data), "r") as handle:
        legacy = FORMAT in handle.attrs
    read = read_checkpoint_file if legacy else read_keras_file
    return read(path, data=data, max_elements=max_elements)


def warn_caller(message: str) -> None:
    """A RuntimeWarning that points at the first caller outside this package (the user's line).

    Examples:
        >>> import warnings
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     warn_caller("careful")
        >>> caught[0].category.__name__, caught[0].filename.startswith("<doctest")
        ('RuntimeWarning', True)
    """
    package = os.path.dirname(__file__)
    frame, level = inspect.currentframe(), 1
    while frame is not None and os.path.dirname(frame.f_code.co_filename) == package:
        frame, level = frame.f_back, level + 1
    warnings.warn(message, RuntimeWarning, stacklevel=level)


Candidate = tuple[CheckpointInfo, Contents, bytes]
"""A checkpoint to load: its record, what its file holds, and the file's bytes (verified)."""


def pick(directory: Path, which: Which, *, max_elements: int = MAX_ELEMENTS) -> Iterator[Candidate]:
    """Yield the intact candidates for `which`, most wanted first: the one reading path.

    The index is read once; each candidate's file is read once, verified and
    parsed from those bytes; a damaged one is skipped with a warning at the
    user's call. CheckpointError when nothing matches or a record is not
    valid; NoIntactCheckpoint after the last intact candidate.
    """
    index = read_index(directory)
    tried = _candidates(index, which)
    for info in tried:
        try:
            record, data = verified(index, info)
            yield record, read_contents(record.path, data, max_elements=max_elements), data
        except DamagedFile as damage:
            warn_caller(
                f"Skipping damaged checkpoint {info.path}: {damage}. Trying the previous good one."
            )
    names = ", ".join(info.path.name for info in tried)
    raise NoIntactCheckpoint(
        f"No intact checkpoint for which={which!r} in {directory}: all of [{names}] are damaged."
    )


def list_checkpoints(
    directory: str | os.PathLike[str], *, include_best: bool = False
) -> list[CheckpointInfo]:
    """The periodic checkpoints of `directory`, in the order written, as their records say.

    Files are not verified here (`load_checkpoint` does that); an empty list
    when the directory has no checkpoint yet.

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
        CheckpointError: a record is not valid.
        ConfigTypeError: `directory` is not a path.
    """
    path = check_path("directory", directory)
    include_best = check_bool("include_best", include_best)
    index = read_index(path)
    infos = list(index.checkpoints)
    if include_best and index.best is not None:
        best = index.best
        if index.best_next is not None:  # a replacement a kill cut short: the file decides
            with contextlib.suppress(DamagedFile, CheckpointError):
                best = verified(index, best)[0]
        infos.append(best)
    return infos


def find_checkpoint(directory: str | os.PathLike[str], which: Which = "latest") -> CheckpointInfo:
    """The checkpoint `load_checkpoint(model, directory, which)` would load, verified.

    Damaged files are skipped with a warning, as when loading; no model needed.

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
    path = check_path("directory", directory)
    which = check_which(which)
    return next(pick(path, which))[0]  # pick raises when nothing is intact
