"""kerastools.backend: one dispatch, and every backend module offers the same interface."""

from __future__ import annotations

import inspect

import keras
import pytest

from kerastools import backend

INTERFACE = {
    "NAME": str,
    "DISPLAY_NAME": str,
    "CHANGEABLE_LATER": tuple,
    "TF_DISTRIBUTE": bool,
}
FUNCTIONS = {
    "initialized": [],
    "plan": ["request"],
    "summary": [],
    "available": ["kind"],
    "process_index": [],
}


@pytest.mark.parametrize("name", ["tensorflow", "jax", "torch", "numpy"])
def test_every_backend_module_offers_the_same_interface(name):
    module = backend.module(name)  # importing it imports no backend package
    for attribute, kind in INTERFACE.items():
        assert isinstance(getattr(module, attribute), kind), f"{module.__name__}.{attribute}"
    for function, parameters in FUNCTIONS.items():
        assert list(inspect.signature(getattr(module, function)).parameters) == parameters
    assert "mixed_precision" in module.CHANGEABLE_LATER


def test_current_follows_keras_and_unknown_backends_fall_back():
    assert backend.current().NAME == keras.backend.backend()
    assert backend.module("numpy").__name__ == "kerastools.backend.other"
    assert backend.module("tensorflow").TF_DISTRIBUTE is True
    assert [backend.display_name(n) for n in ("tensorflow", "jax", "torch", "openvino")] == [
        "TensorFlow",
        "JAX",
        "PyTorch",
        "openvino",
    ]


def test_other_backends_only_set_the_dtype_policy():
    from kerastools.backend import other
    from kerastools.device.request import validate
    from kerastools.errors import DeviceError

    with pytest.raises(DeviceError, match=r"supports only `mixed_precision` here; it cannot apply `jit`"):
        other.plan(validate({"jit": True, "mixed_precision": "float32"}))
    assert other.plan(validate({"mixed_precision": "float32"})).steps == []
