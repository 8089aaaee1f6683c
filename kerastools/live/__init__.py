"""The live drawing engine that `LivePlot` and `LiveSweep` share: record, lay out, draw, publish.

`kerastools.callbacks.LivePlot` (one run) and `kerastools.sweep.LiveSweep`
(every trial of a sweep on one figure) are both built on these parts:

- `history`: what was logged per epoch and batch (`RunHistory`), `downsample`;
- `panels`: which key goes to which panel (`PanelPlan`);
- `figure`: the Agg figure of one run (`LiveFigure`), axis limits that grow in
  steps (`grown_limits`), the pixel bound (`MAX_PIXELS`);
- `reference`: earlier runs drawn faint (`compare_to`);
- `png`: PNG bytes of an Agg canvas;
- `sinks`: where a PNG goes (file, notebook, widget);
- `mode`: which of those a run uses (`KERASTOOLS_LIVEPLOT`, the kernel, the chief);
- `drawing`: when to redraw (the throttle rule) and the drawing settings' checks.

Nothing here is a Keras callback: the callbacks decide when to draw, the
engine how.

Examples:
    >>> from kerastools.live import downsample
    >>> x, y = downsample(np.arange(10.0), np.arange(10.0), max_points=10)
    >>> len(x)
    10
"""

from kerastools.live.drawing import THROTTLE_FACTOR, check_drawing, next_render_at
from kerastools.live.figure import MAX_PIXELS, LiveFigure, grown_limits
from kerastools.live.history import RunHistory, downsample, scalar_values
from kerastools.live.mode import ENV_VAR, MODES, PlotMode, resolve_mode
from kerastools.live.panels import PanelPlan
from kerastools.live.png import encode_png
from kerastools.live.sinks import Sink, open_sinks

__all__ = [
    "ENV_VAR",
    "MAX_PIXELS",
    "MODES",
    "LiveFigure",
    "PanelPlan",
    "PlotMode",
    "RunHistory",
    "Sink",
    "THROTTLE_FACTOR",
    "check_drawing",
    "downsample",
    "encode_png",
    "grown_limits",
    "next_render_at",
    "open_sinks",
    "resolve_mode",
    "scalar_values",
]
