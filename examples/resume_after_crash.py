"""Resume training after a crash and get the very run that was interrupted, bit for bit.

`kt.fit_resumable` is `fit` with checkpoints: run the same call again after
a kill and it loads the latest checkpoint (weights, optimizer step counter
and slots, Dropout's random state, the callbacks' state) and continues at
the next batch of the interrupted epoch, in the same shuffled order and
with the metrics' running totals of the batches already done. Here the
first run "crashes" in the middle of epoch `--crash-at` (an exception
stands in for a kill or a power cut: every file is written atomically, so
those leave the same directory behind). The second run finishes; its
weights equal those of a run that was never interrupted (`np.array_equal`),
and its live plot shows all the epochs.

    python examples/resume_after_crash.py                   # quick: 6 epochs
    python examples/resume_after_crash.py --epochs 50 --crash-at 30
"""

import argparse
from pathlib import Path

import keras
import numpy as np

import kerastools as kt

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--output-dir", default="examples_output")
parser.add_argument("--epochs", type=int, default=6)
parser.add_argument("--crash-at", type=int, default=4, help="epoch (1-based) that crashes")
args = parser.parse_args()
output = Path(args.output_dir)
plot_path = output / "resume_after_crash.png"

rng = np.random.default_rng(0)
x = rng.uniform(-1, 1, size=(512, 2)).astype("float32")
y = (x**2).sum(axis=1, keepdims=True)


class SimulatedCrash(keras.callbacks.Callback):
    """Raises after batch 8 of the epoch `crash_at` (1-based)."""

    def __init__(self, crash_at: int):
        super().__init__()
        self.crash_at = crash_at
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch + 1

    def on_train_batch_end(self, batch, logs=None):
        if self.epoch == self.crash_at and batch == 8:
            raise RuntimeError(f"simulated crash in epoch {self.epoch}, after batch {batch + 1}")


def build() -> keras.Model:
    keras.utils.set_random_seed(0)  # the same initial weights in every process
    return kt.compile(
        kt.build_mlp(2, [16, 16], dropout=0.1),
        optimizer="adam",
        learning_rate=0.01,
        schedule="inverse_time",  # counts optimizer steps: it must not restart
        decay_rate=0.05,
    )


def train(directory: Path, crash_at: int | None = None) -> tuple[keras.Model, kt.callbacks.LivePlot]:
    model = build()  # a new process would build the model again
    plot = kt.callbacks.LivePlot(mode="file", path=plot_path)
    stopper = kt.callbacks.ThresholdEarlyStopping("loss", threshold=1e-6, patience=3)
    callbacks = [stopper, plot] + ([SimulatedCrash(crash_at)] if crash_at else [])
    # The same call starts the run and continues it: a checkpoint every 10 steps.
    kt.fit_resumable(
        model, x, y, directory=directory, epochs=args.epochs, batch_size=32, seed=0,
        callbacks=callbacks, every_steps=10, keep_last=2, verbose=0,
    )
    return model, plot


try:
    train(output / "interrupted", crash_at=args.crash_at)
except RuntimeError as error:
    latest = kt.checkpoints.list_checkpoints(output / "interrupted")[-1]
    print(f"first run: {error}; latest checkpoint: step {latest.step}, "
          f"epoch {latest.epoch + 1} after {latest.training_state['batches']} batches")
resumed, plot = train(output / "interrupted")
print(f"live plot of epochs {plot.epochs[0]}-{plot.epochs[-1]}: {plot_path}")
assert plot.epochs == list(range(1, args.epochs + 1))  # the whole run, not from the restart

uninterrupted, _ = train(output / "uninterrupted")
for name, model in [("resumed", resumed), ("uninterrupted", uninterrupted)]:
    print(f"{name:>13}: step {int(model.optimizer.iterations.numpy())}, "
          f"learning rate {kt.current_learning_rate(model):.6f}")
assert all(
    np.array_equal(a, b) for a, b in zip(resumed.get_weights(), uninterrupted.get_weights(), strict=True)
), "the resumed run differs from the uninterrupted one"
print("weights identical to the uninterrupted run's")
