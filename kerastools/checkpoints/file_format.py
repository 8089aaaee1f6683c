"""The checkpoint file: model and optimizer variables in one HDF5 file.

Each file is HDF5 written with h5py: one JSON header attribute, a `model`
group and, unless `include_optimizer=False`, an `optimizer` group (step
counter and slots). A group holds the variables' paths in a `paths` dataset
and their values by position (`00000`, `00001`, ...), so a model of another
architecture can be refused with the variable and the shapes that differ.
The file is written to a temporary file, fsynced and renamed over its target.

Examples:
    >>> state = take_state(model, include_optimizer=False)
    >>> info = write_checkpoint_file(state, tmp_path / "epoch-0001.weights.h5",
    ...     kind="epoch", epoch=1, step=0, metrics={}, wall_time=0.0)
    >>> read_checkpoint_file(info.path).model_paths == state.model_paths
    True
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np

from kerastools._atomic import atomic_path
from kerastools.checkpoints.integrity import DamagedFile, hash_while_syncing
from kerastools.checkpoints.manifest import CheckpointInfo, Kind
from kerastools.errors import CheckpointError

__all__ = [
    "CheckpointState",
    "optimizer_of",
    "optimizer_step",
    "read_checkpoint_file",
    "take_state",
    "write_checkpoint_file",
]

FORMAT = "kerastools-checkpoint"
FORMAT_VERSION = 1


@dataclass
class CheckpointState:
    """The variables of one checkpoint, in host memory.

    What a save copies out of the model (so training can go on while it is
    written) and what a load reads back from the file.

    Examples:
        >>> state = take_state(model, include_optimizer=True)
        >>> len(state.model_arrays) == len(model.weights), state.optimizer_name
        (True, 'RMSprop')
    """

    model_name: str
    model_paths: list[str]
    model_arrays: list[np.ndarray]
    optimizer_name: str
    optimizer_paths: list[str] | None
    optimizer_arrays: list[np.ndarray] | None


def optimizer_of(model: keras.Model) -> keras.optimizers.Optimizer | None:
    """The model's optimizer, or None when it is not compiled.

    Examples:
        >>> optimizer_of(kt.build_mlp(2, [8])) is None
        True
    """
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


def optimizer_step(model: keras.Model) -> int:
    """The optimizer's step counter, 0 when the model is not compiled.

    Examples:
        >>> optimizer_step(model)
        0
    """
    optimizer = optimizer_of(model)
    if optimizer is None:
        return 0
    return int(_host_array(optimizer.iterations))


def take_state(model: keras.Model, include_optimizer: bool) -> CheckpointState:
    """Copy the model's (and optimizer's) variables to host memory.

    Examples:
        >>> take_state(model, include_optimizer=False).optimizer_arrays is None
        True
    """
    weights = model.weights
    optimizer = optimizer_of(model) if include_optimizer else None
    return CheckpointState(
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


def _header(
    state: CheckpointState,
    kind: Kind,
    epoch: int,
    step: int,
    metrics: dict[str, float | None],
    wall_time: float,
) -> str:
    header = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "kind": kind,
        "epoch": epoch,
        "step": step,
        "wall_time": wall_time,
        "metrics": metrics,
        "model": state.model_name,
        "optimizer": state.optimizer_name,
        "keras_version": keras.__version__,
        "backend": keras.backend.backend(),
    }
    return json.dumps(header, allow_nan=False)


def write_checkpoint_file(
    state: CheckpointState,
    target: Path,
    *,
    kind: Kind,
    epoch: int,
    step: int,
    metrics: dict[str, float | None],
    wall_time: float,
    before_replace: Callable[[CheckpointInfo], None] | None = None,
) -> CheckpointInfo:
    """Write `state` to `target` atomically and return its record.

    `before_replace` runs after the temporary file is complete and before it
    replaces `target` (the manifest's pending record goes there).

    Examples:
        >>> info = write_checkpoint_file(take_state(model, True), tmp_path / "best.weights.h5",
        ...     kind="best", epoch=3, step=6, metrics={"loss": 0.5}, wall_time=0.0)
        >>> info.includes_optimizer, info.size > 0, len(info.sha256)
        (True, True, 64)

    Raises:
        CheckpointError: the file cannot be written (the message names it).
    """
    import h5py

    header = _header(state, kind, epoch, step, metrics, wall_time)
    try:
        with atomic_path(target, suffix=".weights.h5") as temporary:
            with h5py.File(temporary, "w") as handle:
                # One JSON attribute: each HDF5 attribute costs a metadata write.
                handle.attrs[FORMAT] = header
                _write_group(handle, "model", state.model_paths, state.model_arrays)
                if state.optimizer_arrays is not None:
                    _write_group(
                        handle, "optimizer", state.optimizer_paths or [], state.optimizer_arrays
                    )
            info = CheckpointInfo(
                path=target,
                kind=kind,
                epoch=epoch,
                step=step,
                metrics=metrics,
                wall_time=wall_time,
                size=temporary.stat().st_size,
                sha256=hash_while_syncing(temporary),
                includes_optimizer=state.optimizer_arrays is not None,
            )
            if before_replace is not None:
                before_replace(info)
    except (OSError, TypeError, ValueError) as error:
        raise CheckpointError(f"Cannot write checkpoint {target}: {error}") from error
    return info


def _read_group(handle: Any, name: str) -> tuple[list[str], list[np.ndarray]]:
    group = handle[name]
    paths = [p.decode() if isinstance(p, bytes) else str(p) for p in group["paths"][()]]
    arrays = [np.asarray(group[f"{index:05d}"][()]) for index in range(len(paths))]
    return paths, arrays


def read_checkpoint_file(path: Path) -> CheckpointState:
    """Read the variables a checkpoint file holds.

    Examples:
        >>> info = write_checkpoint_file(take_state(model, False), tmp_path / "best.weights.h5",
        ...     kind="best", epoch=1, step=2, metrics={}, wall_time=0.0)
        >>> state = read_checkpoint_file(info.path)
        >>> state.model_name == model.name, state.optimizer_arrays
        (True, None)

    Raises:
        DamagedFile: it is not a kerastools checkpoint or its HDF5 structure
            is broken.
    """
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            if FORMAT not in handle.attrs:
                raise DamagedFile(f"it is not a kerastools checkpoint (no {FORMAT!r} attribute)")
            header = json.loads(handle.attrs[FORMAT])
            model_paths, model_arrays = _read_group(handle, "model")
            optimizer_paths = optimizer_arrays = None
            if "optimizer" in handle:
                optimizer_paths, optimizer_arrays = _read_group(handle, "optimizer")
    except (OSError, KeyError, ValueError, TypeError, RuntimeError) as error:
        raise DamagedFile(f"its HDF5 structure is broken ({error})") from error
    return CheckpointState(
        model_name=str(header.get("model", "")),
        model_paths=model_paths,
        model_arrays=model_arrays,
        optimizer_name=str(header.get("optimizer", "")),
        optimizer_paths=optimizer_paths,
        optimizer_arrays=optimizer_arrays,
    )
