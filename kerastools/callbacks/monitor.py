"""The shared base of callbacks that watch one metric: `monitor`, `mode`, `min_delta`.

Same names and meanings as Keras' `EarlyStopping` and `ModelCheckpoint`, but an
ambiguous `mode="auto"` and a missing metric are errors, not warnings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import keras
import numpy as np

from kerastools._validation import check_choice, check_float, check_name
from kerastools.errors import ConfigError
from kerastools.improvement import infer_mode, is_improvement, worst_value

__all__ = ["Mode", "infer_mode", "MonitorCallback", "scalar_monitor_value"]

Mode = Literal["auto", "min", "max"]

class MonitorCallback(keras.callbacks.Callback):
    """Base for callbacks that track whether one metric improves.

    Subclasses call `monitored_value(logs)` (None on epochs without
    validation) and `is_improvement(value, reference)`, `reset_monitor()` at
    the start of `fit` and `check_validated()` at its end.

    Examples:
        >>> class PrintBest(MonitorCallback):
        ...     def on_epoch_end(self, epoch, logs=None):
        ...         value = self.monitored_value(logs)
        ...         if value is not None and self.is_improvement(value, self.best):
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
        self.reset_monitor()

    def worst_value(self) -> float:
        """The starting `best`: +inf when minimising, -inf when maximising."""
        return worst_value(self.mode)

    def is_improvement(self, value: float, reference: float) -> bool:
        """True when `value` beats `reference` by more than `min_delta`."""
        return is_improvement(value, reference, mode=self.mode, min_delta=self.min_delta)

    def reset_monitor(self) -> None:
        """Forget which epochs validated; call at the start of every `fit`."""
        self._validated_epochs = 0
        self._skipped_logs: list[str] | None = None

    def monitored_value(self, logs: Mapping[str, Any] | None) -> float | None:
        """The monitored value, or None on an epoch that ran no validation.

        With `fit(..., validation_freq=k)` only every k-th epoch has `val_`
        metrics; a `val_` monitor skips the others, as Keras' own callbacks do.
        A key missing from an epoch that did validate is an error at once (a
        typo); a `fit` in which no epoch validated fails in `check_validated`.
        """
        logs = logs or {}
        validated = any(key.startswith("val_") for key in logs)
        if self.monitor.startswith("val_") and self.monitor not in logs and not validated:
            self._skipped_logs = sorted(logs)
            return None
        self._validated_epochs += 1
        return self.get_monitor_value(logs)

    def check_validated(self) -> None:
        """At the end of `fit`: raise when a `val_` monitor never saw a validated epoch.

        Raises:
            ConfigError: no epoch of this `fit` logged the monitored metric.
        """
        if self._validated_epochs == 0 and self._skipped_logs is not None:
            self.get_monitor_value(dict.fromkeys(self._skipped_logs, 0.0))

    def get_monitor_value(self, logs: Mapping[str, Any] | None) -> float:
        """The monitored value from `logs`, as a float.

        Raises:
            ConfigError: the key is missing; the message lists the keys that
                are there (most often: a `val_` metric without validation data).
                Or its value is not one number (`scalar_monitor_value`).
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
        return scalar_monitor_value(self.monitor, logs[self.monitor])


def scalar_monitor_value(monitor: str, value: Any) -> float:
    """The logged `value` of the metric `monitor` as a float; it must be one number.

    Examples:
        >>> scalar_monitor_value("val_loss", np.float32(0.25))
        0.25
        >>> scalar_monitor_value("val_f1_score", np.array([0.5, 0.7]))
        Traceback (most recent call last):
        ...
        kerastools.errors.ConfigError: Monitored metric 'val_f1_score' must be a scalar (one number per epoch); ... shape (2,)...average='macro'...

    Raises:
        ConfigError: a string, a value that is not a number, or more than one
            number (a per-class metric); the message says how to get a scalar.
    """
    if isinstance(value, (str, bytes)):
        array = None
    else:
        try:
            array = np.asarray(keras.ops.convert_to_numpy(value))
        except (TypeError, ValueError):
            array = None
    if array is not None and array.dtype.kind in "biuf" and array.size == 1:
        return float(array.reshape(()))
    shape = "not a number" if array is None or array.dtype.kind not in "biuf" else f"shape {array.shape}"
    raise ConfigError(
        f"Monitored metric {monitor!r} must be a scalar (one number per epoch); its logged value is "
        f"{shape}. Received: {monitor}={value!r:.200}. A per-class metric such as "
        "keras.metrics.F1Score(average=None) gives one value per class: compile it with "
        "average='macro' (or 'micro', 'weighted') to monitor it, or monitor another key."
    )
