"""A meta-learning grid: epochs x hidden units for one MLP on the circles set.

The same 2-N-1 ReLU network (Adam, learning rate 0.005) on
2500 points of two concentric rings is trained for every
combination of epochs in [50, 100] and hidden units in [2, 4, 8], then all loss
curves are drawn on one chart: the colour tells the number of epochs, the line style the
hidden units. Two runs of the same architecture differ even over the same
epochs (random initial weights and batches), and more units learn the rings
better.

`kerastools.sweep.sweep` trains one grid of `build` arguments with fixed
`fit` arguments, so the epochs axis is one sweep per epoch count; the
records are merged into one `SweepResults` to rank, tabulate and plot them
together. A validation set is held out and the table shows
the final validation metrics.

    python examples/sweep_epochs_and_units.py                  # 2x2 grid, a few epochs
    python examples/sweep_epochs_and_units.py --samples 2500 --epochs 50 100 --units 2 4 8

Writes `sweep_epochs_and_units_loss.png` and `sweep_epochs_and_units_val_loss.png`
to `--output-dir`.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import keras

import kerastools as kt


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--output-dir", default="examples_output")
    parser.add_argument("--samples", type=int, default=400)
    parser.add_argument("--epochs", type=int, nargs="+", default=[4, 8])
    parser.add_argument("--units", type=int, nargs="+", default=[2, 8])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=0.005)
    args = parser.parse_args()

    X, y = kt.datasets.make_circles(args.samples, noise=0.05, seed=0)
    data = kt.datasets.split(X, y, valid=0.2, test=0, seed=0)

    def build(units: int) -> keras.Model:
        model = kt.build_mlp(2, [units], activation="relu", output_activation="sigmoid")
        return kt.compile(
            model, optimizer="adam", learning_rate=args.learning_rate, metrics=["accuracy"]
        )

    # One global seed, not one per trial: the point is that two runs of
    # the same network differ, so equal architectures must not start equal.
    keras.utils.set_random_seed(0)
    records: list[kt.sweep.TrialRecord] = []
    for epochs in args.epochs:
        part = kt.sweep.sweep(
            build,
            {"units": args.units},
            data=data,
            fit_kwargs={"epochs": epochs, "batch_size": args.batch_size},
            verbose=1,
        )
        for record in part:
            records.append(
                dataclasses.replace(
                    record,
                    index=len(records),
                    params={"epochs": epochs, **record.params},
                    varying=("epochs", "units"),
                )
            )
    results = kt.sweep.SweepResults(records, {"epochs": args.epochs, "units": args.units})

    print(f"\n{results}")
    print(
        f"{'epochs':>6}  {'units':>5}  {'loss':>7}  {'val_loss':>8}  {'val_accuracy':>12}  seconds"
    )
    for record in results:
        metrics = record.metrics
        print(
            f"{record.params['epochs']:>6}  {record.params['units']:>5}  {metrics['loss']:>7.4f}  "
            f"{metrics['val_loss']:>8.4f}  {metrics['val_accuracy']:>12.3f}  {record.fit_seconds:>7.1f}"
        )
    best = results.best("val_loss")
    print(f"lowest val_loss: {best.describe()} ({best.metrics['val_loss']:.4f})")

    output = Path(args.output_dir)
    output.mkdir(parents=True, exist_ok=True)
    # Colour: epochs, line style: units.
    for metric in ("loss", "val_loss"):
        figure = results.plot(metric, color_by="epochs", style_by="units")
        print("saved", kt.plots.save_figure(figure, output / f"sweep_epochs_and_units_{metric}.png"))


if __name__ == "__main__":
    main()
