"""`kerastools.device` on a Keras backend it knows nothing about (numpy, openvino).

Only the dtype policy can be set; the summary shows the CPU.

Implements the backend interface described in `kerastools.backend.tensorflow`:
`NAME`, `DISPLAY_NAME`, `CHANGEABLE_LATER`, `TF_DISTRIBUTE`, `initialized()`,
`plan(request)`, `summary()`, `available(kind)`, `process_index()`. `NAME`
is read from Keras each time, since this module stands in for any backend.

Examples:
    >>> from kerastools.backend import other
    >>> other.available("cpu")
    ['cpu:0']
"""

from __future__ import annotations

from typing import Any

import keras

from kerastools.device.mesh import DistributionRequest
from kerastools.device.report import (
    DeviceInfo,
    DeviceSummary,
    cpu_details,
    dtype_policy,
    package_version,
)
from kerastools.device.request import Plan, Request, policy_step
from kerastools.errors import ConfigError, DeviceError

__all__ = [
    "CHANGEABLE_LATER",
    "DISPLAY_NAME",
    "NAME",
    "TF_DISTRIBUTE",
    "available",
    "distribute",
    "initialized",
    "plan",
    "process_index",
    "summary",
    "value_and_gradient",
]

NAME = "other"  # error messages and summaries use keras.backend.backend() instead
DISPLAY_NAME = ""  # `backend.display_name` falls back to the backend's own name
CHANGEABLE_LATER = ("mixed_precision",)
TF_DISTRIBUTE = False


def initialized() -> bool:
    """False: there is no device setup to fix.

    Examples:
        >>> from kerastools.backend import other
        >>> other.initialized()
        False
    """
    return False


def plan(request: Request) -> Plan:
    """Only the dtype policy.

    Examples:
        >>> from kerastools.backend import other
        >>> from kerastools.device import request
        >>> other.plan(request.validate({})).steps
        []

    Raises:
        DeviceError: anything else asked for.
    """
    asked = [name for name in request.given() if name != "mixed_precision"]
    if asked:
        raise DeviceError(
            f"The {keras.backend.backend()} backend supports only `mixed_precision` here; it "
            f"cannot apply {', '.join(f'`{n}`' for n in asked)}. Nothing was applied."
        )
    return Plan(policy_step(request), False, False)


def summary() -> DeviceSummary:
    """The CPU, the dtype policy, and a note that says no more is known.

    Examples:
        >>> from kerastools.backend import other
        >>> other.summary().physical_devices[0].kind
        'CPU'
    """
    backend = keras.backend.backend()
    return DeviceSummary(
        backend=backend,
        backend_version=package_version(backend),
        physical_devices=(DeviceInfo("CPU", "cpu", details=cpu_details()),),
        logical_devices=(),
        logical_devices_created=False,
        intra_op_threads=None,
        inter_op_threads=None,
        dtype_policy=dtype_policy(),
        notes=(f"kerastools cannot read device details of the {backend} backend.",),
    )


def available(kind: str) -> list[str]:
    """`["cpu:0"]` for "cpu", else nothing.

    Examples:
        >>> from kerastools.backend import other
        >>> other.available("gpu")
        []
    """
    return [f"{kind}:0"] if kind == "cpu" else []


def process_index() -> int:
    """0: a single process.

    Examples:
        >>> from kerastools.backend import other
        >>> other.process_index()
        0
    """
    return 0


def distribute(request: DistributionRequest) -> Any:
    """Refuses: Keras distributes on JAX (keras.distribution) and TensorFlow (tf.distribute) only.

    Examples:
        >>> from kerastools.backend import other
        >>> from kerastools.device import mesh
        >>> from kerastools.errors import DeviceError
        >>> try:
        ...     other.distribute(mesh.validate())
        ... except DeviceError as error:
        ...     print(str(error).split(":")[0])
        The ... backend cannot train on several devices

    Raises:
        DeviceError: always.
    """
    raise DeviceError(
        f"The {keras.backend.backend()} backend cannot train on several devices: Keras "
        "distributes on JAX (keras.distribution) and TensorFlow (tf.distribute). "
        f"Received: distribute({request.arguments()})"
    )


def value_and_gradient(function: Any, at: Any) -> tuple[Any, Any]:
    """Refuses: kerastools takes gradients on TensorFlow, JAX and torch only.

    Raises:
        ConfigError: always, naming the backend.
    """
    raise ConfigError(
        "Gradients (grad_cam, saliency) need the TensorFlow, JAX or torch backend. Received: "
        f"KERAS_BACKEND={keras.backend.backend()!r}; set KERAS_BACKEND to one of those."
    )
