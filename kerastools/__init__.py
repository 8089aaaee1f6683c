"""kerastools: composable training scaffolding for Keras 3.

Examples:
    >>> import kerastools as kt
    >>> model = kt.compile(kt.build_mlp(2, [16, 16]), optimizer="adam", learning_rate=0.01)
"""

# First, before Keras loads: in `python -m kerastools` and the `kerastools` script (only
# there), the backend's start-up notices are turned off; see kerastools/_quiet_start.py.
from kerastools import _quiet_start  # noqa: F401

# isort: split
from kerastools import callbacks, checkpoints, datasets, device, errors, plots, resumable, sweep
from kerastools.builders import build_cnn, build_mlp, suggest_hidden_units
from kerastools.callbacks.run_facts import set_device_summary_source
from kerastools.lr_finder import LearningRateFinderResult, find_learning_rate
from kerastools.optimization import compile, current_learning_rate, reset_training
from kerastools.resumable import fit_resumable

# Callbacks may not import `device` (docs/architecture.md): the run report
# gets its device summary from here, the package root above every layer.
set_device_summary_source(device.summary)

__version__ = "0.2.0"  # the one place the version is written: pyproject.toml reads it

__all__ = [
    "__version__",
    "LearningRateFinderResult",
    "build_cnn",
    "build_mlp",
    "callbacks",
    "checkpoints",
    "compile",
    "current_learning_rate",
    "datasets",
    "device",
    "errors",
    "find_learning_rate",
    "fit_resumable",
    "plots",
    "reset_training",
    "resumable",
    "suggest_hidden_units",
    "sweep",
]
