"""The keys kerastools' callbacks add to Keras' `logs`, named once.

They reach `History`, `CSVLogger` and TensorBoard like any metric; plots and
the live plot leave the bookkeeping ones out of the metric panels.

Examples:
    >>> from kerastools.log_keys import BOOKKEEPING_KEYS
    >>> sorted(BOOKKEEPING_KEYS)
    ['epoch_time_s', 'iterations', 'samples_per_s']
"""

from __future__ import annotations

__all__ = [
    "BOOKKEEPING_KEYS",
    "LEARNING_RATE_KEYS",
    "STEP_KEY",
    "THROUGHPUT_KEY",
    "TIME_KEY",
    "is_bookkeeping",
    "is_learning_rate",
]

STEP_KEY = "iterations"  # the optimizer step at the end of the epoch (LearningRateLogger)
TIME_KEY = "epoch_time_s"  # wall time of the epoch (EpochTimer)
THROUGHPUT_KEY = "samples_per_s"  # training samples per second (EpochTimer)

# Not metrics: counters and timings that have no place on a metric's axis.
BOOKKEEPING_KEYS = frozenset({STEP_KEY, TIME_KEY, THROUGHPUT_KEY})

# What LearningRateLogger (and Keras' own LearningRateScheduler) log the rate as.
LEARNING_RATE_KEYS = frozenset({"learning_rate", "lr"})


def is_bookkeeping(key: str) -> bool:
    """Whether `key` is a counter or timing, per optimizer too (`iterations_g_optimizer`).

    Examples:
        >>> is_bookkeeping("iterations_d_optimizer"), is_bookkeeping("val_loss")
        (True, False)
    """
    return key in BOOKKEEPING_KEYS or key.startswith(f"{STEP_KEY}_")


def is_learning_rate(key: str) -> bool:
    """Whether `key` holds a learning rate, per optimizer too (`learning_rate_g_optimizer`).

    Examples:
        >>> is_learning_rate("learning_rate_d_optimizer"), is_learning_rate("loss")
        (True, False)
    """
    return key in LEARNING_RATE_KEYS or key.startswith("learning_rate_")
