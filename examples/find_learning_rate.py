"""Find a learning rate with a range test, then train with it.

The two-ring toy set (`make_circles`) and a small MLP with Adam. The finder
raises the rate from 1e-6 to 10 over 100 batches, stops once the loss blows
up, and suggests a rate; the model is left exactly as it was, so the `fit`
after it starts from the same weights and optimizer state. The plot of the
sweep goes to `lr_finder.png` in `--output-dir`.

    python examples/find_learning_rate.py                       # quick: a few seconds
    python examples/find_learning_rate.py --samples 4000 --epochs 30
"""

import argparse
import json
from pathlib import Path

import keras

import kerastools as kt
from kerastools._atomic import atomic_write

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--output-dir", default="examples_output")
parser.add_argument("--samples", type=int, default=1000)
parser.add_argument("--epochs", type=int, default=5)
args = parser.parse_args()
output_dir = Path(args.output_dir)
output_dir.mkdir(parents=True, exist_ok=True)

keras.utils.set_random_seed(0)
x, y = kt.datasets.make_circles(args.samples, noise=0.05, seed=0)
train, valid, _ = kt.datasets.split(x, y, valid=0.2, test=0, seed=0)
model = kt.compile(kt.build_mlp(2, [32, 32], output_activation="sigmoid"), optimizer="adam")

# The sweep: one batch per rate, 1e-6 up to 10, stopping when the loss diverges.
result = kt.find_learning_rate(model, *train, min_lr=1e-6, max_lr=10.0, num_steps=100, seed=0)
print(
    f"sweep: {len(result.learning_rates)} steps, stopped early: {result.stopped_early} ({result.message})"
)
for method in ("valley", "steepest", "minimum"):
    print(f"  {method:>8}: {result.suggestion(method):.3g}")

figure = result.plot("valley")
kt.plots.save_figure(figure, output_dir / "lr_finder.png")
with atomic_write(output_dir / "lr_finder.json", "w") as handle:
    json.dump(result.to_dict(), handle, indent=1)

# Train with the suggestion: recompile with the same optimizer and the new rate.
model = kt.compile(model, optimizer="adam", learning_rate=result.suggestion())
history = model.fit(*train, validation_data=valid, epochs=args.epochs, verbose=0)
print(
    f"learning rate {kt.current_learning_rate(model):.3g}: val_loss {history.history['val_loss'][-1]:.4f}"
)
print(f"plot: {output_dir / 'lr_finder.png'}")
