"""`use`: run Keras work on one named device, after checking that it exists.

Examples:
    >>> from kerastools.device.placement import use
    >>> with use("cpu") as name:
    ...     pass
    >>> name
    'cpu:0'
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

import keras

from kerastools import backend
from kerastools.errors import ConfigError, ConfigTypeError, DeviceError

__all__ = ["use"]

_DEVICE_PATTERN = re.compile(r"^(?:/?device:|/)?(cpu|gpu|tpu)(?::(\d+))?$", re.IGNORECASE)


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
    devices = backend.current().available
    available = devices(kind)
    if index >= len(available):
        there = ", ".join(devices("cpu") + devices("gpu")) or "none"
        hint = " A CPU-only machine is normal: use 'cpu'." if kind == "gpu" and not available else ""
        raise DeviceError(
            f"Argument `device` names {kind}:{index}, which the {keras.backend.backend()} "
            f"backend does not have; it has: {there}.{hint} Received: device={device!r}"
        )
    name = f"{kind}:{index}"
    # The backend's own name: on torch "cpu:0" is not "cpu", so variables built
    # under keras.device("cpu:0") become copies torch cannot train (keras 3.15.1).
    with keras.device(available[index]):
        yield name
