"""kerastools.device on TensorFlow, in a fresh interpreter: configure, mirrored fit, too late."""

from __future__ import annotations

import pytest

TENSORFLOW_PROGRAM = """
    import json, sys, warnings
    from pathlib import Path

    import numpy as np
    import kerastools as kt
    from kerastools.callbacks import (
        EpochTimer, LearningRateLogger, LivePlot, PeriodicCheckpoint, ThresholdEarlyStopping,
    )
    from kerastools.errors import DeviceError

    out, results = Path(sys.argv[1]), {}

    def error_text(**arguments):
        try:
            kt.device.configure(**arguments)
        except DeviceError as error:
            return str(error)
        return None

    # `python -m kerastools devices`, run the way `-m` runs it, before anything else.
    import contextlib, io, runpy
    sys.argv, printed = ["kerastools", "devices"], io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.suppress(SystemExit):
        runpy.run_module("kerastools", run_name="__main__")
    results["command_line"] = printed.getvalue()

    from kerastools.backend import tensorflow as tf_backend
    import tensorflow as tf
    before = kt.device.summary()
    results["created_before"] = before.logical_devices_created
    # The "initialised?" probe: asked twice before any work, it leaves the thread pools as they were.
    results["probe_before"] = [tf_backend.initialized(), tf_backend.initialized()]
    results["probe_leaves_threads"] = tf.config.threading.get_inter_op_parallelism_threads()
    # A missing GPU is refused and the valid settings beside it are not applied.
    results["missing_gpu"] = error_text(gpus=[before.gpu_count], intra_op_threads=2)
    results["threads_after_refusal"] = tf.config.threading.get_intra_op_parallelism_threads()

    summary = kt.device.configure(gpus="none", logical_cpus=2, intra_op_threads=2, inter_op_threads=1)
    results["planned"] = [d.name for d in summary.logical_devices]
    results["threads_read_back"] = [
        tf.config.threading.get_intra_op_parallelism_threads(),
        tf.config.threading.get_inter_op_parallelism_threads(),
    ]
    results["visible_types"] = sorted({d.device_type for d in tf.config.get_visible_devices()})

    strategy = kt.device.strategy()
    results["strategy"] = [type(strategy).__name__, strategy.num_replicas_in_sync]
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (128, 2)).astype("float32")
    y = (x[:, :1] ** 2 + x[:, 1:] ** 2).astype("float32")
    with strategy.scope():
        model = kt.compile(kt.build_mlp(2, [8]), optimizer="adam", learning_rate=0.01,
                           schedule="inverse_time", decay_rate=0.1)
    stopper = ThresholdEarlyStopping("val_loss", threshold=10.0, min_delta=1.0, patience=2)
    logger, timer = LearningRateLogger(), EpochTimer()
    checkpoints = PeriodicCheckpoint(out / "checkpoints", every_epochs=1)
    plot = LivePlot(mode="file", path=out / "live.png", min_interval_s=0.0)
    history = model.fit(x, y, validation_data=(x, y), epochs=6, batch_size=32, verbose=0,
                        callbacks=[logger, timer, checkpoints, plot, stopper])
    results["fit"] = {
        "epochs": len(history.history["loss"]),
        "stopped_epoch": stopper.stopped_epoch,
        "reason": stopper.stopping_reason.name,
        "keys": sorted(history.history),
        "learning_rates": len(logger.history),
        "checkpoints": sorted(p.name for p in (out / "checkpoints").glob("*.weights.h5")),
        "plot": (out / "live.png").is_file(),
    }

    after = kt.device.summary()
    results["created_after"] = after.logical_devices_created
    results["probe_after"] = tf_backend.initialized()
    results["logical_after"] = [d.name for d in after.logical_devices]
    results["summary_text"] = str(after)
    results["too_late"] = error_text(intra_op_threads=4, mixed_precision="mixed_bfloat16")
    results["policy_after_too_late"] = kt.device.summary().dtype_policy
    # Were the private "initialised?" probe ever wrong, TensorFlow's RuntimeError gives the same error.
    from kerastools.backend import tensorflow as tf_backend
    probe, tf_backend.initialized = tf_backend.initialized, lambda: False
    results["too_late_backstop"] = error_text(intra_op_threads=5)
    tf_backend.initialized = probe
    # The same settings again are a no-op (a re-run notebook cell), not an error.
    results["same_again"] = error_text(gpus="none", logical_cpus=2, intra_op_threads=2, inter_op_threads=1)
    later = kt.device.configure(soft_placement=False, log_placement=False, jit=True,
                                mixed_precision="mixed_bfloat16")
    results["later"] = [later.soft_placement, later.log_placement, later.jit, later.dtype_policy]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        kt.device.configure(mixed_precision="mixed_float16")
    results["float16_warnings"] = [str(w.message) for w in caught]
    kt.device.configure(mixed_precision="float32", jit=False, soft_placement=True)
    with kt.device.use("cpu:1"):
        results["placed_on"] = tf.constant(1.0).device
    try:
        with kt.device.use("gpu:0"):
            pass
    except DeviceError as error:
        results["no_gpu_to_use"] = str(error)
    print(json.dumps(results))
"""


@pytest.mark.tf_only
def test_tensorflow_configure_mirrored_fit_and_too_late(tmp_path, run_program):
    results = run_program(TENSORFLOW_PROGRAM, backend="tensorflow", args=(str(tmp_path),))

    # `python -m kerastools devices` prints the summary, and leaves TensorFlow unstarted.
    assert results["command_line"].startswith("Device summary (backend: tensorflow")
    assert "Physical devices" in results["command_line"]
    assert "/physical_device:CPU:0" in results["command_line"]

    assert results["created_before"] is False
    # Guard: `initialized()` must tell "not yet" from "started" with public API (TF 2.21); if this
    # fails, TensorFlow changed how its setters refuse late changes: revisit the probe.
    assert results["probe_before"] == [False, False]
    assert results["probe_leaves_threads"] == 0
    assert results["probe_after"] is True
    assert "CPU-only machine is normal" in results["missing_gpu"] or "sees" in results["missing_gpu"]
    assert results["threads_after_refusal"] == 0  # nothing applied

    # CPU only, two logical CPUs, thread pools as asked, read back from TensorFlow.
    assert results["planned"] == ["/device:CPU:0", "/device:CPU:1"]
    assert results["threads_read_back"] == [2, 1]
    assert results["visible_types"] == ["CPU"]

    # MirroredStrategy over the two logical CPUs, with every kerastools callback.
    assert results["strategy"] == ["MirroredStrategy", 2]
    fit = results["fit"]
    assert fit["stopped_epoch"] == 3 and fit["epochs"] == 3 and fit["reason"] == "THRESHOLD_REACHED"
    assert {"learning_rate", "iterations", "epoch_time_s", "samples_per_s", "val_loss"} <= set(fit["keys"])
    assert fit["learning_rates"] == 3
    assert fit["checkpoints"] == [f"epoch-000{i}.weights.h5" for i in (1, 2, 3)]
    assert fit["plot"] is True

    assert results["created_after"] is True
    assert results["logical_after"] == ["/device:CPU:0", "/device:CPU:1"]
    assert "Logical devices\n" in results["summary_text"] and "planned" not in results["summary_text"]

    too_late = results["too_late"]
    assert "already initialised its devices" in too_late
    assert "`intra_op_threads` can no longer change" in too_late
    assert "configure(...) first thing" in too_late
    assert "Still allowed now: soft_placement, log_placement, jit, mixed_precision" in too_late
    assert "Nothing was applied" in too_late
    assert results["policy_after_too_late"] == "float32"
    backstop = results["too_late_backstop"]
    assert "`intra_op_threads` can no longer change" in backstop
    assert "tensorflow said: Intra op parallelism cannot be modified after initialization" in backstop
    assert results["same_again"] is None
    assert results["later"] == [False, False, "autoclustering", "mixed_bfloat16"]
    assert any("no visible GPU" in message for message in results["float16_warnings"])
    assert results["placed_on"].endswith("/device:CPU:1")
    assert "A CPU-only machine is normal: use 'cpu'" in results["no_gpu_to_use"]
