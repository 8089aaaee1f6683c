"""Run on the CPU only, or pin one GPU: the first call of the program.

    python examples/device_cpu_only.py            # CPU only, 2 threads per op
    python examples/device_cpu_only.py --gpu 0    # only GPU 0 (a DeviceError on a CPU-only machine)

`configure` must run before the backend starts (before any model or op): it
checks every argument first and applies nothing if one is wrong.
"""

import argparse
from pathlib import Path

import numpy as np

import kerastools as kt
from kerastools.errors import DeviceError

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--gpu", type=int, default=None, help="pin this GPU instead of the CPU")
parser.add_argument("--threads", type=int, default=2, help="intra-op threads (TensorFlow)")
parser.add_argument("--output-dir", default="examples_output")
args = parser.parse_args()

threads = {"intra_op_threads": args.threads} if kt.device.summary().backend == "tensorflow" else {}
if args.gpu is None:
    summary = kt.device.configure(gpus="none", **threads)
else:
    try:
        summary = kt.device.configure(gpus=[args.gpu], **threads)
    except DeviceError as error:  # e.g. a CPU-only machine: the message lists what is there
        raise SystemExit(f"Cannot pin GPU {args.gpu}: {error}") from error
print(summary)

# Everything built from here on runs where configure said.
rng = np.random.default_rng(0)
x = rng.uniform(-1, 1, (512, 2)).astype("float32")
y = (x[:, :1] ** 2 + x[:, 1:] ** 2).astype("float32")
model = kt.compile(kt.build_mlp(2, [16, 16]), optimizer="adam", learning_rate=0.01)
history = model.fit(x, y, epochs=3, batch_size=64, verbose=0)
print(f"loss after 3 epochs: {history.history['loss'][-1]:.4f}")

# One block of work on one device, the rest where configure put it.
with kt.device.use("cpu"):
    predictions = model.predict(x[:4], verbose=0)
print(f"predictions on the CPU: {predictions.ravel().round(3)}")

output = Path(args.output_dir)
output.mkdir(parents=True, exist_ok=True)
(output / "devices.txt").write_text(str(kt.device.summary()) + "\n")
print(f"device summary written to {output / 'devices.txt'}")
