"""Bayesian search over the same `build` function a sweep uses, with keras-tuner.

A grid trains every combination; keras-tuner's Bayesian optimisation
picks each next trial from the results so far, and takes ranges as well as
lists. `kerastools.sweep.keras_tuner_hypermodel` adapts the `build` function,
so nothing is written twice. Needs `pip install "kerastools[tune]"`.

Defaults are small (4 trials of 3 epochs on 1000 points, under a minute);
`--max-trials 40 --epochs 50` is a real search. The tuner's files go to
`--output-dir`/keras_tuner.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import keras
import keras_tuner

import kerastools as kt


def build(units: int, depth: int, lr: float, activation: str) -> keras.Model:
    model = kt.build_mlp(2, [units] * depth, activation=activation)
    return kt.compile(model, optimizer="adam", learning_rate=lr)


parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--output-dir", default="examples_output")
parser.add_argument("--max-trials", type=int, default=4)
parser.add_argument("--epochs", type=int, default=3)
parser.add_argument("--samples", type=int, default=1000)
args = parser.parse_args()

space = {
    "units": [4, 8, 16, 32],  # a list: hp.Choice
    "depth": {"min": 1, "max": 3},  # int bounds: hp.Int
    "lr": {"min": 1e-4, "max": 1e-1, "sampling": "log"},  # float bounds: hp.Float
    "activation": ["relu", "tanh", "sigmoid"],
}
hypermodel = kt.sweep.keras_tuner_hypermodel(build, space)
tuner = keras_tuner.BayesianOptimization(
    hypermodel,
    objective="val_loss",
    max_trials=args.max_trials,
    seed=0,
    directory=str(Path(args.output_dir) / "keras_tuner"),
    project_name="squares",
    overwrite=True,
)

X, y = kt.datasets.make_squares(args.samples, noise=0.01, seed=0)
train, valid, test = kt.datasets.split(X, y, seed=0)
tuner.search(*train, validation_data=valid, epochs=args.epochs, batch_size=32, verbose=0)

best = tuner.get_best_hyperparameters(1)[0].values
print("best hyper-parameters:", best)
model = build(**best)  # retrain the winner from scratch, judged on the untouched test set
model.fit(*train, validation_data=valid, epochs=args.epochs, batch_size=32, verbose=0)
print(f"test loss of the best configuration: {model.evaluate(*test, verbose=0):.4g}")
