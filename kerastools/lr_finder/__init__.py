"""The learning-rate range finder: `find_learning_rate` and its result.

Examples:
    >>> result = kt.find_learning_rate(model, x, y, num_steps=20, seed=0)
    >>> isinstance(result, kt.LearningRateFinderResult)
    True
"""

from kerastools.lr_finder.result import STOP_REASONS, LearningRateFinderResult
from kerastools.lr_finder.suggestions import SUGGESTION_METHODS
from kerastools.lr_finder.sweep import MODES, find_learning_rate

__all__ = [
    "MODES",
    "STOP_REASONS",
    "SUGGESTION_METHODS",
    "LearningRateFinderResult",
    "find_learning_rate",
]
