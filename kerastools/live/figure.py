"""The LivePlot figure: one axes per panel, lines updated in place, drawn with Agg.

One matplotlib `Figure` per run, on its own Agg canvas and never through
pyplot, so the user's own figures are never shown, closed or replaced. Lines
and value readouts are animated artists drawn over a cached background
(axes, ticks, labels); the background is drawn again only when a panel
appears or an axis limit moves, and limits grow in steps, so most redraws
only repaint the lines.

Building the axes and their ticks costs about as much as drawing them, and a
fit shorter than the throttle's interval draws only once. So a run's figure
that nobody can reach any more (`LiveFigure.release`) is kept, one per set of
settings and matplotlib style, and a later run with the same settings clears
its data and draws on it (`LiveFigure.obtain`): the same picture, without
building the axes again.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

from kerastools._validation import check_float, check_int
from kerastools.errors import ConfigError, ConfigTypeError
from kerastools.live.history import RunHistory, downsample
from kerastools.live.panels import LR_KEY, PanelPlan
from kerastools.live.png import encode_png
from kerastools.live.reference import (
    ReferenceRun,
    draw_references,
    key_entries,
    reference_ranges,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["MAX_PIXELS", "LiveFigure", "check_figsize", "check_pixels", "grown_limits"]

_TRAIN_COLOR = "C0"
_VALID_COLOR = "C1"
_BATCH_STYLE: dict[str, Any] = {"color": _TRAIN_COLOR, "alpha": 0.35, "linewidth": 0.8}
_TARGET_STYLE: dict[str, Any] = {"color": "0.35", "linestyle": "--", "linewidth": 1.0}
# The default bound on a figure's pixels (width x height, as figsize x dpi): its RGBA buffer is
# 4 bytes a pixel, so 25 million pixels take 100 MB. Agg cannot draw a side of 2**16 pixels or more.
MAX_PIXELS = 25_000_000
_AGG_SIDE_LIMIT = 2**16
_MARKER_BELOW = 40  # lines with fewer points get markers: one epoch is a dot, not nothing
# Released figures by settings, at most one each, for at most this many settings (a few MB each).
_SPARES: dict[Hashable, LiveFigure] = {}
_SPARE_SETTINGS = 8
_SPARES_LOCK = threading.Lock()


class _Panel:
    """One axes: its lines by series name, value readouts and its limits."""

    def __init__(self, name: str, axes: Axes, log: bool) -> None:
        self.name = name
        self.axes = axes
        self.log = log
        self.lines: dict[str, Any] = {}
        # The latest train and validation values, in their lines' colours.
        self.readouts: dict[str, Any] = {}
        self.ylim: tuple[float, float] | None = None

    def dynamic_artists(self) -> list[Any]:
        """What changes at every redraw: drawn over the cached background."""
        return [*self.lines.values(), *self.readouts.values()]


class LiveFigure:
    """A figure that draws a `RunHistory` as PNG, at a cost that does not grow with epochs.

    Examples:
        >>> from kerastools.live.history import RunHistory
        >>> store = RunHistory()
        >>> store.record_epoch(0, {"loss": 0.9, "val_loss": 1.0})
        >>> plan = PanelPlan(metrics=None, show_lr=True, log_loss=False, targets={})
        >>> live = LiveFigure(plan, figsize=(4, 2), dpi=50, max_points=100, per_batch=False)
        >>> live.render(store, planned_epochs=0, finished=False)[:4]
        b'\\x89PNG'
        >>> sorted(live.panels["loss"].lines)
        ['loss', 'val_loss']
    """

    def __init__(
        self,
        plan: PanelPlan,
        figsize: tuple[float, float],
        dpi: int,
        max_points: int,
        per_batch: bool,
        references: tuple[ReferenceRun, ...] = (),
    ) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=figsize, dpi=dpi)
        FigureCanvasAgg(self.figure)
        self.panels: dict[str, _Panel] = {}
        self._plan = plan
        self._figsize = figsize
        self._max_points = max_points
        self._per_batch = per_batch
        # Earlier runs: static lines of the background, and room on the axes for them.
        self._references = references
        self._reference_ranges = reference_ranges(references, plan)
        self._reference_end = max((run.last_epoch for run in references), default=0.0)
        self._layout: tuple[str, ...] = ()
        self._xlim: tuple[float, float] | None = None
        self._background: Any = None
        self._settings = _settings_key(plan, figsize, dpi, max_points, per_batch, references)
        self._style = _style()
        self._drawn_whole = False  # the last render ended: no half-built panel in the figure

    @classmethod
    def obtain(cls, plan: PanelPlan, figsize: tuple[float, float], dpi: int, max_points: int,
               per_batch: bool, references: tuple[ReferenceRun, ...] = ()) -> LiveFigure:
        """A released figure with the same settings and style, cleared for `plan`; else a new one.

        Examples:
            >>> from kerastools.live.history import RunHistory
            >>> store = RunHistory()
            >>> store.record_epoch(0, {"loss": 0.9})
            >>> plan = PanelPlan(metrics=None, show_lr=False, log_loss=False, targets={})
            >>> first = LiveFigure.obtain(plan, (4, 2), 50, 100, per_batch=False)
            >>> _ = first.render(store, planned_epochs=1, finished=True)
            >>> first.release()  # nobody holds the figure any more
            True
            >>> LiveFigure.obtain(plan, (4, 2), 50, 100, per_batch=False) is first
            True
        """
        key = _settings_key(plan, figsize, dpi, max_points, per_batch, references)
        with _SPARES_LOCK:
            spare = _SPARES.pop(key, None) if key is not None else None
        if spare is not None and spare._style == _style():
            spare._clear_run(plan)
            return spare
        return cls(plan, figsize, dpi, max_points, per_batch, references)

    def release(self) -> bool:
        """Offer this figure to a later `obtain`; call it only when no one else holds `figure`.

        Returns whether it was kept: a figure whose last render did not end,
        or drawn over earlier runs, is not.
        """
        if self._settings is None or not self._drawn_whole:
            return False
        with _SPARES_LOCK:
            if self._settings not in _SPARES and len(_SPARES) >= _SPARE_SETTINGS:
                del _SPARES[next(iter(_SPARES))]  # the settings released longest ago
            _SPARES[self._settings] = self
        return True

    def _clear_run(self, plan: PanelPlan) -> None:
        """Forget the last run's lines, values and limits; keep the axes, ticks, targets and key."""
        self._plan = plan
        for panel in self.panels.values():
            for line in panel.lines.values():
                line.remove()
            panel.lines = {}
            for readout in panel.readouts.values():
                readout.set_text("")
                readout.set_animated(True)
            panel.ylim = None
            panel.axes.relim()  # the data limits of what stays: targets
            panel.axes.set_autoscale_on(True)
        self._xlim = None
        self._background = None

    def render(self, history: RunHistory, planned_epochs: float, finished: bool) -> bytes:
        """Draw `history` and return PNG bytes; the axes fit the epochs run and their values once `finished`."""
        self._drawn_whole = False
        names = self._plan.order([*history.series, *history.batch_series])
        if names != self._layout:
            self._build_panels(names)
        self._update_xlim(history, planned_epochs, finished)
        self._update_lines(history)
        self._update_ylims(history, finished)
        canvas = self.figure.canvas
        if self._background is None:
            canvas.draw()  # everything but the animated lines and readouts
            self._background = canvas.copy_from_bbox(self.figure.bbox)  # type: ignore[attr-defined]
        else:
            canvas.restore_region(self._background)  # type: ignore[attr-defined]
        for panel in self.panels.values():
            for artist in panel.dynamic_artists():
                panel.axes.draw_artist(artist)
        png = encode_png(canvas)
        self._drawn_whole = True
        return png

    def forget_background(self) -> None:
        """Make the next `render` draw the background (axes, ticks, labels) too."""
        self._background = None

    def finish(self) -> None:
        """Make the figure whole: `savefig` skips animated artists."""
        for panel in self.panels.values():
            for artist in panel.dynamic_artists():
                artist.set_animated(False)

    # --------------------------------------------------------------- layout

    def _build_panels(self, names: tuple[str, ...]) -> None:
        """Lay out one axes per panel; runs again only when a new panel appears."""
        figure = self.figure
        figure.clear()
        self.panels = {}
        self._layout = names
        self._xlim = None
        self._background = None
        count = max(len(names), 1)
        columns = min(count, 4)
        rows = -(-count // columns)
        width, height = self._figsize
        # Fixed margins in inches: no layout engine (constrained layout alone
        # costs more than a whole redraw).
        figure.subplots_adjust(
            left=0.55 / width,
            right=1 - 0.15 / width,
            bottom=0.45 / height,
            top=1 - 0.55 / height,
            wspace=0.3,
            hspace=0.6,
        )
        for index, name in enumerate(names):
            axes = figure.add_subplot(rows, columns, index + 1)
            self.panels[name] = self._new_panel(name, axes, bottom_row=index // columns == rows - 1)
        entries: list[tuple[str, dict[str, Any]]] = [
            ("train", {"color": _TRAIN_COLOR}),
            ("validation", {"color": _VALID_COLOR}),
        ]
        if self._per_batch:
            entries.append(("per batch", _BATCH_STYLE))
        if self._plan.targets:
            entries.append(("target", _TARGET_STYLE))
        entries += key_entries(self._references)
        self._draw_key(entries)

    def _new_panel(self, name: str, axes: Axes, bottom_row: bool) -> _Panel:
        """Style one axes, draw its targets and add its value readouts."""
        from matplotlib.ticker import MaxNLocator

        log = self._plan.is_log(name)
        if log:
            axes.set_yscale("log")
        # Fixed positions for the title and axis labels: matplotlib would
        # otherwise measure every tick label to place them, at each redraw.
        axes.set_title(_title(name), loc="left", fontsize=9, y=1.0, pad=3)
        axes.tick_params(labelsize=7)
        axes.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
        if not log:
            axes.yaxis.set_major_locator(MaxNLocator(nbins=5))
        axes.grid(True, alpha=0.3)
        if bottom_row:
            axes.set_xlabel("epoch", fontsize=8)
        axes.xaxis.set_label_coords(0.5, -0.1)
        axes.yaxis.set_label_coords(-0.1, 0.5)
        for value in self._plan.targets_in(name):
            axes.axhline(value, **_TARGET_STYLE)
        draw_references(axes, name, self._plan, self._references, self._max_points)
        panel = _Panel(name, axes, log)
        sides = [("train", 0.78, _TRAIN_COLOR), ("valid", 1.0, _VALID_COLOR)]
        if name == LR_KEY:
            sides = [("train", 1.0, _TRAIN_COLOR)]
        for series, x_position, color in sides:
            panel.readouts[series] = axes.text(
                x_position, 1.02, "", transform=axes.transAxes, ha="right", va="bottom",
                fontsize=7, color=color, animated=True,
            )
        return panel

    def _draw_key(self, entries: list[tuple[str, dict[str, Any]]]) -> None:
        """A one-row key at the top, placed by hand: `legend` costs a tenth of a redraw."""
        from matplotlib.lines import Line2D

        figure = self.figure
        width_in, height_in = self._figsize
        line_in, gap_in, char_in = 0.3, 0.25, 0.075  # approximate widths at fontsize 8
        widths = [line_in + 0.06 + len(label) * char_in for label, _ in entries]
        left = 0.5 - (sum(widths) + gap_in * (len(entries) - 1)) / 2 / width_in
        y = 1 - 0.16 / height_in
        for (label, style), width in zip(entries, widths, strict=True):
            line_end = left + line_in / width_in
            figure.add_artist(Line2D([left, line_end], [y, y], transform=figure.transFigure, **style))
            figure.text(line_end + 0.06 / width_in, y, label, fontsize=8, va="center")
            left += (width + gap_in) / width_in

    # ---------------------------------------------------------- per redraw

    def _update_xlim(self, history: RunHistory, planned: float, finished: bool) -> None:
        """One x axis for every panel; moving it invalidates the background."""
        x_low = float(history.first_epoch or 0)
        last = float(history.epochs[-1]) if history.epochs else x_low + 1
        planned = max(planned, self._reference_end)  # earlier runs are drawn whole
        if finished:
            # Done, or stopped early: the final plot fits the epochs run (and the earlier runs).
            xlim = (x_low, max(last, self._reference_end))
        elif self._xlim is not None and self._xlim[0] == x_low and last <= self._xlim[1]:
            xlim = self._xlim
        else:
            # The planned epoch count fixes the x axis for the whole run; past
            # it (or without it) the axis grows in steps, not every epoch.
            xlim = (x_low, planned if planned >= last else max(last * 1.25, last + 1))
        if xlim != self._xlim:
            self._xlim = xlim
            self._background = None
            for panel in self.panels.values():
                panel.axes.set_xlim(xlim)

    def _update_lines(self, history: RunHistory) -> None:
        """Push each series into its line (made when its key first appears) and readout."""
        for panel in self.panels.values():
            for readout in panel.readouts.values():
                readout.set_text("")
        everything = [(key, series, True) for key, series in history.batch_series.items()]
        everything += [(key, series, False) for key, series in history.series.items()]
        for key, series, is_batch in everything:
            name = self._plan.panel_of(key)
            if name is None or name not in self.panels or series.size == 0:
                continue
            panel = self.panels[name]
            line_key = ("batch:" if is_batch else "") + key
            line = panel.lines.get(line_key)
            if line is None:
                line = panel.lines[line_key] = _new_line(panel, key, is_batch)
            # A bucket's min and max per pixel column draw the same picture as
            # every point: more would cost time and show nothing.
            limit = min(self._max_points, 2 * max(int(panel.axes.bbox.width), 1))
            line.set_data(*downsample(series.x, series.y, limit))
            if not is_batch:
                line.set_marker("o" if series.size < _MARKER_BELOW else "None")
                side = "valid" if key.startswith("val_") else "train"
                panel.readouts[side].set_text(f"{series.y[-1]:.4g}")

    def _update_ylims(self, history: RunHistory, finished: bool) -> None:
        """Grow each panel's y limits to its data and targets; a change invalidates the background.

        Once `finished`, the limits fit the whole run afresh, as the x axis
        does: the final picture depends on the run only, not on when it was
        redrawn, so drawing the run again gives the same picture.
        """
        for name, panel in self.panels.items():
            data_range = self._plan.value_range(name, history)
            if data_range is None:
                continue
            span = self._reference_ranges.get(name)
            values = None if span is None else (span.positive if panel.log else span.finite)
            if values is not None:
                data_range = (min(data_range[0], values[0]), max(data_range[1], values[1]))
            ylim = grown_limits(None if finished else panel.ylim, *data_range, log=panel.log)
            if ylim != panel.ylim:
                panel.ylim = ylim
                panel.axes.set_ylim(ylim)
                self._background = None


def _settings_key(plan: PanelPlan, figsize: tuple[float, float], dpi: int, max_points: int,
                  per_batch: bool, references: tuple[ReferenceRun, ...]) -> Hashable | None:
    """What makes two runs' figures the same before their data; None: never shared (references)."""
    if references:
        return None
    targets = tuple(plan.targets.items())
    return (plan.metrics, plan.show_lr, plan.log_loss, targets, figsize, dpi, max_points, per_batch)


def _style() -> Any:
    """matplotlib's settings now: a figure made under others looks different."""
    import matplotlib

    return matplotlib.rcParams.copy()


def _new_line(panel: _Panel, key: str, is_batch: bool) -> Any:
    if is_batch:
        style = _BATCH_STYLE
    elif key.startswith("val_"):
        style = {"color": _VALID_COLOR, "linewidth": 1.5, "markersize": 3}
    else:
        style = {"color": _TRAIN_COLOR, "linewidth": 1.5, "markersize": 3}
    (line,) = panel.axes.plot([], [], animated=True, **style)
    return line


def _title(name: str) -> str:
    return "learning rate" if name == LR_KEY else name.replace("_", " ")


def grown_limits(
    current: tuple[float, float] | None, low: float, high: float, log: bool
) -> tuple[float, float]:
    """Axis limits that contain [low, high], changed only when the data leaves them.

    A change redraws the whole background (ticks, labels), so limits jump with
    headroom (25% of the span on the side that grew) instead of following every
    epoch; they still fit the data like autoscaling does.

    Examples:
        >>> grown_limits(None, 0.0, 1.0, log=False)  # headroom above, little below zero
        (-0.05, 1.25)
        >>> grown_limits((-0.05, 1.25), 0.2, 1.1, log=False)  # still inside: unchanged
        (-0.05, 1.25)
    """
    if current is not None and current[0] <= low and high <= current[1]:
        return current
    if log:
        low, high = math.log10(low), math.log10(high)
    span = high - low
    if span <= 0:
        span = max(abs(high) * 0.1, 1e-3 if log else 1e-9)
    grew_low = current is None or (10**low if log else low) < current[0]
    grew_high = current is None or (10**high if log else high) > current[1]
    bottom = low - span * (0.25 if grew_low else 0.05)
    top = high + span * (0.25 if grew_high else 0.05)
    if not log and low >= 0:
        bottom = max(bottom, -0.05 * span)  # a loss or a rate: no room below zero
    if log:
        return 10**bottom, 10**top
    return bottom, top


def check_figsize(figsize: Any) -> tuple[float, float]:
    """`figsize` as a (width, height) pair of inches between 0.5 and 100.

    Examples:
        >>> check_figsize([10, 3.5])
        (10.0, 3.5)

    Raises:
        ConfigTypeError: not a pair of numbers.
        ConfigError: a side out of range.
    """
    if not isinstance(figsize, (tuple, list)) or len(figsize) != 2:
        raise ConfigTypeError(
            f"Argument `figsize` must be a (width, height) pair in inches. Received: figsize={figsize!r}"
        )
    width = check_float("figsize", figsize[0], low=0.5, high=100.0)
    height = check_float("figsize", figsize[1], low=0.5, high=100.0)
    return width, height


def check_pixels(figsize: tuple[float, float], dpi: int, max_pixels: Any = MAX_PIXELS) -> int:
    """Check that a `figsize` x `dpi` figure stays within `max_pixels`; return `max_pixels`.

    Refused here, before any buffer is allocated: a figure of
    `figsize=(100, 100), dpi=1000` would need 40 GB.

    Examples:
        >>> check_pixels((10, 3.5), 80)
        25000000
        >>> check_pixels((100, 100), 1000)
        Traceback (most recent call last):
        ...
        kerastools.errors.ConfigError: A figure of figsize=(100, 100) at dpi=1000 has 100000 x 100000 ...

    Raises:
        ConfigError: more pixels than `max_pixels`, or a side of 2**16
            pixels or more (Agg's limit, whatever `max_pixels` says).
        ConfigTypeError: `max_pixels` is not an int.
    """
    max_pixels = check_int("max_pixels", max_pixels, low=1)
    width, height = round(figsize[0] * dpi), round(figsize[1] * dpi)
    if width * height > max_pixels or max(width, height) >= _AGG_SIDE_LIMIT:
        raise ConfigError(
            f"A figure of figsize={tuple(figsize)!r} at dpi={dpi} has {width} x {height} = "
            f"{width * height} pixels ({4 * width * height / 1e6:.0f} MB to draw). Allowed: at most "
            f"max_pixels={max_pixels} pixels (raise `max_pixels` to allow more) and under "
            f"{_AGG_SIDE_LIMIT} pixels a side. Received: figsize={tuple(figsize)!r}, dpi={dpi}, "
            f"max_pixels={max_pixels}"
        )
    return max_pixels
