"""kerastools.device.request: refusals worded the same on every backend."""

from __future__ import annotations

import pytest

from kerastools.device.request import check_supported, too_late_error, validate
from kerastools.errors import DeviceError


def test_check_supported_names_every_unsupported_argument_and_what_is_supported():
    reasons = {"soft_placement": "never falls back", "jit": "always compiles"}
    request = validate({"soft_placement": True, "jit": False})
    with pytest.raises(DeviceError) as caught:
        check_supported("jax", reasons, request, harmless={"jit": True}, also=("jit=True",))
    text = str(caught.value)
    assert text.startswith("The jax backend cannot apply `soft_placement`, `jit`")
    assert "`jit`: always compiles" in text and "Nothing was applied" in text
    assert "configure supports: gpus, memory_growth," in text and text.count("jit=True") == 1
    check_supported("jax", reasons, validate({"jit": True}), harmless={"jit": True})  # harmless


def test_too_late_error_says_what_was_applied():
    request = validate({"logical_cpus": 2, "intra_op_threads": 1})
    text = str(too_late_error("tensorflow", ("jit",), ["logical_cpus"], request, ["intra_op_threads"]))
    assert "`logical_cpus` can no longer change" in text
    assert "Still allowed now: jit. Applied before this failed: intra_op_threads." in text
