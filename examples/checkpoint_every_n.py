"""Checkpoint every N epochs, keep the last k files and the best one.

The "squares" regression (y = x1^2 + x2^2). `PeriodicCheckpoint`
saves the weights and the optimizer state every `--every` epochs, deletes all
but the newest `--keep` of those files, and keeps `best.weights.h5` for the
lowest validation loss apart. Beside each file its record
(`epoch-0012.weights.h5.json`) holds its epoch, optimizer step, metrics, size
and SHA-256.

    python examples/checkpoint_every_n.py                  # quick: 12 epochs
    python examples/checkpoint_every_n.py --epochs 50 --every 5 --keep 3
"""

import argparse
from pathlib import Path

import keras
import numpy as np

import kerastools as kt

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--output-dir", default="examples_output")
parser.add_argument("--epochs", type=int, default=12)
parser.add_argument("--every", type=int, default=2, help="save every this many epochs")
parser.add_argument("--keep", type=int, default=3, help="periodic files to keep")
args = parser.parse_args()
directory = Path(args.output_dir) / "checkpoint_every_n"

keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
x = rng.uniform(-1, 1, size=(1000, 2)).astype("float32")
y = (x**2).sum(axis=1, keepdims=True)

model = kt.compile(kt.build_mlp(2, [16, 16]), optimizer="adam", learning_rate=0.01)
checkpoint = kt.callbacks.PeriodicCheckpoint(
    directory,
    every_epochs=args.every,
    keep_last=args.keep,
    save_best="val_loss",  # best.weights.h5, never pruned
)
model.fit(
    x, y, validation_split=0.2, batch_size=32, epochs=args.epochs, callbacks=[checkpoint], verbose=0
)

# Everything is on disk when fit() returns.
print("files:", sorted(path.name for path in directory.iterdir()))
print(f"{'file':<24} {'epoch':>5} {'step':>5} {'val_loss':>9}")
for info in kt.checkpoints.list_checkpoints(directory, include_best=True):
    print(f"{info.path.name:<24} {info.epoch:>5} {info.step:>5} {info.metrics['val_loss']:>9.5f}")

periodic = kt.checkpoints.list_checkpoints(directory)
assert len(periodic) == min(args.keep, args.epochs // args.every)
assert periodic[-1].epoch == args.epochs - args.epochs % args.every
