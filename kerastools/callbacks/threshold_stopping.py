"""Early stopping that says why: a target reached, a plateau, divergence or a non-finite value.

The stop rule is a pure function of the monitored values
(`kerastools.callbacks.stop_rule.stop_decision`, its rule spelled out there),
tested without Keras; `ThresholdEarlyStopping` feeds it the value of each
epoch and acts on the answer.
"""

from __future__ import annotations

import contextlib
import logging
import math
import weakref
from collections.abc import Mapping
from typing import Any

from kerastools._console import print_msg
from kerastools._validation import check_bool, check_int
from kerastools.callbacks.monitor import Mode, MonitorCallback
from kerastools.callbacks.state import (
    ResumableCallbackState,
    decode_float,
    decode_floats,
    encode_float,
    encode_floats,
)
from kerastools.callbacks.stop_rule import StopDecision, StoppingReason, StopRule, stop_decision
from kerastools.errors import ConfigError
from kerastools.improvement import is_improvement

__all__ = ["StoppingReason", "StopDecision", "stop_decision", "ThresholdEarlyStopping", "stopper_of"]

logger = logging.getLogger(__name__)

# The stopper that ended each model's current or last fit: Keras shows a callback no other
# callback, and TensorBoardLogger writes the reason into its log.
_STOPPED_BY: weakref.WeakKeyDictionary[Any, ThresholdEarlyStopping] = weakref.WeakKeyDictionary()


def stopper_of(model: Any) -> ThresholdEarlyStopping | None:
    """The `ThresholdEarlyStopping` that stopped `model`'s current or last `fit`, or None.

    Examples:
        >>> stopper = kt.callbacks.ThresholdEarlyStopping("loss", threshold=100.0, patience=0)
        >>> _ = model.fit(x, y, epochs=3, verbose=0, callbacks=[stopper])
        >>> stopper_of(model) is stopper, stopper.stopped_epoch
        (True, 1)
    """
    try:
        return _STOPPED_BY.get(model)
    except TypeError:
        return None


class ThresholdEarlyStopping(ResumableCallbackState, MonitorCallback):
    """Stop training once a metric reaches a target and stops improving, or goes bad.

    Training stops once the monitored value has reached `threshold` and has
    improved by no more than `min_delta` on the previous epoch for `patience`
    epochs in a row. With `threshold=None` the plateau rule alone applies.
    `divergence_threshold` and `check_finite` stop at once on a value that has
    gone bad. The exact rule is in `kerastools.callbacks.stop_rule`'s docstring.

    After training, `stopped_epoch` (1-based, as Keras prints epochs; 0 when
    this callback did not stop), `stopping_reason` and `stopping_message` tell
    what happened. The message is logged once and printed when `verbose`.

    Examples:
        >>> stopper = kt.callbacks.ThresholdEarlyStopping("loss", threshold=100.0, patience=0)
        >>> history = model.fit(x, y, epochs=5, callbacks=[stopper], verbose=0)
        >>> stopper.stopped_epoch, stopper.stopping_reason.name
        (1, 'THRESHOLD_REACHED')
        >>> stopper.stopping_message
        'Epoch 1: loss=... <= threshold=100; stopping training.'

    Args:
        monitor: the key in `logs` to watch. Defaults to `"val_accuracy"`.
        threshold: the target value; `None` for the plateau rule alone.
            Defaults to None.
        min_delta: an epoch that improves on the previous one by no more than
            this counts toward `patience`. Defaults to 0.0.
        patience: plateau epochs in a row needed to stop; 0 stops as soon as
            `threshold` is reached (needs a threshold). Defaults to 1.
        mode: `"max"`, `"min"`, or `"auto"` to infer it from the name
            (accuracy-like: max, loss-like: min). Defaults to `"auto"`.
        divergence_threshold: stop at once when the value is worse than this.
            Defaults to None.
        check_finite: stop at once when the value is NaN or infinite.
            Defaults to True.
        start_from_epoch: epochs (0-based index, as in Keras) before this one
            are not checked for the target, plateau or divergence, and their
            weights are never the best; a non-finite value stops even then.
            Defaults to 0.
        restore_best_weights: at the end of training, whatever stopped it,
            restore the weights of the epoch with the best finite value.
            Defaults to False.
        verbose: 1 prints the stopping message and the restore.
            Defaults to 0.

    Attributes:
        stopped_epoch: the 1-based epoch at which this callback stopped
            training, 0 if it did not.
        stopping_reason: a `StoppingReason`; `NOT_STOPPED` if it did not stop.
        stopping_message: why it stopped, quoting the metric, its value, the
            comparison and the threshold; empty if it did not stop.
        best: the best monitored value seen; best_epoch: its 1-based epoch.

    Raises:
        ConfigError: a bad argument, an ambiguous `mode="auto"`, and, during
            `fit`, a monitored key missing from `logs` (the message lists the
            keys that are there).
    """

    def __init__(
        self,
        monitor: str = "val_accuracy",
        *,
        threshold: float | None = None,
        min_delta: float = 0.0,
        patience: int = 1,
        mode: Mode = "auto",
        divergence_threshold: float | None = None,
        check_finite: bool = True,
        start_from_epoch: int = 0,
        restore_best_weights: bool = False,
        verbose: int = 0,
    ):
        super().__init__(monitor, mode, min_delta)
        self._rule = StopRule.create(
            mode=self.mode,
            threshold=threshold,
            min_delta=self.min_delta,
            patience=patience,
            divergence_threshold=divergence_threshold,
            check_finite=check_finite,
        )
        self.threshold = self._rule.threshold
        self.patience = self._rule.patience
        self.divergence_threshold = self._rule.divergence_threshold
        self.check_finite = self._rule.check_finite
        self.start_from_epoch = check_int("start_from_epoch", start_from_epoch, low=0)
        self.restore_best_weights = check_bool("restore_best_weights", restore_best_weights)
        self.verbose = check_int("verbose", verbose, low=0)
        self._reset()

    def _reset(self) -> None:
        self.stopped_epoch = 0
        self.stopping_reason = StoppingReason.NOT_STOPPED
        self.stopping_message = ""
        self.best = self.worst_value()
        self.best_epoch = 0
        self.best_weights: list[Any] | None = None
        self._values: list[float] = []
        self._first_epoch: int | None = None

    def on_train_begin(self, logs: Mapping[str, Any] | None = None) -> None:
        self._keep_last_run()  # a re-fit from initial_epoch > 0 continues it (on_epoch_begin)
        self._reset()
        self.reset_monitor()
        self._resume_pending()
        with contextlib.suppress(TypeError):  # a model no weak reference can point to (a test double)
            _STOPPED_BY.pop(self.model, None)

    def on_epoch_begin(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        self._continue_run(epoch)

    def get_state(self) -> dict[str, Any]:
        """The values seen, the best value and its epoch, as a JSON-safe dict.

        `set_state` of this dict before a resumed `fit` continues the rule as
        if the run had not stopped: the plateau count spans the restart and a
        worse epoch after it is not the best. The best weights themselves are
        not part of the state: after a resume, `restore_best_weights` restores
        the best epoch seen since.
        """
        return {
            "kind": type(self).__name__,
            "monitor": self.monitor,
            "values": encode_floats(self._values),
            "first_epoch": self._first_epoch,
            "best": encode_float(self.best),
            "best_epoch": self.best_epoch,
        }

    def _apply_state(self, state: dict[str, Any]) -> None:
        if state.get("monitor") != self.monitor:
            raise ConfigError(
                f"The saved state watched {state.get('monitor')!r}, this callback watches "
                f"{self.monitor!r}. Received: state={state!r}"
            )
        self._values = decode_floats(state.get("values"), "values")
        first, best_epoch = state.get("first_epoch"), state.get("best_epoch", 0)
        self._first_epoch = None if first is None else check_int("first_epoch", first, low=0)
        self.best = decode_float(state.get("best"), "best")
        self.best_epoch = check_int("best_epoch", best_epoch, low=0)
        self._validated_epochs = len(self._values)

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        value = self.monitored_value(logs)
        if value is None:
            return  # an epoch without validation (validation_freq)
        if self._first_epoch is None:
            self._first_epoch = epoch
        self._values.append(value)
        checked = epoch >= self.start_from_epoch
        if (
            checked
            and math.isfinite(value)
            and (self.best_epoch == 0 or self._is_better(value, self.best))
        ):
            self.best = value
            self.best_epoch = epoch + 1
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
        decision = self._rule.decide(
            self._values,
            start=max(0, self.start_from_epoch - self._first_epoch),
            monitor=self.monitor,
        )
        if decision.should_stop:
            self.model.stop_training = True
            with contextlib.suppress(TypeError):
                _STOPPED_BY[self.model] = self
            self.stopped_epoch = epoch + 1
            self.stopping_reason = decision.reason
            self.stopping_message = f"Epoch {epoch + 1}: {decision.message}; stopping training."
            logger.info("%s", self.stopping_message)
            if self.verbose:
                print_msg(self.stopping_message)

    def on_train_end(self, logs: Mapping[str, Any] | None = None) -> None:
        self.check_validated()
        if not self.restore_best_weights:
            return
        if self.best_weights is None:
            message = f"restore_best_weights: no checked epoch had a finite {self.monitor}; weights left as they are."
            logger.warning("%s", message)
        else:
            self.model.set_weights(self.best_weights)
            message = f"Restoring model weights from the end of the best epoch: {self.best_epoch} ({self.monitor}={self.best:.6g})."
            logger.info("%s", message)
        if self.verbose:
            print_msg(message)

    def _is_better(self, value: float, reference: float) -> bool:
        return is_improvement(value, reference, mode=self.mode)
