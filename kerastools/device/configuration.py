"""`configure`: devices, threads and precision in one call, first thing in the program.

It checks every argument (`kerastools.device.request`), asks the running
backend's module for a plan, refuses the whole plan when a step comes too
late, then applies it step by step.

Examples:
    >>> from kerastools.device.configuration import configure
    >>> configure().dtype_policy
    'float32'
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Literal

import keras

from kerastools import backend
from kerastools.device.report import DeviceSummary, summary
from kerastools.device.request import too_late_error, validate, warn_float16_on_cpu
from kerastools.errors import DeviceError

__all__ = ["GpuSelection", "MixedPrecision", "configure"]

logger = logging.getLogger(__name__)

GpuSelection = Literal["all", "none"] | int | Sequence[int]
MixedPrecision = Literal["mixed_float16", "mixed_bfloat16", "float32"]


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
    request = validate(
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
    name = keras.backend.backend()
    module = backend.current()
    plan = module.plan(request)
    too_late = [step.argument for step in plan.steps if step.fixed_at_start and plan.initialized]
    if too_late:
        unique = sorted(set(too_late), key=too_late.index)
        raise too_late_error(name, module.CHANGEABLE_LATER, unique, request)
    applied: list[str] = []
    for step in plan.steps:
        try:
            step.apply()
        except RuntimeError as error:  # the backend started between our check and now
            late = too_late_error(name, module.CHANGEABLE_LATER, [step.argument], request, applied)
            raise DeviceError(f"{late} ({name} said: {error})") from error
        applied.append(step.argument)
        logger.debug("device.configure applied %s", step.argument)
    if request.mixed_precision == "mixed_float16" and not plan.gpu_visible:
        warn_float16_on_cpu()
    return summary()
