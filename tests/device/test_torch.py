"""kerastools.device on torch, in a fresh interpreter: what it applies, and its errors for the rest."""

from __future__ import annotations

TORCH_PROGRAM = """
    import json, sys, warnings

    import numpy as np
    import keras
    import kerastools as kt
    from kerastools.errors import ConfigError, DeviceError

    from kerastools.backend import torch as torch_backend

    def error_text(function, *args, **arguments):
        try:
            function(*args, **arguments)
        except (ConfigError, DeviceError) as error:
            return f"{type(error).__name__}: {error}"
        return None

    results = {"initialized_before": torch_backend.initialized()}
    results["unsupported"] = error_text(kt.device.configure, logical_cpus=2, soft_placement=True)
    results["zero_threads"] = error_text(kt.device.configure, intra_op_threads=0)
    results["missing_gpu"] = error_text(kt.device.configure, gpus=[7])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        summary = kt.device.configure(intra_op_threads=1, inter_op_threads=1,
                                      mixed_precision="mixed_float16")
    results["float16_warned"] = any("no visible GPU" in str(w.message) for w in caught)
    import torch
    results["torch_threads"] = [torch.get_num_threads(), torch.get_num_interop_threads()]
    results["summary_threads"] = [summary.intra_op_threads, summary.inter_op_threads]
    results["policy"] = summary.dtype_policy
    kt.device.configure(mixed_precision="float32")

    x = np.random.default_rng(0).normal(size=(32, 2)).astype("float32")
    with kt.device.use("cpu") as name:
        results["use_name"] = name
        model = kt.compile(kt.build_mlp(2, [4]), optimizer="adam")
        history = model.fit(x, x[:, :1], epochs=2, verbose=0)
        results["placed_on"] = str(keras.ops.ones((2,)).device)
    results["losses"] = history.history["loss"]
    results["variable_device"] = str(model.weights[0].value.device)
    results["missing_device"] = error_text(lambda: kt.device.use("gpu:3").__enter__())
    results["later_threads"] = error_text(kt.device.configure, intra_op_threads=2)
    results["threads_after"] = torch.get_num_threads()
    results["late_interop"] = error_text(kt.device.configure, inter_op_threads=2)
    results["strategy"] = error_text(kt.device.strategy)
    after = kt.device.summary()
    results["summary_text"] = str(after)
    results["backend_version"] = after.backend_version
    results["physical"] = [d.name for d in after.physical_devices]
    results["tensorflow_imported"] = "tensorflow" in sys.modules
    print(json.dumps(results))
"""


def test_torch_backend_applies_threads_and_precision_and_names_itself_for_the_rest(run_program):
    results = run_program(TORCH_PROGRAM, backend="torch")

    # Guard: torch starts CUDA lazily; `initialized()` must not start it itself.
    assert results["initialized_before"] is False
    unsupported = results["unsupported"]
    assert unsupported.startswith("DeviceError: The torch backend cannot apply `logical_cpus`, `soft_placement`")
    assert "PyTorch has no logical CPU devices" in unsupported and "Nothing was applied" in unsupported
    assert "must be >= 1 on the torch backend" in results["zero_threads"]
    assert "CUDA_VISIBLE_DEVICES" in results["missing_gpu"]

    assert results["float16_warned"] is True
    assert results["torch_threads"] == [1, 1]
    assert results["summary_threads"] == [1, 1]
    assert results["policy"] == "mixed_float16"

    # A model built under `use("cpu")` trains: its variables stay leaves torch can differentiate.
    assert results["use_name"] == "cpu:0"
    assert results["placed_on"] == "cpu" and results["variable_device"] == "cpu"
    assert len(results["losses"]) == 2 and results["losses"][1] < results["losses"][0]
    assert "names gpu:3, which the torch backend does not have; it has: cpu" in results["missing_device"]

    # Intra-op threads change at any time; inter-op threads are fixed once torch ran parallel work.
    assert results["later_threads"] is None and results["threads_after"] == 2
    late = results["late_interop"]
    assert "`inter_op_threads` can no longer change" in late
    assert "Still allowed now: intra_op_threads, mixed_precision" in late
    assert "the torch backend distributes with torch.distributed" in results["strategy"]

    assert results["backend_version"].startswith("2.")
    assert results["physical"][0] == "cpu"
    assert "backend: torch" in results["summary_text"] and "dtype policy  float32" in results["summary_text"]
    assert results["tensorflow_imported"] is False
