"""Compare runs live: a sweep's trials on one updating figure, then a new run over the best one.

1. `kt.sweep.sweep(..., live=path)` trains one model per learning rate and
   redraws one figure while they train: finished trials stay (thin, faint),
   the running one is thick and marked in the legend, and the legend names
   only what varies (here the learning rate). The PNG is replaced atomically,
   so a copy taken mid-sweep (`sweep_live_running.png`) is a whole image.
2. `LivePlot(compare_to=[best trial, checkpoint directory])` trains a new run
   and draws the earlier ones behind it as faint dashed curves.

    python examples/live_sweep_compare.py                 # about 15 s on two CPU cores
    python examples/live_sweep_compare.py --epochs 40     # longer curves

Writes `sweep_live.png`, `sweep_live_running.png` and `live_compare.png` to `--output-dir`.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import keras
import numpy as np

import kerastools as kt


def rings(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Two noisy concentric rings: a small binary task that an MLP learns in a few epochs."""
    rng = np.random.default_rng(0)
    angle = rng.uniform(0, 2 * np.pi, n)
    label = rng.integers(0, 2, n)
    radius = np.where(label == 1, 0.5, 1.0) + rng.normal(0, 0.12, n)
    x = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1).astype("float32")
    return x, label.astype("float32")


def build(lr: float, units: int = 16) -> keras.Model:
    model = kt.build_mlp(2, [units, units], output_activation="sigmoid")
    return kt.compile(model, optimizer="adam", learning_rate=lr, loss="binary_crossentropy",
                      metrics=["accuracy"])


class CopyWhileRunning(keras.callbacks.Callback):
    """Copies the live PNG halfway through the last trial: what a viewer shows mid-sweep."""

    def __init__(self, live: kt.sweep.LiveSweep, target: Path, trials: int):
        super().__init__()
        self.live, self.target, self.trials, self.started = live, target, trials, 0

    def on_train_begin(self, logs=None):
        self.started += 1

    def on_epoch_end(self, epoch, logs=None):
        if self.started == self.trials and epoch == self.params["epochs"] // 2 and self.live.output_path:
            self.live.redraw()  # now, whatever the throttle decided
            shutil.copyfile(self.live.output_path, self.target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output-dir", default="examples_output")
    parser.add_argument("--epochs", type=int, default=6)
    args = parser.parse_args()
    output = Path(args.output_dir)
    output.mkdir(parents=True, exist_ok=True)
    x, y = rings(800)
    data = kt.datasets.split(x, y, valid=0.25, test=0, seed=0)
    grid = {"lr": [0.1, 0.01, 0.003, 0.001], "units": [16]}

    # 1. The sweep, drawn live: one figure, one line per trial in each panel.
    live = kt.sweep.LiveSweep(path=output / "sweep_live.png", figsize=(9, 3.2))
    copier = CopyWhileRunning(live, output / "sweep_live_running.png", trials=len(grid["lr"]))
    results = kt.sweep.sweep(build, grid, data=data, fit_kwargs={"epochs": args.epochs, "batch_size": 32},
                             seed=0, live=live, callbacks=[copier], verbose=1)
    best = results.best("val_loss")
    print(f"best: {best.describe()} val_loss={best.metrics['val_loss']:.4g}; live figure: {live.output_path}")

    # 2. A new run (wider, with checkpoints) drawn over the best trial and an earlier checkpointed run.
    keras.utils.set_random_seed(0)
    earlier = kt.callbacks.PeriodicCheckpoint(output / "earlier_run")
    build(lr=0.03).fit(*data.train, validation_data=data.valid, epochs=args.epochs, verbose=0,
                       callbacks=[earlier])
    plot = kt.callbacks.LivePlot(path=output / "live_compare.png", show_lr=False,
                                 compare_to=[best, output / "earlier_run"])
    build(lr=best.params["lr"], units=32).fit(*data.train, validation_data=data.valid, epochs=args.epochs,
                                              verbose=0, callbacks=[plot])
    print("new run over the best trial and the checkpointed run:", plot.output_path)
    for name in ("sweep_live.png", "sweep_live_running.png", "live_compare.png"):
        if (output / name).exists() and not (output / name).read_bytes().startswith(b"\x89PNG"):
            raise SystemExit(f"{output / name} is not a PNG")


if __name__ == "__main__":
    main()
