"""The checkpoint file: model and optimizer variables in one HDF5 file.

Each file is HDF5 written with h5py: one JSON header attribute, a `model`
group and, unless `include_optimizer=False`, an `optimizer` group (the
compiled optimizer's step counter and slots). A model that trains with
optimizers kept as attributes (`kerastools.learning_rates.model_optimizers`,
the GAN pattern) gets an `optimizers` group with one sub-group per attribute
name, which also lists, in `trains`, the positions in
`model.trainable_variables` of the variables that optimizer updates, so a
fresh model's optimizer can be built on the same ones. A group holds the
variables' paths in a `paths` dataset and their values by position
(`00000`, `00001`, ...), so a model of another architecture can be refused
with the variable and the shapes that differ. The header also records the
model's `get_build_config()` (its input shape), so loading can build a
subclassed model that was never called. Files without these parts (written
before them) load as before. Since Keras' own layout is the default, only a
model Keras refuses to save (never marked built) gets this format.

Examples:
    >>> state = take_state(model, include_optimizer=False)
    >>> record = CheckpointInfo(tmp_path / "epoch-0001.weights.h5", "epoch", 1, 0)
    >>> data = checkpoint_file_bytes(state, record)
    >>> read_checkpoint_file(record.path, data=data).model_paths == state.model_paths
    True
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np

from kerastools.checkpoints.file_checks import MAX_ELEMENTS, check_structure
from kerastools.checkpoints.files import DamagedFile, hdf5_bytes
from kerastools.checkpoints.optimizers import OptimizerState, trained_positions
from kerastools.checkpoints.record import CheckpointInfo
from kerastools.errors import CheckpointError
from kerastools.learning_rates import (
    COMPILED_OPTIMIZER,
    model_optimizers,
    schedule_step_counter,
    unwrap_optimizer,
)

__all__ = [
    "CheckpointState",
    "optimizer_of",
    "optimizer_step",
    "read_checkpoint_file",
    "checkpoint_file_bytes",
    "take_state",
]

FORMAT = "kerastools-checkpoint"
FORMAT_VERSION = 1
ATTRIBUTE_OPTIMIZERS = "optimizers"  # the group of optimizers kept as model attributes


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
    optimizers: dict[str, OptimizerState]  # by attribute name; "optimizer" is the compiled one
    build_config: dict[str, Any] | None = None  # model.get_build_config() at the save

    @property
    def optimizer_name(self) -> str:
        """The compiled optimizer's class, "" when it is not in the file."""
        state = self.optimizers.get(COMPILED_OPTIMIZER)
        return "" if state is None else state.class_name

    @property
    def optimizer_paths(self) -> list[str] | None:
        """The compiled optimizer's variable paths, None when it is not in the file."""
        state = self.optimizers.get(COMPILED_OPTIMIZER)
        return None if state is None else state.paths

    @property
    def optimizer_arrays(self) -> list[np.ndarray] | None:
        """The compiled optimizer's variable values, None when it is not in the file."""
        state = self.optimizers.get(COMPILED_OPTIMIZER)
        return None if state is None else state.arrays


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
    """The step counter of the (first) optimizer the model trains with; 0 without one.

    That is `optimizer.iterations`, except under gradient accumulation, where
    `iterations` is computed (updates: batches // accumulation steps, no
    variable behind it) and the step is the batch counter the schedule sees
    (`kerastools.learning_rates.schedule_step_counter`): step saves then
    fall on the same batches in a resumed run as in an uninterrupted one.

    Examples:
        >>> optimizer_step(model)
        0
    """
    optimizers = model_optimizers(model)
    if not optimizers:
        return 0
    optimizer = unwrap_optimizer(next(iter(optimizers.values())))
    return int(_host_array(schedule_step_counter(optimizer)))


def _optimizer_state(
    model: keras.Model, name: str, optimizer: keras.optimizers.Optimizer
) -> OptimizerState:
    variables = optimizer.variables
    return OptimizerState(
        class_name=type(optimizer).__name__,
        paths=[variable.path for variable in variables],
        arrays=[_host_array(variable) for variable in variables],
        trains=None if name == COMPILED_OPTIMIZER else trained_positions(model, optimizer),
    )


def _build_config(model: keras.Model) -> dict[str, Any] | None:
    """`model.get_build_config()` when it is plain JSON (the input shapes), else None."""
    try:
        config = model.get_build_config()
        json.dumps(config, allow_nan=False)
    except (TypeError, ValueError, AttributeError, NotImplementedError):
        return None
    return config if isinstance(config, dict) else None


def take_state(model: keras.Model, include_optimizer: bool) -> CheckpointState:
    """Copy the model's (and its optimizers') variables to host memory.

    The optimizers are those of `kerastools.learning_rates.model_optimizers`;
    one kept as an attribute that has not been built (it trained nothing
    yet) is left out.

    Examples:
        >>> take_state(model, include_optimizer=False).optimizer_arrays is None
        True
    """
    weights = model.weights
    optimizers = model_optimizers(model) if include_optimizer else {}
    return CheckpointState(
        model_name=model.name,
        model_paths=[variable.path for variable in weights],
        model_arrays=[_host_array(variable) for variable in weights],
        optimizers={
            name: _optimizer_state(model, name, optimizer)
            for name, optimizer in optimizers.items()
            if name == COMPILED_OPTIMIZER or optimizer.built
        },
        build_config=_build_config(model),
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


def _write_optimizers(handle: Any, optimizers: dict[str, OptimizerState]) -> None:
    """The compiled optimizer where it always was; attribute ones in their own group."""
    attributes = None
    for name, state in optimizers.items():
        if name == COMPILED_OPTIMIZER:
            _write_group(handle, COMPILED_OPTIMIZER, state.paths, state.arrays)
            continue
        if attributes is None:
            attributes = handle.create_group(ATTRIBUTE_OPTIMIZERS)
        _write_group(attributes, name, state.paths, state.arrays)
        group = attributes[name]
        group.attrs["class_name"] = state.class_name
        if state.trains is not None:
            group.create_dataset("trains", data=np.asarray(state.trains, dtype="int64"))


def _header(state: CheckpointState, record: CheckpointInfo) -> str:
    header = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "kind": record.kind,
        "epoch": record.epoch,
        "step": record.step,
        "wall_time": record.wall_time,
        "metrics": record.metrics,
        "model": state.model_name,
        "optimizer": state.optimizer_name,
        "build_config": state.build_config,
        "keras_version": keras.__version__,
        "backend": keras.backend.backend(),
    }
    return json.dumps(header, allow_nan=False)


def checkpoint_file_bytes(state: CheckpointState, record: CheckpointInfo) -> bytes:
    """The bytes of a checkpoint file of `state` in this format, made in memory (`files`).

    Examples:
        >>> record = CheckpointInfo(tmp_path / "best.weights.h5", "best", 3, 6)
        >>> checkpoint_file_bytes(take_state(model, True), record)[:4]
        b'\x89HDF'

    Raises:
        CheckpointError: the bytes cannot be made (the message names the file).
    """
    header = _header(state, record)

    def fill(handle: Any) -> None:
        # One JSON attribute: each HDF5 attribute costs a metadata write.
        handle.attrs[FORMAT] = header
        _write_group(handle, "model", state.model_paths, state.model_arrays)
        _write_optimizers(handle, state.optimizers)

    try:
        return hdf5_bytes(fill)  # in memory: a full disk cannot crash HDF5 (files)
    except (OSError, TypeError, ValueError) as error:
        raise CheckpointError(f"Cannot write checkpoint {record.path}: {error}") from error


def _read_group(handle: Any, name: str) -> tuple[list[str], list[np.ndarray]]:
    group = handle[name]
    paths = [p.decode() if isinstance(p, bytes) else str(p) for p in group["paths"][()]]
    arrays = [np.asarray(group[f"{index:05d}"][()]) for index in range(len(paths))]
    return paths, arrays


def read_checkpoint_file(
    path: Path, *, data: bytes | None = None, max_elements: int = MAX_ELEMENTS
) -> CheckpointState:
    """Read the variables a checkpoint file holds (from `data`, its bytes, when given).

    Its links and datasets are checked first (`file_checks.check_structure`):
    nothing outside the file, no dataset of more than `max_elements` elements.

    Examples:
        >>> record = CheckpointInfo(tmp_path / "best.weights.h5", "best", 1, 2)
        >>> data = checkpoint_file_bytes(take_state(model, False), record)
        >>> state = read_checkpoint_file(record.path, data=data)
        >>> state.model_name == model.name, state.optimizer_arrays
        (True, None)

    Raises:
        DamagedFile: it is not a kerastools checkpoint or its HDF5 structure
            is broken.
        CheckpointError: it refers to data outside itself or declares a
            dataset larger than `max_elements`.
    """
    import h5py

    try:
        with h5py.File(path if data is None else io.BytesIO(data), "r") as handle:
            if FORMAT not in handle.attrs:
                raise DamagedFile(f"it is not a kerastools checkpoint (no {FORMAT!r} attribute)")
            check_structure(handle, path, max_elements=max_elements)
            header = json.loads(handle.attrs[FORMAT])
            model_paths, model_arrays = _read_group(handle, "model")
            optimizers = _read_optimizers(handle, str(header.get("optimizer", "")))
    except CheckpointError:
        raise
    except (OSError, KeyError, ValueError, TypeError, RuntimeError, AttributeError) as error:
        raise DamagedFile(f"its HDF5 structure is broken ({error})") from error
    build_config = header.get("build_config")
    return CheckpointState(
        model_name=str(header.get("model", "")),
        model_paths=model_paths,
        model_arrays=model_arrays,
        optimizers=optimizers,
        build_config=build_config if isinstance(build_config, dict) else None,
    )


def _read_optimizers(handle: Any, compiled_class: str) -> dict[str, OptimizerState]:
    optimizers: dict[str, OptimizerState] = {}
    if COMPILED_OPTIMIZER in handle:
        paths, arrays = _read_group(handle, COMPILED_OPTIMIZER)
        optimizers[COMPILED_OPTIMIZER] = OptimizerState(compiled_class, paths, arrays)
    for name in handle.get(ATTRIBUTE_OPTIMIZERS, {}):
        group = handle[ATTRIBUTE_OPTIMIZERS][name]
        paths, arrays = _read_group(handle[ATTRIBUTE_OPTIMIZERS], name)
        trains = [int(index) for index in group["trains"][()]] if "trains" in group else None
        optimizers[name] = OptimizerState(str(group.attrs.get("class_name", "")), paths, arrays, trains)
    return optimizers
