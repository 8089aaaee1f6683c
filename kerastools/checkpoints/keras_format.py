"""The checkpoint file as Keras' own `.weights.h5`, so plain `model.load_weights` reads it.

Keras' layout (`layers/<layer>/vars/<i>`, `optimizer/vars/<i>`, optimizers
kept as attributes under their name, e.g. `d_optimizer/vars`) plus one root
attribute, `kerastools` (JSON: model name, optimizer classes and configs,
build config), which Keras' loader ignores. `snapshot_weights` makes that
file from host copies, so the training thread only copies the variables.
"""

from __future__ import annotations

import io
import json
import logging
import re
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np

from kerastools.checkpoints.file_checks import (
    MAX_ELEMENTS,
    ArrayFacts,
    check_structure,
    numeric_facts,
)
from kerastools.checkpoints.files import DamagedFile, damaged_on, hdf5_bytes, weights_bytes
from kerastools.checkpoints.optimizers import compiled_config, trained_positions
from kerastools.device.cluster import tf_config, writing_alone
from kerastools.errors import CheckpointError
from kerastools.learning_rates import COMPILED_OPTIMIZER, model_optimizers

__all__ = [
    "HEADER", "KerasWeightsFile", "VarsGroup", "host_array", "mark_built", "read_keras_file",
    "saved_optimizer", "saved_optimizers", "saved_weights", "snapshot_weights",
    "write_snapshot",
]

HEADER = "kerastools"  # the root attribute kerastools adds; Keras ignores it
FORMAT = "kerastools-keras-weights"
FORMAT_VERSION = 2
_LOG = logging.getLogger(__name__)


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
    """What loading needs to know of a Keras weights file, read without assigning anything."""

    path: Path
    model_name: str = ""
    optimizer_classes: dict[str, str] = field(default_factory=dict)  # by attribute name
    optimizer_configs: dict[str, dict[str, Any]] = field(default_factory=dict)  # compiled with
    build_config: dict[str, Any] | None = None
    groups: list[VarsGroup] = field(default_factory=list)
    # Positions in model.trainable_variables each attribute optimizer updates.
    trains: dict[str, list[int] | None] = field(default_factory=dict)


def mark_built(model: keras.Model, target: Path) -> None:
    """Mark built a model whose layers are all built, as Keras' loading does; refuse others.

    A model trained by a custom `train_step` without `call()` (the GAN pattern)
    may never be marked built, and Keras saves only built models: CheckpointError
    when it has no weights or a layer is not built.
    """
    if getattr(model, "built", False):
        return
    if not model.weights or not all(layer.built for layer in model.layers):
        raise CheckpointError(
            f"Cannot write checkpoint {target}: model {model.name!r} is not built (Keras saves "
            "only built models). Call it on a batch, or build it, before training."
        )
    model.built = True


def saved_optimizers(model: keras.Model, include_optimizer: bool) -> dict[str, str]:
    """The class of each optimizer a file keeps, by attribute: the compiled one, and built ones.

    Examples:
        >>> saved_optimizers(model, True), saved_optimizers(model, False)
        ({'optimizer': 'RMSprop'}, {})
    """
    if not include_optimizer:
        return {}
    return {
        name: type(optimizer).__name__
        for name, optimizer in model_optimizers(model).items()
        if name == COMPILED_OPTIMIZER or optimizer.built  # one that trained nothing has no state
    }


def _header(model: keras.Model, optimizers: dict[str, str]) -> str:
    try:
        build_config = model.get_build_config()
        json.dumps(build_config, allow_nan=False)
    except (TypeError, ValueError, AttributeError, NotImplementedError):
        build_config = None
    kept = {name: o for name, o in model_optimizers(model).items() if name in optimizers}
    header = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "model": model.name,
        "optimizers": optimizers,
        # checkpoints.optimizers compares them at loading
        "optimizer_configs": {name: compiled_config(o) for name, o in kept.items()},
        "trains": {
            name: trained_positions(model, o)
            for name, o in kept.items()
            if name != COMPILED_OPTIMIZER
        },
        "build_config": build_config if isinstance(build_config, dict) else None,
        "keras_version": keras.__version__,
        "backend": keras.backend.backend(),
    }
    return json.dumps(header, allow_nan=False)


def _cannot_write(target: Path, error: Exception) -> CheckpointError:
    return CheckpointError(f"Cannot write checkpoint {target}: {error}")


def write_snapshot(model: keras.Model, target: Path, include_optimizer: bool) -> bytes:
    """The bytes of `model.save_weights` plus our header, made in memory on the training thread.

    Without `include_optimizer` the optimizer groups are deleted. CheckpointError
    (naming `target`) when Keras cannot save the model.
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
        raise _cannot_write(target, error) from error


def host_array(variable: Any) -> np.ndarray:
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


def _write_array(group: Any, name: str, array: np.ndarray) -> Any:
    """Write `array` as dataset `name` of the h5py `group`; return the dataset's low-level id."""
    import h5py

    array = np.asarray(array, order="C")  # not ascontiguousarray: it makes scalars 1-d
    if array.dtype.kind not in "biuf":  # other types: h5py's high-level path knows more
        return group.create_dataset(name, data=array).id
    # h5py's low-level API: half the cost of create_dataset (many small variables).
    space = h5py.h5s.create(h5py.h5s.SCALAR) if array.ndim == 0 else h5py.h5s.create_simple(array.shape)
    dataset = h5py.h5d.create(
        group.id, name.encode(), h5py.h5t.py_create(array.dtype, logical=True), space
    )
    if array.size:
        dataset.write(h5py.h5s.ALL, h5py.h5s.ALL, array)
    return dataset


# -- snapshots from host copies ------------------------------------------------------------


@dataclass(frozen=True)
class _Image:
    """A file h5py built, less its datasets' values: a later file of the same layout and
    header is these bytes with its values in place (no h5py: little Python, little GIL)."""

    header: str
    size: int
    kept: list[tuple[int, bytes]]  # (offset, bytes) around the values
    values: list[tuple[int, int, int]]  # (offset, variable position, bytes) of each value


@dataclass
class _Layout:
    """How to make a model's Keras weights file from its variables, learnt from one Keras save."""

    signature: tuple[Any, ...]
    groups: list[tuple[str, dict[str, Any]]]  # every group with its attributes, in file order
    datasets: list[tuple[str, str, int, dict[str, Any]]]  # group path, name, variable, attributes
    root_attributes: dict[str, Any]
    variables: list[Any]
    watched: list[Any]  # what the signature counted: holding them keeps their ids unique
    image: _Image | None = None  # the last file built, once its values were found in it


# By model: the layout of each `include_optimizer`, or None once the model
# saves through Keras' writer (its layout could not be reproduced).
_LAYOUTS: weakref.WeakKeyDictionary[Any, dict[bool, _Layout] | None] = weakref.WeakKeyDictionary()


def snapshot_weights(
    model: keras.Model, target: Path, include_optimizer: bool
) -> Callable[[], bytes | memoryview]:
    """Copy the variables to host memory now; return the function that makes the file's bytes.

    Call it on the training thread; the returned function, on any thread, builds
    the file `write_snapshot` would have made. The layout is learnt per model and
    `include_optimizer` (again when the saved variables change): the first save
    runs Keras' writer, rebuilds its file from host copies and compares the two;
    a model whose file cannot be rebuilt keeps Keras' writer, logged once. Under
    a `keras.distribution` or `TF_CONFIG` Keras' writer always saves (a variable
    may be split across processes). CheckpointError naming `target` when Keras
    cannot save, or (from the returned function) the bytes cannot be made.

    Examples:
        >>> build = snapshot_weights(model, tmp_path / "epoch-0001.weights.h5", True)
        >>> _ = (tmp_path / "epoch-0001.weights.h5").write_bytes(build())
        >>> read_keras_file(tmp_path / "epoch-0001.weights.h5").optimizer_classes
        {'optimizer': 'RMSprop'}
    """
    target = Path(target)
    layouts = _LAYOUTS.get(model, {})
    if layouts is None or keras.distribution.distribution() is not None or tf_config() is not None:
        data = write_snapshot(model, target, include_optimizer)
        return lambda: data
    optimizers = saved_optimizers(model, include_optimizer)
    # Ids of the variables saved: the layout holds them, so no new object takes an id.
    watched: list[Any] = list(model.variables)
    kept = model_optimizers(model)
    for name in optimizers:
        watched += [kept[name], *kept[name].variables]
    signature = (include_optimizer, tuple(optimizers.items()), tuple(map(id, watched)))
    layout = layouts.get(include_optimizer)
    if layout is None or layout.signature != signature:
        data = _learn_layout(model, target, include_optimizer, signature, watched)
        return lambda: data
    arrays = [host_array(variable) for variable in layout.variables]
    header = _header(model, optimizers)
    return lambda: _layout_bytes(layout, arrays, header, target)


def _learn_layout(
    model: keras.Model, target: Path, include_optimizer: bool, signature: tuple[Any, ...],
    watched: list[Any],
) -> bytes:
    """Keras' bytes; its layout kept for `model` when host copies reproduce them."""
    import h5py

    keras_bytes = write_snapshot(model, target, include_optimizer)
    with h5py.File(io.BytesIO(keras_bytes), "r") as handle:
        layout, difference = _read_layout(model, handle, signature, watched)
    if layout is not None:
        arrays = [host_array(variable) for variable in layout.variables]
        header = _header(model, saved_optimizers(model, include_optimizer))
        try:
            difference = _first_difference(keras_bytes, _layout_bytes(layout, arrays, header, target))
        except CheckpointError as error:
            difference = str(error)
    if layout is None or difference is not None:
        _LOG.warning(
            "Checkpoints of model %r are made by Keras' writer on the training thread from now "
            "on: its weights file cannot be made from host copies (%s).", model.name, difference,
        )
        _LAYOUTS[model] = None
    else:
        _LAYOUTS[model] = {**(_LAYOUTS.get(model) or {}), include_optimizer: layout}
    return keras_bytes


def _parent(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def _is_vars(path: str) -> bool:
    return path == "vars" or path.endswith("/vars")


def _read_layout(
    model: keras.Model, handle: Any, signature: tuple[Any, ...], watched: list[Any],
) -> tuple[_Layout | None, str | None]:
    """The layout of Keras' file `handle` of `model`, or None and the reason it cannot be kept."""
    import h5py

    groups: list[tuple[str, dict[str, Any]]] = []
    datasets: list[tuple[str, str, int, dict[str, Any]]] = []
    variables: list[Any] = []
    positions: dict[int, int] = {}

    def visit(path: str, item: Any) -> str | None:  # a problem stops the walk
        if isinstance(item, h5py.Dataset):  # those of a `vars` group were mapped with it
            return None if _is_vars(_parent(path)) else f"dataset {path} is not in a `vars` group"
        groups.append((path, dict(item.attrs)))
        if not _is_vars(path):
            return None
        sources = _variables_of(model, path, item)
        if isinstance(sources, str):
            return sources
        for name, variable in sources.items():
            position = positions.setdefault(id(variable), len(variables))
            if position == len(variables):
                variables.append(variable)
            datasets.append((path, name, position, dict(item[name].attrs)))
        return None

    problem = handle.visititems(visit)
    if problem is not None:
        return None, problem
    root_attributes = {k: v for k, v in handle.attrs.items() if k != HEADER}
    return _Layout(signature, groups, datasets, root_attributes, variables, watched), None


def _variables_of(model: keras.Model, path: str, group: Any) -> dict[str, Any] | str:
    """The variable behind each dataset of the `vars` group at `path`, or why there is none."""
    owner = _saveable_at(model, _parent(path))
    if owner is None:
        return f"no object of the model is at {path!r}"
    name = group.attrs.get("name")
    if name is not None and getattr(owner, "name", None) != name:
        return f"{path!r} names {name!r} and the object there is {getattr(owner, 'name', owner)!r}"
    store: dict[str, Any] = {}
    try:
        owner.save_own_variables(store)  # public: a dict receives what Keras' store would
    except Exception as error:  # noqa: BLE001 - one that needs Keras' own store: Keras saves it
        return f"{type(owner).__name__}.save_own_variables refuses a dict ({error!r})"
    if sorted(store) != sorted(group.keys()):
        return f"{path!r} holds {sorted(group.keys())}, save_own_variables gives {sorted(store)}"
    sources = {}
    for key, value in store.items():
        if isinstance(value, keras.Variable):
            sources[key] = value
        elif isinstance(owner, keras.optimizers.Optimizer) and key.isdigit() and int(key) < len(
            owner.variables
        ):  # an optimizer stores `variables[i].numpy()` under "i"
            sources[key] = owner.variables[int(key)]
        else:
            return (
                f"{path}/{key} is not a variable: {type(owner).__name__}.save_own_variables "
                f"stores a {type(value).__name__}"
            )
    return sources


def _saveable_at(model: keras.Model, path: str) -> Any:
    """The object Keras saved at `path`: attribute names, and container items named as Keras does."""
    current: Any = model
    for part in path.split("/") if path else []:
        if isinstance(current, list | tuple | dict):
            current = _container_item(current, part)
        else:
            try:
                current = getattr(current, part, None)
            except Exception:  # noqa: BLE001 - a property that fails; Keras' walk skips it too
                return None
        if current is None:
            return None
    return current if hasattr(current, "save_own_variables") else None


def _container_item(container: list[Any] | tuple[Any, ...] | dict[Any, Any], part: str) -> Any:
    """The item Keras names `part` in a container: its class in snake case, numbered."""
    used: dict[str, int] = {}
    for item in container.values() if isinstance(container, dict) else container:
        if isinstance(item, list | tuple | dict):
            base = "container"
        elif hasattr(item, "save_own_variables"):  # `BatchNormalization` -> `batch_normalization`
            base = re.sub(r"\W+", "", type(item).__name__)
            base = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", base)
            base = re.sub("([a-z])([A-Z])", r"\1_\2", base).lower()
        else:
            continue
        used[base] = used.get(base, -1) + 1
        if (base if used[base] == 0 else f"{base}_{used[base]}") == part:
            return item
    return None


def _layout_bytes(
    layout: _Layout, arrays: list[Any], header: str, target: Path
) -> bytes | memoryview:
    """The file of `layout` holding `arrays`, built in memory (never an HDF5 file on disk):
    the last one h5py built with these values in place, or a new build when the header or
    a value's size changed."""
    image = layout.image
    if image is not None and image.header == header and all(
        np.asarray(arrays[position]).nbytes == size for _, position, size in image.values
    ):
        return _patched(image, arrays)
    values: list[tuple[int, int, int]] = []  # (offset, variable position, bytes) of each value

    def fill(handle: Any) -> None:
        opened = {"": handle}
        for path, attributes in layout.groups:
            opened[path] = handle.create_group(path)
            opened[path].attrs.update(attributes)
        handle.attrs.update(layout.root_attributes)
        handle.attrs[HEADER] = header
        for path, name, position, attributes in layout.datasets:
            dataset = _write_array(opened[path], name, arrays[position])
            opened[path][name].attrs.update(attributes)
            if dataset.get_storage_size():
                values.append((dataset.get_offset(), position, dataset.get_storage_size()))

    try:
        data = hdf5_bytes(fill)
    except (OSError, TypeError, ValueError) as error:
        raise _cannot_write(target, error) from error
    layout.image = _image_of(data, values, arrays, header)
    return data


def _image_of(data: bytes, values: list[Any], arrays: list[Any], header: str) -> _Image | None:
    """`data` less its values, if putting `arrays` back where HDF5 stored them gives `data`."""
    kept, end = [], 0
    for offset, position, size in sorted(values):
        if offset is None or offset < end or np.asarray(arrays[position]).nbytes != size:
            return None  # not stored whole and in place (chunked, compact, converted)
        kept.append((end, bytes(data[end:offset])))
        end = offset + size
    image = _Image(header, len(data), [*kept, (end, bytes(data[end:]))], values)
    return image if _patched(image, arrays) == data else None


def _patched(image: _Image, arrays: list[Any]) -> memoryview:
    data = np.empty(image.size, np.uint8)
    for offset, part in image.kept:
        data[offset : offset + len(part)] = np.frombuffer(part, np.uint8)
    for offset, position, size in image.values:
        data[offset : offset + size] = np.asarray(arrays[position]).reshape(-1).view(np.uint8)
    return data.data


def _first_difference(expected: bytes, made: bytes | memoryview) -> str | None:
    """The first difference between two HDF5 files' contents (not their bytes), None if none."""
    import h5py

    def contents(data: bytes | memoryview) -> dict[tuple[str, str], Any]:
        """Every object's facts, by its path and "attributes", "dtype", "shape" or "value"."""
        found: dict[tuple[str, str], Any] = {}

        def visit(path: str, item: Any) -> None:
            found[path, "attributes"] = repr(sorted((k, repr(v)) for k, v in item.attrs.items()))
            found[path, "dtype"] = str(item.dtype) if isinstance(item, h5py.Dataset) else "group"
            if isinstance(item, h5py.Dataset):
                found[path, "shape"] = item.shape
                found[path, "value"] = np.asarray(item[()]).tobytes()

        with h5py.File(io.BytesIO(data), "r") as handle:
            visit("", handle)
            handle.visititems(visit)
        return found

    theirs, ours = contents(expected), contents(made)
    for key in sorted(theirs.keys() | ours.keys()):  # by path, then its facts in the order above
        where, name = key[0] or "the root", key[1]
        if key not in ours:
            return f"{where} is missing"
        if key not in theirs:
            return f"{where} is not in Keras' file"
        if theirs[key] != ours[key]:
            if name == "value":
                return f"the values of {where} differ"
            return f"{name} of {where}: Keras {theirs[key]}, host copy {ours[key]}"
    return None


# -- reading ---------------------------------------------------------------------------------


def _groups(handle: Any, read: bool = True, source: object = "") -> list[VarsGroup]:
    """Every `vars` group, in file order, reading each dataset (a broken one raises)."""
    groups: list[VarsGroup] = []

    def visit(name: str, item: Any) -> None:
        if not _is_vars(name) or not hasattr(item, "keys"):
            return
        keys = sorted(item.keys(), key=lambda key: int(key) if key.isdigit() else -1)
        shapes = [tuple(int(n) for n in item[key].shape) for key in keys]
        facts = [  # each dataset read: a truncated or damaged file fails here
            numeric_facts(item[key][()], f"{source}, dataset {name}/{key}") for key in keys if read
        ]
        groups.append(VarsGroup(name, str(item.attrs.get("name", "")), shapes, facts))

    handle.visititems(visit)
    return groups


def read_keras_file(
    path: Path, *, data: bytes | None = None, max_elements: int = MAX_ELEMENTS
) -> KerasWeightsFile:
    """Read a Keras weights file's structure (from `data`, its bytes, when given); assign nothing.

    Its structure passes `file_checks.check_structure` first (CheckpointError);
    then every dataset is read once, its `ArrayFacts` kept. DamagedFile when it
    is not HDF5 or its structure is broken.
    """
    import h5py

    broken = (OSError, KeyError, ValueError, TypeError, RuntimeError)
    with damaged_on(broken), h5py.File(path if data is None else io.BytesIO(data), "r") as handle:
        check_structure(handle, path, max_elements=max_elements)
        plain = HEADER not in handle.attrs  # written by plain `model.save_weights`
        header = {} if plain else json.loads(handle.attrs[HEADER])
        if not isinstance(header, dict):
            raise DamagedFile(f"its {HEADER!r} attribute is not a JSON object")
        groups = _groups(handle, source=path)
    if not groups:
        raise DamagedFile("it holds no Keras variables (no `vars` group)")
    optimizers = header.get("optimizers")
    if plain:  # its compiled optimizer, of a class the file does not say
        optimizers = {g.top: "" for g in groups if g.path == f"{COMPILED_OPTIMIZER}/vars"}
    configs = header.get("optimizer_configs")
    build_config, trains = header.get("build_config"), header.get("trains")
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


def saved_weights(file: KerasWeightsFile, model: keras.Model) -> tuple[list[str], list[Any]] | None:
    """The file's model variables (paths, shape-only arrays) in `model.weights` order.

    Layers are paired by name (a `vars` group's `name` and the owner in a
    variable's path), so another width or depth is refused naming the variable
    before Keras assigns anything. None when names differ and counts agree.

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
        declared = _declared(groups.pop(0))
        matched.update((id(v), (v.path, a)) for v, a in zip(variables, declared, strict=False))
        extra += [(f"{owner}/{i}", a) for i, a in enumerate(declared) if i >= len(variables)]
    extra += [
        (f"{group.path}/{index}", array)
        for groups in by_name.values()
        for group in groups
        for index, array in enumerate(_declared(group))
    ]
    in_order = [matched[id(v)] for v in model.weights if id(v) in matched] + extra
    if len(in_order) == len(model.weights) and len(matched) < len(model.weights):
        return _saved_weights_by_path(file, model, skip)
    return [path for path, _ in in_order], [array for _, array in in_order]


def _saved_weights_by_path(
    file: KerasWeightsFile, model: keras.Model, skip: set[str]
) -> tuple[list[str], list[Any]] | None:
    """Pair by Keras' own group paths (`hidden/vars`) of a probe save; None if that fails too.

    For layers whose names differ between two instances (auto-named layers
    of a subclassed model).
    """
    import h5py

    if not getattr(model, "built", False):
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
        variables = owners.pop(group.name, [])  # a name used twice cannot be paired
        theirs = saved.get(group.path)
        if theirs is None or not len(variables) == len(group.shapes) == len(theirs.shapes):
            return None
        shapes.update(zip(map(id, variables), _declared(theirs), strict=True))
    if len(shapes) != len(model.weights):
        return None
    return [v.path for v in model.weights], [shapes[id(v)] for v in model.weights]


def saved_optimizer(file: KerasWeightsFile, attribute: str) -> tuple[list[str], list[Any]] | None:
    """The file's variables of the optimizer kept as `attribute` (shape-only), None if absent."""
    for group in file.groups:
        if group.path == f"{attribute}/vars":
            return [f"{group.path}/{i}" for i in range(len(group.shapes))], _declared(group)
    return None


def _declared(group: VarsGroup) -> list[ArrayFacts | Any]:
    """What the file holds in `group`, by index: its facts, or shape-only arrays where not read."""
    unread = group.shapes[len(group.facts) :]
    return [*group.facts, *(np.broadcast_to(np.False_, shape) for shape in unread)]
