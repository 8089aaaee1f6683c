"""The 20-line quickstart: build, compile, train, restart from scratch."""

import argparse

import kerastools as kt

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--output-dir", default="examples_output")
parser.add_argument("--epochs", type=int, default=5)
args = parser.parse_args()

x, y = kt.datasets.make_circles(1000, noise=0.08, seed=0)
model = kt.build_mlp(2, [16, 16], output_activation="sigmoid")
kt.compile(model, optimizer="adam", learning_rate=0.01,
           schedule="exponential", decay_steps=1, decay_rate=0.8,
           steps_per_epoch=32, metrics=["accuracy"])
first = model.fit(x, y, epochs=args.epochs, verbose=0)
print("lr now:", kt.current_learning_rate(model))

kt.reset_training(model)  # back to the initial weights, schedule at step 0
second = model.fit(x, y, epochs=args.epochs, verbose=0)
print("final accuracy, first and second run:",
      first.history["accuracy"][-1], second.history["accuracy"][-1])
