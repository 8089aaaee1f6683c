"""kerastools.device.

Device settings are process-wide and fixed once the backend starts, so every
check that changes them runs in a fresh Python subprocess (a few programs that
each check many things: a TensorFlow import costs seconds). Argument checks
happen before anything is applied, so they run in this process.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import kerastools as kt
from kerastools.device import DeviceInfo, DeviceSummary
from kerastools.errors import ConfigError, ConfigTypeError, DeviceError, KerastoolsError

ROOT = Path(__file__).resolve().parents[1]


def _environment(backend: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3", PYTHONUNBUFFERED="1")
    env["MPLBACKEND"] = "Agg"
    for key in ("TF_CONFIG", "KERASTOOLS_LIVEPLOT"):
        env.pop(key, None)
    env.update(extra)
    return env


def _run_program(code: str, *, backend: str, args: tuple[str, ...] = (), timeout: int = 180) -> dict:
    """Run `code` in a fresh interpreter; it prints one JSON object as its last line."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        cwd=ROOT,
        env=_environment(backend),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, f"program failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    return json.loads(result.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- in process


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


@pytest.mark.parametrize(
    ("tf_config", "match"),
    [
        ("{not json", r"TF_CONFIG is not valid JSON"),
        ('["worker"]', r"TF_CONFIG must be a JSON object"),
        ('{"cluster": {"worker": ["127.0.0.1:1"]}}', r"must name a cluster and this process's task"),
        (
            '{"cluster": {"worker": ["127.0.0.1:1"]}, "task": {"type": "worker", "index": 3}}',
            r"must name a cluster and this process's task",
        ),
        (
            '{"cluster": {"worker": ["127.0.0.1:1"], "ps": ["127.0.0.1:2"]}, '
            '"task": {"type": "worker", "index": 0}}',
            r"parameter servers",
        ),
    ],
)
@pytest.mark.tf_only
def test_strategy_checks_tf_config(monkeypatch, tf_config, match):
    monkeypatch.setenv("TF_CONFIG", tf_config)
    with pytest.raises(ConfigError, match=match):
        kt.device.strategy()


def test_strategy_rejects_unknown_kinds():
    with pytest.raises(ConfigError, match=r"`kind` must be one of \['auto', 'default', 'mirrored', 'multi_worker'\]"):
        kt.device.strategy("ring")


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


# --------------------------------------------------------------------------- subprocesses

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

    before = kt.device.summary()
    results["created_before"] = before.logical_devices_created
    # A missing GPU is refused and the valid settings beside it are not applied.
    results["missing_gpu"] = error_text(gpus=[before.gpu_count], intra_op_threads=2)
    import tensorflow as tf
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
    results["logical_after"] = [d.name for d in after.logical_devices]
    results["summary_text"] = str(after)
    results["too_late"] = error_text(intra_op_threads=4, mixed_precision="mixed_bfloat16")
    results["policy_after_too_late"] = kt.device.summary().dtype_policy
    # Were the private "initialised?" probe ever wrong, TensorFlow's RuntimeError gives the same error.
    probe, kt.device._tf_initialized = kt.device._tf_initialized, lambda: False
    results["too_late_backstop"] = error_text(intra_op_threads=5)
    kt.device._tf_initialized = probe
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
def test_tensorflow_configure_mirrored_fit_and_too_late(tmp_path):
    results = _run_program(TENSORFLOW_PROGRAM, backend="tensorflow", args=(str(tmp_path),))

    # `python -m kerastools devices` prints the summary, and leaves TensorFlow unstarted.
    assert results["command_line"].startswith("Device summary (backend: tensorflow")
    assert "Physical devices" in results["command_line"]
    assert "/physical_device:CPU:0" in results["command_line"]

    assert results["created_before"] is False
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


JAX_PROGRAM = """
    import json, sys, warnings

    import numpy as np
    import kerastools as kt
    from kerastools.errors import DeviceError

    results = {}
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

    import jax
    results["jax_devices"] = [str(d) for d in jax.devices()]
    x = np.random.default_rng(0).normal(size=(32, 2)).astype("float32")
    model = kt.compile(kt.build_mlp(2, [4]), optimizer="adam")
    history = model.fit(x, x[:, :1], epochs=2, verbose=0)
    results["fit_epochs"] = len(history.history["loss"])
    with kt.device.use("cpu:1"):
        import keras
        results["placed_on"] = str(next(iter(keras.ops.ones((2,)).devices())))
    results["too_late"] = error_text(kt.device.configure, logical_cpus=3)
    results["strategy"] = error_text(kt.device.strategy)
    results["summary_text"] = str(kt.device.summary())
    results["tensorflow_imported"] = "tensorflow" in sys.modules
    print(json.dumps(results))
"""


def test_jax_backend_applies_what_it_supports_and_names_itself_for_the_rest():
    results = _run_program(JAX_PROGRAM, backend="jax")

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


# --------------------------------------------------------------------------- two workers

WORKER_PROGRAM = """
    import json, sys
    from pathlib import Path

    import numpy as np
    import tensorflow as tf
    import kerastools as kt
    from kerastools.callbacks import LearningRateLogger, PeriodicCheckpoint, ThresholdEarlyStopping

    directory = Path(sys.argv[1])
    strategy = kt.device.strategy()  # TF_CONFIG names a cluster: multi-worker, first thing
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (128, 2)).astype("float32")
    y = (x[:, :1] ** 2 + x[:, 1:] ** 2).astype("float32")
    with strategy.scope():
        model = kt.compile(kt.build_mlp(2, [8]), optimizer="adam", learning_rate=0.01)
    stopper = ThresholdEarlyStopping("val_loss", threshold=10.0, min_delta=1.0, patience=2)
    logger = LearningRateLogger()
    history = model.fit(
        x, y, validation_data=(x, y), epochs=8, batch_size=32, verbose=0,
        callbacks=[logger, PeriodicCheckpoint(directory, every_epochs=1), stopper],
    )
    print(json.dumps({
        "strategy": [
            isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy),
            strategy.num_replicas_in_sync,
        ],
        "chief": kt.checkpoints.is_chief(),
        "epochs": len(history.history["loss"]),
        "stopped_epoch": stopper.stopped_epoch,
        "val_loss": history.history["val_loss"],
        "learning_rates": logger.history,
        "weights_sum": float(sum(float(np.sum(w)) for w in model.get_weights())),
    }))
"""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.tf_only
def test_two_workers_on_loopback_stop_together_and_only_the_chief_writes(tmp_path):
    addresses = [f"127.0.0.1:{_free_port()}" for _ in range(2)]
    workers = []
    for index in range(2):
        config = {"cluster": {"worker": addresses}, "task": {"type": "worker", "index": index}}
        workers.append(
            subprocess.Popen(
                [sys.executable, "-c", textwrap.dedent(WORKER_PROGRAM), str(tmp_path / f"worker{index}")],
                cwd=ROOT,
                env=_environment("tensorflow", TF_CONFIG=json.dumps(config)),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    outputs = []
    try:
        for worker in workers:
            # A worker that stops alone leaves the other blocked in a collective: time out.
            stdout, stderr = worker.communicate(timeout=150)
            assert worker.returncode == 0, f"worker failed:\n{stdout[-2000:]}\n{stderr[-5000:]}"
            outputs.append(json.loads(stdout.strip().splitlines()[-1]))
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.communicate()

    chief, other = outputs
    assert chief["strategy"] == other["strategy"] == [True, 2]
    assert (chief["chief"], other["chief"]) == (True, False)
    # Both stop at the same epoch, on the same (all-reduced) metrics, with the same weights.
    assert chief["stopped_epoch"] == other["stopped_epoch"] == 3
    assert chief["epochs"] == other["epochs"] == 3
    assert chief["val_loss"] == other["val_loss"]
    assert chief["learning_rates"] == other["learning_rates"]
    assert chief["weights_sum"] == pytest.approx(other["weights_sum"], rel=1e-6)
    # Only the chief touches its checkpoint directory.
    written = sorted(p.name for p in (tmp_path / "worker0").iterdir())
    assert [name for name in written if name.endswith(".weights.h5")] == [
        f"epoch-000{i}.weights.h5" for i in (1, 2, 3)
    ]
    assert not (tmp_path / "worker1").exists()
