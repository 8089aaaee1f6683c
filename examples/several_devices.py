"""Train on several devices: every local GPU, two logical CPUs, or several machines.

    python examples/several_devices.py               # all local GPUs, else 2 logical CPUs
    python examples/several_devices.py --workers 2   # two processes on this machine
    KERAS_BACKEND=jax python examples/several_devices.py --workers 2

`kt.device.distribute()` returns what fits the backend. On TensorFlow it is
`kt.device.strategy()`: a MultiWorkerMirroredStrategy when TF_CONFIG names a
cluster, a MirroredStrategy when there are several local devices, the
default strategy otherwise; `batch_size` is the global batch. On JAX it is
Keras' own `keras.distribution.DataParallel` over every device of the job,
after `keras.distribution.initialize` when several processes take part.
Build, compile and fit inside its scope.

`--workers N` starts N copies of this script on 127.0.0.1, each told its
place: TF_CONFIG on TensorFlow, KERAS_DISTRIBUTION_JOB_ADDRESSES,
KERAS_DISTRIBUTION_NUM_PROCESSES and KERAS_DISTRIBUTION_PROCESS_ID on JAX.
That is what you would run on N machines, with their addresses instead.
Process (worker) 0 is the chief: only it writes checkpoints.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np

import kerastools as kt

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--workers", type=int, default=0, help="launch this many local workers")
parser.add_argument("--epochs", type=int, default=3)
parser.add_argument("--output-dir", default="examples_output")
args = parser.parse_args()
output = Path(args.output_dir).resolve()


def launch_workers(count):
    """Start `count` copies of this script, each told its place in the cluster by TF_CONFIG."""
    ports = []
    for _ in range(count):
        with socket.socket() as probe:  # a free port on the loopback interface
            probe.bind(("127.0.0.1", 0))
            ports.append(probe.getsockname()[1])
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    workers = []
    for index in range(count):
        if keras.backend.backend() == "jax":  # Keras' variables; process 0 is the coordinator
            env = dict(os.environ, KERAS_DISTRIBUTION_JOB_ADDRESSES=cluster["worker"][0],
                       KERAS_DISTRIBUTION_NUM_PROCESSES=str(count), KERAS_DISTRIBUTION_PROCESS_ID=str(index))
        else:
            tf_config = {"cluster": cluster, "task": {"type": "worker", "index": index}}
            env = dict(os.environ, TF_CONFIG=json.dumps(tf_config))
        command = [sys.executable, __file__, "--epochs", str(args.epochs), "--output-dir", str(output)]
        workers.append(subprocess.Popen(command, env=env))
    return max(worker.wait() for worker in workers)


if args.workers:
    raise SystemExit(launch_workers(args.workers))

backend = keras.backend.backend()
if "TF_CONFIG" not in os.environ and kt.device.summary().gpu_count < 2:
    # No GPUs to spread over: split the CPU, so the same code runs on a laptop.
    kt.device.configure(logical_cpus=2)
# First thing: a multi-worker strategy, or JAX's processes, must start before any computation.
# On JAX with several processes each passes its own share of the data (NumPy arrays).
distribution = kt.device.distribute(auto_shard_dataset=backend != "jax")
if backend == "jax":
    replicas = len(distribution.device_mesh.devices.ravel())
    processes, index = distribution.num_processes, kt.device.summary().process_index
    print(f"distribution: {type(distribution).__name__} over {replicas} device(s), {processes} process(es)")
else:
    replicas, processes, index = distribution.num_replicas_in_sync, 1, 0
    print(f"strategy: {type(distribution).__name__} with {replicas} replica(s)")

rng = np.random.default_rng(0)
x = rng.uniform(-1, 1, (512, 2)).astype("float32")
y = (x[:, :1] ** 2 + x[:, 1:] ** 2).astype("float32")
x, y = x[index::processes], y[index::processes]  # this process's share (all of it on TensorFlow)

per_replica_batch = 32
with distribution.scope():
    model = kt.compile(kt.build_mlp(2, [32, 32]), optimizer="adam", learning_rate=0.01)
    callbacks = [
        kt.callbacks.ThresholdEarlyStopping("val_loss", threshold=0.01, min_delta=1e-4, patience=2),
        kt.callbacks.PeriodicCheckpoint(output / "checkpoints", every_epochs=1, keep_last=2),
    ]
    history = model.fit(
        x,
        y,
        validation_split=0.25,
        epochs=args.epochs,
        # The global batch on TensorFlow; on JAX this process's share of it.
        batch_size=per_replica_batch * replicas // processes,
        shuffle=backend != "jax",  # JAX processes must take the same steps: no per-process shuffle
        callbacks=callbacks,
        verbose=0,
    )
role = "chief" if kt.checkpoints.is_chief() else "worker"
print(f"[{role}] {len(history.history['loss'])} epochs, val_loss {history.history['val_loss'][-1]:.4f}")
if kt.checkpoints.is_chief():
    print(f"[{role}] checkpoints: {sorted(p.name for p in (output / 'checkpoints').glob('*.h5'))}")
