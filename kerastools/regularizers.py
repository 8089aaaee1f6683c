"""Regularizer maps: which layer groups get l1/l2, and how much.

A map goes from a layer group (or a layer name) to a regularizer spec::

    {"hidden": ("l2", 1e-3), "output": None, "conv_1": ("l1", 1e-4)}

Groups are `"conv"`, `"hidden"` (dense hidden layers), `"output"` and `"all"`.
A layer name beats its group, and a group beats `"all"`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any, TypeAlias

import keras

from kerastools.errors import ConfigError, ConfigTypeError

__all__ = ["GROUPS", "KINDS", "RegularizerSpec", "make_regularizer", "RegularizerMap"]

GROUPS = ("conv", "hidden", "output", "all")
KINDS = {"l1": 1, "l2": 1, "l1_l2": 2}

RegularizerSpec: TypeAlias = "tuple[Any, ...] | keras.regularizers.Regularizer | None"


def make_regularizer(spec: Any, *, argument: str = "regularizers") -> keras.regularizers.Regularizer | None:
    """Turn one spec into a Keras regularizer with explicit factors.

    Keras' own `regularizers.get("l2")` silently means 0.01 and `"l1l2"` means
    zero, so only tuples with explicit factors are accepted.

    Examples:
        >>> make_regularizer(("l2", 1e-3)).get_config()
        {'l2': 0.001}

    Args:
        spec: `("l2", f)`, `("l1", f)`, `("l1_l2", f1, f2)`, a
            `keras.regularizers.Regularizer`, or `None`.
        argument: the name used in error messages.

    Raises:
        ConfigError: unknown kind, wrong number of factors, or a negative or
            non-finite factor.
    """
    if spec is None or isinstance(spec, keras.regularizers.Regularizer):
        return spec
    if not isinstance(spec, (tuple, list)) or not spec or not isinstance(spec[0], str):
        raise ConfigTypeError(
            f"Argument `{argument}` values must be ('l2', factor), ('l1', factor), "
            f"('l1_l2', l1, l2), a keras.regularizers.Regularizer or None. Received: {spec!r}"
        )
    kind, factors = spec[0].lower(), spec[1:]
    if kind not in KINDS:
        raise ConfigError(
            f"Argument `{argument}` has an unknown regularizer kind {spec[0]!r}; "
            f"allowed kinds: {sorted(KINDS)}. Received: {spec!r}"
        )
    if len(factors) != KINDS[kind]:
        raise ConfigError(
            f"Argument `{argument}`: kind {kind!r} takes {KINDS[kind]} factor(s), "
            f"got {len(factors)}. Received: {spec!r}"
        )
    for factor in factors:
        if (
            isinstance(factor, bool)
            or not isinstance(factor, numbers.Real)
            or not math.isfinite(factor)
            or factor < 0
        ):
            raise ConfigError(
                f"Argument `{argument}`: regularizer factors must be finite numbers >= 0. "
                f"Received: {spec!r}"
            )
    values = [float(f) for f in factors]
    if kind == "l1":
        return keras.regularizers.L1(values[0])
    if kind == "l2":
        return keras.regularizers.L2(values[0])
    return keras.regularizers.L1L2(l1=values[0], l2=values[1])


class RegularizerMap:
    """A validated regularizer map that answers "which regularizer for this layer?".

    Examples:
        >>> rmap = RegularizerMap({"hidden": ("l2", 1e-3)})
        >>> rmap.for_layer("dense_1", "hidden").get_config()
        {'l2': 0.001}
        >>> rmap.for_layer("output", "output") is None
        True

    Args:
        mapping: group or layer name -> spec (see `make_regularizer`), or None.
        layer_names: names of the layers the model will have; keys that are
            neither a group nor one of these raise `ConfigError`.
    """

    def __init__(self, mapping: Mapping[str, Any] | None, layer_names: tuple[str, ...] = ()):
        if mapping is None:
            mapping = {}
        if not isinstance(mapping, Mapping):
            raise ConfigTypeError(
                "Argument `regularizers` must be a mapping from layer group "
                f"{list(GROUPS)} or layer name to a regularizer spec. Received: regularizers={mapping!r}"
            )
        self._specs: dict[str, keras.regularizers.Regularizer | None] = {}
        for key, spec in mapping.items():
            if not isinstance(key, str) or (key not in GROUPS and key not in layer_names):
                raise ConfigError(
                    f"Argument `regularizers` has an unknown key {key!r}; allowed: the groups "
                    f"{list(GROUPS)} or a layer name {list(layer_names)}."
                )
            self._specs[key] = make_regularizer(spec, argument=f"regularizers[{key!r}]")

    def for_layer(self, layer_name: str, group: str) -> keras.regularizers.Regularizer | None:
        """The regularizer for one layer: its name, else its group, else `"all"`.

        Each call returns a fresh object, so layers never share regularizer state.
        """
        for key in (layer_name, group, "all"):
            if key in self._specs:
                regularizer = self._specs[key]
                if regularizer is None:
                    return None
                return regularizer.__class__.from_config(regularizer.get_config())
        return None
