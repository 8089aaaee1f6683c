"""kerastools.device.nvidia: GPUs as CUDA will number them, under CUDA_VISIBLE_DEVICES."""

from __future__ import annotations

from pathlib import Path

import pytest

from kerastools.device import nvidia


@pytest.fixture
def two_gpus(monkeypatch, tmp_path):
    for index, model in enumerate(["NVIDIA A", "NVIDIA B"]):
        entry = tmp_path / f"0000:0{index}:00.0"
        entry.mkdir()
        (entry / "information").write_text(f"Model:\t\t {model}\nIRQ:\t\t 1\n")
    real_path = Path

    def fake_path(*parts):
        path = real_path(*parts)
        return tmp_path if str(path) == "/proc/driver/nvidia/gpus" else path

    monkeypatch.setattr(nvidia, "Path", fake_path)


@pytest.mark.parametrize(
    ("restriction", "expected"),
    [
        (None, [("0", "NVIDIA A"), ("1", "NVIDIA B")]),
        ("1", [("1", "NVIDIA B")]),
        ("", []),
        ("0,7,1", [("0", "NVIDIA A")]),  # CUDA stops at the first invalid ordinal
        ("GPU-1234", [("GPU-1234", "NVIDIA GPU")]),
    ],
)
def test_driver_gpus_follow_cuda_visible_devices(two_gpus, monkeypatch, restriction, expected):
    if restriction is None:
        monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    else:
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", restriction)
    assert [(gpu.ordinal, gpu.model) for gpu in nvidia.driver_gpus()] == expected


def test_total_memory_is_empty_without_nvidia_smi(monkeypatch):
    monkeypatch.setattr(nvidia.shutil, "which", lambda name: None)
    assert nvidia.total_memory_mb() == []
