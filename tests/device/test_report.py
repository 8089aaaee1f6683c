"""kerastools.device.report: the summary's text and HTML."""

from __future__ import annotations

from kerastools.device import DeviceInfo, DeviceSummary


def test_summary_renders_as_text_and_html():
    summary = DeviceSummary(
        backend="tensorflow",
        backend_version="2.99",
        physical_devices=(
            DeviceInfo("CPU", "/physical_device:CPU:0", details="8 cores"),
            DeviceInfo("GPU", "/physical_device:GPU:0", details="NVIDIA <H100>"),
            DeviceInfo("GPU", "/physical_device:GPU:1", visible=False),
        ),
        logical_devices=(
            DeviceInfo("CPU", "/device:CPU:0"),
            DeviceInfo("GPU", "/device:GPU:0", memory_limit_mb=4096),
        ),
        logical_devices_created=False,
        intra_op_threads=0,
        inter_op_threads=2,
        dtype_policy="mixed_float16",
        soft_placement=True,
        log_placement=False,
        jit="off",
        notes=("a note",),
    )
    text = str(summary)
    assert text.splitlines()[0] == "Device summary (backend: tensorflow 2.99)"
    assert "intra-op auto, inter-op 2" in text
    assert "planned: TensorFlow creates them" in text
    assert "/device:GPU:0  4.0 GiB" in text
    assert "GPU   /physical_device:GPU:1  no" in text
    assert summary.visible_devices == ("/physical_device:CPU:0", "/physical_device:GPU:0")
    assert summary.gpu_count == 1
    page = summary._repr_html_()
    assert page.count("<table>") == 3 and "NVIDIA &lt;H100&gt;" in page and "<li>a note</li>" in page
