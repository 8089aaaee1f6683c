"""The optimizers of a checkpoint: their saved state, and which variables each one trains.

A model may train with several optimizers kept as attributes (the GAN
pattern; `kerastools.learning_rates.model_optimizers` says which). Each is
saved under its attribute name with the positions, in
`model.trainable_variables`, of the variables it updates, so loading can
build a fresh model's optimizer on the same variables before restoring it.

Examples:
    >>> from kerastools.checkpoints.file_format import take_state
    >>> state = take_state(model, include_optimizer=True).optimizers["optimizer"]
    >>> state.class_name, state.trains is None
    ('RMSprop', True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

__all__ = ["OptimizerState", "optimizers_to_restore", "trained_positions"]


@dataclass
class OptimizerState:
    """One optimizer's variables, in host memory.

    Examples:
        >>> from kerastools.checkpoints.file_format import take_state
        >>> state = take_state(model, include_optimizer=True).optimizers["optimizer"]
        >>> state.class_name, state.paths[0].endswith("/iteration"), state.trains is None
        ('RMSprop', True, True)
    """

    class_name: str
    paths: list[str]
    arrays: list[np.ndarray]
    # Positions in model.trainable_variables of what it updates; None: all of them.
    trains: list[int] | None = None
    # The config it was compiled with (`checkpoints.optimizer_check`); None: not recorded.
    config: dict[str, Any] | None = None


def trained_positions(model: keras.Model, optimizer: keras.optimizers.Optimizer) -> list[int] | None:
    """Positions in `model.trainable_variables` of the variables `optimizer` was built on.

    Keras 3 has no public name for them; this is the one private read
    (`Optimizer._trainable_variables`), checked on Keras 3.15.1 and guarded
    by `tests/checkpoints/test_optimizer_state.py::test_private_trained_variables_still_exist`.
    None when the optimizer is not built or updates variables outside the model.

    Examples:
        >>> trained_positions(model, model.optimizer) == list(range(len(model.trainable_variables)))
        True
    """
    if not optimizer.built:
        return None
    inner = getattr(optimizer, "inner_optimizer", optimizer)  # LossScaleOptimizer
    positions = {id(variable): index for index, variable in enumerate(model.trainable_variables)}
    try:
        return [positions[id(variable)] for variable in inner._trainable_variables]
    except KeyError:
        return None


def optimizers_to_restore(
    model: keras.Model, states: dict[str, OptimizerState]
) -> list[tuple[keras.optimizers.Optimizer, OptimizerState]]:
    """Each saved optimizer that the model has (compiled, or an attribute), built, with its state.

    An optimizer the model lacks (not compiled, no such attribute) is left
    out: the weights load alone. One that is not built yet is built on the
    variables it trained when it was saved (`trains`), or on all trainable
    variables, since Keras skips state it cannot match to built variables.

    Examples:
        >>> from kerastools.checkpoints.file_format import take_state
        >>> states = take_state(model, include_optimizer=True).optimizers
        >>> [type(optimizer).__name__ for optimizer, _ in optimizers_to_restore(model, states)]
        ['RMSprop']
    """
    pairs = []
    for name, state in states.items():
        optimizer = getattr(model, name, None)
        if not isinstance(optimizer, keras.optimizers.Optimizer):
            continue  # not compiled, or without that attribute: weights only
        # Keras skips optimizer state it cannot match to built variables:
        # build first so the step counter really comes back.
        if not optimizer.built:
            variables = model.trainable_variables
            if state.trains is not None:
                variables = [variables[index] for index in state.trains if index < len(variables)]
            optimizer.build(variables)
        pairs.append((optimizer, state))
    return pairs
