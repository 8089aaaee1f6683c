"""Live plot in a script or CI: a PNG replaced atomically while training runs.

Outside a Jupyter kernel, `LivePlot` (mode "auto") writes its plot to a file
at most every `min_interval_s`, through a temporary file and `os.replace`, so
an image viewer that reloads on change, or a CI step that uploads the file as
an artifact, never reads half a PNG. The environment variable
`KERASTOOLS_LIVEPLOT` switches it for every LivePlot in the run (`off` in CI
jobs that need no plot, `file` to get PNGs from a notebook run headless).

    python examples/live_plot_script.py                      # 30 epochs -> examples_output/live_plot.png
    python examples/live_plot_script.py --epochs 300 --per-batch
    KERASTOOLS_LIVEPLOT=off python examples/live_plot_script.py
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
parser.add_argument("--epochs", type=int, default=30)
parser.add_argument("--per-batch", action="store_true", help="also draw the running loss per batch")
args = parser.parse_args()
output_dir = Path(args.output_dir)
output_dir.mkdir(parents=True, exist_ok=True)

# Two noisy concentric rings, a 2-16-16-1 MLP and a decaying learning rate.
keras.utils.set_random_seed(0)
rng = np.random.default_rng(0)
angle = rng.uniform(0, 2 * np.pi, 1200)
label = rng.integers(0, 2, 1200)
radius = np.where(label == 1, 0.5, 1.0) + rng.normal(0, 0.12, 1200)
x = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1).astype("float32")
y = label.astype("float32")
model = kt.compile(
    kt.build_mlp(2, [16, 16], output_activation="sigmoid"),
    optimizer="adam",
    learning_rate=0.01,
    schedule="inverse_time",
    decay_rate=0.05,
    steps_per_epoch=30,
    metrics=["accuracy"],
)

plot = kt.callbacks.LivePlot(
    targets={"val_accuracy": 0.95},  # the dashed line to beat
    path=output_dir / "live_plot.png",  # default: live_plot.png in the working directory
    per_batch=args.per_batch,
)
model.fit(
    x, y, validation_split=0.2, batch_size=32, epochs=args.epochs, verbose=0, callbacks=[plot]
)

summary = {
    "mode": plot.resolved_mode,  # "file" here; "off" under KERASTOOLS_LIVEPLOT=off
    "png": str(plot.output_path) if plot.output_path else None,
    "redraws": len(plot.render_seconds),
    "seconds_drawing": round(sum(plot.render_seconds), 3),
    "final": {key: round(values[-1], 4) for key, values in plot.history.items()},
}
with atomic_write(output_dir / "live_plot_summary.json", "w") as handle:
    json.dump(summary, handle, indent=2)
print(json.dumps(summary, indent=2))
if plot.output_path is not None and not plot.output_path.read_bytes().startswith(b"\x89PNG"):
    raise SystemExit(f"{plot.output_path} is not a PNG")
