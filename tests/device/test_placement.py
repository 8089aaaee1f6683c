"""kerastools.device.placement: `use` checks the device exists, then places work there."""

from __future__ import annotations

import pytest

import kerastools as kt
from kerastools.errors import ConfigError, ConfigTypeError, DeviceError


@pytest.mark.parametrize(
    ("device", "error", "match"),
    [
        ("npu:0", ConfigError, r"must look like 'cpu', 'gpu:0'"),
        ("gpu:-1", ConfigError, r"Received: device='gpu:-1'"),
        (0, ConfigTypeError, r"must be a string"),
        ("cpu:7", DeviceError, r"names cpu:7, which the \w+ backend does not have; it has: "),
    ],
)
def test_use_rejects_unknown_devices(device, error, match):
    with pytest.raises(error, match=match), kt.device.use(device):
        pass


def test_use_places_work_on_the_cpu(squares_data):
    x, _ = squares_data
    model = kt.build_mlp(2, [4])
    with kt.device.use("/device:CPU:0") as name:
        prediction = model.predict(x[:4], verbose=0)
    assert name == "cpu:0" and prediction.shape == (4, 1)
