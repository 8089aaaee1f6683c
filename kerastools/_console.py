"""Console output behind `verbose`, through public Keras API only.

Keras' own callbacks print through a private helper that honours
`keras.config.disable_interactive_logging()`; this is the same rule: the
console while interactive logging is on, the `kerastools` logger otherwise.
"""

from __future__ import annotations

import logging
import sys

import keras

__all__ = ["print_msg"]

_LOGGER = logging.getLogger("kerastools")


def print_msg(message: str) -> None:
    """Print `message` as Keras prints its progress, or log it when Keras logs.

    Examples:
        >>> from kerastools._console import print_msg
        >>> print_msg("epoch 1: learning_rate=0.01")
        epoch 1: learning_rate=0.01
    """
    if keras.config.is_interactive_logging_enabled():
        sys.stdout.write(message + "\n")
        sys.stdout.flush()
    else:
        _LOGGER.info(message)
