"""Hand a sweep's `build` function to keras-tuner for Bayesian or Hyperband search.

Needs keras-tuner: `pip install kerastools[tune]`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import keras

from kerastools._validation import check_choice, check_float
from kerastools.errors import ConfigError, ConfigTypeError
from kerastools.sweep.grid import _check_build, check_built_model

__all__ = ["keras_tuner_hypermodel"]


def _check_space(space: Any) -> dict[str, Any]:
    if not isinstance(space, Mapping) or not space:
        raise ConfigTypeError(
            "Argument `space` must be a non-empty dict of name -> list of choices or "
            "{'min': ..., 'max': ..., 'step': ..., 'sampling': ...}, or a function hp -> dict of "
            f"params. Received: space={space!r}"
        )
    for key, spec in space.items():
        if not isinstance(key, str) or not key.isidentifier():
            raise ConfigError(
                f"Argument `space` keys must be valid Python names. Received key: {key!r}"
            )
        if isinstance(spec, Mapping):
            unknown = set(spec) - {"min", "max", "step", "sampling", "default"}
            if unknown or "min" not in spec or "max" not in spec:
                raise ConfigError(
                    f"Argument `space[{key!r}]` as a range needs 'min' and 'max' and may have 'step', "
                    f"'sampling' ('linear', 'log', 'reverse_log'), 'default'. Received: {dict(spec)!r}"
                )
            _check_range(key, spec)
        elif isinstance(spec, Sequence) and not isinstance(spec, (str, bytes)) and spec:
            kinds = {type(value) for value in spec}
            if len(kinds) != 1 or not kinds <= {int, float, str, bool}:
                raise ConfigError(
                    f"Argument `space[{key!r}]` choices must all be ints, all floats, all strings or "
                    f"all booleans (keras-tuner's Choice); encode other values as strings. "
                    f"Received: {list(spec)!r}"
                )
        else:
            raise ConfigError(
                f"Argument `space[{key!r}]` must be a non-empty list of choices or a range dict. "
                f"Received: {spec!r}"
            )
    return dict(space)


def _check_range(key: str, spec: Mapping[str, Any]) -> None:
    """A range's bounds are finite numbers with min <= max, step > 0, log sampling above 0."""
    where = f"space[{key!r}]"
    low = check_float(f"{where}['min']", spec["min"])
    high = check_float(f"{where}['max']", spec["max"])
    if low > high:
        raise ConfigError(
            f"Argument `{where}` must have 'min' <= 'max'. Received: min={spec['min']!r}, "
            f"max={spec['max']!r}"
        )
    if spec.get("step") is not None:
        check_float(f"{where}['step']", spec["step"], low=0.0, low_inclusive=False)
    sampling = spec.get("sampling", "linear")
    sampling = check_choice(f"{where}['sampling']", sampling, ["linear", "log", "reverse_log"])
    if sampling != "linear" and low <= 0:
        raise ConfigError(
            f"Argument `{where}` with sampling={sampling!r} needs 'min' > 0. Received: min={spec['min']!r}"
        )
    if "default" in spec and spec["default"] is not None:
        check_float(f"{where}['default']", spec["default"], low=low, high=high)


def _hyperparameter(hp: Any, name: str, spec: Any) -> Any:
    if not isinstance(spec, Mapping):
        return hp.Choice(name, list(spec))
    options = {key: spec[key] for key in ("step", "sampling", "default") if key in spec}
    integral = all(
        isinstance(spec.get(key, 1), int) and not isinstance(spec.get(key, 1), bool)
        for key in ("min", "max", "step")
    )
    if integral:
        return hp.Int(name, min_value=spec["min"], max_value=spec["max"], **options)
    return hp.Float(name, min_value=float(spec["min"]), max_value=float(spec["max"]), **options)


def keras_tuner_hypermodel(build: Callable[..., keras.Model], space: Any) -> Any:
    """Adapt a sweep's `build` function to keras-tuner, for Bayesian or Hyperband search.

    The same `build(**params)` that `sweep` trains becomes a
    `keras_tuner.HyperModel`; `space` says what each parameter may be:

    - a list of values -> `hp.Choice` (so a sweep grid works as is);
    - `{"min": 1e-4, "max": 1e-2, "sampling": "log"}` -> `hp.Float`
      (`hp.Int` when min, max and step are ints);
    - or a function `space(hp) -> dict of params` for anything else
      (conditional parameters, `hp.Boolean`, ...).

    Examples:
        >>> import keras_tuner
        >>> hypermodel = kerastools.sweep.keras_tuner_hypermodel(
        ...     lambda units, lr: kerastools.compile(kerastools.build_mlp(2, [units]), learning_rate=lr),
        ...     {"units": [4, 8], "lr": {"min": 1e-4, "max": 1e-2, "sampling": "log"}})
        >>> tuner = keras_tuner.BayesianOptimization(
        ...     hypermodel, objective="val_loss", max_trials=2, directory=str(tmp_path), seed=0)
        >>> tuner.search(x, y, validation_split=0.25, epochs=1, verbose=0)
        >>> sorted(tuner.get_best_hyperparameters()[0].values)
        ['lr', 'units']

    Args:
        build: returns a compiled `keras.Model` from keyword arguments.
        space: a dict as above, or a function taking keras-tuner's `hp` and
            returning the keyword arguments for `build`.

    Returns:
        A `keras_tuner.HyperModel` to pass to any keras-tuner tuner.

    Raises:
        ImportError: keras-tuner is not installed (`pip install kerastools[tune]`).
        ConfigError: a bad `space` or `build`, or a `build` that does not return
            a compiled model.
    """
    try:
        import keras_tuner
    except ImportError as error:
        raise ImportError(
            "keras_tuner_hypermodel needs keras-tuner: pip install 'kerastools[tune]' "
            "(or pip install keras-tuner)."
        ) from error
    if not callable(build):
        raise ConfigTypeError(
            f"Argument `build` must be a function returning a compiled model. Received: build={build!r}"
        )
    space_function: Callable[[Any], Mapping[str, Any]] | None = None
    spec: dict[str, Any] = {}
    if callable(space) and not isinstance(space, Mapping):
        space_function = space
    else:
        spec = _check_space(space)
        _check_build(build, list(spec))

    def parameters(hp: Any) -> dict[str, Any]:
        if space_function is None:
            return {name: _hyperparameter(hp, name, item) for name, item in spec.items()}
        params = space_function(hp)
        if not isinstance(params, Mapping):
            raise ConfigTypeError(
                f"Argument `space` as a function must return a dict of params for `build`. It returned {params!r}"
            )
        return dict(params)

    class SweepHyperModel(keras_tuner.HyperModel):  # type: ignore[misc,name-defined]
        """keras-tuner's view of a kerastools `build` function."""

        def build(self, hp: Any) -> keras.Model:
            params = parameters(hp)
            return check_built_model(build(**params), params)

    return SweepHyperModel(name=getattr(build, "__name__", "kerastools_build").strip("<>") or None)
