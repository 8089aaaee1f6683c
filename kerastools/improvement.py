"""Whether a metric value is better than another: the one rule every part uses.

Early stopping, the best-checkpoint choice, `load_checkpoint(("max", metric))`
and `SweepResults.best` all ask this module, so they agree on what "better"
means (and on `min_delta`).

Examples:
    >>> from kerastools.improvement import is_improvement
    >>> is_improvement(0.91, 0.90, mode="max"), is_improvement(0.91, 0.90, mode="max", min_delta=0.02)
    (True, False)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

from kerastools._validation import check_name
from kerastools.errors import ConfigError

__all__ = ["Direction", "best_first", "best_index", "infer_mode", "is_improvement", "worst_value"]

Direction = Literal["min", "max"]

# Substrings that say which way a metric improves. Checked max-first, so
# "val_accuracy" is max even though some loss-like names are substrings of others.
_MAX_HINTS = ("acc", "auc", "precision", "recall", "f1", "iou", "r2", "top_k")
_MIN_HINTS = ("loss", "error", "mse", "mae", "mape", "msle", "crossentropy", "hinge", "divergence")


def infer_mode(monitor: str) -> Direction:
    """Which way `monitor` improves: "max" for accuracy-like names, "min" for loss-like ones.

    Examples:
        >>> infer_mode("val_accuracy"), infer_mode("val_loss")
        ('max', 'min')

    Raises:
        ConfigError: the name matches neither family (or both); pass `mode`.
        ConfigTypeError: `monitor` is not a non-empty string.
    """
    name = check_name("monitor", monitor, allow_none=False).lower()  # type: ignore[union-attr]
    is_max = any(hint in name for hint in _MAX_HINTS)
    is_min = any(hint in name for hint in _MIN_HINTS)
    if is_max == is_min:
        raise ConfigError(
            f"Cannot infer whether {monitor!r} should be minimised or maximised; pass "
            f"mode='min' or mode='max'. Received: monitor={monitor!r}, mode='auto'"
        )
    return "max" if is_max else "min"


def is_improvement(value: float, reference: float, *, mode: Direction, min_delta: float = 0.0) -> bool:
    """True when `value` beats `reference` by more than `min_delta` in direction `mode`.

    Examples:
        >>> is_improvement(0.2, 0.3, mode="min")
        True
    """
    if mode == "min":
        return value < reference - min_delta
    return value > reference + min_delta


def worst_value(mode: Direction) -> float:
    """What any finite value improves on: +inf when minimising, -inf when maximising.

    Examples:
        >>> worst_value("max")
        -inf
    """
    return math.inf if mode == "min" else -math.inf


def best_index(values: Sequence[float], mode: Direction) -> int | None:
    """The position of the best finite value (the first, on ties); None when there is none.

    Examples:
        >>> best_index([0.5, 0.2, float("nan"), 0.2], mode="min")
        1
    """
    best: int | None = None
    for index, value in enumerate(values):
        if not math.isfinite(value):
            continue
        if best is None or is_improvement(value, values[best], mode=mode):
            best = index
    return best


def best_first(value: float, mode: Direction) -> float:
    """A sort key that puts the best value first and non-finite values last.

    Examples:
        >>> sorted([0.2, float("nan"), 0.9], key=lambda v: best_first(v, "max"))
        [0.9, 0.2, nan]
    """
    if not math.isfinite(value):
        return math.inf
    return value if mode == "min" else -value
