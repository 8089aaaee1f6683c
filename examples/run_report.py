"""A run report: what happened in one `fit`, as `report.json` and a self-contained `report.html`.

Two noisy concentric rings (the toy binary classification set), a 2-16-16-1
MLP trained with `kt.callbacks.standard(checkpoint_dir=...)`: the bundle
includes a `RunReport` into `<checkpoint_dir>/report/`, which names the stop
reason, the best epoch, the learning rate, the checkpoints (with SHA-256),
the device and the versions. The script then prints the report as
`python -m kerastools report DIR` does, and checks what it promises.

    python examples/run_report.py                       # report in examples_output/run_report
    python -m kerastools report examples_output/run_report/checkpoints/report
"""

import argparse
from pathlib import Path

import keras

import kerastools as kt
from kerastools.callbacks.run_report_schema import report_table

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--output-dir", default="examples_output")
parser.add_argument("--samples", type=int, default=800)
parser.add_argument("--max-epochs", type=int, default=30)
parser.add_argument("--target", type=float, default=0.93)
args = parser.parse_args()
checkpoint_dir = Path(args.output_dir) / "run_report" / "checkpoints"

keras.utils.set_random_seed(0)
x, y = kt.datasets.make_circles(args.samples, noise=0.1, seed=0)

model = kt.compile(
    kt.build_mlp(2, [16, 16], output_activation="sigmoid"),
    optimizer="adam",
    learning_rate=0.01,
    metrics=["accuracy"],
)
callbacks = kt.callbacks.standard(
    checkpoint_dir=checkpoint_dir,  # the report goes to checkpoint_dir / "report"
    stop_at={"val_accuracy": args.target},
    plot=False,
)
model.fit(x, y, validation_split=0.25, batch_size=32, epochs=args.max_epochs, verbose=0,
          callbacks=callbacks)

report_dir = checkpoint_dir / "report"
document = kt.callbacks.read_report(report_dir)  # checked against the schema (version 1)
print(report_table(document))
print(f"\nOpen {report_dir / 'report.html'} in a browser.")

assert document["status"] in ("stopped", "finished"), document["status"]
assert document["monitor"]["key"] == "val_accuracy"
files = document["checkpoints"][0]["files"]
assert files and all(len(record["sha256"]) == 64 for record in files)
assert "data:image/png;base64," in (report_dir / "report.html").read_text()
