"""What `kerastools.device.distribute` is asked for, and the `keras.distribution` object it builds.

`validate` checks the arguments (the device mesh, the layout map, the
processes) without importing a backend, reading the processes from the
environment where the arguments leave them out; `build` turns a checked
request into Keras' own `DataParallel` or `ModelParallel`; `describe` says
in one line what a distribution spreads over (for `kt.device.summary()`).
Only Keras' public `keras.distribution` API is used; Keras implements it on
JAX only (keras 3.15.1).

The environment variables are Keras' own (`keras.distribution.initialize`
reads the same ones), plus JAX's name for the coordinator:

- `KERAS_DISTRIBUTION_JOB_ADDRESSES`: the coordinator's `host:port` (or
  every process's, comma-separated; the first is the coordinator), else
  `JAX_COORDINATOR_ADDRESS`;
- `KERAS_DISTRIBUTION_NUM_PROCESSES`: how many processes take part;
- `KERAS_DISTRIBUTION_PROCESS_ID`: this process's index, 0 the coordinator.

Examples:
    >>> from kerastools.device import mesh
    >>> mesh.validate(mesh_shape=(2, 2)).axis_names
    ('batch', 'model')
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import keras

from kerastools._validation import check_bool, check_int, check_name, check_shape
from kerastools.errors import ConfigError, ConfigTypeError

__all__ = [
    "ADDRESS_VARIABLES",
    "NUM_PROCESSES_VARIABLE",
    "PROCESS_ID_VARIABLE",
    "DistributionRequest",
    "Processes",
    "build",
    "describe",
    "validate",
]

ADDRESS_VARIABLES = ("KERAS_DISTRIBUTION_JOB_ADDRESSES", "JAX_COORDINATOR_ADDRESS")
NUM_PROCESSES_VARIABLE = "KERAS_DISTRIBUTION_NUM_PROCESSES"
PROCESS_ID_VARIABLE = "KERAS_DISTRIBUTION_PROCESS_ID"
_DEFAULT_AXES = {1: ("batch",), 2: ("batch", "model")}


@dataclass(frozen=True)
class Processes:
    """The processes of one training job: where they meet, how many, which one this is.

    Examples:
        >>> Processes("127.0.0.1:1234", 2, 1).multi
        True
        >>> Processes().multi
        False

    Args:
        address: the coordinator's `host:port`, or every process's,
            comma-separated (the first is the coordinator). None for one process.
        count: the number of processes. Defaults to 1.
        index: this process's index, 0 the coordinator. Defaults to 0.
    """

    address: str | None = None
    count: int = 1
    index: int = 0

    @property
    def multi(self) -> bool:
        """Whether several processes take part."""
        return self.count > 1


@dataclass(frozen=True)
class DistributionRequest:
    """A checked `distribute(...)` call (see `validate`).

    Examples:
        >>> validate().default
        True

    Args:
        mesh_shape: the device mesh's shape; None for all devices on one axis.
        axis_names: one name per mesh axis, the first the batch axis.
        layout_map: variable-path pattern -> the mesh axis of each dimension.
        auto_shard_dataset: Keras' `auto_shard_dataset`.
        processes: the processes taking part.
    """

    mesh_shape: tuple[int, ...] | None = None
    axis_names: tuple[str, ...] | None = None
    layout_map: dict[str, tuple[str | None, ...]] | None = None
    auto_shard_dataset: bool = True
    processes: Processes = field(default_factory=Processes)

    @property
    def default(self) -> bool:
        """Whether nothing but the defaults was asked for (all a TensorFlow strategy takes)."""
        return self == DistributionRequest()

    def arguments(self) -> str:
        """The arguments that differ from the defaults, as `name=value, ...`."""
        given = {
            "mesh_shape": self.mesh_shape,
            "axis_names": self.axis_names,
            "layout_map": self.layout_map,
            "coordinator_address": self.processes.address,
            "num_processes": self.processes.count if self.processes.multi else None,
            "process_id": self.processes.index or None,
            "auto_shard_dataset": None if self.auto_shard_dataset else False,
        }
        return ", ".join(f"{name}={value!r}" for name, value in given.items() if value is not None)


def validate(
    mesh_shape: Sequence[int] | None = None,
    axis_names: Sequence[str] | None = None,
    layout_map: Mapping[str, Sequence[str | None]] | None = None,
    *,
    coordinator_address: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
    auto_shard_dataset: bool = True,
) -> DistributionRequest:
    """Check `distribute`'s arguments; the processes come from the environment where not given.

    Examples:
        >>> validate(mesh_shape=(4,)).axis_names
        ('batch',)
        >>> validate(num_processes=2, process_id=1, coordinator_address="10.0.0.1:1234").processes
        Processes(address='10.0.0.1:1234', count=2, index=1)

    Raises:
        ConfigError: a mesh axis that is not positive, axis names that do not
            match the mesh, a layout naming an unknown axis, a layout map
            without a mesh, a malformed address, or processes given in part.
        ConfigTypeError: an argument of the wrong type.
    """
    auto_shard_dataset = check_bool("auto_shard_dataset", auto_shard_dataset)
    processes = _processes(coordinator_address, num_processes, process_id)
    if mesh_shape is None:
        if axis_names is not None or layout_map is not None:
            name = "axis_names" if axis_names is not None else "layout_map"
            raise ConfigError(
                f"Argument `{name}` needs a device mesh: pass mesh_shape too, e.g. "
                f"mesh_shape=(2, 2), axis_names=('batch', 'model'). "
                f"Received: {name}={axis_names if axis_names is not None else layout_map!r}"
            )
        return DistributionRequest(auto_shard_dataset=auto_shard_dataset, processes=processes)
    shape = check_shape("mesh_shape", mesh_shape)
    names = _axis_names(shape, axis_names)
    layouts = _layouts(layout_map, names) if layout_map is not None else None
    return DistributionRequest(shape, names, layouts, auto_shard_dataset, processes)


def _axis_names(shape: tuple[int, ...], axis_names: Sequence[str] | None) -> tuple[str, ...]:
    if axis_names is None:
        if len(shape) not in _DEFAULT_AXES:
            raise ConfigError(
                f"Argument `axis_names` is needed for a mesh of {len(shape)} axes (the defaults "
                f"name one or two: 'batch', 'model'). Received: mesh_shape={shape}"
            )
        return _DEFAULT_AXES[len(shape)]
    if isinstance(axis_names, str) or not isinstance(axis_names, Sequence):
        raise ConfigTypeError(
            f"Argument `axis_names` must be a tuple of strings, one per mesh axis. "
            f"Received: axis_names={axis_names!r}"
        )
    names = tuple(str(check_name("axis_names", name, allow_none=False)) for name in axis_names)
    if len(names) != len(shape) or len(set(names)) != len(names):
        raise ConfigError(
            f"Argument `axis_names` must give {len(shape)} different names, one per axis of "
            f"mesh_shape={shape}. Received: axis_names={axis_names!r}"
        )
    return names


def _layouts(
    layout_map: Mapping[str, Sequence[str | None]], names: tuple[str, ...]
) -> dict[str, tuple[str | None, ...]]:
    if not isinstance(layout_map, Mapping):
        raise ConfigTypeError(
            "Argument `layout_map` must be a dict of variable-path pattern -> axes, e.g. "
            f"{{'dense.*kernel': (None, 'model')}}. Received: layout_map={layout_map!r}"
        )
    layouts = {}
    for pattern, axes in layout_map.items():
        if (
            not isinstance(pattern, str)
            or isinstance(axes, str)
            or not isinstance(axes, Sequence)
            or any(axis is not None and axis not in names for axis in axes)
        ):
            raise ConfigError(
                "Argument `layout_map` must map variable-path patterns (strings) to tuples of "
                f"mesh axis names {list(names)} or None, one per dimension of the variable. "
                f"Received: layout_map={dict(layout_map)!r}"
            )
        layouts[pattern] = tuple(axes)
    return layouts


def _processes(address: str | None, count: int | None, index: int | None) -> Processes:
    """The processes from the arguments, else from the environment; all three or none."""
    if address is None:
        address = next((os.environ[v] for v in ADDRESS_VARIABLES if os.environ.get(v)), None)
    if address is not None:
        address = _check_address(address)
    count = _number("num_processes", count, NUM_PROCESSES_VARIABLE, low=1)
    index = _number("process_id", index, PROCESS_ID_VARIABLE, low=0)
    if count is None or count == 1:
        if index not in (None, 0):
            raise ConfigError(
                f"Argument `process_id` must be below num_processes. "
                f"Received: process_id={index}, num_processes={count or 1}"
            )
        return Processes(address, 1, 0)
    if address is None or index is None:
        missing = "coordinator_address" if address is None else "process_id"
        raise ConfigError(
            f"Argument `{missing}` is needed for {count} processes: give coordinator_address, "
            f"num_processes and process_id, or set {ADDRESS_VARIABLES[0]}, "
            f"{NUM_PROCESSES_VARIABLE} and {PROCESS_ID_VARIABLE}. "
            f"Received: coordinator_address={address!r}, num_processes={count}, process_id={index}"
        )
    jobs = address.split(",")
    if index >= count or (len(jobs) > 1 and len(jobs) != count):
        raise ConfigError(
            f"Argument `process_id` must be below num_processes, and the addresses one per "
            f"process when several are given. Received: coordinator_address={address!r}, "
            f"num_processes={count}, process_id={index}"
        )
    return Processes(address, count, index)


def _check_address(address: Any) -> str:
    if not isinstance(address, str):
        raise ConfigTypeError(
            f"Argument `coordinator_address` must be a 'host:port' string. "
            f"Received: coordinator_address={address!r}"
        )
    for job in address.split(","):
        host, _, port = job.strip().rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(
                "Argument `coordinator_address` must be 'host:port' (or several, comma-separated; "
                f"the first is the coordinator). Received: coordinator_address={address!r}"
            )
    return ",".join(job.strip() for job in address.split(","))


def _number(name: str, value: Any, variable: str, *, low: int) -> int | None:
    if value is not None:
        return check_int(name, value, low=low)
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < low:
        raise ConfigError(
            f"Environment variable {variable} must be an integer >= {low} (it gives `{name}`). "
            f"Received: {variable}={raw!r}"
        )
    return int(raw)


def build(request: DistributionRequest) -> Any:
    """Keras' `DataParallel` or `ModelParallel` for a checked request, over every device of the job.

    No mesh: `DataParallel` over all devices. A one-axis mesh without a
    layout map: `DataParallel` on that mesh. Otherwise `ModelParallel`, the
    data split along the first axis, each variable matching a layout-map
    pattern split as it says, the others copied to every device.

    Examples:
        >>> build(validate()).batch_dim_name   # doctest: +SKIP
        'batch'

    Raises:
        ConfigError: a mesh whose size is not the number of devices.
    """
    shard = request.auto_shard_dataset
    if request.mesh_shape is None:
        return keras.distribution.DataParallel(auto_shard_dataset=shard)
    devices = keras.distribution.list_devices()
    if math.prod(request.mesh_shape) != len(devices):
        raise ConfigError(
            f"Argument `mesh_shape` must hold every device of the job: {len(devices)} devices "
            f"({', '.join(map(str, devices[:8]))}{', ...' if len(devices) > 8 else ''}) but "
            f"{math.prod(request.mesh_shape)} places. Received: mesh_shape={request.mesh_shape}"
        )
    mesh = keras.distribution.DeviceMesh(request.mesh_shape, list(request.axis_names or ()), devices)
    if len(request.mesh_shape) == 1 and not request.layout_map:
        return keras.distribution.DataParallel(device_mesh=mesh, auto_shard_dataset=shard)
    layout_map = keras.distribution.LayoutMap(mesh)
    for pattern, axes in (request.layout_map or {}).items():
        layout_map[pattern] = axes
    return keras.distribution.ModelParallel(
        layout_map=layout_map, batch_dim_name=mesh.axis_names[0], auto_shard_dataset=shard
    )


def describe(distribution: Any) -> str | None:
    """One line on what `distribution` (a `keras.distribution.Distribution`) spreads over; None for None.

    Examples:
        >>> describe(None) is None
        True
        >>> describe(keras.distribution.DataParallel())   # doctest: +SKIP
        'DataParallel, mesh batch=2 (2 devices), data split along batch'
    """
    if distribution is None:
        return None
    mesh = distribution.device_mesh
    axes = " x ".join(f"{name}={size}" for name, size in zip(mesh.axis_names, mesh.shape, strict=True))
    return (
        f"{type(distribution).__name__}, mesh {axes} ({mesh.devices.size} devices), "
        f"data split along {distribution.batch_dim_name}"
    )

