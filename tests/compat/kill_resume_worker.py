"""Train one model kind as a user's script would, resuming from its checkpoints; print what happened.

    python tests/compat/kill_resume_worker.py KIND DIRECTORY EPOCHS [--stall-at EPOCH] [--every-steps N]

The same command starts and restarts training (`kt.checkpoints.resume`).
With `--stall-at E` it stops making progress at the start of epoch E
(0-based) so the test can SIGKILL it there, after epoch E's checkpoint
has appeared. Its last stdout line is a JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import keras  # noqa: E402

import kerastools as kt  # noqa: E402
from kerastools.learning_rates import model_optimizers, schedule_step_counter, unwrap_optimizer  # noqa: E402
from tests.compat.kinds import by_name, policy  # noqa: E402


class Stall(keras.callbacks.Callback):
    """Stops making progress at the start of one epoch, as a long epoch would."""

    def __init__(self, epoch: int):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            print("STALLED", flush=True)
            time.sleep(600)


def optimizer_step(model) -> int:
    """The step of the first optimizer the model trains with (a GAN's own, not Keras' default).

    Under gradient accumulation, the batch counter (what a checkpoint's step is).
    """
    optimizer = unwrap_optimizer(next(iter(model_optimizers(model).values()), model.optimizer))
    return int(keras.ops.convert_to_numpy(schedule_step_counter(optimizer)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind")
    parser.add_argument("directory")
    parser.add_argument("epochs", type=int)
    parser.add_argument("--stall-at", type=int)
    parser.add_argument("--every-steps", type=int)
    args = parser.parse_args()
    kind = by_name(args.kind)
    keras.utils.set_random_seed(0)
    with policy(kind):
        model = kind.build()
        kind.prepare(model)
        start = kt.checkpoints.resume(model, args.directory)
        restored_step = optimizer_step(model)
        callbacks = [*kind.keras_callbacks(), *kt.callbacks.standard(plot=False, keep_last=None)]
        callbacks.append(kt.callbacks.PeriodicCheckpoint(args.directory, every_steps=args.every_steps)
                         if args.every_steps else kt.callbacks.PeriodicCheckpoint(args.directory))
        if args.stall_at is not None:
            callbacks.insert(0, Stall(args.stall_at))
        history = model.fit(**kind.fit_args(), initial_epoch=start, epochs=args.epochs, verbose=0,
                            callbacks=callbacks)
    print(json.dumps({
        "start": start,
        "restored_step": restored_step,
        "epochs_run": len(history.history.get("epoch_time_s", [])),
        "final_step": optimizer_step(model),
        "history_epochs": list(history.epoch),
    }))


if __name__ == "__main__":
    main()
