"""kerastools.device.distribution: TF_CONFIG checks, and two real workers on loopback."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap

import pytest

import kerastools as kt
from kerastools.errors import ConfigError


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
def test_two_workers_on_loopback_stop_together_and_only_the_chief_writes(
    tmp_path, backend_environment, repository_root
):
    addresses = [f"127.0.0.1:{_free_port()}" for _ in range(2)]
    workers = []
    for index in range(2):
        config = {"cluster": {"worker": addresses}, "task": {"type": "worker", "index": index}}
        workers.append(
            subprocess.Popen(
                [sys.executable, "-c", textwrap.dedent(WORKER_PROGRAM), str(tmp_path / f"worker{index}")],
                cwd=repository_root,
                env=backend_environment("tensorflow", TF_CONFIG=json.dumps(config)),
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
