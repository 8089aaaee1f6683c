"""The checkpoint file as Keras' own `.weights.h5`: written by `model.save_weights`.

What `model.save_weights` writes, so plain `model.load_weights(path)` reads
it on every backend, optimizer included: layers under
`layers/<layer>/vars/<i>`, the compiled optimizer under `optimizer/vars/<i>`,
optimizers kept as attributes (GAN) under their name, e.g. `d_optimizer/vars`.
One root attribute, `kerastools` (JSON: model name, optimizer classes and
configs, `get_build_config()`), is ours; Keras' loader ignores it.
`snapshot_weights` copies the state on the training thread and returns
what builds the bytes later, on the checkpoint writer's thread.

Examples:
    >>> target = tmp_path / "epoch-0001.weights.h5"
    >>> _ = target.write_bytes(snapshot_weights(model, target, True)())
    >>> fresh = kt.compile(kt.build_mlp(2, [8]), optimizer="rmsprop")
    >>> fresh.load_weights(target)
    >>> read_keras_file(target).optimizer_classes
    {'optimizer': 'RMSprop'}
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras

from kerastools.checkpoints.file_checks import (
    MAX_ELEMENTS,
    ArrayFacts,
    check_structure,
    numeric_facts,
)
from kerastools.checkpoints.files import DamagedFile, weights_bytes
from kerastools.checkpoints.optimizers import compiled_config, trained_positions
from kerastools.device.cluster import writing_alone
from kerastools.errors import CheckpointError
from kerastools.learning_rates import COMPILED_OPTIMIZER, model_optimizers

__all__ = [
    "HEADER",
    "KerasWeightsFile",
    "VarsGroup",
    "can_write",
    "read_keras_file",
    "saved_optimizer",
    "saved_optimizers",
    "saved_weights",
    "snapshot_weights",
    "write_snapshot",
]

HEADER = "kerastools"  # the root attribute kerastools adds; Keras ignores it
FORMAT = "kerastools-keras-weights"
FORMAT_VERSION = 2


@dataclass
class VarsGroup:
    """One `vars` group of a Keras weights file: whose variables, and their shapes."""

    path: str  # e.g. "layers/dense/vars"
    name: str  # the `name` attribute: the layer's (or optimizer's) name
    shapes: list[tuple[int, ...]]
    facts: list[ArrayFacts] = field(default_factory=list)  # of each dataset, when it was read

    @property
    def top(self) -> str:
        """The first component of the path ("layers", "optimizer", "d_optimizer", ...)."""
        return self.path.split("/", 1)[0]


@dataclass
class KerasWeightsFile:
    """What loading needs to know of a Keras weights file, read without assigning anything.

    Examples:
        >>> data = write_snapshot(model, tmp_path / "best.weights.h5", False)
        >>> _ = (tmp_path / "best.weights.h5").write_bytes(data)
        >>> read_keras_file(tmp_path / "best.weights.h5").optimizer_classes
        {}
    """

    path: Path
    model_name: str = ""
    optimizer_classes: dict[str, str] = field(default_factory=dict)  # by attribute name
    optimizer_configs: dict[str, dict[str, Any]] = field(default_factory=dict)  # compiled with
    build_config: dict[str, Any] | None = None
    groups: list[VarsGroup] = field(default_factory=list)
    # Positions in model.trainable_variables each attribute optimizer updates.
    trains: dict[str, list[int] | None] = field(default_factory=dict)


def can_write(model: keras.Model) -> bool:
    """Whether `model.save_weights` accepts the model (Keras refuses a model not built).

    A subclassed model trained by a custom `train_step` without `call()`
    (the GAN pattern) may never be marked built; its files use the 0.1 format.

    Examples:
        >>> can_write(model)
        True
    """
    return bool(getattr(model, "built", False))


def saved_optimizers(model: keras.Model, include_optimizer: bool) -> dict[str, str]:
    """The class of each optimizer a file of `model` keeps, by attribute name.

    The compiled one, and those kept as attributes that are built (one that
    trained nothing yet has no state).

    Examples:
        >>> saved_optimizers(model, True), saved_optimizers(model, False)
        ({'optimizer': 'RMSprop'}, {})
    """
    if not include_optimizer:
        return {}
    return {
        name: type(optimizer).__name__
        for name, optimizer in model_optimizers(model).items()
        if name == COMPILED_OPTIMIZER or optimizer.built
    }


def _header(model: keras.Model, optimizers: dict[str, str]) -> str:
    try:
        build_config = model.get_build_config()
        json.dumps(build_config, allow_nan=False)
    except (TypeError, ValueError, AttributeError, NotImplementedError):
        build_config = None
    header = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "model": model.name,
        "optimizers": optimizers,
        "optimizer_configs": {  # checkpoints.optimizers compares them at loading
            name: compiled_config(optimizer)
            for name, optimizer in model_optimizers(model).items()
            if name in optimizers
        },
        "trains": {
            name: trained_positions(model, optimizer)
            for name, optimizer in model_optimizers(model).items()
            if name != COMPILED_OPTIMIZER and name in optimizers
        },
        "build_config": build_config if isinstance(build_config, dict) else None,
        "keras_version": keras.__version__,
        "backend": keras.backend.backend(),
    }
    return json.dumps(header, allow_nan=False)


def write_snapshot(model: keras.Model, target: Path, include_optimizer: bool) -> bytes:
    """The bytes of `model.save_weights` plus our header, made in memory (`in_memory`).

    Run it on the training thread: the bytes are the state at this moment.
    Without `include_optimizer` the optimizer groups are deleted from them.

    Raises:
        CheckpointError: Keras cannot save the model (the message names `target`).
    """
    optimizers = saved_optimizers(model, include_optimizer)

    def add_header(handle: Any) -> None:
        for attribute in model_optimizers(model):
            if attribute not in optimizers and attribute in handle:
                del handle[attribute]
        handle.attrs[HEADER] = _header(model, optimizers)

    try:
        with writing_alone():  # the chief saves while the other processes wait for it
            return weights_bytes(model, add_header)
    except (OSError, TypeError, ValueError) as error:
        raise CheckpointError(f"Cannot write checkpoint {target}: {error}") from error


def snapshot_weights(model: keras.Model, target: Path, include_optimizer: bool) -> Callable[[], bytes]:
    """Copy the state now (training thread); return what makes the file's bytes (writer thread).

    Raises:
        CheckpointError: Keras cannot save the model (the message names `target`).
    """
    data = write_snapshot(model, target, include_optimizer)
    return lambda: data


def _groups(handle: Any, read: bool = True, source: object = "") -> list[VarsGroup]:
    """Every `vars` group, in file order, reading each dataset (a broken one raises)."""
    groups: list[VarsGroup] = []

    def visit(name: str, item: Any) -> None:
        if not name.endswith("vars") or not hasattr(item, "keys"):
            return
        if name != "vars" and not name.endswith("/vars"):
            return
        keys = sorted(item.keys(), key=lambda key: int(key) if key.isdigit() else -1)
        shapes, facts = [], []
        for key in keys:
            dataset = item[key]
            if read:  # read it: a truncated or damaged file fails here
                facts.append(numeric_facts(dataset[()], f"{source}, dataset {name}/{key}"))
            shapes.append(tuple(int(n) for n in dataset.shape))
        groups.append(VarsGroup(name, str(item.attrs.get("name", "")), shapes, facts))

    handle.visititems(visit)
    return groups


def read_keras_file(
    path: Path, *, data: bytes | None = None, max_elements: int = MAX_ELEMENTS
) -> KerasWeightsFile:
    """Read a Keras weights file's structure (from `data`, its bytes, when given).

    Every dataset is read once; nothing is assigned.

    Its links and datasets are checked before any is read
    (`file_checks.check_structure`); each dataset's `ArrayFacts` are kept.

    Raises:
        DamagedFile: it is not HDF5, or its structure is broken.
        CheckpointError: it refers to data outside itself or declares a
            dataset larger than `max_elements`.
    """
    import h5py

    try:
        with h5py.File(path if data is None else io.BytesIO(data), "r") as handle:
            check_structure(handle, path, max_elements=max_elements)
            plain = HEADER not in handle.attrs  # written by plain `model.save_weights`
            header = {} if plain else json.loads(handle.attrs[HEADER])
            if not isinstance(header, dict):
                raise DamagedFile(f"its {HEADER!r} attribute is not a JSON object")
            groups = _groups(handle, source=path)
    except CheckpointError:
        raise
    except (OSError, KeyError, ValueError, TypeError, RuntimeError) as error:
        raise DamagedFile(f"its HDF5 structure is broken ({error})") from error
    if not groups:
        raise DamagedFile("it holds no Keras variables (no `vars` group)")
    build_config = header.get("build_config")
    optimizers = header.get("optimizers")
    if plain:  # its compiled optimizer, of a class the file does not say
        optimizers = {g.top: "" for g in groups if g.path == f"{COMPILED_OPTIMIZER}/vars"}
    trains = header.get("trains")
    configs = header.get("optimizer_configs")
    return KerasWeightsFile(
        path=path,
        model_name=str(header.get("model", "")),
        optimizer_classes=dict(optimizers) if isinstance(optimizers, dict) else {},
        optimizer_configs={k: v for k, v in configs.items() if isinstance(v, dict)}
        if isinstance(configs, dict) else {},
        build_config=build_config if isinstance(build_config, dict) else None,
        groups=groups,
        trains=dict(trains) if isinstance(trains, dict) else {},
    )


def saved_weights(
    file: KerasWeightsFile, model: keras.Model
) -> tuple[list[str], list[Any]] | None:
    """The file's model variables (paths, shape-only arrays) in `model.weights` order.

    Layers are paired by name (a `vars` group's `name` attribute and the
    owner in a variable's path), so a model of another width or depth is
    refused with the variable that differs before Keras assigns anything.
    None when some layer names differ and the counts agree (Keras decides).

    Examples:
        >>> model.save_weights(tmp_path / "best.weights.h5")
        >>> paths, _ = saved_weights(read_keras_file(tmp_path / "best.weights.h5"), model)
        >>> paths == [variable.path for variable in model.weights]
        True
    """

    skip = {COMPILED_OPTIMIZER, *model_optimizers(model), *file.optimizer_classes}
    by_name: dict[str, list[VarsGroup]] = {}
    for group in file.groups:
        if group.top not in skip and group.shapes:
            by_name.setdefault(group.name, []).append(group)
    owners: dict[str, list[Any]] = {}
    for variable in model.weights:
        owners.setdefault(variable.path.rsplit("/", 1)[0], []).append(variable)
    matched: dict[int, tuple[str, Any]] = {}
    extra: list[tuple[str, Any]] = []
    for owner, variables in owners.items():
        groups = by_name.get(owner.rsplit("/", 1)[-1])
        if not groups:
            continue
        group = groups.pop(0)
        for index in range(len(group.shapes)):
            entry = (f"{owner}/{index}", _declared(group, index))
            if index < len(variables):
                matched[id(variables[index])] = (variables[index].path, entry[1])
            else:
                extra.append(entry)
    for groups in by_name.values():
        extra += [
            (f"{group.path}/{index}", _declared(group, index))
            for group in groups
            for index in range(len(group.shapes))
        ]
    in_order = [matched[id(v)] for v in model.weights if id(v) in matched] + extra
    if len(in_order) == len(model.weights) and len(matched) < len(model.weights):
        return _saved_weights_by_path(file, model, skip)
    return [path for path, _ in in_order], [array for _, array in in_order]


def _saved_weights_by_path(
    file: KerasWeightsFile, model: keras.Model, skip: set[str]
) -> tuple[list[str], list[Any]] | None:
    """Pair by Keras' own group paths (attribute names, e.g. `hidden/vars`) of a probe save.

    For layers whose names differ between two instances (auto-named layers
    of a subclassed model). None when the probe cannot be paired either.
    """
    import h5py

    if not can_write(model):
        return None
    with h5py.File(io.BytesIO(weights_bytes(model)), "r") as handle:  # in memory: no disk to fill
        layout = _groups(handle, read=False)
    saved = {group.path: group for group in file.groups if group.top not in skip}
    owners: dict[str, list[Any]] = {}
    for variable in model.weights:
        owners.setdefault(variable.path.rsplit("/", 1)[0].rsplit("/", 1)[-1], []).append(variable)
    shapes: dict[int, Any] = {}
    for group in layout:
        if group.top in skip or not group.shapes:
            continue
        variables = owners.get(group.name, [])
        if len(variables) != len(group.shapes) or group.path not in saved:
            return None
        owners[group.name] = []  # a name used twice cannot be paired
        theirs = saved[group.path]
        if len(theirs.shapes) != len(variables):
            return None
        for index, variable in enumerate(variables):
            shapes[id(variable)] = _declared(theirs, index)
    if len(shapes) != len(model.weights):
        return None
    return [v.path for v in model.weights], [shapes[id(v)] for v in model.weights]


def saved_optimizer(file: KerasWeightsFile, attribute: str) -> tuple[list[str], list[Any]] | None:
    """The file's variables of the optimizer kept as `attribute` (shape-only), None if absent."""

    for group in file.groups:
        if group.path == f"{attribute}/vars":
            indices = range(len(group.shapes))
            return [f"{group.path}/{i}" for i in indices], [_declared(group, i) for i in indices]
    return None


def _declared(group: VarsGroup, index: int) -> ArrayFacts | Any:
    """What the file holds at `index` of `group`: its facts, or a shape-only array if not read."""
    import numpy as np

    if index < len(group.facts):
        return group.facts[index]
    return np.broadcast_to(np.False_, group.shapes[index])
