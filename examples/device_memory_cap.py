"""Cap the GPU memory a process takes, or let it grow as needed.

    python examples/device_memory_cap.py                  # one logical GPU of 2048 MiB
    python examples/device_memory_cap.py --growth         # take memory as needed instead
    python examples/device_memory_cap.py --memory-mb 8192

By default TensorFlow and JAX take (nearly) all of a GPU's memory when they
start. On a machine without a GPU there is nothing to cap: `configure` raises
a DeviceError saying so, and this script says it trains on the CPU instead.
"""

import argparse
from pathlib import Path

import numpy as np

import kerastools as kt
from kerastools.errors import DeviceError

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--memory-mb", type=int, default=2048, help="cap per GPU, in MiB")
parser.add_argument("--growth", action="store_true", help="grow on demand instead of a cap")
parser.add_argument("--output-dir", default="examples_output")
args = parser.parse_args()

setting = {"memory_growth": True} if args.growth else {"memory_limit_mb": args.memory_mb}
try:
    summary = kt.device.configure(**setting)
    print(f"GPU memory configured: {setting}")
except DeviceError as error:
    # Not an error to hide: say plainly that no GPU memory is capped.
    print(f"No GPU memory to configure here, so none is capped: {error}")
    print("Training on the CPU instead.")
    summary = kt.device.summary()
print(summary)

rng = np.random.default_rng(0)
x = rng.uniform(-1, 1, (512, 2)).astype("float32")
y = (x[:, :1] ** 2 + x[:, 1:] ** 2).astype("float32")
model = kt.compile(kt.build_mlp(2, [32, 32]), optimizer="adam", learning_rate=0.01)
history = model.fit(x, y, epochs=3, batch_size=64, verbose=0)
print(f"loss after 3 epochs: {history.history['loss'][-1]:.4f}")

output = Path(args.output_dir)
output.mkdir(parents=True, exist_ok=True)
(output / "devices_after_training.txt").write_text(str(kt.device.summary()) + "\n")
