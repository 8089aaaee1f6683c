"""The shared base of callbacks that watch one metric: `monitor`, `mode`, `min_delta`.

Same names and meanings as Keras' `EarlyStopping` and `ModelCheckpoint`, but an
ambiguous `mode="auto"` and a missing metric are errors, not warnings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import keras

from kerastools._validation import check_choice, check_float, check_name
from kerastools.errors import ConfigError
from kerastools.improvement import is_improvement, worst_value

__all__ = ["Mode", "infer_mode", "MonitorCallback"]

Mode = Literal["auto", "min", "max"]

# Substrings that say which way a metric improves. Checked max-first, so
# "val_accuracy" is max even though some loss-like names are substrings of others.
_MAX_HINTS = ("acc", "auc", "precision", "recall", "f1", "iou", "r2", "top_k")
_MIN_HINTS = ("loss", "error", "mse", "mae", "mape", "msle", "crossentropy", "hinge", "divergence")


def infer_mode(monitor: str) -> Literal["min", "max"]:
    """Which way `monitor` improves: "max" for accuracy-like names, "min" for loss-like ones.

    Examples:
        >>> infer_mode("val_accuracy"), infer_mode("val_loss")
        ('max', 'min')

    Raises:
        ConfigError: the name matches neither family (or both); pass `mode`.
    """
    name = monitor.lower()
    is_max = any(hint in name for hint in _MAX_HINTS)
    is_min = any(hint in name for hint in _MIN_HINTS)
    if is_max == is_min:
        raise ConfigError(
            f"Cannot infer whether {monitor!r} should be minimised or maximised; pass "
            f"mode='min' or mode='max'. Received: monitor={monitor!r}, mode='auto'"
        )
    return "max" if is_max else "min"


class MonitorCallback(keras.callbacks.Callback):
    """Base for callbacks that track whether one metric improves.

    Subclasses call `get_monitor_value(logs)` and `is_improvement(value, reference)`.

    Examples:
        >>> class PrintBest(MonitorCallback):
        ...     def on_epoch_end(self, epoch, logs=None):
        ...         value = self.get_monitor_value(logs)
        ...         if self.is_improvement(value, self.best):
        ...             self.best = value

    Args:
        monitor: the key in `logs` to watch, e.g. `"val_loss"`.
        mode: `"min"`, `"max"` or `"auto"` (inferred from the name).
            Defaults to `"auto"`.
        min_delta: the smallest change that counts as an improvement.
            Defaults to 0.0.

    Raises:
        ConfigError: an empty monitor, unknown mode, negative min_delta, or an
            `"auto"` mode that cannot be inferred.
    """

    def __init__(self, monitor: str, mode: Mode = "auto", min_delta: float = 0.0):
        super().__init__()
        self.monitor = str(check_name("monitor", monitor, allow_none=False))
        mode = check_choice("mode", mode, ["auto", "min", "max"])  # type: ignore[assignment]
        self.mode: Literal["min", "max"] = infer_mode(self.monitor) if mode == "auto" else mode  # type: ignore[assignment]
        self.min_delta = check_float("min_delta", min_delta, low=0.0)
        self.best = self.worst_value()

    def worst_value(self) -> float:
        """The starting `best`: +inf when minimising, -inf when maximising."""
        return worst_value(self.mode)

    def is_improvement(self, value: float, reference: float) -> bool:
        """True when `value` beats `reference` by more than `min_delta`."""
        return is_improvement(value, reference, mode=self.mode, min_delta=self.min_delta)

    def get_monitor_value(self, logs: Mapping[str, Any] | None) -> float:
        """The monitored value from `logs`, as a float.

        Raises:
            ConfigError: the key is missing; the message lists the keys that
                are there (most often: a `val_` metric without validation data).
        """
        logs = logs or {}
        if self.monitor not in logs:
            hint = ""
            if self.monitor.startswith("val_"):
                hint = " Pass validation_data (or validation_split) to fit() to get val_ metrics."
            raise ConfigError(
                f"Monitored metric {self.monitor!r} is not in the logs; available keys: "
                f"{sorted(logs)}.{hint}"
            )
        return float(keras.ops.convert_to_numpy(logs[self.monitor]))
