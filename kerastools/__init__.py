"""kerastools: composable training scaffolding for Keras 3.

Examples:
    >>> import kerastools as kt
    >>> model = kt.compile(kt.build_mlp(2, [16, 16]), optimizer="adam", learning_rate=0.01)
"""

from kerastools import callbacks, checkpoints, datasets, device, errors, plots, sweep
from kerastools.builders import build_cnn, build_mlp, suggest_hidden_units
from kerastools.lr_finder import LearningRateFinderResult, find_learning_rate
from kerastools.optimization import compile, current_learning_rate, reset_training

__version__ = "0.1.0"

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
    "plots",
    "reset_training",
    "suggest_hidden_units",
    "sweep",
]
