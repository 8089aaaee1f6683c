"""Train in mixed precision: float16 (GPU) or bfloat16 math, float32 weights.

    python examples/mixed_precision.py                          # picks by hardware
    python examples/mixed_precision.py --policy mixed_float16   # on a GPU
    python examples/mixed_precision.py --compare --epochs 3     # time it against float32

`auto` picks mixed_float16 when a GPU is visible, else mixed_bfloat16 (CPUs
have no fast float16 math; `configure` warns if you ask for it there). The
policy applies to layers created after it is set, so set it before building.
"""

import argparse
import time
from pathlib import Path

import keras
import numpy as np

import kerastools as kt

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--policy", default="auto", choices=["auto", "mixed_float16", "mixed_bfloat16"])
parser.add_argument("--epochs", type=int, default=1)
parser.add_argument("--samples", type=int, default=256)
parser.add_argument("--compare", action="store_true", help="also train in float32 and time both")
parser.add_argument("--output-dir", default="examples_output")
args = parser.parse_args()

policy = args.policy
if policy == "auto":
    policy = "mixed_float16" if kt.device.summary().gpu_count else "mixed_bfloat16"
    print(f"policy 'auto' -> {policy}")

rng = np.random.default_rng(0)
x = rng.random((args.samples, 32, 32, 3), dtype=np.float32)
y = rng.integers(0, 10, args.samples)


def build_and_train(name):
    kt.device.configure(mixed_precision=name)  # before the layers are created
    body = kt.build_cnn((32, 32, 3), [(16, 3), (32, 3)], dense=[32], output_activation=None)
    # The last activation in float32: softmax and the loss stay numerically safe.
    probabilities = keras.layers.Activation("softmax", dtype="float32", name="probabilities")
    model = keras.Model(body.input, probabilities(body.output), name=f"cnn_{name}")
    kt.compile(model, optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(x, y, epochs=args.epochs, batch_size=64, verbose=0)
    return model, history, time.perf_counter() - start


model, history, seconds = build_and_train(policy)
conv = model.get_layer("conv_1")
print(f"{policy}: conv_1 computes in {conv.compute_dtype}, keeps weights in {conv.variable_dtype}")
print(f"output dtype: {model.output.dtype}; optimizer: {type(model.optimizer).__name__}")
print(f"{policy}: loss {history.history['loss'][-1]:.4f} in {seconds:.2f} s")
lines = [f"{policy}: {seconds:.3f} s for {args.epochs} epoch(s)"]
if args.compare:
    _, reference, reference_seconds = build_and_train("float32")
    print(f"float32: loss {reference.history['loss'][-1]:.4f} in {reference_seconds:.2f} s")
    print(f"speed-up of {policy} over float32: {reference_seconds / seconds:.2f}x (includes compiling)")
    lines.append(f"float32: {reference_seconds:.3f} s")
kt.device.configure(mixed_precision="float32")  # back to the default for anything after

output = Path(args.output_dir)
output.mkdir(parents=True, exist_ok=True)
(output / "mixed_precision.txt").write_text("\n".join(lines) + "\n")
