"""The stop rule of `ThresholdEarlyStopping`, as a pure function of the monitored values.

`stop_decision` is tested without Keras; `ThresholdEarlyStopping` feeds it the
value of each epoch and acts on the answer.

The rule, for the values v_1, v_2, ... of the epochs checked so far (epochs
before `start_from_epoch` are not checked), evaluated after each epoch t:

1. `check_finite` and v_t is NaN or infinite: stop, `NON_FINITE` (checked from
   the first epoch on, warm-up included: NaN weights do not recover).
2. `divergence_threshold` is set and v_t is worse than it (strictly below it
   when maximising, strictly above it when minimising): stop, `DIVERGED`.
3. Epoch t is a *plateau epoch* when v_t does not improve on v_(t-1) by more
   than `min_delta`: v_t <= v_(t-1) + min_delta when maximising,
   v_t >= v_(t-1) - min_delta when minimising. A value that gets worse is a
   plateau epoch too; only a real improvement resets the count. Let r_t be the
   number of plateau epochs in a row ending at t (the first checked epoch has
   no predecessor, so r = 0 there).
4. With a `threshold`: stop, `THRESHOLD_REACHED`, when v_t has reached it
   (v_t >= threshold when maximising, v_t <= threshold when minimising) and
   r_t >= patience. `patience=0` stops as soon as the threshold is reached.
5. With `threshold=None` (the plateau rule alone): stop, `PLATEAU`, when
   r_t >= patience (patience >= 1).

Unlike Keras' `EarlyStopping`, which counts epochs since the best value so far,
step 3 compares consecutive epochs: the classic "stop when the change between two
consecutive values falls below a threshold". "Changed by less than
`min_delta`" is read as "improved by no more than `min_delta`": the literal
absolute change would never fire with the default `min_delta=0`, and a metric
that collapses is not still learning.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Sequence
from typing import Literal, NamedTuple

from kerastools._validation import check_bool, check_choice, check_float, check_int
from kerastools.errors import ConfigError, ConfigTypeError
from kerastools.improvement import is_improvement

__all__ = ["StopDecision", "StopRule", "StoppingReason", "stop_decision"]


class StoppingReason(enum.Enum):
    """Why `ThresholdEarlyStopping` stopped training (or that it did not).

    Examples:
        >>> StoppingReason.THRESHOLD_REACHED.value
        'threshold_reached'
    """

    NOT_STOPPED = "not_stopped"
    THRESHOLD_REACHED = "threshold_reached"
    PLATEAU = "plateau"
    DIVERGED = "diverged"
    NON_FINITE = "non_finite"


class StopDecision(NamedTuple):
    """The answer of `stop_decision`: whether to stop, why, and a sentence saying so."""

    should_stop: bool
    reason: StoppingReason
    message: str


_NOT_STOPPED = StopDecision(False, StoppingReason.NOT_STOPPED, "")


@dataclasses.dataclass(frozen=True)
class StopRule:
    """Validated settings of the stop rule (see the module docstring).

    Examples:
        >>> rule = StopRule.create(mode="min", threshold=0.1, min_delta=0.0, patience=0,
        ...                        divergence_threshold=None, check_finite=True)
        >>> rule.decide([0.5, 0.09], start=0, monitor="loss").reason.name
        'THRESHOLD_REACHED'
    """

    mode: Literal["min", "max"]
    threshold: float | None
    min_delta: float
    patience: int
    divergence_threshold: float | None
    check_finite: bool

    @classmethod
    def create(
        cls,
        *,
        mode: str,
        threshold: float | None,
        min_delta: float,
        patience: int,
        divergence_threshold: float | None,
        check_finite: bool,
    ) -> StopRule:
        mode = check_choice("mode", mode, ["min", "max"])
        if threshold is not None:
            threshold = check_float("threshold", threshold)
        if divergence_threshold is not None:
            divergence_threshold = check_float("divergence_threshold", divergence_threshold)
        patience = check_int("patience", patience, low=0)
        if threshold is None and patience == 0:
            raise ConfigError(
                "Argument `patience` must be >= 1 when `threshold` is None (the plateau rule "
                "needs at least one epoch without improvement). Received: patience=0"
            )
        if threshold is not None and divergence_threshold is not None:
            beyond = (
                divergence_threshold >= threshold
                if mode == "max"
                else divergence_threshold <= threshold
            )
            if beyond:
                side = "below" if mode == "max" else "above"
                raise ConfigError(
                    f"Argument `divergence_threshold` must lie {side} `threshold` when "
                    f"mode={mode!r}, otherwise reaching the target would count as diverging. "
                    f"Received: threshold={threshold!r}, divergence_threshold={divergence_threshold!r}"
                )
        return cls(
            mode=mode,  # type: ignore[arg-type]
            threshold=threshold,
            min_delta=check_float("min_delta", min_delta, low=0.0),
            patience=patience,
            divergence_threshold=divergence_threshold,
            check_finite=check_bool("check_finite", check_finite),
        )

    def improves(self, value: float, previous: float) -> bool:
        return is_improvement(value, previous, mode=self.mode, min_delta=self.min_delta)

    def decide(self, values: Sequence[float], *, start: int, monitor: str) -> StopDecision:
        if not values:
            return _NOT_STOPPED
        value = values[-1]
        if self.check_finite and not math.isfinite(value):
            return StopDecision(
                True,
                StoppingReason.NON_FINITE,
                f"{monitor}={value} is not finite (check_finite=True)",
            )
        checked = values[start:]
        if not checked:
            return _NOT_STOPPED
        maximising = self.mode == "max"
        if self.divergence_threshold is not None:
            diverged = (
                value < self.divergence_threshold
                if maximising
                else value > self.divergence_threshold
            )
            if diverged:
                sign = "<" if maximising else ">"
                return StopDecision(
                    True,
                    StoppingReason.DIVERGED,
                    f"{monitor}={value:.6g} {sign} divergence_threshold={self.divergence_threshold:g}",
                )
        plateau_run = 0
        for index in range(len(checked) - 1, 0, -1):
            if self.improves(checked[index], checked[index - 1]):
                break
            plateau_run += 1
        plateau = (
            f"it improved by no more than min_delta={self.min_delta:g} on the previous epoch "
            f"for {plateau_run} epoch(s) in a row (patience={self.patience})"
        )
        if self.threshold is None:
            if plateau_run >= self.patience:
                previous = checked[-2]
                return StopDecision(
                    True,
                    StoppingReason.PLATEAU,
                    f"{monitor}={value:.6g} (previous epoch: {previous:.6g}): {plateau}",
                )
            return _NOT_STOPPED
        reached = value >= self.threshold if maximising else value <= self.threshold
        if reached and plateau_run >= self.patience:
            sign = ">=" if maximising else "<="
            message = f"{monitor}={value:.6g} {sign} threshold={self.threshold:g}"
            if self.patience:
                message += f" and {plateau}"
            return StopDecision(True, StoppingReason.THRESHOLD_REACHED, message)
        return _NOT_STOPPED


def stop_decision(
    values: Sequence[float],
    *,
    mode: Literal["min", "max"],
    threshold: float | None = None,
    min_delta: float = 0.0,
    patience: int = 1,
    divergence_threshold: float | None = None,
    check_finite: bool = True,
    start_from_epoch: int = 0,
    monitor: str = "value",
) -> StopDecision:
    """Whether to stop after the last of `values`, one monitored value per epoch.

    A pure function of the value sequence; the rule is spelled out in this
    module's docstring. `ThresholdEarlyStopping` calls it after every epoch.

    Examples:
        >>> stop_decision([0.81, 0.93, 0.96], mode="max", threshold=0.95).should_stop
        False
        >>> decision = stop_decision([0.81, 0.93, 0.96, 0.96], mode="max", threshold=0.95,
        ...                          monitor="val_accuracy")
        >>> decision.should_stop, decision.reason.name
        (True, 'THRESHOLD_REACHED')
        >>> decision.message
        'val_accuracy=0.96 >= threshold=0.95 and it improved by no more than min_delta=0 on the previous epoch for 1 epoch(s) in a row (patience=1)'

    Args:
        values: the monitored value of each epoch so far, oldest first.
        mode: `"max"` when larger is better, `"min"` when smaller is better.
        threshold: the target to reach, or `None` for the plateau rule alone.
            Defaults to None.
        min_delta: an epoch that improves on the previous one by no more than
            this is a plateau epoch. Defaults to 0.0.
        patience: plateau epochs in a row needed to stop. Defaults to 1.
        divergence_threshold: stop at once when a value is worse than this.
            Defaults to None.
        check_finite: stop at once on NaN or infinity. Defaults to True.
        start_from_epoch: how many leading values to leave unchecked (warm-up).
            Defaults to 0.
        monitor: the metric's name, for the message. Defaults to `"value"`.

    Returns:
        `StopDecision(should_stop, reason, message)`.

    Raises:
        ConfigError: a setting out of range (see `ThresholdEarlyStopping`).
        ConfigTypeError: `values` is not a sequence of numbers.
    """
    rule = StopRule.create(
        mode=mode,
        threshold=threshold,
        min_delta=min_delta,
        patience=patience,
        divergence_threshold=divergence_threshold,
        check_finite=check_finite,
    )
    start = check_int("start_from_epoch", start_from_epoch, low=0)
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise ConfigTypeError(
            f"Argument `values` must be a sequence of numbers. Received: values={values!r}"
        )
    try:
        numbers = [float(value) for value in values]
    except (TypeError, ValueError) as error:
        raise ConfigTypeError(
            f"Argument `values` must be a sequence of numbers. Received: values={values!r}"
        ) from error
    return rule.decide(numbers, start=start, monitor=monitor)
