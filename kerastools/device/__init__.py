"""Device configuration, a readable device summary, placement and distribution.

TensorFlow fixes its device setup (visible GPUs, memory growth, memory caps,
logical CPUs, thread pools) the first time it runs anything; a setter called
later fails with a bare `RuntimeError`. JAX reads its settings when it starts
its backend. `configure` does all of it in one call, checks every argument
before it applies any, and explains what to do when it is too late.

This is the only kerastools module that imports TensorFlow, and only inside
functions, when Keras runs on the TensorFlow backend: the jax and torch
backends never load it.

Examples:
    >>> summary = kt.device.summary()
    >>> summary.dtype_policy
    'float32'
"""

from __future__ import annotations

import contextlib
import functools
import html
import importlib.metadata
import logging
import os
import re
import shutil
import subprocess
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import keras

from kerastools._validation import check_bool, check_choice, check_int
from kerastools.device.cluster import tf_config
from kerastools.errors import ConfigError, ConfigTypeError, DeviceError

__all__ = [
    "DeviceInfo",
    "DeviceSummary",
    "summary",
    "configure",
    "use",
    "strategy",
]

logger = logging.getLogger(__name__)

GpuSelection = Literal["all", "none"] | int | Sequence[int]
MixedPrecision = Literal["mixed_float16", "mixed_bfloat16", "float32"]
StrategyKind = Literal["auto", "default", "mirrored", "multi_worker"]

_MIXED_PRECISION = ("mixed_float16", "mixed_bfloat16", "float32")
_STRATEGY_KINDS = ("auto", "default", "mirrored", "multi_worker")

_ARGUMENTS = (
    "gpus",
    "memory_growth",
    "memory_limit_mb",
    "logical_cpus",
    "intra_op_threads",
    "inter_op_threads",
    "soft_placement",
    "log_placement",
    "mixed_precision",
    "jit",
)
_BACKEND_NAMES = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch"}

# What may still change once a backend has initialised its devices.
_CHANGEABLE_LATER = {
    "tensorflow": ("soft_placement", "log_placement", "jit", "mixed_precision"),
    "jax": ("jit", "mixed_precision"),
    "torch": ("intra_op_threads", "mixed_precision"),
}

# What each non-TensorFlow backend cannot do, and what to do instead.
_UNSUPPORTED: dict[str, dict[str, str]] = {
    "jax": {
        "intra_op_threads": "XLA sizes its CPU thread pools itself; limit the cores the "
        "process may use instead (e.g. `taskset -c 0-3 python train.py`)",
        "inter_op_threads": "XLA sizes its CPU thread pools itself; limit the cores the "
        "process may use instead (e.g. `taskset -c 0-3 python train.py`)",
        "soft_placement": "jax runs each computation where its inputs live and never "
        "falls back to another device",
        "log_placement": "jax has no device-placement log",
        "jit": "Keras always compiles on jax; to run a model eagerly pass "
        "`jit_compile=False` to `model.compile`",
    },
    "torch": {
        "gpus": "Keras' torch backend picks its device when keras is imported; set "
        "CUDA_VISIBLE_DEVICES (or KERAS_TORCH_DEVICE=cpu) before starting Python",
        "memory_growth": "PyTorch's caching allocator always grows on demand",
        "memory_limit_mb": "use `torch.cuda.set_per_process_memory_fraction` instead",
        "logical_cpus": "PyTorch has no logical CPU devices",
        "soft_placement": "PyTorch never moves work to another device by itself",
        "log_placement": "PyTorch has no device-placement log",
        "jit": "Keras' torch backend compiles only with `jit_compile=True` in `model.compile`",
    },
}


# --------------------------------------------------------------------------- summary


@dataclass(frozen=True)
class DeviceInfo:
    """One device as a backend sees it.

    Examples:
        >>> DeviceInfo("GPU", "/physical_device:GPU:0", details="NVIDIA H100").kind
        'GPU'

    Args:
        kind: `"CPU"`, `"GPU"` or `"TPU"`.
        name: the backend's name for it, e.g. `"/physical_device:GPU:0"`.
        memory_limit_mb: the memory cap where known (a logical GPU's limit, or
            the allocator's limit on jax). Defaults to None.
        visible: whether the backend may use it. Defaults to True.
        details: model name, compute capability, core count. Defaults to "".
    """

    kind: str
    name: str
    memory_limit_mb: float | None = None
    visible: bool = True
    details: str = ""


@dataclass(frozen=True)
class DeviceSummary:
    """What the backend sees and how it is set up; `print` it, or show it in Jupyter.

    Returned by `summary()` and `configure()`. Logical devices are the ones
    work runs on (a GPU split or capped, several logical CPUs); until the
    backend creates them (at its first operation) they are listed as
    planned, from the configuration, and `logical_devices_created` is False.

    Examples:
        >>> text = str(kt.device.summary())
        >>> text.splitlines()[0]
        'Device summary (backend: ...)'

    Args:
        backend: `"tensorflow"`, `"jax"` or `"torch"`.
        backend_version: version of the backend package.
        physical_devices: the hardware the backend found.
        logical_devices: the devices work is placed on.
        logical_devices_created: whether the backend has created them yet.
        intra_op_threads: threads inside one operation; 0 means the
            backend decides, None that the backend has no such setting.
        inter_op_threads: operations run side by side; same conventions.
        dtype_policy: Keras' global dtype policy, e.g. `"mixed_float16"`.
        soft_placement: whether an op placed on a device that cannot run it
            falls back to one that can (None where the backend has no such idea).
        log_placement: whether each op's device is logged (None: no such setting).
        jit: XLA auto-clustering state (`"autoclustering"`, `"off"`, or the
            backend's own word).
        notes: plain-language remarks ("no GPU visible", "CPU-only build").
    """

    backend: str
    backend_version: str
    physical_devices: tuple[DeviceInfo, ...]
    logical_devices: tuple[DeviceInfo, ...]
    logical_devices_created: bool
    intra_op_threads: int | None
    inter_op_threads: int | None
    dtype_policy: str
    soft_placement: bool | None = None
    log_placement: bool | None = None
    jit: str | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def visible_devices(self) -> tuple[str, ...]:
        """Names of the physical devices the backend may use."""
        return tuple(device.name for device in self.physical_devices if device.visible)

    @property
    def gpu_count(self) -> int:
        """Number of visible GPUs (physical)."""
        return sum(1 for d in self.physical_devices if d.visible and d.kind == "GPU")

    def _settings(self) -> list[tuple[str, str]]:
        def threads(value: int | None) -> str:
            if value is None:
                return "n/a"
            return "auto" if value == 0 else str(value)

        def on_off(value: bool | None) -> str:
            return "n/a" if value is None else ("on" if value else "off")

        return [
            ("dtype policy", self.dtype_policy),
            (
                "threads",
                f"intra-op {threads(self.intra_op_threads)}, "
                f"inter-op {threads(self.inter_op_threads)}",
            ),
            (
                "placement",
                f"soft {on_off(self.soft_placement)}, logging {on_off(self.log_placement)}",
            ),
            ("jit (XLA)", self.jit if self.jit is not None else "n/a"),
        ]

    def _physical_rows(self) -> list[list[str]]:
        return [
            [d.kind, d.name, "yes" if d.visible else "no", _memory(d.memory_limit_mb), d.details or "-"]
            for d in self.physical_devices
        ]

    def _logical_rows(self) -> list[list[str]]:
        return [[d.kind, d.name, _memory(d.memory_limit_mb)] for d in self.logical_devices]

    def _logical_title(self) -> str:
        if self.logical_devices_created:
            return "Logical devices"
        name = _BACKEND_NAMES.get(self.backend, self.backend)
        return f"Logical devices (planned: {name} creates them at its first operation)"

    def __str__(self) -> str:
        lines = [f"Device summary (backend: {self.backend} {self.backend_version})"]
        width = max(len(key) for key, _ in self._settings())
        lines += [f"  {key:<{width}}  {value}" for key, value in self._settings()]
        lines.append("Physical devices")
        lines += _text_table(["type", "name", "visible", "memory", "details"], self._physical_rows())
        lines.append(self._logical_title())
        lines += _text_table(["type", "name", "memory limit"], self._logical_rows())
        if self.notes:
            lines.append("Notes")
            lines += [f"  - {note}" for note in self.notes]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        escape = html.escape
        parts = [
            f"<div><strong>Device summary</strong> (backend: {escape(self.backend)} "
            f"{escape(self.backend_version)})",
            "<table>",
            *(
                f"<tr><th style='text-align:left'>{escape(key)}</th><td>{escape(value)}</td></tr>"
                for key, value in self._settings()
            ),
            "</table>",
            "<p><strong>Physical devices</strong></p>",
            _html_table(["type", "name", "visible", "memory", "details"], self._physical_rows()),
            f"<p><strong>{escape(self._logical_title())}</strong></p>",
            _html_table(["type", "name", "memory limit"], self._logical_rows()),
        ]
        if self.notes:
            parts.append("<ul>" + "".join(f"<li>{escape(n)}</li>" for n in self.notes) + "</ul>")
        parts.append("</div>")
        return "\n".join(parts)


def _memory(megabytes: float | None) -> str:
    if megabytes is None:
        return "-"
    return f"{megabytes / 1024:.1f} GiB" if megabytes >= 1024 else f"{megabytes:.0f} MiB"


def _text_table(headers: list[str], rows: list[list[str]]) -> list[str]:
    if not rows:
        return ["  (none)"]
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)]
    return [
        "  " + "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [headers, *rows]
    ]


def _html_table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th style='text-align:left'>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def summary() -> DeviceSummary:
    """Describe the devices, threads and dtype policy of the current backend.

    It never initialises the backend's devices, so it is safe to call before
    `configure`: on TensorFlow the physical devices are listed from the
    driver and the logical ones as planned until TensorFlow creates them; on
    jax and torch, GPUs found by the NVIDIA driver are listed until the
    backend starts. `print(summary())` gives a compact table; in Jupyter it
    renders as HTML. `python -m kerastools devices` prints it.

    Examples:
        >>> info = kt.device.summary()
        >>> info.backend in ("tensorflow", "jax", "torch")
        True
        >>> info.physical_devices[0].kind
        'CPU'

    Returns:
        A `DeviceSummary`.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        return _tf_summary()
    if backend == "jax":
        return _jax_summary()
    if backend == "torch":
        return _torch_summary()
    return DeviceSummary(
        backend=backend,
        backend_version=_version(backend),
        physical_devices=(DeviceInfo("CPU", "cpu", details=_cpu_details()),),
        logical_devices=(),
        logical_devices_created=False,
        intra_op_threads=None,
        inter_op_threads=None,
        dtype_policy=_dtype_policy(),
        notes=(f"kerastools cannot read device details of the {backend} backend.",),
    )


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        module = __import__(package)
        return str(getattr(module, "__version__", "?"))


def _dtype_policy() -> str:
    return str(keras.config.dtype_policy().name)


def _cpu_details() -> str:
    cores = os.cpu_count()
    return f"{cores} cores" if cores else ""


# --------------------------------------------------------------------------- NVIDIA probe


@dataclass(frozen=True)
class _DriverGpu:
    ordinal: str  # what CUDA_VISIBLE_DEVICES would name it
    model: str


def _driver_gpus() -> list[_DriverGpu]:
    """GPUs the NVIDIA driver reports, as CUDA will number them, without starting CUDA.

    Read from /proc/driver/nvidia (Linux). An existing CUDA_VISIBLE_DEVICES
    restricts and renumbers them, as it will for the backend.
    """
    root = Path("/proc/driver/nvidia/gpus")
    models: list[str] = []
    if root.is_dir():
        for entry in sorted(root.iterdir()):
            model = "NVIDIA GPU"
            with contextlib.suppress(OSError):
                for line in (entry / "information").read_text().splitlines():
                    if line.startswith("Model:"):
                        model = line.split(":", 1)[1].strip()
            models.append(model)
    restriction = os.environ.get("CUDA_VISIBLE_DEVICES")
    if restriction is None:
        return [_DriverGpu(str(i), model) for i, model in enumerate(models)]
    gpus = []
    for ordinal in (item.strip() for item in restriction.split(",")):
        if not ordinal:
            continue
        if ordinal.isdigit():
            if int(ordinal) >= len(models):
                break  # CUDA stops at the first invalid ordinal
            gpus.append(_DriverGpu(ordinal, models[int(ordinal)]))
        else:  # a UUID or MIG name: trust it
            gpus.append(_DriverGpu(ordinal, "NVIDIA GPU"))
    return gpus


def _nvidia_total_memory_mb() -> list[float]:
    """Total memory of each GPU in MiB, from nvidia-smi; empty if it is not there."""
    executable = shutil.which("nvidia-smi")
    if executable is None:
        return []
    try:
        result = subprocess.run(  # fixed argument list, no shell
            [executable, "--query-gpu=memory.total", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return []
    totals = []
    for line in result.stdout.splitlines():
        with contextlib.suppress(ValueError):
            totals.append(float(line.strip()))
    return totals


# --------------------------------------------------------------------------- validation


@dataclass
class _Request:
    """The validated arguments of one `configure` call (None: leave as is)."""

    gpus: Literal["all", "none"] | tuple[int, ...]
    memory_growth: bool | None
    memory_limit_mb: int | None
    logical_cpus: int | None
    intra_op_threads: int | None
    inter_op_threads: int | None
    soft_placement: bool | None
    log_placement: bool | None
    mixed_precision: str | None
    jit: bool | None

    def given(self) -> dict[str, Any]:
        """The arguments that ask for something (gpus="all" is the default: left out)."""
        values = {
            name: getattr(self, name)
            for name in _ARGUMENTS[1:]
            if getattr(self, name) is not None
        }
        if self.gpus != "all":
            values = {"gpus": self.gpus, **values}
        return values


def _check_gpus(value: Any) -> Literal["all", "none"] | tuple[int, ...]:
    allowed = "'all', 'none', a GPU index or a list of GPU indices"
    if isinstance(value, str):
        if value.lower() == "all":
            return "all"
        if value.lower() == "none":
            return "none"
        raise ConfigError(f"Argument `gpus` must be {allowed}. Received: gpus={value!r}")
    indices = [value] if not isinstance(value, (list, tuple)) else list(value)
    for index in indices:
        if isinstance(index, bool) or not isinstance(index, int):
            raise ConfigTypeError(f"Argument `gpus` must be {allowed}. Received: gpus={value!r}")
        if index < 0:
            raise ConfigError(f"Argument `gpus` must hold indices >= 0. Received: gpus={value!r}")
    if not indices:
        raise ConfigError(
            f"Argument `gpus` is an empty list; pass gpus='none' to run on the CPU only. "
            f"Received: gpus={value!r}"
        )
    if len(set(indices)) != len(indices):
        raise ConfigError(f"Argument `gpus` names a GPU twice. Received: gpus={value!r}")
    return tuple(indices)


def _optional(check: Callable[..., Any], name: str, value: Any, **bounds: Any) -> Any:
    return None if value is None else check(name, value, **bounds)


def _validate(arguments: dict[str, Any]) -> _Request:
    request = _Request(
        gpus=_check_gpus(arguments["gpus"]),
        memory_growth=_optional(check_bool, "memory_growth", arguments["memory_growth"]),
        memory_limit_mb=_optional(check_int, "memory_limit_mb", arguments["memory_limit_mb"], low=1),
        logical_cpus=_optional(check_int, "logical_cpus", arguments["logical_cpus"], low=1),
        intra_op_threads=_optional(
            check_int, "intra_op_threads", arguments["intra_op_threads"], low=0
        ),
        inter_op_threads=_optional(
            check_int, "inter_op_threads", arguments["inter_op_threads"], low=0
        ),
        soft_placement=_optional(check_bool, "soft_placement", arguments["soft_placement"]),
        log_placement=_optional(check_bool, "log_placement", arguments["log_placement"]),
        mixed_precision=_optional(
            check_choice, "mixed_precision", arguments["mixed_precision"], allowed=_MIXED_PRECISION
        ),
        jit=_optional(check_bool, "jit", arguments["jit"]),
    )
    if request.memory_growth is not None and request.memory_limit_mb is not None:
        raise ConfigError(
            "Arguments `memory_growth` and `memory_limit_mb` cannot be combined: a capped GPU "
            "takes its memory as it needs it up to the cap. Pass one of them. Received: "
            f"memory_growth={request.memory_growth}, memory_limit_mb={request.memory_limit_mb}"
        )
    if request.gpus == "none":
        for name in ("memory_growth", "memory_limit_mb"):
            if getattr(request, name) is not None:
                raise ConfigError(
                    f"Argument `{name}` configures GPUs, but gpus='none' hides them all. "
                    f"Received: gpus='none', {name}={getattr(request, name)!r}"
                )
    return request


def _missing_gpu_error(
    backend: str, indices: Sequence[int], found: Sequence[str], note: str = ""
) -> DeviceError:
    missing = [index for index in indices if index >= len(found)]
    if found:
        there = f"it sees {len(found)} GPU(s): " + ", ".join(
            f"{i}: {name}" for i, name in enumerate(found)
        )
    else:
        there = (
            "it sees no GPU. A CPU-only machine is normal: pass gpus='none' (or leave gpus='all') "
            "to run on the CPU"
        )
    return DeviceError(
        f"Argument `gpus` asks for GPU {', '.join(map(str, missing))}, but the {backend} backend "
        f"cannot use it: {there}.{note} Received: gpus={list(indices)!r}"
    )


def _needs_gpu_error(backend: str, name: str, value: Any, note: str = "") -> DeviceError:
    return DeviceError(
        f"Argument `{name}` configures GPUs, but the {backend} backend sees no GPU. A CPU-only "
        f"machine is normal: leave `{name}` unset there.{note} Received: {name}={value!r}"
    )


def _unsupported_error(backend: str, names: Sequence[str], request: _Request) -> DeviceError:
    reasons = _UNSUPPORTED[backend]
    lines = "; ".join(f"`{name}`: {reasons[name]}" for name in names)
    received = ", ".join(f"{name}={getattr(request, name)!r}" for name in names)
    supported = [name for name in _ARGUMENTS if name not in reasons]
    if backend == "jax":
        supported.append("jit=True (a no-op: Keras compiles with XLA on jax)")
    return DeviceError(
        f"The {backend} backend cannot apply {', '.join(f'`{n}`' for n in names)} ({lines}). "
        f"On {backend}, configure supports: {', '.join(supported)}. Nothing was applied. "
        f"Received: {received}"
    )


def _too_late_error(
    backend: str, names: Sequence[str], request: _Request, applied: Sequence[str] = ()
) -> DeviceError:
    received = ", ".join(f"{name}={getattr(request, name)!r}" for name in names)
    outcome = (
        f"Applied before this failed: {', '.join(applied)}." if applied else "Nothing was applied."
    )
    return DeviceError(
        f"The {backend} backend has already initialised its devices (something ran an "
        f"operation, built a model or listed its devices), so "
        f"{', '.join(f'`{n}`' for n in names)} can no longer change. Call "
        f"kerastools.device.configure(...) first thing in the program, right after the imports "
        f"(in Jupyter: restart the kernel). Still allowed now: "
        f"{', '.join(_CHANGEABLE_LATER.get(backend, ('mixed_precision',)))}. {outcome} "
        f"Received: {received}"
    )


@dataclass
class _Step:
    """One change `configure` will make."""

    argument: str
    fixed_at_start: bool
    apply: Callable[[], None]


def _warn_float16_on_cpu() -> None:
    warnings.warn(
        "mixed_precision='mixed_float16' on a machine with no visible GPU: CPUs have no fast "
        "float16 arithmetic, so training is usually slower than in float32. Use it on a GPU, "
        "or 'mixed_bfloat16' on CPUs with bfloat16 support.",
        UserWarning,
        stacklevel=3,
    )


def _policy_step(request: _Request) -> list[_Step]:
    if request.mixed_precision is None or request.mixed_precision == _dtype_policy():
        return []
    policy = request.mixed_precision
    return [_Step("mixed_precision", False, lambda: keras.config.set_dtype_policy(policy))]


# --------------------------------------------------------------------------- configure


def configure(
    *,
    gpus: GpuSelection = "all",
    memory_growth: bool | None = None,
    memory_limit_mb: int | None = None,
    logical_cpus: int | None = None,
    intra_op_threads: int | None = None,
    inter_op_threads: int | None = None,
    soft_placement: bool | None = None,
    log_placement: bool | None = None,
    mixed_precision: MixedPrecision | None = None,
    jit: bool | None = None,
) -> DeviceSummary:
    """Set up devices, threads and precision in one call, first thing in the program.

    The Keras 3 form of a TF1 `ConfigProto` session (threads, device counts,
    GPU memory fraction, soft placement, placement log). Arguments left at
    None are not touched. Every argument is checked before anything is
    applied, so a bad one changes nothing. Calling it again with the same
    values is a no-op, so a re-run notebook cell does not fail.

    On TensorFlow, GPU selection, memory settings, logical CPUs and thread
    pools are fixed when TensorFlow initialises its devices (at its first
    operation or model); after that they raise a `DeviceError` that says so,
    while `soft_placement`, `log_placement`, `jit` and `mixed_precision` can
    still change. On jax, GPU selection, memory growth, the memory cap and
    logical CPUs go to the backend before it starts (`jax_cuda_visible_devices`,
    `XLA_PYTHON_CLIENT_PREALLOCATE`, `XLA_PYTHON_CLIENT_MEM_FRACTION`,
    `jax_num_cpu_devices`); threads, placement and `jit=False` raise a
    `DeviceError` naming the backend. On torch: threads and precision (Keras'
    torch backend picks its GPU when keras is imported, so GPU selection
    belongs in `CUDA_VISIBLE_DEVICES` before Python starts).

    Examples:
        >>> kt.device.configure().dtype_policy      # no arguments: changes nothing
        'float32'
        >>> kt.device.configure(gpus="none", intra_op_threads=2)   # doctest: +SKIP

    Args:
        gpus: `"all"` (every GPU the backend finds), `"none"` (CPU only), a
            GPU index or a list of indices. Defaults to `"all"`.
        memory_growth: take GPU memory as needed instead of (almost) all of
            it up front. Needs a GPU. Defaults to None.
        memory_limit_mb: give each selected GPU one logical device capped at
            this many MiB (the modern form of a memory fraction). Needs a
            GPU; not with `memory_growth`. Defaults to None.
        logical_cpus: split the CPU into this many logical devices, so
            multi-device code (`MirroredStrategy`) runs on a laptop.
            Defaults to None.
        intra_op_threads: threads used inside one operation (0: the backend
            decides). Defaults to None.
        inter_op_threads: independent operations run at once (0: the backend
            decides). Defaults to None.
        soft_placement: let an op placed on a device that cannot run it fall
            back to one that can (TensorFlow). Defaults to None.
        log_placement: log the device of every op (TensorFlow). Defaults to None.
        mixed_precision: `"mixed_float16"` (GPUs), `"mixed_bfloat16"`, or
            `"float32"` to go back; sets Keras' global dtype policy, which
            layers read when they are created. Warns when `"mixed_float16"`
            is asked for with no GPU visible. Defaults to None.
        jit: turn TensorFlow's XLA auto-clustering on or off (Keras models
            also take `jit_compile=` in `compile`). Defaults to None.

    Returns:
        `summary()` after the changes.

    Raises:
        ConfigError: a bad value or a contradictory pair, e.g. `memory_growth`
            with `memory_limit_mb`.
        DeviceError: a GPU that is not there (the message lists what is), a
            GPU setting on a machine without one, a setting the backend fixed
            already, or one the backend cannot apply.
    """
    request = _validate(
        {
            "gpus": gpus,
            "memory_growth": memory_growth,
            "memory_limit_mb": memory_limit_mb,
            "logical_cpus": logical_cpus,
            "intra_op_threads": intra_op_threads,
            "inter_op_threads": inter_op_threads,
            "soft_placement": soft_placement,
            "log_placement": log_placement,
            "mixed_precision": mixed_precision,
            "jit": jit,
        }
    )
    backend = keras.backend.backend()
    if backend == "tensorflow":
        steps, initialized, gpu_visible = _tf_plan(request)
    elif backend == "jax":
        steps, initialized, gpu_visible = _jax_plan(request)
    elif backend == "torch":
        steps, initialized, gpu_visible = _torch_plan(request)
    else:
        other = [name for name in request.given() if name != "mixed_precision"]
        if other:
            raise DeviceError(
                f"The {backend} backend supports only `mixed_precision` here; it cannot apply "
                f"{', '.join(f'`{n}`' for n in other)}. Nothing was applied."
            )
        steps, initialized, gpu_visible = _policy_step(request), False, False

    too_late = [step.argument for step in steps if step.fixed_at_start and initialized]
    if too_late:
        raise _too_late_error(backend, sorted(set(too_late), key=too_late.index), request)
    applied: list[str] = []
    for step in steps:
        try:
            step.apply()
        except RuntimeError as error:  # the backend started between our check and now
            late = _too_late_error(backend, [step.argument], request, applied)
            raise DeviceError(f"{late} ({backend} said: {error})") from error
        applied.append(step.argument)
        logger.debug("device.configure applied %s", step.argument)
    if request.mixed_precision == "mixed_float16" and not gpu_visible:
        _warn_float16_on_cpu()
    return summary()


# --------------------------------------------------------------------------- TensorFlow


def _tensorflow() -> Any:
    import tensorflow as tf  # the only TensorFlow import in kerastools

    return tf


def _tf_initialized() -> bool:
    """Whether TensorFlow has created its runtime context (and so fixed its devices).

    No public API says so; if this private attribute moves, the setters'
    RuntimeError still gives the same DeviceError.
    """
    try:
        from tensorflow.python.eager import context
    except ImportError:
        return False
    return getattr(context.context(), "_context_handle", None) is not None


def _tf_plan(request: _Request) -> tuple[list[_Step], bool, bool]:
    tf = _tensorflow()
    initialized = _tf_initialized()
    physical_gpus = tf.config.list_physical_devices("GPU")
    visible = tf.config.get_visible_devices()
    note = (
        ""
        if tf.test.is_built_with_cuda()
        else " This TensorFlow is a CPU-only build (e.g. tensorflow-cpu); GPUs need "
        "`pip install tensorflow[and-cuda]`."
    )
    if isinstance(request.gpus, tuple):
        indices = request.gpus
        if max(indices) >= len(physical_gpus):
            raise _missing_gpu_error("tensorflow", indices, [g.name for g in physical_gpus], note)
        selected = [physical_gpus[index] for index in indices]
    elif request.gpus == "none":
        selected = []
    else:
        # Once TensorFlow has started, the default leaves the selection as it is.
        selected = [g for g in visible if g.device_type == "GPU"] if initialized else physical_gpus
    for name in ("memory_growth", "memory_limit_mb"):
        if getattr(request, name) is not None and not selected:
            raise _needs_gpu_error("tensorflow", name, getattr(request, name), note)

    steps: list[_Step] = []
    wanted = [d for d in tf.config.list_physical_devices() if d.device_type != "GPU"] + selected
    if {d.name for d in wanted} != {d.name for d in visible}:

        def select_gpus() -> None:
            tf.config.set_visible_devices(wanted)

        steps.append(_Step("gpus", True, select_gpus))

    growth = request.memory_growth
    if growth is not None:
        to_grow = [g for g in selected if tf.config.experimental.get_memory_growth(g) != growth]
        if to_grow:

            def set_growth() -> None:
                for gpu in to_grow:
                    tf.config.experimental.set_memory_growth(gpu, growth)

            steps.append(_Step("memory_growth", True, set_growth))

    limit = request.memory_limit_mb
    if limit is not None:
        to_cap = [
            g
            for g in selected
            if [c.memory_limit for c in tf.config.get_logical_device_configuration(g) or []]
            != [limit]
        ]
        if to_cap:

            def set_cap() -> None:
                for gpu in to_cap:
                    config = [tf.config.LogicalDeviceConfiguration(memory_limit=limit)]
                    tf.config.set_logical_device_configuration(gpu, config)

            steps.append(_Step("memory_limit_mb", True, set_cap))

    count = request.logical_cpus
    if count is not None:
        cpu = tf.config.list_physical_devices("CPU")[0]
        if len(tf.config.get_logical_device_configuration(cpu) or [None]) != count:

            def split_cpu() -> None:
                config = [tf.config.LogicalDeviceConfiguration() for _ in range(count)]
                tf.config.set_logical_device_configuration(cpu, config)

            steps.append(_Step("logical_cpus", True, split_cpu))

    threading = tf.config.threading
    for name, value, read, write in (
        (
            "intra_op_threads",
            request.intra_op_threads,
            threading.get_intra_op_parallelism_threads,
            threading.set_intra_op_parallelism_threads,
        ),
        (
            "inter_op_threads",
            request.inter_op_threads,
            threading.get_inter_op_parallelism_threads,
            threading.set_inter_op_parallelism_threads,
        ),
    ):
        if value is not None and value != read():
            steps.append(_Step(name, True, functools.partial(write, value)))
    for name, value, read, write in (
        (
            "soft_placement",
            request.soft_placement,
            tf.config.get_soft_device_placement,
            tf.config.set_soft_device_placement,
        ),
        (
            "log_placement",
            request.log_placement,
            tf.debugging.get_log_device_placement,
            tf.debugging.set_log_device_placement,
        ),
        ("jit", request.jit, lambda: bool(tf.config.optimizer.get_jit()), tf.config.optimizer.set_jit),
    ):
        if value is not None and value != bool(read()):
            steps.append(_Step(name, False, functools.partial(write, value)))
    steps += _policy_step(request)
    return steps, initialized, bool(selected)


def _tf_summary() -> DeviceSummary:
    tf = _tensorflow()
    physical = tf.config.list_physical_devices()
    visible_names = {d.name for d in tf.config.get_visible_devices()}
    physical_info = []
    for device in physical:
        details = ""
        if device.device_type == "GPU":
            described = tf.config.experimental.get_device_details(device)
            capability = described.get("compute_capability")
            details = str(described.get("device_name", ""))
            if capability:
                details += f" (compute capability {capability[0]}.{capability[1]})"
        elif device.device_type == "CPU":
            details = _cpu_details()
        physical_info.append(
            DeviceInfo(device.device_type, device.name, visible=device.name in visible_names, details=details)
        )

    # Logical devices as TensorFlow will number them: per type, in order.
    planned: list[DeviceInfo] = []
    counters: dict[str, int] = {}
    for device in physical:
        if device.name not in visible_names:
            continue
        configs = tf.config.get_logical_device_configuration(device) or [None]
        for config in configs:
            index = counters.get(device.device_type, 0)
            counters[device.device_type] = index + 1
            limit = getattr(config, "memory_limit", None)
            planned.append(
                DeviceInfo(device.device_type, f"/device:{device.device_type}:{index}", memory_limit_mb=limit)
            )
    created = _tf_initialized()
    logical = planned
    if created:
        limits = {d.name: d.memory_limit_mb for d in planned}
        logical = [
            DeviceInfo(d.device_type, d.name, memory_limit_mb=limits.get(d.name))
            for d in tf.config.list_logical_devices()
        ]

    notes = []
    if not tf.test.is_built_with_cuda():
        notes.append(
            "This TensorFlow is a CPU-only build: it never sees a GPU "
            "(GPUs need `pip install tensorflow[and-cuda]`)."
        )
    if not any(d.kind == "GPU" and d.visible for d in physical_info):
        notes.append("No GPU visible: work runs on the CPU (normal on a CPU-only machine).")
    if not created:
        notes.append(
            "TensorFlow has not initialised its devices yet: configure(...) can still change "
            "every setting."
        )
    jit = tf.config.optimizer.get_jit()
    return DeviceSummary(
        backend="tensorflow",
        backend_version=tf.__version__,
        physical_devices=tuple(physical_info),
        logical_devices=tuple(logical),
        logical_devices_created=created,
        intra_op_threads=tf.config.threading.get_intra_op_parallelism_threads(),
        inter_op_threads=tf.config.threading.get_inter_op_parallelism_threads(),
        dtype_policy=_dtype_policy(),
        soft_placement=bool(tf.config.get_soft_device_placement()),
        log_placement=bool(tf.debugging.get_log_device_placement()),
        jit=str(jit) if jit else "off",
        notes=tuple(notes),
    )


# --------------------------------------------------------------------------- jax


def _jax_initialized() -> bool:
    """Whether jax has started its backends (after which its device settings are fixed)."""
    try:
        from jax._src import xla_bridge
    except ImportError:
        return False
    probe = getattr(xla_bridge, "backends_are_initialized", None)
    return bool(probe()) if probe is not None else bool(getattr(xla_bridge, "_backends", {}))


def _jax_has_cuda() -> bool:
    names = {
        (dist.metadata["Name"] or "").lower().replace("_", "-")
        for dist in importlib.metadata.distributions()
    }
    return any(re.fullmatch(r"jax-cuda\d+-(plugin|pjrt)", name) for name in names)


def _jax_flag(name: str) -> Any:
    import jax

    try:
        return jax.config._read(name)
    except (AttributeError, KeyError):  # a jax without this flag or this private reader
        return getattr(jax.config, name, None)


def _jax_plan(request: _Request) -> tuple[list[_Step], bool, bool]:
    import jax

    unsupported = [
        name
        for name in _UNSUPPORTED["jax"]
        if getattr(request, name) is not None and not (name == "jit" and request.jit)
    ]
    if unsupported:
        raise _unsupported_error("jax", unsupported, request)
    initialized = _jax_initialized()
    note = ""
    if initialized:
        gpu_names = [str(d) for d in _jax_devices("gpu")]
    elif _jax_has_cuda():
        gpu_names = [gpu.model for gpu in _driver_gpus()]
    else:
        gpu_names = []
        if _driver_gpus():
            note = " jax is installed without CUDA support; GPUs need `pip install jax[cuda12]`."

    def update(flag: str, value: Any) -> Callable[[], None]:
        return lambda: jax.config.update(flag, value)

    steps: list[_Step] = []
    if request.gpus == "none":
        selected: list[str] = []
        if _jax_flag("jax_platforms") != "cpu":
            steps.append(_Step("gpus", True, update("jax_platforms", "cpu")))
    elif isinstance(request.gpus, tuple):
        indices = request.gpus
        if max(indices) >= len(gpu_names):
            raise _missing_gpu_error("jax", indices, gpu_names, note)
        selected = [gpu_names[i] for i in indices]
        ids = ",".join(map(str, indices))
        if _jax_flag("jax_cuda_visible_devices") != ids:
            steps.append(_Step("gpus", True, update("jax_cuda_visible_devices", ids)))
    else:
        # Once jax has started, the default leaves the selection as it is.
        selected = gpu_names
        if not initialized and _jax_flag("jax_cuda_visible_devices") not in (None, "all"):
            steps.append(_Step("gpus", True, update("jax_cuda_visible_devices", "all")))
    for name in ("memory_growth", "memory_limit_mb"):
        if getattr(request, name) is not None and not selected:
            raise _needs_gpu_error("jax", name, getattr(request, name), note)

    environment: dict[str, tuple[str, str]] = {}  # variable -> (argument, value)
    if request.memory_growth is not None:
        preallocate = "false" if request.memory_growth else "true"
        environment["XLA_PYTHON_CLIENT_PREALLOCATE"] = ("memory_growth", preallocate)
    if request.memory_limit_mb is not None:
        environment["XLA_PYTHON_CLIENT_MEM_FRACTION"] = (
            "memory_limit_mb",
            _jax_memory_fraction(request.memory_limit_mb),
        )
    for variable, (argument, value) in environment.items():
        if os.environ.get(variable) != value:
            steps.append(
                _Step(argument, True, functools.partial(os.environ.__setitem__, variable, value))
            )
    count = request.logical_cpus
    if count is not None and _jax_flag("jax_num_cpu_devices") not in (count, -1 if count == 1 else None):
        steps.append(_Step("logical_cpus", True, update("jax_num_cpu_devices", count)))
    if request.jit:
        logger.debug("jit=True on jax: Keras already compiles with XLA")
    steps += _policy_step(request)
    return steps, initialized, bool(selected)


def _jax_memory_fraction(limit_mb: int) -> str:
    """jax caps GPU memory by a fraction of the card: turn MiB into one."""
    totals = _nvidia_total_memory_mb()
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


def _jax_devices(platform: str | None = None) -> list[Any]:
    import jax

    try:
        return list(jax.devices(platform))
    except RuntimeError:  # "Unknown backend gpu": none of that kind
        return []


def _jax_summary() -> DeviceSummary:

    created = _jax_initialized()
    notes = []
    physical: list[DeviceInfo] = []
    logical: list[DeviceInfo] = []
    if created:
        devices = _jax_devices()
        if devices and devices[0].platform != "cpu":
            devices += _jax_devices("cpu")
        # jax has no physical/logical split: its CPU devices (jax_num_cpu_devices)
        # share one processor, each accelerator is one device.
        physical.append(DeviceInfo("CPU", "cpu", details=_cpu_details()))
        for device in devices:
            kind = "CPU" if device.platform == "cpu" else "GPU" if device.platform in ("gpu", "cuda", "rocm") else device.platform.upper()
            limit = None
            with contextlib.suppress(Exception):  # memory_stats is not implemented on every platform
                stats = device.memory_stats() or {}
                if "bytes_limit" in stats:
                    limit = stats["bytes_limit"] / 2**20
            name = f"{kind.lower()}:{device.id}"
            if kind != "CPU":
                physical.append(DeviceInfo(kind, name, details=device.device_kind))
            logical.append(DeviceInfo(kind, name, memory_limit_mb=limit))
    else:
        physical.append(DeviceInfo("CPU", "cpu", details=_cpu_details()))
        gpu_visible = _jax_flag("jax_platforms") != "cpu"
        for gpu in _driver_gpus():
            physical.append(
                DeviceInfo("GPU", f"gpu:{gpu.ordinal}", visible=gpu_visible, details=gpu.model)
            )
        cpus = _jax_flag("jax_num_cpu_devices")
        cpu_count = cpus if isinstance(cpus, int) and cpus > 0 else 1
        logical += [DeviceInfo("CPU", f"cpu:{i}") for i in range(cpu_count)]
        notes.append(
            "jax has not started its backend yet: configure(...) can still change every "
            "setting it supports. Devices are listed from the NVIDIA driver until then."
        )
        if _driver_gpus() and not _jax_has_cuda():
            notes.append("jax is installed without CUDA support: it will run on the CPU.")
    if not any(d.kind == "GPU" and d.visible for d in physical):
        notes.append("No GPU visible: work runs on the CPU (normal on a CPU-only machine).")
    for key in ("XLA_PYTHON_CLIENT_PREALLOCATE", "XLA_PYTHON_CLIENT_MEM_FRACTION"):
        if key in os.environ:
            notes.append(f"{key}={os.environ[key]}")
    return DeviceSummary(
        backend="jax",
        backend_version=_version("jax"),
        physical_devices=tuple(physical),
        logical_devices=tuple(logical),
        logical_devices_created=created,
        intra_op_threads=None,
        inter_op_threads=None,
        dtype_policy=_dtype_policy(),
        jit="always (Keras compiles with XLA)",
        notes=tuple(notes),
    )


# --------------------------------------------------------------------------- torch


def _torch_plan(request: _Request) -> tuple[list[_Step], bool, bool]:
    import torch

    unsupported = [
        name
        for name in _UNSUPPORTED["torch"]
        if getattr(request, name) is not None and not (name == "gpus" and request.gpus == "all")
    ]
    if unsupported:
        raise _unsupported_error("torch", unsupported, request)
    for name in ("intra_op_threads", "inter_op_threads"):
        if getattr(request, name) == 0:
            raise ConfigError(
                f"Argument `{name}` must be >= 1 on the torch backend (it has no automatic "
                f"setting). Received: {name}=0"
            )
    steps: list[_Step] = []
    intra, inter = request.intra_op_threads, request.inter_op_threads
    if intra is not None and intra != torch.get_num_threads():
        # torch lets this change at any time.
        steps.append(_Step("intra_op_threads", False, functools.partial(torch.set_num_threads, intra)))
    if inter is not None and inter != torch.get_num_interop_threads():
        # Fixed once torch has run parallel work; torch raises RuntimeError then.
        steps.append(
            _Step("inter_op_threads", False, functools.partial(torch.set_num_interop_threads, inter))
        )
    steps += _policy_step(request)
    return steps, False, bool(torch.cuda.is_available())


def _torch_summary() -> DeviceSummary:
    import torch

    created = bool(torch.cuda.is_initialized())
    physical = [DeviceInfo("CPU", "cpu", details=_cpu_details())]
    logical = [DeviceInfo("CPU", "cpu")]
    notes = []
    if created:
        for index in range(torch.cuda.device_count()):
            properties = torch.cuda.get_device_properties(index)
            total = properties.total_memory / 2**20
            physical.append(DeviceInfo("GPU", f"cuda:{index}", memory_limit_mb=total, details=properties.name))
            logical.append(DeviceInfo("GPU", f"cuda:{index}", memory_limit_mb=total))
    else:
        hidden = os.environ.get("CUDA_VISIBLE_DEVICES") == ""
        for gpu in _driver_gpus():
            physical.append(DeviceInfo("GPU", f"cuda:{gpu.ordinal}", visible=not hidden, details=gpu.model))
        notes.append("torch has not started CUDA yet; GPUs are listed from the NVIDIA driver.")
    if not any(d.kind == "GPU" and d.visible for d in physical):
        notes.append("No GPU visible: work runs on the CPU (normal on a CPU-only machine).")
    return DeviceSummary(
        backend="torch",
        backend_version=str(torch.__version__),
        physical_devices=tuple(physical),
        logical_devices=tuple(logical),
        logical_devices_created=created,
        intra_op_threads=int(torch.get_num_threads()),
        inter_op_threads=int(torch.get_num_interop_threads()),
        dtype_policy=_dtype_policy(),
        notes=tuple(notes),
    )


# --------------------------------------------------------------------------- placement

_DEVICE_PATTERN = re.compile(r"^(?:/?device:|/)?(cpu|gpu|tpu)(?::(\d+))?$", re.IGNORECASE)


def _available(kind: str) -> list[str]:
    """Names of the logical devices of `kind` ("cpu", "gpu", "tpu") the backend can place work on."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        tf = _tensorflow()
        return [d.name for d in tf.config.list_logical_devices(kind.upper())]
    if backend == "jax":
        return [f"{kind}:{d.id}" for d in _jax_devices(kind)]
    if backend == "torch":
        import torch

        if kind == "cpu":
            return ["cpu"]
        return [f"cuda:{i}" for i in range(torch.cuda.device_count())] if kind == "gpu" else []
    return [f"{kind}:0"] if kind == "cpu" else []


@contextlib.contextmanager
def use(device: str) -> Iterator[str]:
    """Run the enclosed Keras work on one device: `"cpu"`, `"gpu:0"`, `"gpu:1"`, ...

    Wraps `keras.device`, after checking that the device exists: TensorFlow
    would otherwise quietly run "gpu:0" work on the CPU of a CPU-only
    machine. Variables created inside (a model built there) live on that
    device.

    Examples:
        >>> with kt.device.use("cpu") as name:
        ...     predictions = model.predict(x, verbose=0)
        >>> name
        'cpu:0'

    Args:
        device: `"cpu"`, `"gpu"`, `"tpu"`, optionally with `:index`
            (`"gpu:1"`); case does not matter, `"/device:GPU:0"` works too.

    Yields:
        The normalised device name, e.g. `"gpu:0"`.

    Raises:
        ConfigError: a name that is not of that form.
        DeviceError: no such device; the message lists the ones there are.
    """
    if not isinstance(device, str):
        raise ConfigTypeError(
            f"Argument `device` must be a string like 'cpu' or 'gpu:0'. Received: device={device!r}"
        )
    match = _DEVICE_PATTERN.match(device.strip())
    if match is None:
        raise ConfigError(
            f"Argument `device` must look like 'cpu', 'gpu:0' or 'gpu:1'. Received: device={device!r}"
        )
    kind, index = match.group(1).lower(), int(match.group(2) or 0)
    available = _available(kind)
    if index >= len(available):
        there = ", ".join(_available("cpu") + _available("gpu")) or "none"
        hint = " A CPU-only machine is normal: use 'cpu'." if kind == "gpu" and not available else ""
        raise DeviceError(
            f"Argument `device` names {kind}:{index}, which the {keras.backend.backend()} "
            f"backend does not have; it has: {there}.{hint} Received: device={device!r}"
        )
    name = f"{kind}:{index}"
    with keras.device(name):
        yield name


# --------------------------------------------------------------------------- distribution


def _multi_worker_class(tf: Any) -> Any:
    class MultiWorkerMirroredStrategy(tf.distribute.MultiWorkerMirroredStrategy):  # type: ignore[misc, name-defined]
        """`tf.distribute.MultiWorkerMirroredStrategy` that Keras 3's `fit` can use.

        Keras 3 (3.15, TF 2.21) asks the strategy to reduce a nested batch
        and scalar metrics along axis 0, which the collective implementation
        rejects (keras-team/keras#20585); reduce them one by one, scalars
        across replicas.
        """

        def reduce(self, reduce_op: Any, value: Any, axis: Any) -> Any:
            if isinstance(value, (tuple, list, dict)):
                return tf.nest.map_structure(lambda item: self.reduce(reduce_op, item, axis), value)
            if axis is not None:
                first = value.values[0] if isinstance(value, tf.distribute.DistributedValues) else value
                if getattr(getattr(first, "shape", None), "rank", None) == 0:
                    axis = None
            return super().reduce(reduce_op, value, axis)

    return MultiWorkerMirroredStrategy


def strategy(kind: StrategyKind = "auto") -> Any:
    """The `tf.distribute` strategy for the devices in view; build the model in its scope.

    `"auto"` picks `MultiWorkerMirroredStrategy` when `TF_CONFIG` names a
    cluster, `MirroredStrategy` over the local devices when there are
    several (GPUs, or logical CPUs from `configure(logical_cpus=n)` when no
    GPU is visible), and the default strategy otherwise.

    Scaling out: start the same script on every machine, each with a
    `TF_CONFIG` naming all workers and its own place among them, e.g.
    `{"cluster": {"worker": ["10.0.0.1:12345", "10.0.0.2:12345"]},
    "task": {"type": "worker", "index": 0}}`. Worker 0 is the chief
    (`kerastools.checkpoints.is_chief`): kerastools callbacks write files
    only there. Create the strategy first thing, before any TensorFlow work:
    a multi-worker strategy cannot start once TensorFlow has initialised.
    The batch size given to `fit` is the global one, split across replicas.

    Examples:
        >>> chosen = kt.device.strategy()
        >>> chosen.num_replicas_in_sync
        1
        >>> with chosen.scope():                                   # doctest: +SKIP
        ...     model = kt.compile(kt.build_mlp(2, [16]))

    Args:
        kind: `"auto"`, `"default"`, `"mirrored"` (all local GPUs, else all
            logical CPUs) or `"multi_worker"`. Defaults to `"auto"`.

    Returns:
        A `tf.distribute.Strategy`. The multi-worker one is a subclass of
        `tf.distribute.MultiWorkerMirroredStrategy` that works around a
        Keras 3 bug in `fit`.

    Raises:
        ConfigError: an unknown kind, or a malformed `TF_CONFIG` (or one
            with parameter servers, which need `ParameterServerStrategy`).
        DeviceError: a backend other than TensorFlow (use
            `keras.distribution.DataParallel` there), or a multi-worker
            strategy asked for after TensorFlow initialised.
    """
    chosen = check_choice("kind", kind, _STRATEGY_KINDS)
    backend = keras.backend.backend()
    if backend != "tensorflow":
        raise DeviceError(
            f"kerastools.device.strategy builds tf.distribute strategies, which need the "
            f"tensorflow backend; the {backend} backend distributes with "
            f"keras.distribution (e.g. keras.distribution.set_distribution("
            f"keras.distribution.DataParallel())). Received: kind={chosen!r}"
        )
    tf = _tensorflow()
    cluster = tf_config()
    if cluster is not None and "ps" in cluster["cluster"]:
        raise ConfigError(
            "TF_CONFIG names parameter servers ('ps'); that needs "
            "tf.distribute.ParameterServerStrategy and a coordinator, which kerastools does not "
            f"set up. Received: TF_CONFIG cluster jobs {sorted(cluster['cluster'])}"
        )
    # Decide on multi-worker before listing local devices: listing them starts
    # TensorFlow, after which a multi-worker strategy can no longer be created.
    if chosen == "multi_worker" or (chosen == "auto" and cluster is not None):
        try:
            return _multi_worker_class(tf)()
        except RuntimeError as error:
            raise DeviceError(
                "A multi-worker strategy must be created before TensorFlow initialises its "
                "devices: call kerastools.device.strategy() first thing, before building a "
                f"model or running an operation. (tensorflow said: {error})"
            ) from error
    if chosen == "default":
        return tf.distribute.get_strategy()
    gpus = [d.name for d in tf.config.list_logical_devices("GPU")]
    local = gpus or [d.name for d in tf.config.list_logical_devices("CPU")]
    if chosen == "mirrored" or len(local) > 1:
        return tf.distribute.MirroredStrategy(devices=local)
    return tf.distribute.get_strategy()
