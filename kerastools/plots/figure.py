"""The figure every plot starts from, the panel grid, and the atomic file writer.

Figures are built with matplotlib's object API and an Agg canvas, never
`pyplot`, so nothing is shown, no global registry keeps them alive, and the
user's current pyplot figure is untouched.
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING

from kerastools._atomic import atomic_write
from kerastools._validation import check_figure_size, check_file_target, check_int, check_path
from kerastools.errors import ConfigError, ConfigTypeError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["save_figure"]


def new_figure(width: float, height: float, figure: Figure | None = None) -> Figure:
    """A fresh Agg-backed figure, or `figure` cleared and resized for reuse."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if figure is None:
        figure = Figure(figsize=(width, height), layout="constrained")
        FigureCanvasAgg(figure)
        return figure
    if not isinstance(figure, Figure):
        raise ConfigTypeError(
            f"Argument `figure` must be a matplotlib Figure to draw into, or None. "
            f"Received: figure={figure!r}"
        )
    figure.clear()
    figure.set_size_inches(width, height)
    return figure


def panel_axes(figure: Figure, count: int, columns: int) -> list[Axes]:
    """Exactly `count` axes on a grid `columns` wide (no empty placeholder axes)."""
    columns = max(1, min(columns, count))
    rows = math.ceil(count / columns)
    return [figure.add_subplot(rows, columns, index + 1) for index in range(count)]


def grid_size(
    count: int, columns: int, panel: float, *, extra_height: float = 0.0
) -> tuple[float, float]:
    """Width and height in inches of `count` square panels `columns` wide."""
    columns = max(1, min(columns, count))
    rows = math.ceil(count / columns)
    return columns * panel, rows * panel + extra_height


def save_figure(figure: Figure, path: str | os.PathLike[str], *, dpi: int = 100) -> str:
    """Write `figure` to `path` atomically; the format comes from the suffix.

    A reader (a docs build, a browser) never sees half an image, and a crash
    mid-write leaves the previous file in place.

    Examples:
        >>> fig = kerastools.plots.points(x, y)
        >>> kerastools.plots.save_figure(fig, tmp_path / "points.png").endswith("points.png")
        True

    Args:
        figure: the figure to write.
        path: the target file, e.g. `"curves.png"` or `"curves.svg"`; its
            directory must exist.
        dpi: resolution for raster formats. Defaults to 100.

    Returns:
        The path written, as a string.

    Raises:
        ConfigTypeError: `figure` is not a Figure, or `path` not a path.
        ConfigError: a path with a NUL character, without a suffix
            matplotlib knows, or whose directory is missing (or is a file);
            a `dpi` below 1, or one that makes the image larger than
            `kerastools._validation.MAX_FIGURE_PIXELS` (2**26 pixels).
    """
    from matplotlib.figure import Figure

    if not isinstance(figure, Figure):
        raise ConfigTypeError(
            f"Argument `figure` must be a matplotlib Figure. Received: figure={figure!r}"
        )
    target = os.fspath(check_path("path", path))
    dpi = check_int("dpi", dpi, low=1)
    width, height = figure.get_size_inches()
    check_figure_size("dpi", float(width), float(height), dpi)
    suffix = os.path.splitext(target)[1].lstrip(".").lower()
    formats = figure.canvas.get_supported_filetypes()
    if suffix not in formats:
        raise ConfigError(
            f"Argument `path` must end in a format matplotlib writes, one of {sorted(formats)}. "
            f"Received: path={target!r}"
        )
    check_file_target("path", path)  # last: the only check that looks at the disk
    with atomic_write(target, "wb") as handle:
        figure.savefig(handle, format=suffix, dpi=dpi, bbox_inches="tight")
    return target
