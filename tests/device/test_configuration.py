"""kerastools.device.configuration: every argument is checked before anything is applied (in process)."""

from __future__ import annotations

import pytest

import kerastools as kt
from kerastools.errors import ConfigError, ConfigTypeError, DeviceError, KerastoolsError


@pytest.mark.parametrize(
    ("arguments", "error", "match"),
    [
        ({"gpus": "some"}, ConfigError, r"`gpus` must be 'all', 'none'.*Received: gpus='some'"),
        ({"gpus": 1.0}, ConfigTypeError, r"`gpus` must be .*Received: gpus=1.0"),
        ({"gpus": [0, True]}, ConfigTypeError, r"`gpus`"),
        ({"gpus": [-1]}, ConfigError, r"indices >= 0. Received: gpus=\[-1\]"),
        ({"gpus": []}, ConfigError, r"empty list; pass gpus='none'"),
        ({"gpus": [0, 0]}, ConfigError, r"names a GPU twice"),
        ({"memory_growth": 1}, ConfigTypeError, r"`memory_growth` must be True or False"),
        ({"memory_limit_mb": 0}, ConfigError, r"`memory_limit_mb` must be >= 1. Received: memory_limit_mb=0"),
        ({"memory_limit_mb": 512.5}, ConfigTypeError, r"`memory_limit_mb` must be an integer"),
        ({"logical_cpus": 0}, ConfigError, r"`logical_cpus` must be >= 1"),
        ({"intra_op_threads": -1}, ConfigError, r"`intra_op_threads` must be >= 0"),
        ({"inter_op_threads": "2"}, ConfigTypeError, r"`inter_op_threads` must be an integer"),
        ({"soft_placement": "yes"}, ConfigTypeError, r"`soft_placement` must be True or False"),
        ({"mixed_precision": "float16"}, ConfigError, r"`mixed_precision` must be one of"),
        ({"jit": None, "log_placement": 0}, ConfigTypeError, r"`log_placement`"),
        (
            {"memory_growth": True, "memory_limit_mb": 1024},
            ConfigError,
            r"`memory_growth` and `memory_limit_mb` cannot be combined",
        ),
        ({"gpus": "none", "memory_growth": True}, ConfigError, r"gpus='none' hides them all"),
    ],
)
def test_configure_rejects_bad_arguments_before_touching_anything(arguments, error, match):
    policy = kt.device.summary().dtype_policy
    with pytest.raises(error, match=match):
        kt.device.configure(**{"mixed_precision": "mixed_bfloat16", **arguments})
    assert kt.device.summary().dtype_policy == policy  # the valid argument was not applied either


@pytest.mark.tf_only
def test_asking_for_a_missing_gpu_lists_what_is_there():
    present = kt.device.summary().gpu_count
    with pytest.raises(DeviceError, match=rf"asks for GPU {present}\b") as caught:
        kt.device.configure(gpus=[present], mixed_precision="mixed_bfloat16")
    assert isinstance(caught.value, RuntimeError) and isinstance(caught.value, KerastoolsError)
    if present == 0:
        assert "A CPU-only machine is normal" in str(caught.value)
        assert "gpus='none'" in str(caught.value)
    assert kt.device.summary().dtype_policy == "float32"
