"""Switch to kerastools mid-project: resume from Keras' ModelCheckpoint or BackupAndRestore files.

A first run was checkpointed the Keras way: `ModelCheckpoint` wrote a
`.keras` file and a `.weights.h5` file per epoch, and `BackupAndRestore`
kept its backup directory when the run "crashed" at the start of epoch 3.
`kt.checkpoints.resume` reads each of them (weights and optimizer, shapes
checked first): from the backup it returns the epoch Keras itself would
resume at, from a single file 0 (a file records no epoch). The second run
goes on with `PeriodicCheckpoint(save_format="keras")`, whose files
`keras.models.load_model` still opens.

    python examples/switch_from_keras_checkpoints.py
"""

import argparse
from pathlib import Path

import keras
import numpy as np

import kerastools as kt

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--output-dir", default="examples_output")
parser.add_argument("--epochs", type=int, default=6)
args = parser.parse_args()
directory = Path(args.output_dir) / "switch_from_keras"

rng = np.random.default_rng(0)
x = rng.uniform(-1, 1, size=(512, 2)).astype("float32")
y = (x**2).sum(axis=1, keepdims=True)


def build() -> keras.Model:
    keras.utils.set_random_seed(0)
    return kt.compile(kt.build_mlp(2, [16, 16]), optimizer="adam", learning_rate=0.01,
                      schedule="inverse_time", decay_rate=0.05)


class Crash(keras.callbacks.Callback):
    """Raises at the start of the third epoch, as a kill would stop the run."""

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 2:
            raise RuntimeError("simulated crash at the start of epoch 3")


# The first run, checkpointed by Keras alone.
keras_callbacks = [
    keras.callbacks.ModelCheckpoint(str(directory / "model-{epoch:02d}.keras")),
    keras.callbacks.ModelCheckpoint(str(directory / "w-{epoch:02d}.weights.h5"),
                                    save_weights_only=True),
    keras.callbacks.BackupAndRestore(str(directory / "backup")),
    Crash(),
]
try:
    build().fit(x, y, batch_size=32, epochs=args.epochs, shuffle=False, verbose=0,
                callbacks=keras_callbacks)
except RuntimeError as error:
    print("first run:", error)

# Any of Keras' files loads; a single file records no epoch, so resume returns 0.
for source in ["model-02.keras", "w-02.weights.h5"]:
    model = build()
    start = kt.checkpoints.resume(model, directory / source)
    print(f"{source:>16}: resume -> {start}, optimizer step {int(model.optimizer.iterations)}")

# The backup directory says how many epochs are done: continue from there.
model = build()
start = kt.checkpoints.resume(model, directory / "backup")
print(f"{'backup/':>16}: resume -> {start}, optimizer step {int(model.optimizer.iterations)}")
assert start == 2 and int(model.optimizer.iterations) == 2 * 16
checkpoint = kt.callbacks.PeriodicCheckpoint(directory / "kerastools", save_format="keras",
                                             keep_last=2)
model.fit(x, y, batch_size=32, epochs=args.epochs, initial_epoch=start, shuffle=False,
          verbose=0, callbacks=[checkpoint])

# kerastools' archives are Keras' own: load_model opens them, optimizer included.
last = kt.checkpoints.find_checkpoint(directory / "kerastools").path
loaded = keras.models.load_model(last)
print(f"{last.name}: load_model -> optimizer step {int(loaded.optimizer.iterations)}")
assert int(loaded.optimizer.iterations) == args.epochs * 16
for saved, trained in zip(loaded.get_weights(), model.get_weights(), strict=True):
    assert np.array_equal(saved, trained)
