"""Exceptions raised by kerastools.

Every error subclasses both `KerastoolsError` and the matching builtin, so
callers can catch either.

Examples:
    >>> try:
    ...     kerastools.compile(model, optimizer="adamw")
    ... except ValueError as error:   # or kerastools.errors.KerastoolsError
    ...     message = str(error)
    >>> message.startswith("Argument `optimizer` must be one of")
    True
"""

from __future__ import annotations

__all__ = [
    "KerastoolsError",
    "ConfigError",
    "ConfigTypeError",
    "CheckpointError",
    "DatasetError",
    "DeviceError",
]


class KerastoolsError(Exception):
    """Base class of every error kerastools raises on purpose."""


class ConfigError(KerastoolsError, ValueError):
    """An argument has a value kerastools cannot accept."""


class ConfigTypeError(KerastoolsError, TypeError):
    """An argument has a type kerastools cannot accept."""


class CheckpointError(KerastoolsError, ValueError):
    """A checkpoint cannot be written, read, or does not fit the model."""


class DatasetError(KerastoolsError, OSError):
    """A dataset cannot be found or its files are corrupt."""


class DeviceError(KerastoolsError, RuntimeError):
    """A device setting cannot be applied (missing device, too late, wrong backend)."""
