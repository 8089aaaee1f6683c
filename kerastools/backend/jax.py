"""The JAX side of `kerastools.device`.

JAX reads its device settings when it starts its backend (at its first
operation, or when anything lists its devices): GPU selection, memory
preallocation and cap, the number of CPU devices. Before that they are
config flags and environment variables; after it they are fixed.

Implements the backend interface described in `kerastools.backend.tensorflow`:
`NAME`, `DISPLAY_NAME`, `CHANGEABLE_LATER`, `TF_DISTRIBUTE`, `initialized()`,
`plan(request)`, `summary()`, `available(kind)`, `process_index()`,
`distribute(request)`, `value_and_gradient(function, at)`.

Examples:
    >>> from kerastools.backend import jax
    >>> jax.CHANGEABLE_LATER
    ('jit', 'mixed_precision')
"""

from __future__ import annotations

import contextlib
import functools
import importlib.metadata
import logging
import os
import re
from collections.abc import Callable
from typing import Any

from kerastools.device import mesh, nvidia
from kerastools.device.report import (
    DeviceInfo,
    DeviceSummary,
    cpu_details,
    dtype_policy,
    no_gpu_notes,
    package_version,
)
from kerastools.device.request import (
    Plan,
    Request,
    Step,
    check_supported,
    missing_gpu_error,
    needs_gpu_error,
    policy_step,
)
from kerastools.errors import ConfigError, DeviceError

__all__ = [
    "CHANGEABLE_LATER",
    "DISPLAY_NAME",
    "NAME",
    "TF_DISTRIBUTE",
    "UNSUPPORTED",
    "available",
    "distribute",
    "initialized",
    "plan",
    "process_index",
    "summary",
    "value_and_gradient",
]

logger = logging.getLogger(__name__)

NAME = "jax"
DISPLAY_NAME = "JAX"
CHANGEABLE_LATER = ("jit", "mixed_precision")
TF_DISTRIBUTE = False

_NO_THREADS = (
    "XLA sizes its CPU thread pools itself; limit the cores the "
    "process may use instead (e.g. `taskset -c 0-3 python train.py`)"
)
# What jax cannot do, and what to do instead.
UNSUPPORTED = {
    "intra_op_threads": _NO_THREADS,
    "inter_op_threads": _NO_THREADS,
    "soft_placement": "jax runs each computation where its inputs live and never "
    "falls back to another device",
    "log_placement": "jax has no device-placement log",
    "jit": "Keras always compiles on jax; to run a model eagerly pass "
    "`jit_compile=False` to `model.compile`",
}


def initialized() -> bool:
    """Whether jax has started its backends (after which its device settings are fixed).

    jax has no public "initialised?" call, but `jax_num_cpu_devices` refuses
    a new value with a RuntimeError once the backends exist: move it and put
    it back. Before they start both updates succeed and nothing changes;
    after, the first raises and changes nothing. Checked on jax 0.10.2;
    `tests/device/test_jax.py` fails if this stops telling the two apart.

    Examples:
        >>> from kerastools.backend import jax
        >>> jax.initialized()   # doctest: +SKIP
        False
    """
    import jax

    current = jax.config.values["jax_num_cpu_devices"]
    try:
        jax.config.update("jax_num_cpu_devices", 2 if current == 1 else 1)
    except RuntimeError:
        return True
    jax.config.update("jax_num_cpu_devices", current)
    return False


def _has_cuda() -> bool:
    names = {
        (dist.metadata["Name"] or "").lower().replace("_", "-")
        for dist in importlib.metadata.distributions()
    }
    return any(re.fullmatch(r"jax-cuda\d+-(plugin|pjrt)", name) for name in names)


def _flag(name: str) -> Any:
    """A jax config value, e.g. "jax_platforms"; None for a flag this jax does not have."""
    import jax

    return jax.config.values.get(name)


def _update(flag: str, value: Any) -> Callable[[], None]:
    import jax

    return functools.partial(jax.config.update, flag, value)


def plan(request: Request) -> Plan:
    """The steps that apply `request` on jax.

    Examples:
        >>> from kerastools.backend import jax
        >>> from kerastools.device import request
        >>> jax.plan(request.validate({})).steps   # doctest: +SKIP
        []

    Raises:
        DeviceError: a setting jax cannot apply, a GPU that is not there, or a
            GPU setting without a GPU.
    """
    check_supported(
        NAME, UNSUPPORTED, request, harmless={"jit": True},
        also=("jit=True (a no-op: Keras compiles with XLA on jax)",),
    )
    started = initialized()
    note = ""
    if started:
        gpu_names = [str(d) for d in _devices("gpu")]
    elif _has_cuda():
        gpu_names = [gpu.model for gpu in nvidia.driver_gpus()]
    else:
        gpu_names = []
        if nvidia.driver_gpus():
            note = " jax is installed without CUDA support; GPUs need `pip install jax[cuda12]`."
    selected, steps = _gpu_selection(request, gpu_names, started, note)
    for name in ("memory_growth", "memory_limit_mb"):
        if getattr(request, name) is not None and not selected:
            raise needs_gpu_error(NAME, name, getattr(request, name), note)
    steps += _memory_steps(request)
    count = request.logical_cpus
    if count is not None and _flag("jax_num_cpu_devices") not in (count, -1 if count == 1 else None):
        steps.append(Step("logical_cpus", True, _update("jax_num_cpu_devices", count)))
    if request.jit:
        logger.debug("jit=True on jax: Keras already compiles with XLA")
    steps += policy_step(request)
    return Plan(steps, started, bool(selected))


def _gpu_selection(
    request: Request, gpu_names: list[str], started: bool, note: str
) -> tuple[list[str], list[Step]]:
    """The GPUs `request` selects, and the flag updates that select them."""
    if request.gpus == "none":
        if _flag("jax_platforms") == "cpu":
            return [], []
        return [], [Step("gpus", True, _update("jax_platforms", "cpu"))]
    if isinstance(request.gpus, tuple):
        indices = request.gpus
        if max(indices) >= len(gpu_names):
            raise missing_gpu_error(NAME, indices, gpu_names, note)
        ids = ",".join(map(str, indices))
        steps = []
        if _flag("jax_cuda_visible_devices") != ids:
            steps.append(Step("gpus", True, _update("jax_cuda_visible_devices", ids)))
        return [gpu_names[i] for i in indices], steps
    # Once jax has started, the default leaves the selection as it is.
    if not started and _flag("jax_cuda_visible_devices") not in (None, "all"):
        return gpu_names, [Step("gpus", True, _update("jax_cuda_visible_devices", "all"))]
    return gpu_names, []


def _memory_steps(request: Request) -> list[Step]:
    """Memory growth and cap: environment variables jax reads when it starts."""
    environment: dict[str, tuple[str, str]] = {}  # variable -> (argument, value)
    if request.memory_growth is not None:
        preallocate = "false" if request.memory_growth else "true"
        environment["XLA_PYTHON_CLIENT_PREALLOCATE"] = ("memory_growth", preallocate)
    if request.memory_limit_mb is not None:
        environment["XLA_PYTHON_CLIENT_MEM_FRACTION"] = (
            "memory_limit_mb",
            _memory_fraction(request.memory_limit_mb),
        )
    return [
        Step(argument, True, functools.partial(os.environ.__setitem__, variable, value))
        for variable, (argument, value) in environment.items()
        if os.environ.get(variable) != value
    ]


def _memory_fraction(limit_mb: int) -> str:
    """jax caps GPU memory by a fraction of the card: turn MiB into one."""
    totals = nvidia.total_memory_mb()
    if not totals:
        raise DeviceError(
            "Argument `memory_limit_mb` needs each GPU's total memory to set jax's "
            "XLA_PYTHON_CLIENT_MEM_FRACTION, and nvidia-smi could not report it. Set "
            "XLA_PYTHON_CLIENT_MEM_FRACTION yourself before starting Python. "
            f"Received: memory_limit_mb={limit_mb}"
        )
    largest = max(totals)
    if limit_mb > largest:
        raise ConfigError(
            f"Argument `memory_limit_mb` is more than the GPU has ({largest:.0f} MiB). "
            f"Received: memory_limit_mb={limit_mb}"
        )
    # One fraction for every GPU, taken of the largest, so that no GPU gets more than the cap.
    return f"{limit_mb / largest:.4f}"


def _devices(platform: str | None = None) -> list[Any]:
    import jax

    try:
        return list(jax.devices(platform))
    except RuntimeError:  # "Unknown backend gpu": none of that kind
        return []


def summary() -> DeviceSummary:
    """The device summary on jax; lists GPUs from the NVIDIA driver until jax starts.

    Examples:
        >>> from kerastools.backend import jax
        >>> jax.summary().backend   # doctest: +SKIP
        'jax'
    """
    import jax
    import keras

    created = initialized()
    physical, logical, notes = _started_devices() if created else _planned_devices()
    several = jax.distributed.is_initialized()
    notes += no_gpu_notes(physical)
    for key in ("XLA_PYTHON_CLIENT_PREALLOCATE", "XLA_PYTHON_CLIENT_MEM_FRACTION"):
        if key in os.environ:
            notes.append(f"{key}={os.environ[key]}")
    return DeviceSummary(
        backend=NAME,
        backend_version=package_version("jax"),
        physical_devices=tuple(physical),
        logical_devices=tuple(logical),
        logical_devices_created=created,
        intra_op_threads=None,
        inter_op_threads=None,
        dtype_policy=dtype_policy(),
        jit="always (Keras compiles with XLA)",
        notes=tuple(notes),
        process_index=jax.process_index() if several else 0,
        process_count=jax.process_count() if several else 1,
        distribution=mesh.describe(keras.distribution.distribution()),
    )


def _started_devices() -> tuple[list[DeviceInfo], list[DeviceInfo], list[str]]:
    devices = _devices()
    if devices and devices[0].platform != "cpu":
        devices += _devices("cpu")
    # jax has no physical/logical split: its CPU devices (jax_num_cpu_devices)
    # share one processor, each accelerator is one device.
    physical = [DeviceInfo("CPU", "cpu", details=cpu_details())]
    logical = []
    for device in devices:
        platform = device.platform
        kind = "CPU" if platform == "cpu" else "GPU" if platform in ("gpu", "cuda", "rocm") else platform.upper()
        limit = None
        with contextlib.suppress(Exception):  # memory_stats is not implemented on every platform
            stats = device.memory_stats() or {}
            if "bytes_limit" in stats:
                limit = stats["bytes_limit"] / 2**20
        name = f"{kind.lower()}:{device.id}"
        if kind != "CPU":
            physical.append(DeviceInfo(kind, name, details=device.device_kind))
        logical.append(DeviceInfo(kind, name, memory_limit_mb=limit))
    return physical, logical, []


def _planned_devices() -> tuple[list[DeviceInfo], list[DeviceInfo], list[str]]:
    gpu_visible = _flag("jax_platforms") != "cpu"
    physical = [DeviceInfo("CPU", "cpu", details=cpu_details())]
    physical += [
        DeviceInfo("GPU", f"gpu:{gpu.ordinal}", visible=gpu_visible, details=gpu.model)
        for gpu in nvidia.driver_gpus()
    ]
    cpus = _flag("jax_num_cpu_devices")
    cpu_count = cpus if isinstance(cpus, int) and cpus > 0 else 1
    logical = [DeviceInfo("CPU", f"cpu:{i}") for i in range(cpu_count)]
    notes = [
        "jax has not started its backend yet: configure(...) can still change every "
        "setting it supports. Devices are listed from the NVIDIA driver until then."
    ]
    if nvidia.driver_gpus() and not _has_cuda():
        notes.append("jax is installed without CUDA support: it will run on the CPU.")
    return physical, logical, notes


def available(kind: str) -> list[str]:
    """Names of jax's devices of `kind` ("cpu", "gpu", "tpu"), e.g. "cpu:0"; lists start jax.

    Examples:
        >>> from kerastools.backend import jax
        >>> jax.available("cpu")   # doctest: +SKIP
        ['cpu:0']
    """
    return [f"{kind}:{d.id}" for d in _devices(kind)]


def process_index() -> int:
    """This process's index among the processes of a `jax.distributed` run.

    Examples:
        >>> from kerastools.backend import jax
        >>> jax.process_index()   # doctest: +SKIP
        0
    """
    import jax

    # Asking jax starts its backend, which would keep `distribute` from setting up processes:
    # before it starts, and without jax.distributed, there is one process.
    if not jax.distributed.is_initialized() and not initialized():
        return 0
    return int(jax.process_index())


def distribute(request: mesh.DistributionRequest) -> Any:
    """Start `jax.distributed` when several processes take part, then build the distribution.

    Examples:
        >>> from kerastools.backend import jax
        >>> from kerastools.device import mesh
        >>> type(jax.distribute(mesh.validate())).__name__   # doctest: +SKIP
        'DataParallel'

    Raises:
        DeviceError: several processes asked for after jax started, or a
            different job than the one jax.distributed already runs.
    """
    import jax
    import keras

    processes = request.processes
    if processes.multi and jax.distributed.is_initialized():
        if (jax.process_count(), jax.process_index()) != (processes.count, processes.index):
            raise DeviceError(
                f"jax.distributed already runs process {jax.process_index()} of "
                f"{jax.process_count()}; it cannot join another job in this process. "
                f"Received: num_processes={processes.count}, process_id={processes.index}"
            )
    elif processes.multi:
        advice = (
            "call kerastools.device.distribute(...) first thing, before building a model or "
            "running any JAX operation (kt.device.configure and kt.device.summary are safe before it)"
        )
        if initialized():
            raise DeviceError(
                "jax has already started its backend, so it cannot join a job of several "
                f"processes any more: {advice}. Received: {request.arguments()}"
            )
        try:
            keras.distribution.initialize(processes.address, processes.count, processes.index)
        except (RuntimeError, ValueError) as error:
            raise DeviceError(
                f"jax could not start the job of {processes.count} processes ({error}); "
                f"{advice}. Received: {request.arguments()}"
            ) from error
    return mesh.build(request)


def value_and_gradient(function: Any, at: Any) -> tuple[Any, Any]:
    """`function(at)`'s auxiliary output and the gradient of the sum of its scores, with `jax.value_and_grad`.

    As `kerastools.backend.tensorflow.value_and_gradient`; NumPy in, NumPy out.

    Examples:
        >>> from kerastools.backend import jax
        >>> aux, grad = jax.value_and_gradient(lambda t: (t * t * t, ()), np.ones(2, "float32"))
        >>> grad.tolist()
        [3.0, 3.0]
    """
    import jax
    import jax.numpy as jnp
    import numpy as np

    def total(point: Any) -> tuple[Any, Any]:
        scores, aux = function(point)
        return jnp.sum(scores), aux

    (_, aux), gradient = jax.value_and_grad(total, has_aux=True)(jnp.asarray(at))
    return jax.tree_util.tree_map(np.asarray, aux), np.asarray(gradient)
