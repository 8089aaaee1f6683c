"""kerastools.device.distribute: the checks, TensorFlow and torch, and JAX's keras.distribution for real.

The JAX programs run in fresh interpreters with KERAS_BACKEND=jax (this suite runs on TensorFlow):
one process with two logical CPUs in the normal suite, and two processes on loopback, killed and
resumed, as a slow test.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import kerastools as kt
from kerastools.backend import torch
from kerastools.device import mesh
from kerastools.errors import ConfigError, ConfigTypeError, DeviceError


@pytest.mark.parametrize(
    ("arguments", "error", "match"),
    [
        ({"mesh_shape": (2, 0)}, ConfigError, r"`mesh_shape` must be a non-empty tuple of positive"),
        ({"axis_names": ("batch",)}, ConfigError, r"`axis_names` needs a device mesh"),
        ({"mesh_shape": (2, 2, 2)}, ConfigError, r"`axis_names` is needed for a mesh of 3 axes"),
        ({"mesh_shape": (2, 2), "axis_names": ("a", "a")}, ConfigError, r"2 different names"),
        ({"mesh_shape": (2,), "axis_names": "batch"}, ConfigTypeError, r"tuple of strings"),
        ({"mesh_shape": (1, 2), "layout_map": {"dense.*kernel": (None, "mdl")}}, ConfigError,
         r"mesh axis names \['batch', 'model'\]"),
        ({"num_processes": 2, "process_id": 0}, ConfigError, r"`coordinator_address` is needed for 2"),
        ({"num_processes": 2, "coordinator_address": "h:1"}, ConfigError, r"`process_id` is needed"),
        ({"num_processes": 2, "process_id": 2, "coordinator_address": "h:1"}, ConfigError,
         r"`process_id` must be below num_processes"),
        ({"num_processes": 2, "process_id": 0, "coordinator_address": "host"}, ConfigError,
         r"must be 'host:port'"),
        ({"auto_shard_dataset": "no"}, ConfigTypeError, r"`auto_shard_dataset` must be True or False"),
    ],
)
def test_distribute_checks_its_arguments(monkeypatch, arguments, error, match):
    for variable in (*mesh.ADDRESS_VARIABLES, mesh.NUM_PROCESSES_VARIABLE, mesh.PROCESS_ID_VARIABLE):
        monkeypatch.delenv(variable, raising=False)
    with pytest.raises(error, match=match):
        kt.device.distribute(**arguments)


def test_the_processes_come_from_keras_environment_variables(monkeypatch):
    monkeypatch.setenv("KERAS_DISTRIBUTION_JOB_ADDRESSES", "10.0.0.1:1234,10.0.0.2:2345")
    monkeypatch.setenv("KERAS_DISTRIBUTION_NUM_PROCESSES", "2")
    monkeypatch.setenv("KERAS_DISTRIBUTION_PROCESS_ID", "1")
    assert mesh.validate().processes == mesh.Processes("10.0.0.1:1234,10.0.0.2:2345", 2, 1)
    monkeypatch.delenv("KERAS_DISTRIBUTION_JOB_ADDRESSES")
    monkeypatch.setenv("JAX_COORDINATOR_ADDRESS", "10.0.0.1:1234")
    assert mesh.validate().processes.address == "10.0.0.1:1234"
    monkeypatch.setenv("KERAS_DISTRIBUTION_NUM_PROCESSES", "two")
    with pytest.raises(ConfigError, match=r"KERAS_DISTRIBUTION_NUM_PROCESSES must be an integer"):
        mesh.validate()


@pytest.mark.tf_only
def test_on_tensorflow_distribute_is_the_strategy_and_refuses_mesh_arguments():
    assert kt.device.distribute().num_replicas_in_sync == kt.device.strategy().num_replicas_in_sync
    with pytest.raises(DeviceError, match=r"keras.distribution settings \(JAX only\).*mesh_shape=\(2,\)"):
        kt.device.distribute(mesh_shape=(2,))


def test_torch_refuses_and_names_what_to_use_instead():
    with pytest.raises(DeviceError, match=r"DistributedDataParallel.*torchrun"):
        torch.distribute(mesh.validate())


ONE_PROCESS_PROGRAM = """
    import json, sys
    from pathlib import Path

    import numpy as np
    import kerastools as kt
    from kerastools.errors import ConfigError, DeviceError

    directory = Path(sys.argv[1])
    kt.device.configure(gpus="none", logical_cpus=2)
    results = {"before": str(kt.device.summary())}
    distribution = kt.device.distribute()
    import keras
    results["kind"] = type(distribution).__name__
    try:
        kt.device.distribute(mesh_shape=(3,))
    except ConfigError as error:
        results["bad_mesh"] = str(error)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (128, 2)).astype("float32")
    y = (x[:, :1] ** 2 + x[:, 1:] ** 2).astype("float32")
    keras.utils.set_random_seed(0)  # unseeded, 8 units missed the 0.05 stop in 40 epochs 2 runs in 8
    with distribution.scope():
        model = kt.compile(kt.build_mlp(2, [16]), optimizer="adam", learning_rate=0.05)
        callbacks = kt.callbacks.standard(checkpoint_dir=directory, stop_at={"loss": 0.05},
                                          patience=0, plot=False)
        history = model.fit(x, y, epochs=40, batch_size=32, verbose=0, callbacks=callbacks)
        results["summary"] = str(kt.device.summary())
        results["kernel_devices"] = len(model.trainable_weights[0].value.sharding.device_set)
    results["epochs"] = len(history.history["loss"])
    results["files"] = sorted(p.name for p in directory.iterdir())
    fresh = kt.compile(kt.build_mlp(2, [16]), optimizer="adam", learning_rate=0.05)
    results["resumed_at"] = kt.checkpoints.resume(fresh, directory)
    results["same_weights"] = all(
        np.array_equal(a, b) for a, b in zip(model.get_weights(), fresh.get_weights()))
    split = kt.device.distribute(mesh_shape=(1, 2), layout_map={"dense.*kernel": (None, "model")})
    with split.scope():
        wide = kt.compile(kt.build_mlp(2, [8]), optimizer="adam")
        wide.fit(x, y, epochs=1, batch_size=32, verbose=0)
        kernel = wide.trainable_weights[0].value
        results["split_kind"] = type(split).__name__
        results["kernel_shard"] = list(kernel.addressable_shards[0].data.shape)
    try:
        kt.device.distribute(coordinator_address="127.0.0.1:1", num_processes=2, process_id=0)
    except DeviceError as error:
        results["too_late"] = str(error)
    print(json.dumps(results))
"""


def test_one_jax_process_trains_data_parallel_on_two_devices(tmp_path, run_program):
    results = run_program(ONE_PROCESS_PROGRAM, backend="jax", args=(str(tmp_path / "ckpt"),))

    assert "distribution" not in results["before"] and "processes" not in results["before"]
    assert results["kind"] == "DataParallel"
    assert "2 devices" in results["bad_mesh"] and "mesh_shape=(3,)" in results["bad_mesh"]
    assert "distribution  DataParallel, mesh batch=2 (2 devices)" in results["summary"]
    assert results["kernel_devices"] == 2  # the weights live on both devices
    assert 1 < results["epochs"] < 40  # the stop fired
    assert f"epoch-{results['epochs']:04d}.weights.h5" in results["files"]
    assert results["resumed_at"] == results["epochs"] and results["same_weights"] is True
    assert results["split_kind"] == "ModelParallel"
    assert results["kernel_shard"] == [2, 4]  # the 2x8 kernel split in two along "model"
    assert "jax has already started its backend" in results["too_late"]
    assert "call kerastools.device.distribute(...) first thing" in results["too_late"]


WORKER_PROGRAM = """
    import json, sys, time
    from pathlib import Path

    import numpy as np
    import kerastools as kt

    root, index, address, hang_after = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    kt.device.configure(gpus="none", logical_cpus=2)
    distribution = kt.device.distribute(
        coordinator_address=address, num_processes=2, process_id=index, auto_shard_dataset=False)
    import keras
    keras.distribution.set_distribution(distribution)
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (256, 2)).astype("float32")
    y = (x[:, :1] ** 2 + x[:, 1:] ** 2).astype("float32")
    x, y = x[index::2], y[index::2]  # each process its own half: batch_size is per process
    model = kt.compile(kt.build_mlp(2, [8]), optimizer="adam", learning_rate=0.02)
    callbacks = kt.callbacks.standard(checkpoint_dir=root / f"p{index}", stop_at={"loss": 0.03},
                                      patience=0, plot_mode="file", plot_path=root / f"p{index}" / "curves.png")
    start = kt.checkpoints.resume(model, root / "p0", callbacks=callbacks)  # p0: the shared directory

    class Hang(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch + 1 == hang_after:
                print("HANG", flush=True)
                time.sleep(600)

    history = model.fit(x, y, epochs=40, batch_size=32, shuffle=False, verbose=0,
                        initial_epoch=start, callbacks=[*callbacks, Hang()])
    print(json.dumps({
        "chief": kt.checkpoints.is_chief(),
        "start": start,
        "stopped_epoch": callbacks[2].stopped_epoch,
        "loss": history.history["loss"],
        "summary": str(kt.device.summary()),
        "weights": [np.asarray(w).tolist() for w in model.get_weights()],
    }))
"""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start_job(root, hang_after, environment, repository_root):
    """Both processes of a job; stderr goes to a file (JAX logs a lot, an unread pipe would block)."""
    address = f"127.0.0.1:{_free_port()}"
    workers = []
    for index in range(2):
        log = open(root / f"stderr-{hang_after}-{index}.txt", "w")  # noqa: SIM115 (closed with the job)
        workers.append(subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(WORKER_PROGRAM), str(root), str(index), address,
             str(hang_after)],
            cwd=repository_root, env=environment("jax", KERASTOOLS_LIVEPLOT=""),
            stdout=subprocess.PIPE, stderr=log, text=True,
        ))
        log.close()
    return workers


def _finish(workers, root, timeout=240):
    outputs = []
    try:
        for index, worker in enumerate(workers):
            stdout, _ = worker.communicate(timeout=timeout)
            stderr = (root / f"stderr-0-{index}.txt").read_text()
            assert worker.returncode == 0, f"worker failed:\n{stdout[-2000:]}\n{stderr[-5000:]}"
            outputs.append(json.loads(stdout.strip().splitlines()[-1]))
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.communicate()
    return outputs


@pytest.mark.slow
def test_two_jax_processes_one_writer_same_weights_killed_and_resumed(
    tmp_path, backend_environment, repository_root
):
    killed_after = 2
    workers = _start_job(tmp_path, killed_after, backend_environment, repository_root)
    try:
        for index, worker in enumerate(workers):  # both finished epoch 2 and sit in the hang
            lines = iter(worker.stdout.readline, "")  # gloo prints its connections to stdout too
            hung = any(line.strip() == "HANG" for line in lines)
            assert hung, (tmp_path / f"stderr-{killed_after}-{index}.txt").read_text()[-5000:]
        deadline = time.monotonic() + 60
        while not (tmp_path / "p0" / f"epoch-{killed_after:04d}.weights.h5").exists():
            assert time.monotonic() < deadline, "the chief never wrote epoch 2"
            time.sleep(0.2)
    finally:
        for worker in workers:
            worker.kill()
            worker.communicate()
    assert not (tmp_path / "p1").exists()  # process 1 wrote nothing

    chief, other = _finish(_start_job(tmp_path, 0, backend_environment, repository_root), tmp_path)

    assert (chief["chief"], other["chief"]) == (True, False)
    assert chief["start"] == other["start"] == killed_after
    assert chief["stopped_epoch"] == other["stopped_epoch"] > killed_after  # the stop fired
    assert chief["loss"] == other["loss"] and chief["loss"][-1] <= 0.03
    for mine, theirs in zip(chief["weights"], other["weights"], strict=True):
        assert np.array_equal(np.asarray(mine), np.asarray(theirs))
    assert "processes     2 (this one: 0, the chief)" in chief["summary"]
    assert "processes     2 (this one: 1)" in other["summary"]
    assert "DataParallel, mesh batch=4 (4 devices)" in chief["summary"]
    # One writer: the chief's directory holds every epoch's checkpoint and the plot; process 1's
    # directory was never created.
    written = {p.name for p in (tmp_path / "p0").iterdir()}
    assert f"epoch-{chief['stopped_epoch']:04d}.weights.h5" in written and "curves.png" in written
    assert not (tmp_path / "p1").exists()
