"""Device configuration, a readable device summary, placement and distribution.

TensorFlow fixes its device setup (visible GPUs, memory growth, memory caps,
logical CPUs, thread pools) the first time it runs anything; a setter called
later fails with a bare `RuntimeError`. JAX reads its settings when it starts
its backend. `configure` does all of it in one call, checks every argument
before it applies any, and explains what to do when it is too late.

The backend-specific work is done by `kerastools.backend`, one module per
backend (`tensorflow`, `jax`, `torch`, with the same functions) picked once by
`kerastools.backend.current()`; they import their backend inside functions
only, so the jax and torch backends never load TensorFlow.

Examples:
    >>> summary = kt.device.summary()
    >>> summary.dtype_policy
    'float32'
"""

from kerastools.device.configuration import configure
from kerastools.device.distribution import distribute, strategy
from kerastools.device.placement import use
from kerastools.device.report import DeviceInfo, DeviceSummary, summary

__all__ = [
    "DeviceInfo",
    "DeviceSummary",
    "summary",
    "configure",
    "use",
    "strategy",
    "distribute",
]
