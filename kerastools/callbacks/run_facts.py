"""What a run report says about a run, read from the model, `fit`'s params and the other callbacks.

Pure functions over what a callback can see (Keras gives it `self.model`
and `self.params`; the other callbacks come from `RunReport(callbacks=...)`),
each returning JSON-safe values. The device summary comes from
`kerastools.device`, which callbacks may not import: the package root
(`kerastools/__init__.py`, above every layer) hands `device.summary` to
`set_device_summary_source` at import.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import math
import platform
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import keras

from kerastools.callbacks.periodic_checkpoint import PeriodicCheckpoint
from kerastools.callbacks.threshold_stopping import ThresholdEarlyStopping
from kerastools.checkpoints import list_checkpoints
from kerastools.errors import KerastoolsError
from kerastools.improvement import Direction, best_index, infer_mode
from kerastools.learning_rates import current_learning_rate

__all__ = [
    "best_of",
    "checkpoint_directories",
    "checkpoint_files",
    "compile_settings",
    "device_summary",
    "fit_settings",
    "json_safe",
    "monitored_key",
    "set_device_summary_source",
    "stop_details",
    "versions",
]

# The package of each backend, for its version (read from the metadata, never imported).
_BACKEND_PACKAGES = {"tensorflow": ("tensorflow", "tensorflow-cpu"), "jax": ("jax",), "torch": ("torch",)}
_device_summary_source: Callable[[], Any] | None = None


def set_device_summary_source(source: Callable[[], Any] | None) -> None:
    """Name the function that describes the devices (`kerastools.device.summary`).

    Examples:
        >>> from kerastools.callbacks import run_facts
        >>> run_facts.set_device_summary_source(kt.device.summary)
        >>> run_facts.device_summary()["backend"] == keras.backend.backend()
        True
    """
    global _device_summary_source
    _device_summary_source = source


def json_safe(value: Any) -> Any:
    """`value` as JSON can hold it: non-finite floats as None, tuples as lists, others by `repr`.

    Examples:
        >>> from kerastools.callbacks.run_facts import json_safe
        >>> json_safe({"a": (1, float("nan")), "b": np.float32(0.5), "c": None})
        {'a': [1, None], 'b': 0.5, 'c': None}
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_safe(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return json_safe(dataclasses.asdict(value))
    if isinstance(value, Path):
        return str(value)
    if getattr(value, "shape", None) == () and hasattr(value, "item"):
        return json_safe(value.item())  # a NumPy scalar or 0-d array
    if hasattr(value, "tolist"):
        return json_safe(value.tolist())
    return repr(value)


def _version(*packages: str) -> str | None:
    for package in packages:
        try:
            return importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def versions() -> dict[str, str | None]:
    """Python, Keras, the backend and its package's version, kerastools (None: not installed).

    Examples:
        >>> from kerastools.callbacks.run_facts import versions
        >>> sorted(versions())
        ['backend', 'backend_version', 'keras', 'kerastools', 'python']
    """
    backend = keras.backend.backend()
    return {
        "python": platform.python_version(),
        "keras": keras.version(),
        "backend": backend,
        "backend_version": _version(*_BACKEND_PACKAGES.get(backend, (backend,))),
        "kerastools": _version("kerastools"),
    }


def device_summary() -> Any:
    """The device summary as JSON-safe data; None when no source was named.

    Examples:
        >>> from kerastools.callbacks.run_facts import device_summary
        >>> device_summary()["physical_devices"][0]["kind"]
        'CPU'
    """
    if _device_summary_source is None:
        return None
    return json_safe(_device_summary_source())


def fit_settings(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """The `fit` arguments Keras shows its callbacks (`epochs`, `steps`, `verbose`).

    Examples:
        >>> from kerastools.callbacks.run_facts import fit_settings
        >>> fit_settings({"epochs": 3, "steps": 2, "verbose": 0})
        {'epochs': 3, 'steps': 2, 'verbose': 0}
    """
    return json_safe(dict(params or {}))


def _loss_name(loss: Any) -> Any:
    if loss is None or isinstance(loss, str):
        return loss
    if isinstance(loss, Mapping):
        return {str(key): _loss_name(item) for key, item in loss.items()}
    if isinstance(loss, (list, tuple)):
        return [_loss_name(item) for item in loss]
    return getattr(loss, "name", None) or getattr(loss, "__name__", None) or type(loss).__name__


def compile_settings(model: Any) -> dict[str, Any]:
    """The optimizer (class and `get_config()`), the loss and the metric names `model` was compiled with.

    Examples:
        >>> from kerastools.callbacks.run_facts import compile_settings
        >>> settings = compile_settings(model)
        >>> settings["optimizer"]["class"], settings["loss"]
        ('RMSprop', 'mean_squared_error')
    """
    optimizer = getattr(model, "optimizer", None)
    settings: dict[str, Any] = {"optimizer": None, "loss": _loss_name(getattr(model, "loss", None))}
    if optimizer is not None:
        inner = getattr(optimizer, "inner_optimizer", None)  # LossScaleOptimizer wraps the real one
        settings["optimizer"] = {
            "class": type(optimizer).__name__,
            "inner_class": None if inner is None else type(inner).__name__,
            "config": json_safe(optimizer.get_config()),
        }
    names: list[str] = []
    for metric in getattr(model, "metrics", []):
        inner = getattr(metric, "metrics", None)  # Keras' container of the compiled metrics
        names += [str(m.name) for m in inner] if isinstance(inner, list) else [str(metric.name)]
    settings["metrics"] = names
    return settings


def learning_rate(model: Any) -> float | None:
    """The optimizer's rate at its current step; None when the model has no optimizer to read.

    Examples:
        >>> from kerastools.callbacks.run_facts import learning_rate
        >>> learning_rate(model), learning_rate(keras.Sequential())
        (0.001, None)
    """
    try:
        return json_safe(current_learning_rate(model))
    except (KerastoolsError, AttributeError, TypeError, ValueError):
        return None


def monitored_key(callbacks: Sequence[Any]) -> tuple[str | None, str | None]:
    """The key (and `"min"`/`"max"`) the stopper or the best checkpoint watches, or (None, None).

    Examples:
        >>> from kerastools.callbacks.run_facts import monitored_key
        >>> monitored_key([keras.callbacks.EarlyStopping("val_accuracy")])
        ('val_accuracy', 'max')
    """
    for callback in callbacks:
        if isinstance(callback, ThresholdEarlyStopping):
            return callback.monitor, callback.mode
        if isinstance(callback, keras.callbacks.EarlyStopping):
            mode = getattr(callback, "mode", "auto")
            return callback.monitor, mode if mode in ("min", "max") else _inferred(callback.monitor)
        if isinstance(callback, PeriodicCheckpoint) and callback.save_best is not None:
            return callback.save_best, callback.mode
    return None, None


def _inferred(key: str) -> str | None:
    try:
        return infer_mode(key)
    except KerastoolsError:
        return None


def best_of(epochs: Sequence[int], values: Sequence[Any], mode: Direction) -> tuple[int | None, float | None]:
    """The epoch (as numbered in `epochs`) with the best finite value, and that value.

    Examples:
        >>> from kerastools.callbacks.run_facts import best_of
        >>> best_of([1, 2, 3], [0.5, 0.2, None], "min")
        (2, 0.2)
    """
    finite = [(epoch, value) for epoch, value in zip(epochs, values, strict=False) if value is not None]
    index = best_index([value for _, value in finite], mode)
    if index is None:
        return None, None
    return finite[index]


def stop_details(callbacks: Sequence[Any]) -> dict[str, Any] | None:
    """Who stopped training, why and at which epoch, from a stopper among `callbacks`; None if none did.

    Examples:
        >>> from kerastools.callbacks.run_facts import stop_details
        >>> stop_details([kt.callbacks.ThresholdEarlyStopping("loss")]) is None
        True
    """
    for callback in callbacks:
        if isinstance(callback, ThresholdEarlyStopping) and callback.stopped_epoch > 0:
            return {
                "by": "ThresholdEarlyStopping",
                "reason": callback.stopping_reason.name,
                "message": callback.stopping_message,
                "epoch": callback.stopped_epoch,
            }
        if isinstance(callback, keras.callbacks.EarlyStopping) and callback.stopped_epoch > 0:
            epoch = callback.stopped_epoch + 1  # Keras counts from 0
            return {
                "by": "EarlyStopping",
                "reason": "PATIENCE",
                "message": (
                    f"Epoch {epoch}: {callback.monitor} did not improve by more than "
                    f"min_delta={abs(callback.min_delta)} for patience={callback.patience} epochs"
                ),
                "epoch": epoch,
            }
    return None


def checkpoint_directories(callbacks: Sequence[Any], extra: Path | None) -> list[Path]:
    """The directories of the `PeriodicCheckpoint`s among `callbacks`, then `extra`, each once.

    Examples:
        >>> from kerastools.callbacks.run_facts import checkpoint_directories
        >>> checkpoint_directories([kt.callbacks.PeriodicCheckpoint("ckpt")], Path("ckpt"))
        [PosixPath('ckpt')]
    """
    found = [callback.directory for callback in callbacks if isinstance(callback, PeriodicCheckpoint)]
    if extra is not None:
        found.append(extra)
    return list(dict.fromkeys(Path(directory) for directory in found))


def checkpoint_files(directory: Path) -> dict[str, Any]:
    """The checkpoint files in `directory`, from their records (the best one last), or the error.

    Examples:
        >>> from kerastools.callbacks.run_facts import checkpoint_files
        >>> checkpoint_files(tmp_path)
        {'directory': '...', 'files': [], 'error': None}
    """
    entry: dict[str, Any] = {"directory": str(directory), "files": [], "error": None}
    try:
        infos = list_checkpoints(directory, include_best=True) if directory.is_dir() else []
    except KerastoolsError as error:
        entry["error"] = str(error)
        return entry
    entry["files"] = [
        {
            "path": str(info.path),
            "kind": info.kind,
            "epoch": info.epoch,
            "step": info.step,
            "size": info.size,
            "sha256": info.sha256,
        }
        for info in infos
    ]
    return entry
