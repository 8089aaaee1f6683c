"""What the NVIDIA driver reports, read without starting CUDA.

Summaries and `configure` on jax and torch list GPUs before the backend
starts, when asking the backend would start it (and fix its settings).

Examples:
    >>> from kerastools.device.nvidia import driver_gpus
    >>> isinstance(driver_gpus(), list)
    True
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DriverGpu", "driver_gpus", "total_memory_mb"]


@dataclass(frozen=True)
class DriverGpu:
    """One GPU as the driver reports it.

    Examples:
        >>> from kerastools.device.nvidia import DriverGpu
        >>> DriverGpu("0", "NVIDIA H100").model
        'NVIDIA H100'

    Args:
        ordinal: what CUDA_VISIBLE_DEVICES would name it.
        model: the model name, e.g. "NVIDIA H100".
    """

    ordinal: str
    model: str


def driver_gpus() -> list[DriverGpu]:
    """GPUs the NVIDIA driver reports, as CUDA will number them, without starting CUDA.

    Read from /proc/driver/nvidia (Linux). An existing CUDA_VISIBLE_DEVICES
    restricts and renumbers them, as it will for the backend.

    Examples:
        >>> from kerastools.device.nvidia import driver_gpus
        >>> all(gpu.model for gpu in driver_gpus())
        True
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
        return [DriverGpu(str(i), model) for i, model in enumerate(models)]
    gpus = []
    for ordinal in (item.strip() for item in restriction.split(",")):
        if not ordinal:
            continue
        if ordinal.isdigit():
            if int(ordinal) >= len(models):
                break  # CUDA stops at the first invalid ordinal
            gpus.append(DriverGpu(ordinal, models[int(ordinal)]))
        else:  # a UUID or MIG name: trust it
            gpus.append(DriverGpu(ordinal, "NVIDIA GPU"))
    return gpus


def total_memory_mb() -> list[float]:
    """Total memory of each GPU in MiB, from nvidia-smi; empty if it is not there.

    Examples:
        >>> from kerastools.device.nvidia import total_memory_mb
        >>> all(total > 0 for total in total_memory_mb())
        True
    """
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
