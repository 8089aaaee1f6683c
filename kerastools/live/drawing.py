"""When a live figure redraws, and the drawing settings LivePlot and LiveSweep share, checked.

A redraw happens only when `min_interval_s` has passed *and* at least
`THROTTLE_FACTOR` times the last redraw's duration, so drawing takes at most
about 1/THROTTLE_FACTOR of the wall time (`next_render_at`). The start of a
run counts as a redraw that took no time: `next_render_at(start, start, ...)`.

Examples:
    >>> THROTTLE_FACTOR
    40.0
"""

from __future__ import annotations

from typing import Any

from kerastools._validation import check_choice, check_float, check_int
from kerastools.live.figure import MAX_PIXELS, check_figsize, check_pixels
from kerastools.live.mode import MODES

__all__ = ["THROTTLE_FACTOR", "check_drawing", "next_render_at"]

# Wait at least this many times the last redraw's duration before the next
# one: drawing then costs at most ~1/41 of the run, inside the 1.03x target
# with room for the first and the last redraw.
THROTTLE_FACTOR = 40.0


def next_render_at(start: float, end: float, min_interval_s: float) -> float:
    """When the next redraw may happen, after one that ran from `start` to `end`.

    Examples:
        >>> next_render_at(10.0, 10.1, min_interval_s=0.5)  # 40 x 0.1 s beats 0.5 s
        14.1
    """
    return end + max(min_interval_s, THROTTLE_FACTOR * max(end - start, 0.0))


def check_drawing(
    mode: Any, min_interval_s: Any, figsize: Any, dpi: Any, max_points: Any,
    max_pixels: Any = MAX_PIXELS,
) -> tuple[str, float, tuple[float, float], int, int]:
    """The drawing settings LivePlot and a live sweep share, checked.

    The figure's pixel count (`figsize` x `dpi`) must stay within
    `max_pixels` (`check_pixels`).

    Examples:
        >>> check_drawing("file", 0.5, (10, 3.5), 80, 2000)
        ('file', 0.5, (10.0, 3.5), 80, 2000)

    Raises:
        ConfigError: an unknown mode, a value out of range, or more pixels
            than `max_pixels`.
        ConfigTypeError: a value of the wrong type.
    """
    checked = (
        check_choice("mode", mode, MODES),
        check_float("min_interval_s", min_interval_s, low=0.0),
        check_figsize(figsize),
        check_int("dpi", dpi, low=10, high=1000),
        check_int("max_points", max_points, low=10),
    )
    check_pixels(checked[2], checked[3], max_pixels)
    return checked
