"""kerastools.device on jax, in a fresh interpreter: what it applies, and its errors for the rest."""

from __future__ import annotations

JAX_PROGRAM = """
    import json, sys, warnings

    import numpy as np
    import kerastools as kt
    from kerastools.errors import DeviceError

    from kerastools.backend import jax as jax_backend

    results = {"probe_before": [jax_backend.initialized(), jax_backend.initialized()]}
    import jax
    results["probe_leaves_cpu_count"] = jax.config.values["jax_num_cpu_devices"]
    def error_text(function, **arguments):
        try:
            function(**arguments)
        except DeviceError as error:
            return str(error)
        return None

    results["unsupported"] = error_text(kt.device.configure, intra_op_threads=2, soft_placement=True,
                                        mixed_precision="mixed_bfloat16")
    results["policy_after_refusal"] = kt.device.summary().dtype_policy
    results["missing_gpu"] = error_text(kt.device.configure, gpus=[7])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        summary = kt.device.configure(gpus="none", logical_cpus=2, jit=True,
                                      mixed_precision="mixed_float16")
    results["float16_warned"] = any("no visible GPU" in str(w.message) for w in caught)
    results["planned"] = [d.name for d in summary.logical_devices]
    kt.device.configure(mixed_precision="float32")

    results["jax_devices"] = [str(d) for d in jax.devices()]
    x = np.random.default_rng(0).normal(size=(32, 2)).astype("float32")
    model = kt.compile(kt.build_mlp(2, [4]), optimizer="adam")
    history = model.fit(x, x[:, :1], epochs=2, verbose=0)
    results["fit_epochs"] = len(history.history["loss"])
    with kt.device.use("cpu:1"):
        import keras
        results["placed_on"] = str(next(iter(keras.ops.ones((2,)).devices())))
    results["probe_after"] = jax_backend.initialized()
    results["too_late"] = error_text(kt.device.configure, logical_cpus=3)
    results["strategy"] = error_text(kt.device.strategy)
    results["summary_text"] = str(kt.device.summary())
    results["tensorflow_imported"] = "tensorflow" in sys.modules
    print(json.dumps(results))
"""


def test_jax_backend_applies_what_it_supports_and_names_itself_for_the_rest(run_program):
    results = run_program(JAX_PROGRAM, backend="jax")

    # Guard: `initialized()` must tell "not yet" from "started" with public API (jax 0.10.2); if
    # this fails, jax changed how `jax_num_cpu_devices` refuses late updates: revisit the probe.
    assert results["probe_before"] == [False, False]
    assert results["probe_leaves_cpu_count"] == -1
    assert results["probe_after"] is True

    unsupported = results["unsupported"]
    assert unsupported.startswith("The jax backend cannot apply `intra_op_threads`, `soft_placement`")
    assert "taskset" in unsupported and "Nothing was applied" in unsupported
    assert results["policy_after_refusal"] == "float32"
    assert "the jax backend cannot use it" in results["missing_gpu"]

    assert results["float16_warned"] is True
    assert results["planned"] == ["cpu:0", "cpu:1"]
    assert results["jax_devices"] == ["TFRT_CPU_0", "TFRT_CPU_1"] or len(results["jax_devices"]) == 2
    assert results["fit_epochs"] == 2
    assert results["placed_on"].endswith("1")
    assert "The jax backend has already initialised its devices" in results["too_late"]
    assert "Still allowed now: jit, mixed_precision" in results["too_late"]
    assert "need the tensorflow backend; the jax backend distributes with keras.distribution" in (
        results["strategy"]
    )
    assert "backend: jax" in results["summary_text"]
    assert results["tensorflow_imported"] is False
