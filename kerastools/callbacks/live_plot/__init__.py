"""Live training curves that redraw in place, in Jupyter and in scripts, at bounded cost.

`LivePlot` keeps one matplotlib `Figure` per run, drawn with the Agg canvas and
never through pyplot, so the user's own figures are never shown, closed or
replaced. Each redraw becomes a PNG that goes to one place:

- a Jupyter kernel: one output updated in place through a display handle
  (never `clear_output`, so what the cell printed stays), or an
  `ipywidgets.Image` with `mode="widget"`;
- a script, CI or a terminal: a PNG file replaced atomically, so a viewer
  never reads half an image.

The environment variable `KERASTOOLS_LIVEPLOT` (`off`, `file`, `notebook`,
`widget` or `auto`) overrides `mode` for every LivePlot in the process: set it
to `off` in CI, or to `file` to get PNGs from a notebook run headless.

Cost stays bounded: a redraw happens only when `min_interval_s` has passed
*and* at least `THROTTLE_FACTOR` times the last redraw's duration (the start
of training counts as a redraw), so drawing takes at most about
1/THROTTLE_FACTOR of the wall time and a fit shorter than `min_interval_s`
draws once, at its end. Each line is
downsampled to `max_points`, and axis limits grow in steps, so most redraws
only repaint the lines on a cached background: the cost of a redraw does not
grow with the number of epochs.
"""

# The callback (_callback) decides when to redraw; the drawing engine it shares with
# kerastools.sweep.LiveSweep is the package kerastools.live: a history store
# (live.history), a figure (live.figure, panels chosen by live.panels, PNG from
# live.png), one sink per output target (live.sinks), live.mode picks the target.

from kerastools.callbacks.live_plot._callback import LivePlot
from kerastools.live.drawing import THROTTLE_FACTOR
from kerastools.live.history import downsample
from kerastools.live.mode import ENV_VAR, MODES, PlotMode
from kerastools.log_keys import BOOKKEEPING_KEYS

__all__ = ["BOOKKEEPING_KEYS", "ENV_VAR", "MODES", "THROTTLE_FACTOR", "LivePlot", "PlotMode", "downsample"]
