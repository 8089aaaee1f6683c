"""A training process that waits for a signal mid-epoch (tests/callbacks/test_periodic_checkpoint.py).

Trains a small MLP with `PeriodicCheckpoint(DIRECTORY, every_epochs=100)` (so
no periodic save happens). When the batch after step STOP_AT begins, it
prints `WAITING <step>` (the optimizer steps completed) and waits for a
signal; the test then sends SIGTERM or SIGINT. The marker callback comes
first in the list, so the checkpoint sees the signal at that same batch
begin. `DONE` is printed only if `fit` returns.

    python tests/callbacks/interrupted_training_worker.py DIRECTORY STOP_AT
"""

from __future__ import annotations

import os
import signal
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main() -> None:
    import keras
    import numpy as np

    import kerastools as kt

    directory, stop_at = sys.argv[1], int(sys.argv[2])
    # What an interactive Python has, even when started with SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    steps_per_epoch = 16  # 256 points, batch 16

    class WaitForSignal(keras.callbacks.Callback):
        # Only a batch-begin hook: Keras may still run batch ends on its thread.
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_begin(self, batch, logs=None):
            done = self.epoch * steps_per_epoch + batch
            if done == stop_at:
                print(f"WAITING {done}", flush=True)
                # Wait until the checkpoint's handler has noted the signal. Not
                # signal.pause(): a signal that lands before pause() starts would
                # leave it waiting for ever.
                while checkpoint._guard.received is None:
                    time.sleep(0.01)

    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).uniform(-1, 1, size=(256, 2)).astype("float32")
    model = kt.compile(kt.build_mlp(2, [8]), optimizer="adam", learning_rate=0.01)
    checkpoint = kt.callbacks.PeriodicCheckpoint(directory, every_epochs=100)
    model.fit(
        x, x[:, :1], batch_size=16, epochs=5, verbose=0, callbacks=[WaitForSignal(), checkpoint]
    )
    print("DONE", flush=True)


if __name__ == "__main__":
    main()
