"""Train one model per hyper-parameter combination and compare them.

`sweep(build, grid, ...)` replaces the loop written by hand: `itertools.product`
over a few lists, `keras.backend.clear_session()` and a fresh model per
combination. `build(**params)` returns a compiled model, so with the builders
and `kerastools.compile` it is one lambda. Each trial keeps its parameters,
history, final metrics and fit time, not the model, so a sweep of hundreds
of models does not hold hundreds of models in memory.

`sweep(..., live=True)` (or a path, or a `LiveSweep`) draws every trial's
curves on one figure that updates in place while the trials train.

For Bayesian search, `keras_tuner_hypermodel(build, space)` hands the same
`build` to keras-tuner (`pip install kerastools[tune]`).
"""

from kerastools.sweep.live import LiveSweep
from kerastools.sweep.records import SweepResults, TrialRecord
from kerastools.sweep.runner import sweep
from kerastools.sweep.tuner import keras_tuner_hypermodel

__all__ = ["LiveSweep", "SweepResults", "TrialRecord", "keras_tuner_hypermodel", "sweep"]
