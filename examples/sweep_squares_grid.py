"""A 32-model grid on the squares regression set, in one `sweep` call.

Activation x optimizer x learning rate x hidden units x depth, two values
each: 2**5 = 32 models. A full-size comparison trains each for 200 epochs on 2500
points and compares the loss curves; by default this script trains each for a few
epochs on 600 points so it finishes in about a minute on a laptop CPU. It
holds out a validation set (judging on the training data rewards overfitting)
and ranks the models by validation loss.

Full-size run: `python examples/sweep_squares_grid.py --samples 2500 --epochs 200`.
Writes `sweep_squares_grid.png` (every loss curve, legend outside) to `--output-dir`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import keras

import kerastools as kt


def build(activation: str, optimizer: str, lr: float, units: int, depth: int) -> keras.Model:
    model = kt.build_mlp(2, [units] * depth, activation=activation)
    return kt.compile(model, optimizer=optimizer, learning_rate=lr)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--output-dir", default="examples_output")
    parser.add_argument("--samples", type=int, default=600)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()

    X, y = kt.datasets.make_squares(args.samples, seed=0)
    data = kt.datasets.split(X, y, test=0, seed=0)  # 10% validation for a small set
    grid = {
        "activation": ["sigmoid", "relu"],
        "optimizer": ["sgd", "adam"],
        "lr": [1e-3, 1e-2],  # learning rates 1e-3 and 1e-2
        "units": [4, 16],
        "depth": [1, 2],
    }
    results = kt.sweep.sweep(
        build,
        grid,
        data=data,
        fit_kwargs={"epochs": args.epochs, "batch_size": args.batch_size},
        seed=0,
        verbose=1,
    )

    best = results.best("val_loss")
    print(f"\nbest of {len(results)}: {best.describe()}  val_loss={best.metrics['val_loss']:.4g}")
    ranked = sorted(results, key=lambda record: record.metrics["val_loss"])
    for record in ranked[:5]:
        print(f"  {record.metrics['val_loss']:.4g}  {record.describe()}")

    output = Path(args.output_dir)
    output.mkdir(parents=True, exist_ok=True)
    figure = results.plot("loss", log=True)
    print("saved", kt.plots.save_figure(figure, output / "sweep_squares_grid.png"))


if __name__ == "__main__":
    main()
