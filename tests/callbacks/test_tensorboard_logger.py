"""TensorBoardLogger: Keras' layout, History's values in float32, resume without repeated steps.

On JAX and torch `import tensorflow` is made to fail: in a fresh worker
process (tensorboard_worker.py) that also reports whether TensorFlow got
imported, and in this process for the tests that read files here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

import kerastools as kt
from kerastools.errors import ConfigError, ConfigTypeError

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("tensorboard_worker.py")
BACKEND = keras.backend.backend()


@pytest.fixture(autouse=True, scope="module")
def _no_tensorflow():
    """Off TensorFlow, `import tensorflow` fails here too (TensorBoard's reader then uses its own)."""
    with pytest.MonkeyPatch.context() as patch:
        if BACKEND != "tensorflow" and "tensorflow" not in sys.modules:
            patch.setitem(sys.modules, "tensorflow", None)
        yield


def run_worker(*args: str, killed: bool = False) -> None:
    env = dict(os.environ, KERAS_BACKEND=BACKEND, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run([sys.executable, str(WORKER), *args], env=env, capture_output=True,
                          text=True, timeout=600)
    if killed:
        assert done.returncode == -9, done.stderr[-3000:]
    else:
        assert done.returncode == 0, done.stderr[-3000:]


def scalars(folder: Path) -> dict[str, tuple[list[int], list[float]]]:
    from tensorboard.backend.event_processing import plugin_event_accumulator as accumulators
    from tensorboard.util import tensor_util

    accumulator = accumulators.EventAccumulator(str(folder), size_guidance={accumulators.TENSORS: 0})
    accumulator.Reload()
    found = {}
    for tag in accumulator.Tags()["tensors"]:
        events = accumulator.Tensors(tag)
        values = [tensor_util.make_ndarray(event.tensor_proto) for event in events]
        found[tag] = ([event.step for event in events], values)
    return found


def steps_in_file_order(folder: Path) -> dict[str, list[int]]:
    """The step of every record of each tag, file after file in the order TensorBoard reads them."""
    from tensorboard.backend.event_processing import event_file_loader

    order: dict[str, list[int]] = {}
    for path in sorted(p for p in folder.iterdir() if "tfevents" in p.name):
        for event in event_file_loader.EventFileLoader(str(path)).Load():
            for value in event.summary.value:
                order.setdefault(value.tag, []).append(event.step)
    return order


def tiny_model(**compile_kwargs) -> keras.Model:
    return kt.compile(kt.build_mlp(2, [8]), **compile_kwargs)


@pytest.fixture(scope="module")
def worker_runs(tmp_path_factory):
    """A fit_resumable run killed at step 13 (8 steps an epoch; the last checkpoint at step 10),
    its files as the kill left them, then the same call again (it resumes), then plain fits."""
    root = tmp_path_factory.mktemp("tensorboard")
    args = [str(root / "logs"), str(root / "ckpt")]
    run_worker(*args, "13", str(root / "unused.json"), killed=True)
    killed = steps_in_file_order(root / "logs" / "resumable" / "train")
    run_worker(*args, "0", str(root / "out.json"))
    return root, killed, json.loads((root / "out.json").read_text())


def test_event_files_hold_history_in_float32_without_tensorflow(worker_runs):
    result = worker_runs[2]
    assert result["tensorflow_imported"] is (BACKEND == "tensorflow")
    history = result["history"]
    train = {key for key in history if not key.startswith("val_")}
    assert set(result["train"]) == {f"epoch_{key}" for key in train}
    assert {"epoch_learning_rate", "epoch_epoch_time_s", "epoch_samples_per_s"} <= set(result["train"])
    assert set(result["validation"]) == {f"epoch_{key[4:]}" for key in history if key.startswith("val_")}
    for key, values in history.items():
        run, tag = ("validation", key[4:]) if key.startswith("val_") else ("train", key)
        steps, logged = zip(*result[run][f"epoch_{tag}"], strict=True)
        assert list(steps) == [0, 1, 2]
        assert np.float32(logged).tolist() == np.float32(values).tolist(), key
    batches = result["batches"]
    assert [step for step, _ in batches["batch_loss"]] == [2, 4, 6, 8, 10, 12]  # 6 batches an epoch
    rates = [rate for _, rate in batches["batch_learning_rate"]]
    assert rates == np.float32([result["schedule"][step - 1] for step in (2, 4, 6, 8, 10, 12)]).tolist()
    assert "epoch_loss" in batches and "batch_mae" in batches


def test_a_killed_fit_resumable_run_continues_without_repeated_steps(worker_runs):
    root, killed, _ = worker_runs
    logs = root / "logs" / "resumable"
    assert killed["epoch_loss"] == [0]  # what the killed run logged is readable
    assert killed["batch_loss"] == list(range(1, 14))
    resumed = steps_in_file_order(logs / "train")
    assert resumed["epoch_loss"] == [0, 1, 2]
    assert resumed["batch_loss"] == list(range(1, 25))
    assert resumed["batch_learning_rate"] == list(range(1, 25))
    assert not (logs / "validation").exists()  # no validation data


def test_resume_drops_what_was_logged_after_the_checkpoint(tmp_path, squares_data):
    x, y = squares_data[0][:64], squares_data[1][:64]
    logger = kt.callbacks.TensorBoardLogger(tmp_path / "logs", update_freq="batch")
    checkpoint = kt.callbacks.PeriodicCheckpoint(tmp_path / "ckpt", every_epochs=2, callbacks=[logger])
    first = tiny_model()
    first.fit(x, y, batch_size=16, validation_split=0.25, epochs=3, verbose=0, callbacks=[logger, checkpoint])
    # The run "died" after epoch 3; its last checkpoint is epoch 2's.
    resumed_logger = kt.callbacks.TensorBoardLogger(tmp_path / "logs", update_freq="batch")
    model = tiny_model()
    epoch = kt.checkpoints.resume(model, tmp_path / "ckpt", callbacks=[resumed_logger])
    assert epoch == 2
    history = model.fit(x, y, batch_size=16, validation_split=0.25, initial_epoch=epoch, epochs=4,
                        verbose=0, callbacks=[resumed_logger])
    train, validation = steps_in_file_order(tmp_path / "logs" / "train"), steps_in_file_order(
        tmp_path / "logs" / "validation")
    assert train["epoch_loss"] == [0, 1, 2, 3]
    assert validation["epoch_loss"] == [0, 1, 2, 3]
    assert train["batch_loss"] == list(range(1, 13))  # 3 batches an epoch
    assert train["run_facts"] == [0, 2]
    read = scalars(tmp_path / "logs" / "validation")["epoch_loss"]
    assert np.float32(read[1][2:]).tolist() == np.float32(history.history["val_loss"]).tolist()


def test_standard_adds_it_before_the_checkpoint_which_records_its_state(tmp_path, squares_data):
    callbacks = kt.callbacks.standard(checkpoint_dir=tmp_path / "ckpt", tensorboard=tmp_path / "logs",
                                      plot=False, report=False)
    names = [type(callback).__name__ for callback in callbacks]
    assert names == ["LearningRateLogger", "EpochTimer", "TensorBoardLogger", "PeriodicCheckpoint",
                     "ProgressBar"]
    tiny_model().fit(*squares_data, batch_size=64, epochs=2, verbose=0, callbacks=callbacks)
    info = kt.checkpoints.list_checkpoints(tmp_path / "ckpt")[-1]
    assert {"kind": "TensorBoardLogger", "epochs": 2} in info.callback_states
    train = scalars(tmp_path / "logs" / "train")
    assert {"epoch_learning_rate", "epoch_iterations", "epoch_epoch_time_s", "epoch_samples_per_s"} <= set(train)
    with pytest.raises(ConfigTypeError, match="tensorboard"):
        kt.callbacks.standard(tensorboard=3)


def test_stop_reason_and_run_facts_are_text(tmp_path, squares_data):
    logger = kt.callbacks.TensorBoardLogger(tmp_path / "logs")
    stopper = kt.callbacks.ThresholdEarlyStopping("loss", threshold=100.0, patience=0)
    model = tiny_model(optimizer="adam")
    model.fit(*squares_data, batch_size=64, epochs=5, verbose=0, callbacks=[logger, stopper])
    train = scalars(tmp_path / "logs" / "train")
    steps, texts = train["stop_reason"]
    assert steps == [0]
    assert texts[0].item().decode().startswith("**THRESHOLD_REACHED**: Epoch 1: loss=")
    facts = train["run_facts"][1][0].item().decode()
    assert f"| parameters | {model.count_params():,} |" in facts
    assert "| optimizer | Adam |" in facts and BACKEND in facts
    assert train["epoch_loss"][0] == [0]


def test_epoch_mode_leaves_batch_dispatch_alone_and_a_refit_warns(tmp_path, squares_data, caplog):
    logger = kt.callbacks.TensorBoardLogger(tmp_path / "logs")
    assert logger.on_train_batch_end.__func__ is keras.callbacks.Callback.on_train_batch_end
    assert kt.callbacks.TensorBoardLogger(tmp_path / "b", update_freq=3).on_train_batch_end != (
        keras.callbacks.Callback.on_train_batch_end)
    model = tiny_model()
    model.fit(*squares_data, batch_size=64, epochs=1, verbose=0, callbacks=[logger])
    with caplog.at_level("WARNING"):
        model.fit(*squares_data, batch_size=64, epochs=1, verbose=0, callbacks=[logger])
    assert "initial_epoch=2" in caplog.text
    model.fit(*squares_data, batch_size=64, initial_epoch=1, epochs=2, verbose=0, callbacks=[logger])
    assert steps_in_file_order(tmp_path / "logs" / "train")["epoch_loss"] == [0, 0, 1]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"update_freq": "step"}, ConfigError, "update_freq.*Received: update_freq='step'"),
        ({"update_freq": 0}, ConfigError, "update_freq"),
        ({"update_freq": True}, ConfigError, "update_freq"),
    ],
)
def test_bad_arguments(tmp_path, kwargs, error, match):
    with pytest.raises(error, match=match):
        kt.callbacks.TensorBoardLogger(tmp_path, **kwargs)
    with pytest.raises(ConfigTypeError, match="log_dir"):
        kt.callbacks.TensorBoardLogger(None)


def test_without_the_tensorboard_package_it_names_the_extra(tmp_path, monkeypatch):
    for name in [name for name in sys.modules if name == "tensorboard" or name.startswith("tensorboard.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "tensorboard", None)
    with pytest.raises(ConfigError, match=r'pip install "kerastools\[tensorboard\]"'):
        kt.callbacks.TensorBoardLogger(tmp_path / "logs")
    with pytest.raises(ConfigError, match=r"kerastools\[tensorboard\]"):
        kt.callbacks.standard(tensorboard=tmp_path / "logs")
