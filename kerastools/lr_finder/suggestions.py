"""The rates a sweep can suggest, read from its smoothed loss curve.

Pure functions of the swept rates and smoothed losses (no Keras), so each
rule can be checked on a curve drawn by hand:

- `"valley"` (fastai's default since 2.4): the longest stretch over which the
  loss keeps going down (the longest decreasing subsequence), and the rate
  half-way along it.
- `"steepest"` (Lightning's default): where the loss falls fastest per decade
  of learning rate, before its lowest point.
- `"minimum"`: a tenth of the rate at the lowest loss (fastai's `minimum`).

All three skip the first tenth of the curve (the loss barely moves there and
the average is still warming up) and the last few points (where it turns
upwards, and the point that stopped the sweep).

Examples:
    >>> rates = np.geomspace(1e-4, 1.0, 30)
    >>> losses = 1.0 + (np.log10(rates) + 1.5) ** 2   # lowest at 10**-1.5
    >>> round(float(np.log10(suggest(rates, losses, "minimum"))), 1)   # a tenth of 10**-1.5
    -2.5
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from kerastools._validation import check_choice
from kerastools.errors import ConfigError

__all__ = ["MIN_POINTS", "SUGGESTION_METHODS", "suggest", "usable_points"]

MIN_POINTS = 5  # a curve shorter than this has no shape to read


def usable_points(
    rates: Sequence[float], smoothed: Sequence[float], *, drop_last: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """The part of the curve the suggestions read, as float64 arrays.

    The finite prefix of the smoothed losses, without the point that stopped
    the sweep (`drop_last`), then without the first tenth and the last
    twentieth (at most 5 points) of what is left.

    Examples:
        >>> kept, _ = usable_points(np.arange(1.0, 101.0), np.ones(100))
        >>> float(kept[0]), float(kept[-1])
        (11.0, 95.0)
    """
    rates_array = np.asarray(rates, dtype="float64")
    losses = np.asarray(smoothed, dtype="float64")
    finite = np.isfinite(losses)
    end = len(losses) if finite.all() else int(np.argmin(finite))
    if drop_last and end == len(losses):
        end -= 1
    begin = end // 10
    end -= min(5, end // 20)
    return rates_array[begin : max(begin, end)], losses[begin : max(begin, end)]


def _steepest(rates: np.ndarray, losses: np.ndarray) -> float:
    # Only up to the lowest loss: a steep fall after it is the recovery from a spike.
    end = max(int(np.argmin(losses)) + 1, 2)
    slopes = np.gradient(losses[:end], np.log10(rates[:end]))
    return float(rates[int(np.argmin(slopes))])


def _minimum(rates: np.ndarray, losses: np.ndarray) -> float:
    return float(rates[int(np.argmin(losses))] / 10.0)


def _valley(rates: np.ndarray, losses: np.ndarray) -> float:
    # lengths[i]: the longest strictly decreasing run of losses ending at i
    # (not necessarily contiguous); starts[i]: where that run begins.
    count = len(losses)
    lengths = np.ones(count, dtype="int64")
    starts = np.arange(count)
    for index in range(1, count):
        higher = np.nonzero(losses[:index] > losses[index])[0]
        if higher.size:
            best = higher[np.argmax(lengths[higher])]
            lengths[index] = lengths[best] + 1
            starts[index] = starts[best]
    end = int(np.argmax(lengths))  # the first of the longest runs, as fastai takes
    start = int(starts[end])
    return float(rates[start + (end - start) // 2])


_METHODS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "valley": _valley,
    "steepest": _steepest,
    "minimum": _minimum,
}
SUGGESTION_METHODS = tuple(_METHODS)


def suggest(rates: np.ndarray, losses: np.ndarray, method: str = "valley") -> float:
    """The rate `method` suggests for an already trimmed curve (see `usable_points`).

    Examples:
        >>> rates = np.geomspace(1e-4, 1.0, 30)
        >>> losses = 1.0 + (np.log10(rates) + 1.5) ** 2
        >>> 1e-4 < suggest(rates, losses, "valley") < 10**-1.5
        True

    Args:
        rates: the learning rates, increasing.
        losses: the smoothed loss at each rate, all finite.
        method: `"valley"`, `"steepest"` or `"minimum"`. Defaults to `"valley"`.

    Raises:
        ConfigError: an unknown method, or fewer than 5 points to read.
    """
    key = check_choice("method", method, SUGGESTION_METHODS)
    if len(rates) < MIN_POINTS:
        raise ConfigError(
            f"The sweep left {len(rates)} usable points, too few to suggest a rate (at least "
            f"{MIN_POINTS} are needed): it diverged almost at once. Lower `min_lr` or `max_lr`, or "
            f"raise `num_steps`. Received: method={method!r}"
        )
    return _METHODS[key](np.asarray(rates, "float64"), np.asarray(losses, "float64"))
