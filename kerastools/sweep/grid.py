"""What a sweep trains: the grid, its combinations, and a `build` that accepts them.

`"grid"` mode lists every combination in `itertools.product` order;
`"random"` mode draws distinct ones without listing a huge grid first.
"""

from __future__ import annotations

import inspect
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import keras
import numpy as np

from kerastools._validation import check_int
from kerastools.errors import ConfigError, ConfigTypeError

# Beyond this many combinations, random mode draws indices instead of listing them all.
_ENUMERATE_LIMIT = 1_000_000


def _check_grid(grid: Any, argument: str = "grid") -> dict[str, list[Any]]:
    if not isinstance(grid, Mapping) or not grid:
        raise ConfigTypeError(
            f"Argument `{argument}` must be a non-empty dict of parameter name -> list of values. "
            f"Received: {argument}={grid!r}"
        )
    checked = {}
    for key, values in grid.items():
        if not isinstance(key, str) or not key.isidentifier():
            raise ConfigError(
                f"Argument `{argument}` keys must be valid Python names (they become keyword "
                f"arguments of `build`). Received key: {key!r}"
            )
        if (
            isinstance(values, (str, bytes, Mapping))
            or not isinstance(values, Sequence)
            or not values
        ):
            raise ConfigError(
                f"Argument `{argument}[{key!r}]` must be a non-empty list of values. "
                f"Received: {argument}[{key!r}]={values!r}"
            )
        checked[key] = list(values)
    return checked


def _check_build(build: Any, keys: Sequence[str]) -> Callable[..., keras.Model]:
    if not callable(build):
        raise ConfigTypeError(
            f"Argument `build` must be a function taking the grid's keys as keyword arguments and "
            f"returning a compiled keras.Model. Received: build={build!r}"
        )
    try:
        signature = inspect.signature(build)
    except (TypeError, ValueError):
        return build  # a builtin or C callable: we learn at the first call
    parameters = signature.parameters
    if any(parameter.kind is inspect.Parameter.VAR_KEYWORD for parameter in parameters.values()):
        return build
    accepted = [
        name
        for name, parameter in parameters.items()
        if parameter.kind
        in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    ]
    unknown = [key for key in keys if key not in accepted]
    if unknown:
        raise ConfigError(
            f"Argument `build` does not accept the grid keys {unknown}; its parameters are "
            f"{accepted}. Rename the grid keys or add them (or **kwargs) to `build`."
        )
    return build


def _combinations(
    grid: dict[str, list[Any]], mode: str, n_trials: Any, rng: np.random.Generator
) -> list[dict[str, Any]]:
    keys = list(grid)
    sizes = [len(grid[key]) for key in keys]
    total = math.prod(sizes)
    if mode == "grid":
        if n_trials is not None:
            raise ConfigError(
                "Argument `n_trials` applies to mode='random' only; mode='grid' trains every "
                f"combination ({total}). Received: n_trials={n_trials!r}"
            )
        return [
            dict(zip(keys, values, strict=True)) for values in itertools.product(*grid.values())
        ]
    if n_trials is None:
        raise ConfigError(
            f"Argument `n_trials` is required with mode='random' (at most {total}, the grid size). "
            "Received: n_trials=None"
        )
    n_trials = check_int("n_trials", n_trials, low=1, high=total)
    if total <= _ENUMERATE_LIMIT:
        picks = [int(index) for index in rng.choice(total, size=n_trials, replace=False)]
    else:
        chosen: dict[int, None] = {}
        while len(chosen) < n_trials:
            chosen[int(rng.integers(total))] = None
        picks = list(chosen)
    combos = []
    for flat in picks:
        combo = {}
        for key, size in zip(reversed(keys), reversed(sizes), strict=True):
            flat, position = divmod(flat, size)
            combo[key] = grid[key][position]
        combos.append({key: combo[key] for key in keys})
    return combos


def check_built_model(model: Any, params: Mapping[str, Any]) -> keras.Model:
    """`model` when `build(**params)` returned a compiled model; a ConfigError otherwise."""
    if not isinstance(model, keras.Model) or not getattr(model, "compiled", False):
        raise ConfigError(
            f"Argument `build` must return a compiled keras.Model (use kerastools.compile). "
            f"It returned {type(model).__name__} for params {params!r}"
        )
    return model
