"""Everything a sweep changes in a model, kept aside and put back bit for bit.

The weights, non-trainable state (BatchNorm moving statistics, the seed
states of Dropout and other random layers), the metric accumulators, and every
optimizer variable (the step counter, the slots, the rate itself). Unlike
`reset_training`, which goes back to compile time, this goes back to *now*: a
model trained for a while is left as trained.

Examples:
    >>> snapshot = TrainingSnapshot.take(model)
    >>> _ = model.fit(x, y, epochs=1, verbose=0)
    >>> snapshot.restore()
    >>> snapshot.matches(model)
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from kerastools.learning_rates import unwrap_optimizer

__all__ = ["TrainingSnapshot"]


def _variables(model: keras.Model) -> list[Any]:
    """The model's, its metrics' and its optimizers' variables, each once."""
    seen: dict[int, Any] = {}
    groups = [model.variables, model.metrics_variables, model.optimizer.variables]
    groups.append(unwrap_optimizer(model).variables)
    for group in groups:
        for variable in group:
            seen.setdefault(id(variable), variable)
    return list(seen.values())


@dataclass(frozen=True)
class TrainingSnapshot:
    """The values of every variable a training step can change, and the rate's source.

    Examples:
        >>> snapshot = TrainingSnapshot.take(model)
        >>> len(snapshot.values) == len(snapshot.variables)
        True
    """

    model: keras.Model
    variables: tuple[Any, ...]
    values: tuple[np.ndarray, ...]

    @classmethod
    def take(cls, model: keras.Model) -> TrainingSnapshot:
        """Build the optimizer if it is not yet (as `fit` would) and copy every value.

        Examples:
            >>> TrainingSnapshot.take(model).model is model
            True
        """
        if not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        variables = tuple(_variables(model))
        values = tuple(np.array(keras.ops.convert_to_numpy(v), copy=True) for v in variables)
        return cls(model, variables, values)

    def restore(self) -> None:
        """Reset the metrics, then assign every recorded value back.

        Examples:
            >>> snapshot = TrainingSnapshot.take(model)
            >>> snapshot.restore()
        """
        self.model.reset_metrics()
        for variable, value in zip(self.variables, self.values, strict=True):
            variable.assign(value)

    def matches(self, model: keras.Model) -> bool:
        """Whether `model` holds exactly the recorded values again (same variables, same bits).

        Examples:
            >>> TrainingSnapshot.take(model).matches(model)
            True
        """
        current = _variables(model)
        if [id(v) for v in current] != [id(v) for v in self.variables]:
            return False
        return all(
            np.array_equal(keras.ops.convert_to_numpy(v), value, equal_nan=value.dtype.kind == "f")
            for v, value in zip(current, self.values, strict=True)
        )
