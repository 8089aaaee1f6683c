"""Exact resume: a run SIGKILLed at a random step and resumed ends bit for bit as an uninterrupted one.

The runs go through `tests/checkpoints/exact_resume_worker.py` (an MLP with
Dropout, Adam on an exponential-decay schedule, ThresholdEarlyStopping and a
file-mode LivePlot, `kt.fit_resumable(..., every_steps=1)`, 4 epochs of 8
batches; the stopper ends it after epoch 3, 24 steps). To pay the start-up
of the backend once per kill point rather than twice, each process resumes
one killed run and then starts the next run it kills:
[A, B1] [C1, B2] [C2, B3] [C3, A'].
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

import kerastools as kt
from kerastools.resumable import ResumableBatches

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("exact_resume_worker.py")
STEPS = 24  # what the uninterrupted run trains: 3 epochs of 8 batches


def kill_points(seed: int, count: int) -> list[int]:
    return sorted(int(k) for k in np.random.default_rng(seed).choice(np.arange(1, STEPS), count, replace=False))


NORMAL_SEED, SLOW_SEED = 14, 1414
NORMAL, SLOW = kill_points(NORMAL_SEED, 3), kill_points(SLOW_SEED, 10)


def run_worker(runs: list[dict], killed: bool) -> None:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(ROOT), KERASTOOLS_LIVEPLOT="file")
    done = subprocess.run(
        [sys.executable, str(WORKER), json.dumps(runs)], capture_output=True, text=True,
        env=env, timeout=600, cwd=ROOT,
    )
    expected = -signal.SIGKILL if killed else 0
    assert done.returncode == expected, f"runs {runs}: status {done.returncode}\n{done.stderr[-3000:]}"


def chain(tmp: Path, points: list[int]) -> dict[str, Path]:
    """Run A, each killed run B_k and its resume C_k, and A again; return the result files."""
    out = {"A": tmp / "A.npz", "A2": tmp / "A2.npz"}
    pending: list[dict] = [{"directory": str(tmp / "A"), "out": str(out["A"])}]
    for k in points:
        pending.append({"directory": str(tmp / f"run{k}"), "kill_at": k})
        run_worker(pending, killed=True)
        out[f"C{k}"] = tmp / f"C{k}.npz"
        pending = [{"directory": str(tmp / f"run{k}"), "out": str(out[f"C{k}"])}]
    pending.append({"directory": str(tmp / "A2"), "out": str(out["A2"])})
    run_worker(pending, killed=False)
    return out


def load(path: Path) -> tuple[list[np.ndarray], dict]:
    with np.load(path) as archive:
        weights = [archive[f"w{i}"] for i in range(len(archive.files) - 1)]
        return weights, json.loads(str(archive["report"]))


def assert_same_run(reference: Path, resumed: Path, what: str) -> None:
    weights, report = load(resumed)
    expected_weights, expected = load(reference)
    assert report["iterations"] == expected["iterations"] == STEPS, what
    assert report["learning_rate"] == expected["learning_rate"], what
    assert (report["stopped_epoch"], report["stopping_reason"]) == (
        expected["stopped_epoch"], expected["stopping_reason"]), what
    assert report["plot"] == expected["plot"], what
    assert len(weights) == len(expected_weights) == 4, what
    for index, (got, want) in enumerate(zip(weights, expected_weights, strict=True)):
        assert np.array_equal(got, want), f"{what}: weight {index} differs by {np.abs(got - want).max()}"


@pytest.fixture(scope="module")
def normal_runs(tmp_path_factory):
    return chain(tmp_path_factory.mktemp("exact"), NORMAL)


def test_uninterrupted_runs_are_identical(normal_runs):
    assert_same_run(normal_runs["A"], normal_runs["A2"], "A vs A (determinism of the backend)")
    _, report = load(normal_runs["A"])
    assert report["stopped_epoch"] == 3 and report["plot"]["epochs"] == [1, 2, 3]


@pytest.mark.parametrize("kill_at", NORMAL)
def test_killed_and_resumed_run_equals_the_uninterrupted_one(normal_runs, kill_at):
    assert_same_run(normal_runs["A"], normal_runs[f"C{kill_at}"],
                    f"kill points from seed {NORMAL_SEED}: SIGKILL at step {kill_at}")


@pytest.mark.slow
def test_ten_more_kill_points(tmp_path):
    runs = chain(tmp_path, SLOW)
    for kill_at in SLOW:
        assert_same_run(runs["A"], runs[f"C{kill_at}"],
                        f"kill points from seed {SLOW_SEED}: SIGKILL at step {kill_at}")


# -- steps that mean one thing ------------------------------------------------------


def _model(optimizer) -> keras.Model:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(4), keras.layers.Dense(1)])
    model.compile(optimizer=optimizer, loss="mse")
    return model


def _skipping_optimizer():
    # A loss scale of 2**127 overflows the gradients: the first steps are skipped.
    return keras.optimizers.LossScaleOptimizer(
        keras.optimizers.SGD(0.01), initial_scale=2.0**127, dynamic_growth_steps=1000
    )


def test_step_names_follow_the_optimizer_when_it_skips_steps(tmp_path):
    x = np.random.default_rng(0).uniform(-1, 1, (64, 2)).astype("float32")
    model = _model(_skipping_optimizer())
    checkpoint = kt.callbacks.PeriodicCheckpoint(tmp_path, every_steps=3)
    model.fit(x, x[:, :1] * 100, batch_size=8, epochs=2, verbose=0, callbacks=[checkpoint])
    infos = kt.checkpoints.list_checkpoints(tmp_path)
    batches = [8 * info.epoch + info.training_state["batches"] for info in infos]
    assert batches[-1] == 15 and [info.step for info in infos][-1] < 15  # skipped steps
    assert all(info.path.name == f"step-{info.step:08d}.weights.h5" for info in infos)
    restored = _model(_skipping_optimizer())
    latest = kt.checkpoints.load_checkpoint(restored, tmp_path)
    assert int(keras.ops.convert_to_numpy(restored.optimizer.iterations)) == latest.step


def _generator(x):
    for i in range(8):  # a generator: fit does not know the epoch's length
        yield x[8 * i:8 * (i + 1)], x[8 * i:8 * (i + 1), :1]


@pytest.mark.parametrize("known_length", [True, False])
def test_a_step_save_on_the_last_batch_belongs_to_the_finished_epoch(tmp_path, known_length):
    x = np.random.default_rng(0).uniform(-1, 1, (64, 2)).astype("float32")
    model = kt.compile(kt.build_mlp(2, [4]), optimizer="sgd")
    checkpoint = kt.callbacks.PeriodicCheckpoint(tmp_path, every_steps=4)
    data = (x, x[:, :1]) if known_length else (_generator(x), None)
    model.fit(*data, batch_size=8 if known_length else None, epochs=1, verbose=0,
              callbacks=[checkpoint])
    latest = kt.checkpoints.list_checkpoints(tmp_path)[-1]
    steps = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
    assert (latest.step, latest.epoch, latest.training_state["batches"]) == (steps, 1, 0)
    resumed = kt.compile(kt.build_mlp(2, [4]), optimizer="sgd")
    start = kt.checkpoints.resume(resumed, tmp_path)
    assert start == 1  # epoch 1 is not redone
    resumed.fit(x, x[:, :1], batch_size=8, initial_epoch=start, epochs=2, verbose=0)
    assert int(keras.ops.convert_to_numpy(resumed.optimizer.iterations)) == steps + 8


# -- ResumableBatches and fit_resumable ----------------------------------------------


def test_batch_order_is_a_function_of_seed_and_epoch():
    x = np.arange(20.0)
    data = ResumableBatches(x, x, batch_size=6, seed=3)
    later = ResumableBatches(x, x, batch_size=6, seed=3, start_epoch=2, start_batch=1)
    stream = [data[i][0] for i in range(12)]
    assert all(np.array_equal(stream[8 + 1 + i], later[i][0]) for i in range(3))
    epoch0 = np.concatenate(stream[:4])
    assert sorted(epoch0.tolist()) == x.tolist() and not np.array_equal(epoch0, x)
    assert not np.array_equal(epoch0, np.concatenate(stream[4:8]))  # reshuffled each epoch


def test_a_py_dataset_gets_its_batches_permuted():
    class Squares(keras.utils.PyDataset):
        def __len__(self):
            return 5

        def __getitem__(self, index):
            return np.full((2, 1), float(index)), np.zeros((2, 1))

    data = ResumableBatches(Squares(), seed=0)
    firsts = sorted(float(data[i][0][0, 0]) for i in range(5))
    assert firsts == [0.0, 1.0, 2.0, 3.0, 4.0] and data.batches_per_epoch == 5
    with pytest.raises(kt.errors.ConfigError, match="`y` and `batch_size` must be None"):
        ResumableBatches(Squares(), batch_size=4)


def test_fit_resumable_refuses_what_it_sets_and_another_seed(tmp_path):
    x = np.zeros((8, 2), "float32")
    model = kt.compile(kt.build_mlp(2, [4]), optimizer="sgd")
    with pytest.raises(kt.errors.ConfigError, match=r"sets \['initial_epoch'\] itself"):
        kt.fit_resumable(model, x, x[:, :1], directory=tmp_path, initial_epoch=1)
    kt.fit_resumable(model, x, x[:, :1], directory=tmp_path, seed=1, verbose=0)
    with pytest.raises(kt.errors.ConfigError, match="differs from the seed 1"):
        kt.fit_resumable(model, x, x[:, :1], directory=tmp_path, seed=2, epochs=2, verbose=0)
    history = kt.fit_resumable(model, x, x[:, :1], directory=tmp_path, epochs=2, verbose=0)
    assert history.epoch == [1] and kt.checkpoints.list_checkpoints(tmp_path)[-1].training_state["data_seed"] == 1


class _Rows(keras.utils.PyDataset):
    """Six batches of 8 rows; batch i is a pure function of i."""

    def __len__(self):
        return 6

    def __getitem__(self, index):
        x = np.random.default_rng(index).uniform(-1, 1, (8, 2)).astype("float32")
        return x, x[:, :1] * x[:, 1:]


class _CrashAt(keras.callbacks.Callback):
    def __init__(self, step):
        super().__init__()
        self.step = step

    def on_train_batch_end(self, batch, logs=None):
        if int(keras.ops.convert_to_numpy(self.model.optimizer.iterations)) == self.step:
            raise RuntimeError("crash")


def test_fit_resumable_on_a_py_dataset_continues_mid_epoch(tmp_path):
    def train(directory, crash_at=None):
        model = _model("adam")
        callbacks = [_CrashAt(crash_at)] if crash_at else []
        history = kt.fit_resumable(model, _Rows(), directory=directory, epochs=3, seed=2,
                                   every_steps=2, callbacks=callbacks, verbose=0)
        return model, history

    with pytest.raises(RuntimeError, match="crash"):
        train(tmp_path / "run", crash_at=9)  # the 3rd batch of epoch 2 (1-based); step 8 is saved
    resumed, history = train(tmp_path / "run")
    uninterrupted, full = train(tmp_path / "once")
    assert history.epoch == [1, 2] and full.epoch == [0, 1, 2]
    assert history.history["loss"] == full.history["loss"][1:]  # epoch 2's metrics restored
    for got, want in zip(resumed.get_weights(), uninterrupted.get_weights(), strict=True):
        assert np.array_equal(got, want)
