"""The figures a training session needs, one call each.

Every function returns a `matplotlib.figure.Figure` built with matplotlib's
object API (no `pyplot`): nothing is shown, no global figure registry keeps
it alive, and the user's current pyplot figure is untouched. In Jupyter a
returned figure displays itself; elsewhere, `save_figure(fig, "x.png")`.
A figure is freed like any other object once it is no longer referenced, so
a long session that draws thousands of plots does not grow. To redraw in
place (a live notebook cell), pass the previous figure back as `figure=`.

matplotlib is imported inside the functions, so `import kerastools` stays fast.
"""

from kerastools.plots.attribution import attribution_figure, grad_cam, saliency
from kerastools.plots.data import model_response, points
from kerastools.plots.figure import save_figure
from kerastools.plots.inside import activation_profiles, feature_maps, filters, weight_histograms
from kerastools.plots.training import training_curves

# The sweep comparison figure lives beside its data (kerastools.sweep.records), as the
# learning-rate finder's does; kt.plots.sweep_curves stays its name here too.
from kerastools.sweep.records import sweep_curves

__all__ = [
    "activation_profiles",
    "attribution_figure",
    "feature_maps",
    "filters",
    "grad_cam",
    "model_response",
    "points",
    "saliency",
    "save_figure",
    "sweep_curves",
    "training_curves",
    "weight_histograms",
]
