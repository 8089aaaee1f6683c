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

__all__ = ["Direction", "best_index", "is_improvement", "worst_value"]

Direction = Literal["min", "max"]


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
