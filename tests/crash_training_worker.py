"""Training processes for the SIGKILL crash test (tests/checkpoints/test_store.py).

Importing TensorFlow costs 5-15 s, too much to pay once per kill, so this is a
small fork server: it imports Keras and kerastools once (running no
TensorFlow op, so forking stays safe), prints READY, then for every `run`
line on stdin forks a trainer and prints `STARTED <pid>`. The test kills
trainers with SIGKILL by pid; `quit` or end of input stops the server.

A trainer resumes from DIRECTORY, trains to --epochs with a
PeriodicCheckpoint every --every-steps optimizer steps, and prints:

    RESUMED <epoch> <step>        what resume() loaded (0 0 for a fresh start)
    TRAINING                      the first step is done: kills count from here
    DONE <epochs> <step> <loss>   training finished

    python tests/crash_training_worker.py DIRECTORY [--epochs 20] [--every-steps 2]
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
import traceback

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def train(args: argparse.Namespace) -> None:
    import keras
    import numpy as np

    import kerastools as kt

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(256, 2)).astype("float32")
    y = (x[:, :1] ** 2 + x[:, 1:] ** 2).astype("float32")
    model = kt.compile(
        kt.build_mlp(2, [16]),
        optimizer="adam",
        learning_rate=0.01,
        schedule="inverse_time",
        decay_rate=0.01,
    )

    class Report(keras.callbacks.Callback):
        """Says TRAINING after the first step (the graph is traced by then), and
        makes every step last at least --min-step-seconds, so a kill after a
        given delay lands at a similar step on fast and slow machines."""

        def on_train_begin(self, logs=None):
            self.reported = False
            self.last = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            if not self.reported:
                print("TRAINING", flush=True)
                self.reported = True
            time.sleep(max(0.0, args.min_step_seconds - (time.perf_counter() - self.last)))
            self.last = time.perf_counter()

    start = kt.checkpoints.resume(model, args.directory)
    step = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
    print(f"RESUMED {start} {step}", flush=True)
    checkpoint = kt.callbacks.PeriodicCheckpoint(
        args.directory, every_steps=args.every_steps, keep_last=args.keep_last
    )
    history = model.fit(
        x,
        y,
        batch_size=16,
        epochs=args.epochs,
        initial_epoch=start,
        shuffle=False,
        verbose=0,
        callbacks=[Report(), checkpoint],
    )
    step = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
    losses = history.history.get("loss") or [float("nan")]
    print(f"DONE {args.epochs} {step} {losses[-1]}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--every-steps", type=int, default=2)
    parser.add_argument("--keep-last", type=int, default=3)
    parser.add_argument("--min-step-seconds", type=float, default=0.02)
    args = parser.parse_args()

    import h5py  # noqa: F401  (imported before forking, like the rest)
    import keras  # noqa: F401

    import kerastools  # noqa: F401

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # trainers are reaped automatically
    print("READY", flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "quit":
            break
        if command != "run":
            print(f"ERROR unknown command {command!r}", flush=True)
            continue
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            code = 0
            try:
                train(args)
            except BaseException:
                traceback.print_exc()
                code = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        print(f"STARTED {pid}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
