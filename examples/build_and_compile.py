"""Build and compile a classic 3-conv image classifier in two calls, then train it briefly.

The net: conv 32/64/128 (3x3, relu), two 2x2 max-pools, dense 120,
10-way softmax, L2 1e-3 on the dense part; RMSprop with momentum 0.9 and an
inverse-time decay counted in epochs. Random images stand in for Fashion-MNIST
here so the script runs anywhere; see fashion_mnist_cnn.py for the real data.
"""

import argparse

import numpy as np

import kerastools as kt

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--output-dir", default="examples_output")
parser.add_argument("--samples", type=int, default=256)
parser.add_argument("--epochs", type=int, default=1)
args = parser.parse_args()

model = kt.build_cnn(
    (28, 28, 1),
    conv=[(32, 3), (64, 3), (128, 3)],  # pool=None: a 2x2 max-pool between conv layers
    dense=[120],
    output_units=10,
    regularizers={"hidden": ("l2", 1e-3), "output": ("l2", 1e-3)},
)
batch_size = 64
kt.compile(
    model,
    optimizer="rmsprop",
    momentum=0.9,  # RMSprop takes momentum=; Adam-family optimizers get beta_1=
    learning_rate=1e-3,
    schedule="inverse_time",
    decay_steps=1,  # decay every optimizer step (batch)
    decay_rate=1e-3,
    metrics=["accuracy"],
)
model.summary()

rng = np.random.default_rng(0)
x = rng.random((args.samples, 28, 28, 1), dtype=np.float32)
y = rng.integers(0, 10, args.samples)
history = model.fit(x, y, batch_size=batch_size, epochs=args.epochs, verbose=2)
print(f"learning rate after {args.epochs} epoch(s): {kt.current_learning_rate(model):.6g}")
