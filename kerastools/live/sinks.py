"""Where a live figure's PNG goes (LivePlot, LiveSweep): one sink per output target, all with the same interface.

- `FileSink`: a PNG file replaced atomically, so a viewer never reads half an image.
- `NotebookSink`: one Jupyter output updated in place through a display handle
  (never `clear_output`, so what the cell printed stays).
- `WidgetSink`: an `ipywidgets.Image` updated in place, replaced by a static
  PNG at the end, which viewers without widget support show.

A sink is made when training starts (a missing IPython or ipywidgets fails
then, not at the first epoch) and gets every redraw; the last one comes with
`final=True`.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kerastools._atomic import atomic_write
from kerastools.errors import ConfigError

__all__ = ["FileSink", "NotebookSink", "Sink", "WidgetSink", "import_display", "open_sinks"]

logger = logging.getLogger(__name__)


class Sink:
    """One place a LivePlot publishes its PNG to.

    Examples:
        >>> class Counting(Sink):
        ...     def __init__(self):
        ...         self.count = 0
        ...     def publish(self, png, final=False):
        ...         self.count += 1
        >>> sink = Counting()
        >>> sink.publish(b"\\x89PNG...", final=True)
        >>> sink.count
        1
    """

    def publish(self, png: bytes, final: bool = False) -> None:
        """Show `png`; `final` is the last redraw of the run."""
        raise NotImplementedError


class FileSink(Sink):
    """Replace a PNG file atomically at every redraw; the directory is created.

    A file that cannot be written, or whose directory cannot be created, is
    reported once and left alone: a plot must not stop a long run.

    Examples:
        >>> sink = FileSink(tmp_path / "plots" / "live.png")
        >>> sink.publish(b"\\x89PNG...")
        >>> (tmp_path / "plots" / "live.png").read_bytes()
        b'\\x89PNG...'
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.failed = False
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            # At fit's start: a plot must not stop the run; say so once and write nothing.
            self.failed = True
            warnings.warn(
                f"LivePlot cannot create the directory of path={str(path)!r} ({error}); the plot "
                "is not written to a file. Training goes on.",
                RuntimeWarning,
                stacklevel=2,
            )

    def publish(self, png: bytes, final: bool = False) -> None:
        if self.failed:
            return
        try:
            with atomic_write(self.path) as handle:
                handle.write(png)
        except OSError as error:
            # A plot must not kill a long run; say so once and stop writing.
            self.failed = True
            logger.warning("LivePlot cannot write %s (%s); file output stops.", self.path, error)


class NotebookSink(Sink):
    """One output in the running cell, shown once and then updated through its display handle.

    Examples:
        >>> sink = NotebookSink()  # doctest: +SKIP
        >>> sink.publish(png)  # doctest: +SKIP

    Raises:
        ConfigError: IPython is not installed.
    """

    def __init__(self) -> None:
        self._image_type, self._display = import_display("notebook")
        self._handle: Any = None

    def publish(self, png: bytes, final: bool = False) -> None:
        image = self._image_type(data=png, format="png")
        if self._handle is None:
            self._handle = self._display(image, display_id=True)
        else:
            self._handle.update(image)
        if final:
            self._handle = None  # a later redraw is a new run's output


class WidgetSink(Sink):
    """An `ipywidgets.Image` updated in place; at the end a static PNG takes its place.

    The static PNG survives in the saved notebook, which GitHub and nbviewer
    show; a widget they would not.

    Examples:
        >>> sink = WidgetSink()  # doctest: +SKIP
        >>> sink.publish(png)  # doctest: +SKIP
        >>> sink.publish(png, final=True)  # doctest: +SKIP

    Raises:
        ConfigError: IPython or ipywidgets is not installed.
    """

    def __init__(self) -> None:
        self._image_type, self._display = import_display("widget")
        self._widget: Any = None
        self._handle: Any = None

    def publish(self, png: bytes, final: bool = False) -> None:
        if self._widget is None:
            import ipywidgets

            self._widget = ipywidgets.Image(value=png, format="png")
            self._handle = self._display(self._widget, display_id=True)
        else:
            self._widget.value = png
        if final:
            # Replace the widget by a plain PNG: it survives in the saved notebook.
            self._handle.update(self._image_type(data=png, format="png"))
            self._widget.close()
            self._widget = self._handle = None


def import_display(mode: str) -> tuple[Any, Callable[..., Any]]:
    """`IPython.display.Image` and `display`, checking that `mode` has what it needs.

    Examples:
        >>> image_type, display = import_display("notebook")  # doctest: +SKIP

    Raises:
        ConfigError: IPython (or, for `"widget"`, ipywidgets) is not installed.
    """
    try:
        from IPython.display import Image, display
    except ImportError as error:
        raise ConfigError(
            f"LivePlot mode={mode!r} needs IPython: pip install 'kerastools[jupyter]'. "
            f"Received: mode={mode!r}"
        ) from error
    if mode == "widget":
        try:
            import ipywidgets  # noqa: F401
        except ImportError as error:
            raise ConfigError(
                "LivePlot mode='widget' needs ipywidgets: pip install 'kerastools[jupyter]'. "
                "Received: mode='widget'"
            ) from error
    return Image, display


def open_sinks(mode: str, path: Path | None) -> list[Sink]:
    """The sinks of a resolved `mode`: the file at `path` (when given), then the notebook or widget output.

    Made when drawing starts, so a missing IPython or ipywidgets fails then.

    Examples:
        >>> [type(sink).__name__ for sink in open_sinks("file", tmp_path / "live.png")]
        ['FileSink']
        >>> open_sinks("off", tmp_path / "live.png")
        []

    Raises:
        ConfigError: IPython (or ipywidgets) is missing for `"notebook"` (`"widget"`).
    """
    if mode == "off":
        return []
    sinks: list[Sink] = [] if path is None else [FileSink(path)]
    if mode == "notebook":
        sinks.append(NotebookSink())
    elif mode == "widget":
        sinks.append(WidgetSink())
    return sinks
