"""PeriodicCheckpoint: when files appear, what keep_last keeps, the records, crash windows.

Backend-neutral: `make test-jax` runs this file again with KERAS_BACKEND=jax.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import warnings

import keras
import numpy as np
import pytest

import kerastools as kt
from kerastools.callbacks import PeriodicCheckpoint
from kerastools.checkpoints import store
from kerastools.checkpoints.directory import read_index
from kerastools.errors import CheckpointError, ConfigError, ConfigTypeError


def make_model():
    return kt.compile(
        kt.build_mlp(2, [8]), optimizer="adam", learning_rate=0.01,
        schedule="inverse_time", decay_rate=0.5,
    )


def files_in(directory):
    return sorted(path.name for path in directory.iterdir())


def records_of(directory):
    """The records of `directory`'s periodic files, oldest save first (the order they are loaded)."""
    records = [json.loads(path.read_text()) for path in directory.glob("*.json")]
    return sorted((r for r in records if r["kind"] != "best"), key=lambda r: r["sequence"])


def best_record(directory):
    return json.loads((directory / "best.weights.h5.json").read_text())


def checkpoint_files(directory):
    """The checkpoint files of `directory`, without their records."""
    return [name for name in files_in(directory) if not name.endswith(".json")]


def fit(model, data, callbacks, epochs, **kwargs):
    x, y = data
    kwargs.setdefault("batch_size", 32)  # 256 points: 8 steps per epoch
    return model.fit(x, y, epochs=epochs, shuffle=False, verbose=0, callbacks=callbacks, **kwargs)


# -- arguments -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"every_epochs": 0}, ConfigError, r"`every_epochs` must be >= 1. Received: every_epochs=0"),
        ({"every_epochs": 1.5}, ConfigTypeError, r"`every_epochs` must be an integer"),
        ({"every_epochs": None}, ConfigError, r"One of `every_epochs` or `every_steps`"),
        ({"every_steps": 0}, ConfigError, r"`every_steps` must be >= 1. Received: every_steps=0"),
        ({"every_steps": 10, "every_epochs": 2}, ConfigError, r"either `every_epochs` or `every_steps`"),
        ({"every_seconds": 0}, ConfigError, r"`every_seconds` must be > 0. Received: every_seconds=0"),
        ({"every_seconds": "10"}, ConfigTypeError, r"`every_seconds` must be a number"),
        ({"every_seconds": float("inf")}, ConfigError, r"`every_seconds` must be a finite number"),
        ({"every_epochs": None, "every_seconds": None}, ConfigError, r"\(or `every_seconds`\) must be given"),
        ({"keep_last": 0}, ConfigError, r"`keep_last` must be >= 1. Received: keep_last=0"),
        ({"mode": "max"}, ConfigError, r"`mode` only applies together with `save_best`"),
        ({"mode": "up", "save_best": "val_loss"}, ConfigError, r"`mode` must be one of"),
        ({"save_best": "score"}, ConfigError, r"Cannot infer whether 'score'.*Received: save_best='score'"),
        ({"save_best": ""}, ConfigTypeError, r"`save_best` must be a non-empty string"),
        ({"include_optimizer": "yes"}, ConfigTypeError, r"`include_optimizer` must be True or False"),
        ({"background": 1}, ConfigTypeError, r"`background` must be True or False"),
        ({"verbose": -1}, ConfigError, r"`verbose` must be >= 0"),
        ({"callbacks": "plot"}, ConfigTypeError, r"`callbacks` must be a list of callbacks"),
        ({"callbacks": [kt.callbacks.EpochTimer()]}, ConfigTypeError, r"get_state\(\) and set_state\(\)"),
    ],
)
def test_bad_arguments_are_refused(tmp_path, kwargs, error, match):
    with pytest.raises(error, match=match):
        PeriodicCheckpoint(tmp_path, **kwargs)


@pytest.mark.parametrize("directory", [None, 3, ""])
def test_directory_must_be_a_path(directory):
    with pytest.raises(ConfigTypeError, match="`directory` must be a path"):
        PeriodicCheckpoint(directory)


def test_every_steps_with_default_every_epochs_and_explicit_none(tmp_path):
    assert PeriodicCheckpoint(tmp_path, every_steps=5).every_epochs is None
    assert PeriodicCheckpoint(tmp_path, every_epochs=None, every_steps=5).every_steps == 5
    callback = PeriodicCheckpoint(tmp_path, save_best="val_accuracy")
    assert (callback.save_best, callback.mode, callback.best) == ("val_accuracy", "max", -np.inf)


def test_every_seconds_keeps_the_epoch_period_unless_dropped(tmp_path):
    callback = PeriodicCheckpoint(tmp_path, every_seconds=600)
    assert (callback.every_epochs, callback.every_steps, callback.every_seconds) == (1, None, 600.0)
    callback = PeriodicCheckpoint(tmp_path, every_epochs=None, every_seconds=1.5)
    assert (callback.every_epochs, callback.every_steps, callback.every_seconds) == (None, None, 1.5)
    assert PeriodicCheckpoint(tmp_path, every_steps=5, every_seconds=60).every_epochs is None


def test_constructing_touches_nothing(tmp_path):
    PeriodicCheckpoint(tmp_path / "later")
    assert not (tmp_path / "later").exists()


# -- when files appear ----------------------------------------------------------


def test_files_appear_every_n_epochs_and_their_records_match(tmp_path, squares_data):
    model = make_model()
    fit(model, squares_data, [PeriodicCheckpoint(tmp_path, every_epochs=2)], epochs=5)
    assert files_in(tmp_path) == [
        "epoch-0002.weights.h5", "epoch-0002.weights.h5.json",
        "epoch-0004.weights.h5", "epoch-0004.weights.h5.json",
    ]
    records = records_of(tmp_path)
    assert [(r["file"], r["epoch"], r["step"]) for r in records] == [
        ("epoch-0002.weights.h5", 2, 16),
        ("epoch-0004.weights.h5", 4, 32),
    ]
    for record in records:
        data = (tmp_path / record["file"]).read_bytes()
        assert record["size"] == len(data)
        assert record["sha256"] == hashlib.sha256(data).hexdigest()
        assert set(record["metrics"]) == {"loss"} and record["includes_optimizer"]


def test_files_appear_every_n_steps_across_epochs(tmp_path, squares_data):
    model = make_model()
    fit(model, squares_data, [PeriodicCheckpoint(tmp_path, every_steps=5)], epochs=2)  # 16 steps
    infos = kt.checkpoints.list_checkpoints(tmp_path)
    # Step 16 ends epoch 2, so that file holds 2 full epochs; step 5 is inside epoch 1.
    assert [(i.path.name, i.step, i.epoch) for i in infos] == [
        ("step-00000005.weights.h5", 5, 0),
        ("step-00000010.weights.h5", 10, 1),
        ("step-00000015.weights.h5", 15, 1),
    ]


def test_step_checkpoint_holds_the_weights_of_that_step(tmp_path, squares_data):
    x, y = squares_data
    keras.utils.set_random_seed(1)
    model = make_model()
    keras.utils.set_random_seed(1)
    reference = make_model()  # the same initial weights
    # 4 steps; the save at step 3 happens mid-epoch (on JAX: from the trainer's state).
    fit(model, (x[:128], y[:128]), [PeriodicCheckpoint(tmp_path, every_steps=3)], epochs=1)
    fit(reference, (x[:96], y[:96]), [], epochs=1)  # exactly those 3 steps
    restored = make_model()
    info = kt.checkpoints.load_checkpoint(restored, tmp_path)
    assert (info.step, info.epoch) == (3, 0)
    assert int(keras.ops.convert_to_numpy(restored.optimizer.iterations)) == 3
    for loaded, expected in zip(restored.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_allclose(loaded, expected, rtol=1e-5, atol=1e-6)
    assert not np.allclose(restored.get_weights()[0], model.get_weights()[0])  # step 4 moved on


def test_keep_last_keeps_exactly_k_plus_best(tmp_path, squares_data):
    model = make_model()
    # mode="max" on the loss makes epoch 1 the "best": its periodic file is pruned, best stays.
    callback = PeriodicCheckpoint(tmp_path, keep_last=2, save_best="loss", mode="max")
    fit(model, squares_data, [callback], epochs=5)
    assert files_in(tmp_path) == [
        "best.weights.h5", "best.weights.h5.json", "epoch-0004.weights.h5",
        "epoch-0004.weights.h5.json", "epoch-0005.weights.h5", "epoch-0005.weights.h5.json",
    ]
    assert [r["file"] for r in records_of(tmp_path)] == ["epoch-0004.weights.h5", "epoch-0005.weights.h5"]
    index = read_index(tmp_path)
    assert index.best.epoch == 1 and (index.monitor, index.mode) == ("loss", "max")
    assert kt.checkpoints.find_checkpoint(tmp_path, "best").epoch == 1


def test_best_follows_fake_logs_and_survives_a_new_callback(tmp_path):
    model = make_model()
    callback = PeriodicCheckpoint(tmp_path, every_epochs=100, save_best="val_loss")
    callback.set_model(model)
    callback.on_train_begin()
    for epoch, value in enumerate([1.0, 2.0, 0.5, 0.7]):
        callback.on_epoch_end(epoch, {"loss": 9.0, "val_loss": value})
    callback.on_train_end()
    assert files_in(tmp_path) == ["best.weights.h5", "best.weights.h5.json"]
    assert callback.best == 0.5
    best = best_record(tmp_path)
    assert (best["epoch"], best["metrics"]["val_loss"]) == (3, 0.5)
    # A new callback on the same directory (a resumed run) starts from the recorded best.
    again = PeriodicCheckpoint(tmp_path, every_epochs=100, save_best="val_loss")
    again.set_model(model)
    again.on_train_begin()
    assert again.best == 0.5
    again.on_epoch_end(4, {"val_loss": 0.6})
    again.on_train_end()
    assert best_record(tmp_path)["epoch"] == 3


def test_missing_monitored_metric_lists_the_available_keys(tmp_path):
    callback = PeriodicCheckpoint(tmp_path, save_best="val_loss")
    callback.set_model(make_model())
    callback.on_train_begin()
    callback.on_epoch_end(0, {"loss": 1.0})  # no validation this epoch: not a candidate
    with pytest.raises(ConfigError, match=r"'val_loss' is not in the logs; available keys: \['loss'\]"):
        callback.on_train_end()  # ... but no epoch of the fit validated


def test_reusable_across_two_fit_calls(tmp_path, squares_data):
    model = make_model()
    callback = PeriodicCheckpoint(tmp_path, keep_last=3, save_best="loss")
    fit(model, squares_data, [callback], epochs=2)
    fit(model, squares_data, [callback], epochs=4, initial_epoch=2)
    infos = kt.checkpoints.list_checkpoints(tmp_path)
    assert [(i.epoch, i.step) for i in infos] == [(2, 16), (3, 24), (4, 32)]
    assert best_record(tmp_path)["epoch"] == 4


def test_include_optimizer_false_leaves_the_optimizer_alone(tmp_path, squares_data):
    model = make_model()
    fit(model, squares_data, [PeriodicCheckpoint(tmp_path, include_optimizer=False)], epochs=1)
    assert not kt.checkpoints.list_checkpoints(tmp_path)[0].includes_optimizer
    fresh = make_model()
    kt.checkpoints.load_checkpoint(fresh, tmp_path)
    assert int(keras.ops.convert_to_numpy(fresh.optimizer.iterations)) == 0
    for loaded, trained in zip(fresh.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(loaded, trained)


def test_verbose_prints_each_file(tmp_path, squares_data, capsys):
    checkpoint = PeriodicCheckpoint(tmp_path, verbose=1, background=False)
    fit(make_model(), squares_data, [checkpoint], epochs=1)
    assert f"PeriodicCheckpoint: epoch 1 (step 8): saved {tmp_path / 'epoch-0001.weights.h5'}" in (
        capsys.readouterr().out
    )


class PrintEpochBegin(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        print(f"BEGIN {epoch + 1}", flush=True)


@pytest.mark.parametrize("background", [False, True])
def test_verbose_counts_epochs_from_1_and_prints_before_the_next_epoch(
    tmp_path, squares_data, capsys, background
):
    """Every line at its save, in the training thread, epochs 1-based for step and epoch saves."""
    steps = PeriodicCheckpoint(tmp_path / "steps", every_steps=4, verbose=1, background=background)
    epochs = PeriodicCheckpoint(tmp_path / "epochs", verbose=1, background=background)
    fit(make_model(), squares_data, [steps, epochs, PrintEpochBegin()], epochs=2)  # 8 steps/epoch
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    done = "writing in the background" if background else "saved"
    assert lines == [
        "BEGIN 1",
        f"PeriodicCheckpoint: epoch 1 (step 4): {done} {tmp_path / 'steps/step-00000004.weights.h5'}",
        f"PeriodicCheckpoint: epoch 1 (step 8): {done} {tmp_path / 'steps/step-00000008.weights.h5'}",
        f"PeriodicCheckpoint: epoch 1 (step 8): {done} {tmp_path / 'epochs/epoch-0001.weights.h5'}",
        "BEGIN 2",
        f"PeriodicCheckpoint: epoch 2 (step 12): {done} {tmp_path / 'steps/step-00000012.weights.h5'}",
        f"PeriodicCheckpoint: epoch 2 (step 16): {done} {tmp_path / 'steps/step-00000016.weights.h5'}",
        f"PeriodicCheckpoint: epoch 2 (step 16): {done} {tmp_path / 'epochs/epoch-0002.weights.h5'}",
    ]


# -- crash windows and leftovers ------------------------------------------------------


def test_leftovers_of_a_kill_are_cleaned_at_train_begin(tmp_path, squares_data):
    model = make_model()
    callback = PeriodicCheckpoint(tmp_path, keep_last=2)
    fit(model, squares_data, [callback], epochs=1)
    # What kills leave: half a weights file, a torn record and a torn next record of the
    # best file (temporaries never renamed), a file renamed but never recorded.
    (tmp_path / ".epoch-0002.weights.h5.x1y2.weights.h5.tmp").write_bytes(b"half a file")
    (tmp_path / ".epoch-0002.weights.h5.json.a1b2.tmp").write_text('{"format": "kerastools-che')
    (tmp_path / ".best.weights.h5.next.json.c3d4.tmp").write_text('{"format"')
    (tmp_path / "epoch-0009.weights.h5").write_bytes(b"renamed, never recorded")
    (tmp_path / "notes.txt").write_text("not ours")
    # Readers see only what has a record.
    assert [info.path.name for info in kt.checkpoints.list_checkpoints(tmp_path)] == [
        "epoch-0001.weights.h5"
    ]
    fit(model, squares_data, [callback], epochs=2, initial_epoch=1)
    # The unlisted file is moved aside, never deleted (tests/checkpoints/test_writers.py).
    aside = [name for name in files_in(tmp_path) if name.startswith("unlisted-")]
    assert files_in(tmp_path) == [
        "epoch-0001.weights.h5", "epoch-0001.weights.h5.json",
        "epoch-0002.weights.h5", "epoch-0002.weights.h5.json", "notes.txt", *aside,
    ]
    assert files_in(tmp_path / aside[0]) == ["epoch-0009.weights.h5"]


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs (not an Exception, so nothing catches it)."""


@pytest.mark.parametrize("killed_before", ["file", "record"])
def test_a_kill_while_the_best_file_is_replaced_is_recovered(
    tmp_path, squares_data, monkeypatch, killed_before
):
    """best.weights.h5 keeps its name: next record, file's rename, record. A kill between loses nothing.

    Before the file's rename the old file and record stay; after it, the next
    record matches the new file. Readers pick the record the file's SHA-256
    matches, without a "damaged" warning; the next writer settles it.
    """
    model = make_model()
    callback = PeriodicCheckpoint(tmp_path, every_epochs=100, save_best="loss")
    fit(model, squares_data, [callback], epochs=1)
    first = kt.checkpoints.find_checkpoint(tmp_path, "best")
    saved = {1: [np.array(w) for w in model.get_weights()]}

    real_write_durably, real_write_record = store.write_durably, store.write_record

    def write_durably(data, target, before_rename=None):
        if killed_before == "file" and target.name == "best.weights.h5":
            before_rename()  # the next record, written before the rename
            raise Killed
        real_write_durably(data, target, before_rename)

    def write_record(info, *, next_best=False):
        if killed_before == "record" and info.kind == "best" and not next_best:
            raise Killed
        real_write_record(info, next_best=next_best)

    monkeypatch.setattr(store, "write_durably", write_durably)
    monkeypatch.setattr(store, "write_record", write_record)
    with pytest.raises(Killed):
        fit(model, squares_data, [callback], epochs=2, initial_epoch=1)
    monkeypatch.undo()
    saved[2] = [np.array(w) for w in model.get_weights()]
    index = read_index(tmp_path)  # what the kill left
    assert (index.best.epoch, index.best_next.epoch) == (1, 2)  # the old record, the next one
    expected = 1 if killed_before == "file" else 2  # the record the file on disk matches
    restored = make_model()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no "damaged" warning
        info = kt.checkpoints.load_checkpoint(restored, tmp_path, "best")
    assert (first.epoch, info.epoch) == (1, expected)
    for loaded, weights in zip(restored.get_weights(), saved[expected], strict=True):
        np.testing.assert_array_equal(loaded, weights)
    fresh = PeriodicCheckpoint(tmp_path, every_epochs=100, save_best="loss")
    fresh.set_model(model)
    fresh.on_train_begin()  # settles: the record that matches the file stays
    fresh.on_train_end()
    assert files_in(tmp_path) == ["best.weights.h5", "best.weights.h5.json"]
    assert best_record(tmp_path)["epoch"] == expected


def test_a_failed_write_raises_checkpoint_error(tmp_path, squares_data):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the directory should be")
    with pytest.raises(CheckpointError, match="Cannot create the checkpoint directory"):
        fit(make_model(), squares_data, [PeriodicCheckpoint(blocker / "sub")], epochs=1)


# -- distribution ---------------------------------------------------------------------


CLUSTER = {"chief": ["host:1"], "worker": ["host:2", "host:3"]}


@pytest.mark.parametrize(
    ("tf_config", "chief"),
    [
        (None, True),
        ({"cluster": CLUSTER, "task": {"type": "chief", "index": 0}}, True),
        ({"cluster": CLUSTER, "task": {"type": "worker", "index": 0}}, False),
        ({"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 0}}, True),
        ({"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 1}}, False),
        ({"cluster": CLUSTER, "task": {"type": "evaluator", "index": 0}}, False),
        ({"cluster": {**CLUSTER, "ps": ["host:4"]}, "task": {"type": "ps", "index": 0}}, False),
    ],
)
def test_is_chief_reads_tf_config(monkeypatch, tf_config, chief):
    if tf_config is None:
        monkeypatch.delenv("TF_CONFIG", raising=False)
    else:
        monkeypatch.setenv("TF_CONFIG", json.dumps(tf_config))
    assert kt.checkpoints.is_chief() is chief


def test_task_outside_its_cluster_is_an_error(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": CLUSTER, "task": {"type": "worker", "index": 5}}))
    with pytest.raises(ConfigError, match="name a cluster and this process's task"):
        kt.checkpoints.is_chief()


def test_bad_tf_config_is_an_error(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(ConfigError, match="TF_CONFIG must be JSON"):
        kt.checkpoints.is_chief()


def test_non_chief_worker_never_touches_the_directory(tmp_path, squares_data, monkeypatch):
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": CLUSTER, "task": {"type": "worker", "index": 1}}))
    fit(make_model(), squares_data, [PeriodicCheckpoint(tmp_path / "ckpt", every_steps=2)], epochs=1)
    assert not (tmp_path / "ckpt").exists()


def test_save_best_on_val_metric_with_validation_freq(tmp_path, squares_data):
    """Epochs without validation (validation_freq=2) neither fail nor count for the best file."""
    x, y = squares_data
    model = make_model()
    callback = PeriodicCheckpoint(tmp_path / "ckpt", every_epochs=10, save_best="val_loss")
    history = model.fit(x, y, epochs=4, batch_size=32, validation_split=0.25, validation_freq=2,
                        callbacks=[callback], verbose=0)
    assert len(history.history["val_loss"]) == 2
    best = kt.checkpoints.list_checkpoints(tmp_path / "ckpt", include_best=True)[-1]
    assert best.metrics["val_loss"] == pytest.approx(min(history.history["val_loss"]))
    assert best.epoch in (2, 4)


# -- a kill right after a save -------------------------------------------------------------

KILLED_AFTER_A_SAVE = """
import os, signal, sys
import keras, numpy as np
import kerastools as kt

directory, kill_at, background = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"

class KillAt(keras.callbacks.Callback):
    # After PeriodicCheckpoint in the list: its save of this step has returned.
    def on_train_batch_end(self, batch, logs=None):
        self.step = getattr(self, "step", 0) + 1
        if self.step == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

rng = np.random.default_rng(0)
x = rng.uniform(-1, 1, size=(256, 2)).astype("float32")
model = kt.compile(kt.build_mlp(2, [8]), optimizer="adam", learning_rate=0.01)
checkpoint = kt.callbacks.PeriodicCheckpoint(directory, every_steps=10, background=background)
model.fit(x, x[:, :1], batch_size=16, epochs=3, verbose=0, callbacks=[checkpoint, KillAt()])
"""


def run_killed_after_a_save(directory, kill_at, background=False):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run(
        [sys.executable, "-c", KILLED_AFTER_A_SAVE, str(directory), str(kill_at), str(int(background))],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr[-3000:]


@pytest.mark.parametrize("kill_at", [20, 21])
def test_a_kill_right_after_a_save_keeps_that_save(tmp_path, kill_at):
    """every_steps=10, SIGKILL at step 20 or 21: step 20 is on disk (a kill costs < one period)."""
    run_killed_after_a_save(tmp_path / "ckpt", kill_at)
    saved = kt.checkpoints.list_checkpoints(tmp_path / "ckpt")
    assert [info.step for info in saved] == [10, 20]
    fresh = kt.compile(kt.build_mlp(2, [8]), optimizer="adam", learning_rate=0.01)
    assert kt.checkpoints.resume(fresh, tmp_path / "ckpt") == 1  # 16 steps per epoch
    assert int(keras.ops.convert_to_numpy(fresh.optimizer.iterations)) == 20


def test_a_kill_during_a_background_write_costs_at_most_two_periods(tmp_path):
    """background=True: the documented bound, the save before the last one is always on disk."""
    run_killed_after_a_save(tmp_path / "ckpt", 21, background=True)
    saved = [info.step for info in kt.checkpoints.list_checkpoints(tmp_path / "ckpt")]
    assert saved in ([10], [10, 20])


# -- callbacks' states -------------------------------------------------------------


class _Unencodable(kt.callbacks.LivePlot):
    def get_state(self):
        return {"kind": "LivePlot", "best": float("nan")}


def test_every_save_records_the_states_of_the_named_callbacks(tmp_path, squares_data):
    stopper = kt.callbacks.ThresholdEarlyStopping("loss", threshold=None, patience=50)
    checkpoint = PeriodicCheckpoint(tmp_path, save_best="loss", callbacks=[stopper])
    fit(make_model(), squares_data, [stopper, checkpoint], epochs=2)
    records = records_of(tmp_path)
    for record, epochs in [(records[0], 1), (records[1], 2), (best_record(tmp_path), 2)]:
        (state,) = record["callback_states"]
        assert state["kind"] == "ThresholdEarlyStopping" and len(state["values"]) == epochs
    assert [record["callback_states"] for record in records_of_plain(tmp_path / "plain", squares_data)] == [[]]


def records_of_plain(directory, squares_data):
    fit(make_model(), squares_data, [PeriodicCheckpoint(directory)], epochs=1)
    return records_of(directory)


def test_a_state_that_is_not_strict_json_is_refused_at_the_save(tmp_path, squares_data):
    checkpoint = PeriodicCheckpoint(tmp_path, callbacks=[_Unencodable(mode="off")])
    with pytest.raises(CheckpointError, match="state of callback 'LivePlot' cannot go into its checkpoint record"):
        fit(make_model(), squares_data, [checkpoint], epochs=1)


# -- every_seconds ---------------------------------------------------------------


class FakeClock(keras.callbacks.Callback):
    """Listed before the checkpoint: 3 fake seconds per optimizer step done (8 steps an epoch)."""

    def __init__(self):
        super().__init__()
        self.now = 0.0

    def __call__(self):
        return self.now

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        self.now = 3.0 * (self.epoch * 8 + batch)

    def on_epoch_end(self, epoch, logs=None):
        self.now = 3.0 * (epoch + 1) * 8


def test_every_seconds_saves_at_the_first_batch_past_the_period(tmp_path, squares_data):
    """every_seconds=10 at 3 s a step: steps 4 (12 s), 8 (24 s, the epoch end), 12, 16."""
    clock = FakeClock()
    checkpoint = PeriodicCheckpoint(tmp_path, every_epochs=None, every_seconds=10)
    checkpoint._clock = clock
    fit(make_model(), squares_data, [clock, checkpoint], epochs=2)
    records = records_of(tmp_path)
    assert [(r["step"], r["epoch"]) for r in records] == [(4, 0), (8, 1), (12, 1), (16, 2)]
    assert checkpoint_files(tmp_path) == [
        "step-00000004.weights.h5", "step-00000008.weights.h5",
        "step-00000012.weights.h5", "step-00000016.weights.h5",
    ]


def test_every_seconds_counts_from_any_save(tmp_path, squares_data):
    """With the epoch saves too: the epoch file at step 8 restarts the clock (no time save at 8)."""
    clock = FakeClock()
    checkpoint = PeriodicCheckpoint(tmp_path, every_seconds=10)
    checkpoint._clock = clock
    fit(make_model(), squares_data, [clock, checkpoint], epochs=2)
    names = [r["file"] for r in records_of(tmp_path)]
    assert names == [
        "step-00000004.weights.h5", "epoch-0001.weights.h5",
        "step-00000012.weights.h5", "epoch-0002.weights.h5",
    ]
