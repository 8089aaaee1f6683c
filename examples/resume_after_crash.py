"""Resume training after a crash, with the optimizer, its schedule and the callbacks' state intact.

The same `train()` starts a run and restarts it: `kt.checkpoints.resume`
loads the latest intact checkpoint (weights, optimizer step counter and
slots) and returns the epoch to pass to `fit` as `initial_epoch`; with no
checkpoint yet it returns 0. Given the new run's callbacks, it also hands
them the state the checkpoint recorded: the stopper's values, the
learning-rate logger's and the live plot's histories continue from epoch 1.
Here the first run "crashes" in the middle of epoch `--crash-at` (an
exception stands in for a kill or a power cut: every file is written
atomically, so those leave the same directory behind). The second run
finishes, and ends with the learning rate and step counter of a run that
was never interrupted, and a live plot of all its epochs.

    python examples/resume_after_crash.py                   # quick: 10 epochs
    python examples/resume_after_crash.py --epochs 50 --crash-at 30
"""

import argparse
from pathlib import Path

import keras
import numpy as np

import kerastools as kt

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--output-dir", default="examples_output")
parser.add_argument("--epochs", type=int, default=10)
parser.add_argument("--crash-at", type=int, default=6, help="epoch (1-based) that crashes")
args = parser.parse_args()
directory = Path(args.output_dir) / "resume_after_crash"
plot_path = Path(args.output_dir) / "resume_after_crash.png"

rng = np.random.default_rng(0)
x = rng.uniform(-1, 1, size=(512, 2)).astype("float32")
y = (x**2).sum(axis=1, keepdims=True)


class SimulatedCrash(keras.callbacks.Callback):
    """Raises halfway through the epoch `crash_at` (1-based)."""

    def __init__(self, crash_at: int):
        super().__init__()
        self.crash_at = crash_at
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch + 1

    def on_train_batch_end(self, batch, logs=None):
        if self.epoch == self.crash_at and batch == 8:
            raise RuntimeError(f"simulated crash in epoch {self.epoch}")


def build() -> keras.Model:
    keras.utils.set_random_seed(0)
    return kt.compile(
        kt.build_mlp(2, [16, 16]),
        optimizer="adam",
        learning_rate=0.01,
        schedule="inverse_time",  # counts optimizer steps: it must not restart
        decay_rate=0.05,
    )


def train(crash_at: int | None = None) -> tuple[keras.Model, list[keras.callbacks.Callback]]:
    model = build()  # a new process would build the model again
    # Its checkpoint records the state of the logger, the stopper and the plot.
    callbacks = kt.callbacks.standard(
        checkpoint_dir=directory, keep_last=2, stop_at={"loss": 1e-6}, patience=3,
        plot_mode="file", plot_path=plot_path,
    )
    # 0 on the first run; on a restart, the callbacks get their state back too.
    start = kt.checkpoints.resume(model, directory, callbacks=callbacks)
    print(f"starting at epoch {start}, optimizer step {int(model.optimizer.iterations.numpy())}")
    if crash_at is not None:
        callbacks.append(SimulatedCrash(crash_at))
    model.fit(
        x, y, batch_size=32, epochs=args.epochs, initial_epoch=start,
        shuffle=False, callbacks=callbacks, verbose=0,
    )
    return model, callbacks


try:
    train(crash_at=args.crash_at)
except RuntimeError as error:
    print("first run:", error)
resumed, callbacks = train()
live_plot = next(c for c in callbacks if isinstance(c, kt.callbacks.LivePlot))
rates = next(c for c in callbacks if isinstance(c, kt.callbacks.LearningRateLogger))
print(f"live plot of epochs {live_plot.epochs[0]}-{live_plot.epochs[-1]}: {plot_path}")
assert live_plot.epochs == list(range(1, args.epochs + 1))  # the whole run, not from the restart
assert len(rates.history) == args.epochs

uninterrupted = build()
uninterrupted.fit(x, y, batch_size=32, epochs=args.epochs, shuffle=False, verbose=0)
for name, model in [("resumed", resumed), ("uninterrupted", uninterrupted)]:
    print(
        f"{name:>13}: step {int(model.optimizer.iterations.numpy())}, "
        f"learning rate {kt.current_learning_rate(model):.6f}"
    )
assert kt.current_learning_rate(resumed) == kt.current_learning_rate(uninterrupted)
