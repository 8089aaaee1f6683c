"""Log to TensorBoard on any backend: `standard(tensorboard=...)`, per-batch logging, reading the logs back.

Two noisy concentric rings (the toy binary classification set), a 2-16-16-1
MLP trained with `kt.callbacks.standard(tensorboard=...)`: event files in
`keras.callbacks.TensorBoard`'s layout (`train/`, `validation/`, `epoch_*`
scalars, with the learning rate, epoch time and throughput), written by the
`tensorboard` package alone, so the same script runs on TensorFlow, JAX and
torch. A second run logs every 5 optimizer steps too, and draws the first
run as faint reference curves (`LivePlot(compare_to=log_dir)`). The script
then reads the files back with TensorBoard's own reader and checks them
against `History`. `--with-keras` (TensorFlow backend) also writes the same
model's run with Keras' own `keras.callbacks.TensorBoard`, to see both in
TensorBoard.

    python examples/tensorboard_logging.py            # logs in examples_output/tensorboard
    tensorboard --logdir examples_output/tensorboard  # then open http://localhost:6006
"""

import argparse
from pathlib import Path

import keras
import numpy as np

import kerastools as kt
from kerastools.tensorboard_events import epoch_history

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--output-dir", default="examples_output")
parser.add_argument("--samples", type=int, default=800)
parser.add_argument("--epochs", type=int, default=8)
parser.add_argument("--with-keras", action="store_true",
                    help="also log a run with keras.callbacks.TensorBoard (TensorFlow backend)")
args = parser.parse_args()
logs = Path(args.output_dir) / "tensorboard"

x, y = kt.datasets.make_circles(args.samples, noise=0.1, seed=0)


def new_model() -> keras.Model:
    keras.utils.set_random_seed(0)
    schedule = keras.optimizers.schedules.CosineDecay(0.02, decay_steps=args.epochs * 19)
    return kt.compile(kt.build_mlp(2, [16, 16], output_activation="sigmoid"),
                      optimizer=keras.optimizers.Adam(schedule), metrics=["accuracy"])


# 1. The bundle with a TensorBoard log: one argument.
model = new_model()
callbacks = kt.callbacks.standard(tensorboard=logs / "kerastools", plot=False)
history = model.fit(x, y, validation_split=0.25, batch_size=32, epochs=args.epochs, verbose=0,
                    callbacks=callbacks)

# 2. Every 5 optimizer steps too, and the first run drawn behind this one.
plot = kt.callbacks.LivePlot(mode="file", path=logs / "compare.png", compare_to=logs / "kerastools")
new_model().fit(x, y, validation_split=0.25, batch_size=32, epochs=args.epochs, verbose=0,
                callbacks=[kt.callbacks.TensorBoardLogger(logs / "every-5-steps", update_freq=5), plot])

# 3. Keras' own callback, for comparison (it needs TensorFlow).
if args.with_keras:
    new_model().fit(x, y, validation_split=0.25, batch_size=32, epochs=args.epochs, verbose=0,
                    callbacks=[kt.callbacks.LearningRateLogger(), kt.callbacks.EpochTimer(),
                               keras.callbacks.TensorBoard(logs / "keras")])

# Read back with TensorBoard's reader: the same values as History, in float32.
read = epoch_history(logs / "kerastools")
for key, values in history.history.items():
    assert np.float32(read[key]).tolist() == np.float32(values).tolist(), key
print(f"{logs / 'kerastools'}: {sorted(read)}")
print(f"final val_accuracy {read['val_accuracy'][-1]:.3f}; see: tensorboard --logdir {logs}")
kt.plots.save_figure(kt.plots.training_curves(logs / "kerastools"), logs / "curves.png")
