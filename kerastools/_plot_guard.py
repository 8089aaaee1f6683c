"""A plot never stops training: a drawing that fails is reported once and then skipped.

Matplotlib can fail on values a run may log (a loss of 1e308 overflows its
tick code; 1.5e308 makes the axis limits infinite), and a live plot, a live
sweep figure or a run report's curves are not worth a long run. `PlotGuard`
runs the drawing; the first failure becomes one `RuntimeWarning` naming the
plot and the cause, and every later drawing of that plot is skipped.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import TypeVar

__all__ = ["PlotGuard"]

T = TypeVar("T")


class PlotGuard:
    """Run a plot's drawing; on failure warn once and skip it from then on.

    Examples:
        >>> import warnings
        >>> guard = PlotGuard("LivePlot")
        >>> guard.run(lambda: 1 + 1)
        2
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     guard.run(lambda: 1 / 0), guard.run(lambda: 3)
        (None, None)
        >>> len(caught), guard.failed
        (1, True)
        >>> str(caught[0].message)[:60]
        'LivePlot stopped drawing: ZeroDivisionError: division by zer'

    Args:
        name: the plot, as the warning names it, e.g. `"LivePlot"`.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.failed = False

    def run(self, draw: Callable[[], T]) -> T | None:
        """`draw()`'s result, or None once a drawing of this plot has failed."""
        if self.failed:
            return None
        try:
            return draw()
        except Exception as error:  # noqa: BLE001 - any drawing failure: a plot must not stop fit
            self.failed = True
            warnings.warn(
                f"{self.name} stopped drawing: {type(error).__name__}: {error}. Training goes on "
                "without this plot (a logged value too large or not finite for matplotlib, or "
                "out of memory, are the usual causes).",
                RuntimeWarning,
                stacklevel=3,
            )
            return None
