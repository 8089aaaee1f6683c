"""Load the epoch that generalised best, chosen from the checkpoints' records.

By hand you would save the weights every few iterations, look at the
validation curve and load the best iteration yourself. Here a wide network overfits 48
noisy training points of the "squares" set: its validation loss falls,
then rises. `PeriodicCheckpoint` records the metrics of every saved epoch in
the record beside its file (`epoch-0007.weights.h5.json`);
`load_checkpoint(model, directory, ("min", "val_loss"))`
loads the epoch with the lowest validation loss (`("max", "val_accuracy")`
works the same way for a classifier).

    python examples/load_best_epoch.py                 # quick: 20 epochs
    python examples/load_best_epoch.py --epochs 300
"""

import argparse
from pathlib import Path

import keras
import numpy as np

import kerastools as kt

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--output-dir", default="examples_output")
parser.add_argument("--epochs", type=int, default=20)
args = parser.parse_args()
directory = Path(args.output_dir) / "load_best_epoch"

keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
x_train = rng.uniform(-1, 1, size=(48, 2)).astype("float32")
y_train = (x_train**2).sum(axis=1, keepdims=True) + rng.normal(0, 0.3, size=(48, 1))
x_valid = rng.uniform(-1, 1, size=(500, 2)).astype("float32")
y_valid = (x_valid**2).sum(axis=1, keepdims=True)


def build() -> keras.Model:
    return kt.compile(kt.build_mlp(2, [128, 128]), optimizer="adam", learning_rate=0.01)


model = build()
model.fit(
    x_train, y_train, validation_data=(x_valid, y_valid), batch_size=16, epochs=args.epochs,
    callbacks=[kt.callbacks.PeriodicCheckpoint(directory)],  # every epoch, all kept
    verbose=0,
)

infos = kt.checkpoints.list_checkpoints(directory)
print("epoch  train loss  val loss")
for info in infos[:: max(1, len(infos) // 12)]:
    print(f"{info.epoch:>5}  {info.metrics['loss']:>10.4f}  {info.metrics['val_loss']:>8.4f}")

best = build()  # a fresh model, as in a later session
info = kt.checkpoints.load_checkpoint(best, directory, ("min", "val_loss"))
print(f"\nlowest val_loss at epoch {info.epoch}: {info.metrics['val_loss']:.4f} ({info.path.name})")
best_loss = best.evaluate(x_valid, y_valid, verbose=0)
last_loss = model.evaluate(x_valid, y_valid, verbose=0)
print(f"val loss of the loaded epoch {best_loss:.4f}, of the last epoch {last_loss:.4f}")
assert abs(best_loss - info.metrics["val_loss"]) < 1e-4  # the record told the truth
assert best_loss <= last_loss
