"""The PyTorch side of `kerastools.device`.

Keras' torch backend picks its device when keras is imported, so here
`configure` sets only threads and precision; torch starts CUDA lazily, so
until then GPUs are listed from the NVIDIA driver.

Implements the backend interface described in `kerastools.backend.tensorflow`:
`NAME`, `DISPLAY_NAME`, `CHANGEABLE_LATER`, `TF_DISTRIBUTE`, `initialized()`,
`plan(request)`, `summary()`, `available(kind)`, `process_index()`,
`value_and_gradient(function, at)`.

Examples:
    >>> from kerastools.backend import torch
    >>> torch.DISPLAY_NAME
    'PyTorch'
"""

from __future__ import annotations

import functools
import os
from typing import Any

from kerastools.device import nvidia
from kerastools.device.mesh import DistributionRequest
from kerastools.device.report import (
    DeviceInfo,
    DeviceSummary,
    cpu_details,
    dtype_policy,
    no_gpu_notes,
)
from kerastools.device.request import Plan, Request, Step, check_supported, policy_step
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

NAME = "torch"
DISPLAY_NAME = "PyTorch"
CHANGEABLE_LATER = ("intra_op_threads", "mixed_precision")
TF_DISTRIBUTE = False

# What torch cannot do, and what to do instead.
UNSUPPORTED = {
    "gpus": "Keras' torch backend picks its device when keras is imported; set "
    "CUDA_VISIBLE_DEVICES (or KERAS_TORCH_DEVICE=cpu) before starting Python",
    "memory_growth": "PyTorch's caching allocator always grows on demand",
    "memory_limit_mb": "use `torch.cuda.set_per_process_memory_fraction` instead",
    "logical_cpus": "PyTorch has no logical CPU devices",
    "soft_placement": "PyTorch never moves work to another device by itself",
    "log_placement": "PyTorch has no device-placement log",
    "jit": "Keras' torch backend compiles only with `jit_compile=True` in `model.compile`",
}


def initialized() -> bool:
    """Whether torch has started CUDA (public API: `torch.cuda.is_initialized`).

    Examples:
        >>> from kerastools.backend import torch
        >>> torch.initialized()   # doctest: +SKIP
        False
    """
    import torch

    return bool(torch.cuda.is_initialized())


def plan(request: Request) -> Plan:
    """The steps that apply `request` on torch: threads and precision.

    Nothing in it is fixed at start, so the plan never reports the backend
    as initialised: torch itself refuses a late inter-op change.

    Examples:
        >>> from kerastools.backend import torch
        >>> from kerastools.device import request
        >>> torch.plan(request.validate({})).steps   # doctest: +SKIP
        []

    Raises:
        DeviceError: a setting torch cannot apply.
        ConfigError: a thread count of 0 (torch has no automatic setting).
    """
    import torch

    check_supported(NAME, UNSUPPORTED, request, harmless={"gpus": "all"})
    for name in ("intra_op_threads", "inter_op_threads"):
        if getattr(request, name) == 0:
            raise ConfigError(
                f"Argument `{name}` must be >= 1 on the torch backend (it has no automatic "
                f"setting). Received: {name}=0"
            )
    steps: list[Step] = []
    intra, inter = request.intra_op_threads, request.inter_op_threads
    if intra is not None and intra != torch.get_num_threads():
        # torch lets this change at any time.
        steps.append(Step("intra_op_threads", False, functools.partial(torch.set_num_threads, intra)))
    if inter is not None and inter != torch.get_num_interop_threads():
        # Fixed once torch has run parallel work; torch raises RuntimeError then.
        steps.append(
            Step("inter_op_threads", False, functools.partial(torch.set_num_interop_threads, inter))
        )
    steps += policy_step(request)
    return Plan(steps, False, bool(torch.cuda.is_available()))


def summary() -> DeviceSummary:
    """The device summary on torch; lists GPUs from the NVIDIA driver until CUDA starts.

    Examples:
        >>> from kerastools.backend import torch
        >>> torch.summary().backend   # doctest: +SKIP
        'torch'
    """
    import torch

    created = initialized()
    physical = [DeviceInfo("CPU", "cpu", details=cpu_details())]
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
        for gpu in nvidia.driver_gpus():
            physical.append(DeviceInfo("GPU", f"cuda:{gpu.ordinal}", visible=not hidden, details=gpu.model))
        notes.append("torch has not started CUDA yet; GPUs are listed from the NVIDIA driver.")
    notes += no_gpu_notes(physical)
    return DeviceSummary(
        backend=NAME,
        backend_version=str(torch.__version__),
        physical_devices=tuple(physical),
        logical_devices=tuple(logical),
        logical_devices_created=created,
        intra_op_threads=int(torch.get_num_threads()),
        inter_op_threads=int(torch.get_num_interop_threads()),
        dtype_policy=dtype_policy(),
        notes=tuple(notes),
    )


def available(kind: str) -> list[str]:
    """Names of torch's devices of `kind`: "cpu", or "cuda:0", "cuda:1", ... for "gpu".

    Examples:
        >>> from kerastools.backend import torch
        >>> torch.available("cpu")   # doctest: +SKIP
        ['cpu']
    """
    import torch

    if kind == "cpu":
        return ["cpu"]
    return [f"cuda:{i}" for i in range(torch.cuda.device_count())] if kind == "gpu" else []


def process_index() -> int:
    """0: kerastools does not read torch.distributed ranks.

    Examples:
        >>> from kerastools.backend import torch
        >>> torch.process_index()
        0
    """
    return 0


def distribute(request: DistributionRequest) -> Any:
    """Refuses: Keras has no distribution API for torch; use torch.distributed.

    Examples:
        >>> from kerastools.backend import torch
        >>> from kerastools.device import mesh
        >>> torch.distribute(mesh.validate())
        Traceback (most recent call last):
        ...
        kerastools.errors.DeviceError: Keras has no distribution API for the torch backend ...

    Raises:
        DeviceError: always.
    """
    raise DeviceError(
        "Keras has no distribution API for the torch backend (keras.distribution runs on JAX; "
        "kerastools.device.strategy on TensorFlow). On torch, wrap the model in "
        "torch.nn.parallel.DistributedDataParallel and start the processes with torchrun, or "
        "run this script with KERAS_BACKEND=jax or tensorflow. "
        f"Received: distribute({request.arguments()})"
    )


def value_and_gradient(function: Any, at: Any) -> tuple[Any, Any]:
    """`function(at)`'s auxiliary output and the gradient of the sum of its scores, with `torch.autograd.grad`, on Keras' device.

    As `kerastools.backend.tensorflow.value_and_gradient`; NumPy in, NumPy out.

    Examples:
        >>> from kerastools.backend import torch
        >>> aux, grad = torch.value_and_gradient(lambda t: (2 * t, t + 1), np.zeros(2, "float32"))
        >>> aux.tolist(), grad.tolist()
        ([1.0, 1.0], [2.0, 2.0])
    """
    import keras
    import numpy as np
    import torch

    # On Keras' device (the GPU when there is one) when Keras runs on torch.
    on_keras = keras.backend.backend() == "torch"
    point = keras.ops.convert_to_tensor(at) if on_keras else torch.as_tensor(np.asarray(at))
    point = point.detach().requires_grad_(True)
    with torch.enable_grad():
        scores, aux = function(point)
        (gradient,) = torch.autograd.grad(torch.sum(scores), point, allow_unused=True)
    if gradient is None:  # the scores do not depend on `at`
        gradient = torch.zeros_like(point)
    return (
        keras.tree.map_structure(lambda t: t.detach().cpu().numpy(), aux),
        gradient.detach().cpu().numpy(),
    )
