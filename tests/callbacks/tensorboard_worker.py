"""TensorBoardLogger runs in a fresh process where `import tensorflow` fails (JAX and torch).

    python tensorboard_worker.py LOG_DIR CHECKPOINT_DIR KILL_AT OUT_JSON

It first runs `kt.fit_resumable` with a per-step TensorBoardLogger into
LOG_DIR/resumable; KILL_AT > 0 SIGKILLs the process at the end of that
optimizer step (after the logger wrote it, before the checkpoint saw it).
Otherwise it then fits a tiny model with a TensorBoardLogger (per epoch) and a second
one (every 2 steps, with a schedule), reads the files back with TensorBoard's
EventAccumulator and writes History, what was read and whether TensorFlow
got imported to OUT_JSON (two processes, not three: each start costs seconds).
"""

from __future__ import annotations

import json
import os
import sys

if os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow":
    # Before anything is imported: `import tensorflow` raises ModuleNotFoundError and
    # importlib.util.find_spec("tensorflow") is None, as on a machine without TensorFlow.
    sys.modules["tensorflow"] = None  # type: ignore[assignment]

import keras  # noqa: E402
import numpy as np  # noqa: E402

import kerastools as kt  # noqa: E402
from tests.checkpoints.exact_resume_worker import KillAt  # noqa: E402

EPOCHS = 3


def data(count: int = 48) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(count, 2)).astype("float32")
    return x, (x[:, :1] ** 2 + x[:, 1:] ** 2).astype("float32")


def decay() -> keras.optimizers.schedules.LearningRateSchedule:
    return keras.optimizers.schedules.ExponentialDecay(0.05, 2, 0.5)


def model(schedule: bool = False) -> keras.Model:
    keras.utils.set_random_seed(0)
    rate = decay() if schedule else 0.01
    return kt.compile(kt.build_mlp(2, [8]), optimizer=keras.optimizers.SGD(rate), metrics=["mae"])


def scalars(folder: str) -> dict[str, list[list[float]]]:
    """Every scalar tag under `folder`: [[step, value], ...] as TensorBoard's accumulator reads them."""
    from tensorboard.backend.event_processing import plugin_event_accumulator as accumulators
    from tensorboard.util import tensor_util

    accumulator = accumulators.EventAccumulator(folder, size_guidance={accumulators.TENSORS: 0})
    accumulator.Reload()
    found = {}
    for tag in accumulator.Tags()["tensors"]:
        if accumulator.SummaryMetadata(tag).plugin_data.plugin_name == "scalars":
            found[tag] = [
                [event.step, float(tensor_util.make_ndarray(event.tensor_proto))]
                for event in accumulator.Tensors(tag)
            ]
    return found


def history_run(log_dir: str) -> dict:
    x, y = data()
    epoch_model = model()
    history = epoch_model.fit(
        x, y, validation_split=0.25, batch_size=8, epochs=EPOCHS, verbose=0,
        callbacks=[kt.callbacks.LearningRateLogger(), kt.callbacks.EpochTimer(),
                   kt.callbacks.TensorBoardLogger(os.path.join(log_dir, "epochs"))],
    )
    batch_model = model(schedule=True)
    batch_model.fit(x, y, batch_size=8, epochs=2, verbose=0,
                    callbacks=[kt.callbacks.TensorBoardLogger(os.path.join(log_dir, "batches"), update_freq=2)])
    schedule = decay()
    result = {
        "history": history.history,
        "train": scalars(os.path.join(log_dir, "epochs", "train")),
        "validation": scalars(os.path.join(log_dir, "epochs", "validation")),
        "batches": scalars(os.path.join(log_dir, "batches", "train")),
        "schedule": [float(keras.ops.convert_to_numpy(schedule(step))) for step in range(12)],
    }
    return result


def resumable_run(log_dir: str, checkpoint_dir: str, kill_at: int) -> None:
    x, y = data(60)  # 8 batches of 8 per epoch, the last of 4
    callbacks: list = [kt.callbacks.TensorBoardLogger(log_dir, update_freq=1)]
    if kill_at > 0:
        callbacks.append(KillAt(kill_at))
    kt.fit_resumable(model(), x, y, directory=checkpoint_dir, epochs=EPOCHS, batch_size=8, seed=0,
                     every_steps=5, callbacks=callbacks, verbose=0)


if __name__ == "__main__":
    log_dir, checkpoint_dir, kill_at, out = sys.argv[1:5]
    resumable_run(os.path.join(log_dir, "resumable"), checkpoint_dir, int(kill_at))
    result = history_run(log_dir)
    result["tensorflow_imported"] = any(
        module is not None for name, module in sys.modules.items() if name.split(".")[0] == "tensorflow"
    )
    with open(out, "w") as handle:
        json.dump(result, handle)
