"""Train on several devices: every local GPU, two logical CPUs, or several machines.

    python examples/several_devices.py               # all local GPUs, else 2 logical CPUs
    python examples/several_devices.py --workers 2   # two processes on this machine, TF_CONFIG

On TensorFlow, `kt.device.strategy()` returns the strategy that fits: a
MultiWorkerMirroredStrategy when TF_CONFIG names a cluster, a MirroredStrategy
when there are several local devices, the default strategy otherwise. Build
and compile the model in its scope; `batch_size` is the global batch, split
across replicas. On jax, Keras' own `keras.distribution.DataParallel` does
the same over the local devices.

`--workers N` starts N copies of this script on 127.0.0.1, each with a
TF_CONFIG naming all of them and its own index: what you would run on N
machines, with their addresses instead. Worker 0 is the chief: only it
writes checkpoints.
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
        tf_config = {"cluster": cluster, "task": {"type": "worker", "index": index}}
        env = dict(os.environ, TF_CONFIG=json.dumps(tf_config))
        command = [sys.executable, __file__, "--epochs", str(args.epochs), "--output-dir", str(output)]
        workers.append(subprocess.Popen(command, env=env))
    return max(worker.wait() for worker in workers)


if args.workers:
    raise SystemExit(launch_workers(args.workers))

backend = keras.backend.backend()
if backend == "tensorflow":
    if "TF_CONFIG" not in os.environ and kt.device.summary().gpu_count < 2:
        # No GPUs to mirror over: split the CPU, so the same code runs on a laptop.
        kt.device.configure(logical_cpus=2)
    strategy = kt.device.strategy()  # first thing: a multi-worker strategy must precede TF work
    replicas = strategy.num_replicas_in_sync
    scope = strategy.scope()
    print(f"strategy: {type(strategy).__name__} with {replicas} replica(s)")
else:
    kt.device.configure(logical_cpus=2)
    distribution = keras.distribution.DataParallel()
    keras.distribution.set_distribution(distribution)
    replicas = len(distribution.device_mesh.devices.ravel())
    scope = distribution.scope()
    print(f"distribution: DataParallel over {replicas} device(s)")

rng = np.random.default_rng(0)
x = rng.uniform(-1, 1, (512, 2)).astype("float32")
y = (x[:, :1] ** 2 + x[:, 1:] ** 2).astype("float32")
with scope:
    model = kt.compile(kt.build_mlp(2, [32, 32]), optimizer="adam", learning_rate=0.01)

per_replica_batch = 32
callbacks = [
    kt.callbacks.ThresholdEarlyStopping("val_loss", threshold=0.01, min_delta=1e-4, patience=2),
    kt.callbacks.PeriodicCheckpoint(output / "checkpoints", every_epochs=1, keep_last=2),
]
history = model.fit(
    x,
    y,
    validation_split=0.25,
    epochs=args.epochs,
    batch_size=per_replica_batch * replicas,  # the global batch
    callbacks=callbacks,
    verbose=0,
)
role = "chief" if kt.checkpoints.is_chief() else "worker"
print(f"[{role}] {len(history.history['loss'])} epochs, val_loss {history.history['val_loss'][-1]:.4f}")
if kt.checkpoints.is_chief():
    print(f"[{role}] checkpoints: {sorted(p.name for p in (output / 'checkpoints').glob('*.h5'))}")
