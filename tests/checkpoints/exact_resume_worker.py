"""Runs of one training config through `kt.fit_resumable`, several per process (one start-up cost).

    python exact_resume_worker.py RUNS_JSON

RUNS_JSON is a list of runs, done in order: {"directory": ..., "kill_at":
step or null, "out": file or null}. A run with `kill_at` SIGKILLs this
process at the end of that optimizer step (1-based, before the
checkpoint has seen it), so it must come last. A run with `out` writes the
final weights and what the test compares to `out` (.npz).
"""

from __future__ import annotations

import json
import os
import signal
import sys

import keras
import numpy as np

if keras.backend.backend() == "tensorflow":
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()  # the test process only, never kerastools

import kerastools as kt  # noqa: E402

EPOCHS, BATCH = 4, 8
# On torch, a Dropout without a seed draws from torch's global generator, which no
# checkpoint holds; with a seed it draws from its SeedGenerator, whose state is recorded.
DROPOUT_SEED = 1 if keras.backend.backend() == "torch" else None


class KillAt(keras.callbacks.Callback):
    """SIGKILL at the end of optimizer step `step`: listed before the checkpoint, which loses it."""

    def __init__(self, step: int):
        super().__init__()
        self.step = step

    def on_train_batch_end(self, batch, logs=None):
        if int(keras.ops.convert_to_numpy(self.model.optimizer.iterations)) >= self.step:
            os.kill(os.getpid(), signal.SIGKILL)


def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(60, 4)).astype("float32")  # 8 batches per epoch, the last of 4
    return x, (x[:, :1] * x[:, 1:2] + x[:, 2:3] ** 2).astype("float32")


def build() -> keras.Model:
    keras.utils.set_random_seed(0)  # the same initial weights and Dropout seed every run
    model = keras.Sequential([
        keras.Input((4,)),
        keras.layers.Dense(16, activation="relu", name="hidden"),
        keras.layers.Dropout(0.3, name="drop", seed=DROPOUT_SEED),
        keras.layers.Dense(1, name="out"),
    ])
    schedule = keras.optimizers.schedules.ExponentialDecay(0.02, decay_steps=5, decay_rate=0.8)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss="mse", metrics=["mae"])
    return model


def run(directory: str, kill_at: int | None, out: str | None) -> None:
    keras.backend.clear_session()
    model = build()
    x, y = data()
    stopper = kt.callbacks.ThresholdEarlyStopping("val_loss", patience=2, min_delta=1e9)
    plot = kt.callbacks.LivePlot(mode="file", path=os.path.join(directory + "-plot.png"))
    callbacks = [stopper, plot] + ([KillAt(kill_at)] if kill_at is not None else [])
    kt.fit_resumable(
        model, x, y, directory=directory, epochs=EPOCHS, batch_size=BATCH, seed=5,
        validation_data=(x[:16], y[:16]), callbacks=callbacks, every_steps=1, verbose=0,
    )
    if out is None:
        return
    report = {
        "iterations": int(keras.ops.convert_to_numpy(model.optimizer.iterations)),
        "learning_rate": kt.current_learning_rate(model),
        "stopped_epoch": stopper.stopped_epoch,
        "stopping_reason": str(stopper.stopping_reason),
        "plot": plot.get_state(),
    }
    weights = {f"w{i}": w for i, w in enumerate(model.get_weights())}
    np.savez(out, report=np.array(json.dumps(report)), **weights)


if __name__ == "__main__":
    for spec in json.loads(sys.argv[1]):
        run(spec["directory"], spec.get("kill_at"), spec.get("out"))
