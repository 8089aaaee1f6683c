"""Log and plot the learning rate of a scheduled optimizer.

The "squares" regression (y = x1^2 + x2^2) with Adam and an
inverse-time decay counted in epochs. `LearningRateLogger` writes the rate
and the optimizer step into the logs at every epoch end, so they reach
`History` and the CSV file; with `per="batch"` it also keeps the rate of every
optimizer step, which the plot draws.

    python examples/learning_rate_logging.py                         # quick: 5 epochs
    python examples/learning_rate_logging.py --epochs 50 --samples 2000
"""

import argparse
import math
from pathlib import Path

import keras
import numpy as np
from matplotlib.figure import Figure

import kerastools as kt
from kerastools._atomic import atomic_write

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--output-dir", default="examples_output")
parser.add_argument("--samples", type=int, default=512)
parser.add_argument("--epochs", type=int, default=5)
args = parser.parse_args()
output_dir = Path(args.output_dir)
output_dir.mkdir(parents=True, exist_ok=True)

keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
x = rng.uniform(-1, 1, size=(args.samples, 2)).astype("float32")
y = (x**2).sum(axis=1, keepdims=True)

batch_size = 32
model = kt.compile(
    kt.build_mlp(2, [16, 16]),
    optimizer="adam",
    learning_rate=0.01,
    schedule="inverse_time",
    decay_steps=1,  # in epochs, because steps_per_epoch is given
    decay_rate=0.5,
    steps_per_epoch=math.ceil(args.samples / batch_size),
)

lr_logger = kt.callbacks.LearningRateLogger(per="batch", verbose=1)
csv_logger = keras.callbacks.CSVLogger(str(output_dir / "history.csv"))
history = model.fit(
    x, y, batch_size=batch_size, epochs=args.epochs, callbacks=[lr_logger, csv_logger], verbose=0
)

# Per epoch: in History (and in history.csv), next to the loss.
print("learning_rate per epoch:", [f"{rate:.3g}" for rate in history.history["learning_rate"]])
print("optimizer step per epoch:", history.history["iterations"])

# Per optimizer step: (step, rate) pairs, evaluated from the schedule after training.
steps, rates = zip(*lr_logger.batch_history, strict=True)

# The object API (no pyplot): no global state, no display needed.
figure = Figure(figsize=(6, 3.5), layout="constrained")
axes = figure.add_subplot()
axes.plot(steps, rates, label="each optimizer step")
axes.plot(history.history["iterations"], history.history["learning_rate"], "o", label="epoch ends")
axes.set_xlabel("optimizer step")
axes.set_ylabel("learning rate")
axes.set_title("Adam, inverse-time decay")
axes.legend()
plot_path = output_dir / "learning_rate.png"
with atomic_write(plot_path, "wb") as handle:
    figure.savefig(handle, format="png", dpi=100)
print(f"plot: {plot_path}  csv: {output_dir / 'history.csv'}")
