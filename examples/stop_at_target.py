"""Stop training once the validation accuracy reaches a target and stops improving.

Two noisy concentric rings (the toy binary classification set, noisier), a
2-16-16-1 MLP, up to `--max-epochs` epochs. `ThresholdEarlyStopping` ends the
run once val_accuracy >= `--target` and it has not improved on the previous
epoch (patience=1), and says why; an accuracy that collapses below 0.5 would
stop it at once.

    python examples/stop_at_target.py                    # target 0.95
    python examples/stop_at_target.py --target 0.97 --patience 0
"""

import argparse
import json
from pathlib import Path

import keras
import numpy as np

import kerastools as kt
from kerastools._atomic import atomic_write

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--output-dir", default="examples_output")
parser.add_argument("--samples", type=int, default=1000)
parser.add_argument("--max-epochs", type=int, default=50)
parser.add_argument("--target", type=float, default=0.95)
parser.add_argument("--patience", type=int, default=1)
args = parser.parse_args()
output_dir = Path(args.output_dir)
output_dir.mkdir(parents=True, exist_ok=True)

keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
angle = rng.uniform(0, 2 * np.pi, args.samples)
label = rng.integers(0, 2, args.samples)
radius = np.where(label == 1, 0.5, 1.0) + rng.normal(0, 0.12, args.samples)
x = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1).astype("float32")
y = label.astype("float32")

model = kt.compile(
    kt.build_mlp(2, [16, 16], output_activation="sigmoid"),
    optimizer="adam",
    learning_rate=0.01,
    metrics=["accuracy"],
)
stopper = kt.callbacks.ThresholdEarlyStopping(
    "val_accuracy",  # mode "max", inferred from the name
    threshold=args.target,
    patience=args.patience,
    divergence_threshold=0.5,  # worse than a coin toss once checked: stop at once
    start_from_epoch=2,  # the first epochs are noisy; do not judge them
    restore_best_weights=True,
    verbose=1,
)
history = model.fit(
    x,
    y,
    validation_split=0.2,
    batch_size=32,
    epochs=args.max_epochs,
    callbacks=[stopper],
    verbose=0,
)

accuracies = history.history["val_accuracy"]
print(f"trained {len(accuracies)} of {args.max_epochs} epochs")
print(f"reason: {stopper.stopping_reason.name}, stopped at epoch {stopper.stopped_epoch}")
print(f"best val_accuracy {stopper.best:.4f} at epoch {stopper.best_epoch} (weights restored)")

summary = {
    "stopped_epoch": stopper.stopped_epoch,
    "stopping_reason": stopper.stopping_reason.value,
    "stopping_message": stopper.stopping_message,
    "best_epoch": stopper.best_epoch,
    "val_accuracy": accuracies,
}
with atomic_write(output_dir / "stop_at_target.json", "w") as handle:
    json.dump(summary, handle, indent=2)
