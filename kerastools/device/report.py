"""The device summary: what the backend sees and how it is set up, as text and HTML.

`summary()` asks the running backend's module (`kerastools.backend`);
`DeviceInfo` and `DeviceSummary` hold the answer and render it for `print`
and for Jupyter. The small helpers at the end are what every backend's
summary reports the same way.

Examples:
    >>> from kerastools.device.report import summary
    >>> summary().dtype_policy
    'float32'
"""

from __future__ import annotations

import html
import importlib
import importlib.metadata
import os
from collections.abc import Iterable
from dataclasses import dataclass, field

import keras

from kerastools import backend

__all__ = [
    "NO_GPU_NOTE",
    "DeviceInfo",
    "DeviceSummary",
    "cpu_details",
    "dtype_policy",
    "no_gpu_notes",
    "package_version",
    "summary",
]

NO_GPU_NOTE = "No GPU visible: work runs on the CPU (normal on a CPU-only machine)."


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
        process_index: this process's index in a multi-process job
            (`kt.device.distribute`); 0 for one process.
        process_count: the number of processes of the job. Defaults to 1.
        distribution: the `keras.distribution` in force and its device
            mesh, in words; None when none is set.
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
    process_index: int = 0
    process_count: int = 1
    distribution: str | None = None

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

        rows = [
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
        if self.process_count > 1:
            chief = ", the chief" if self.process_index == 0 else ""
            rows.append(("processes", f"{self.process_count} (this one: {self.process_index}{chief})"))
        if self.distribution is not None:
            rows.append(("distribution", self.distribution))
        return rows

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
        name = backend.display_name(self.backend)
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
    return backend.current().summary()


def no_gpu_notes(physical: Iterable[DeviceInfo]) -> list[str]:
    """`[NO_GPU_NOTE]` when none of `physical` is a visible GPU, else `[]`.

    Examples:
        >>> from kerastools.device.report import DeviceInfo, no_gpu_notes
        >>> no_gpu_notes([DeviceInfo("CPU", "cpu")])
        ['No GPU visible: work runs on the CPU (normal on a CPU-only machine).']
    """
    return [] if any(d.kind == "GPU" and d.visible for d in physical) else [NO_GPU_NOTE]


def package_version(package: str) -> str:
    """The installed version of `package`, e.g. "2.21.0".

    Examples:
        >>> from kerastools.device.report import package_version
        >>> package_version("keras")
        '3...'
    """
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        module = importlib.import_module(package)
        return str(getattr(module, "__version__", "?"))


def dtype_policy() -> str:
    """The name of Keras' global dtype policy, e.g. "mixed_float16".

    Examples:
        >>> from kerastools.device.report import dtype_policy
        >>> dtype_policy()
        'float32'
    """
    return str(keras.config.dtype_policy().name)


def cpu_details() -> str:
    """The processor's core count, as a summary shows it ("8 cores"); "" if unknown.

    Examples:
        >>> from kerastools.device.report import cpu_details
        >>> cpu_details().endswith("cores")
        True
    """
    cores = os.cpu_count()
    return f"{cores} cores" if cores else ""
