"""Three toy datasets and a train/valid/test split, each one call.

Makes the squares regression set and the xor and circles classification sets,
splits them, and draws each with `kerastools.plots.points`. Writes
`toy_squares.png`, `toy_xor.png` and `toy_circles.png` to `--output-dir`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import kerastools as kt

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--output-dir", default="examples_output")
parser.add_argument("--samples", type=int, default=2500)
args = parser.parse_args()
output = Path(args.output_dir)
output.mkdir(parents=True, exist_ok=True)

toy_sets = {
    "squares": kt.datasets.make_squares(args.samples, noise=0.01, seed=0),  # y = x1^2 + x2^2
    "xor": kt.datasets.make_xor(args.samples, noise=0.02, seed=0),  # 1 where the signs differ
    "circles": kt.datasets.make_circles(args.samples, noise=0.08, seed=0),  # 1 on the inner ring
}
for name, (X, y) in toy_sets.items():
    # Below 10000 samples: 10% validation, 10% test (the default rule).
    train, valid, test = kt.datasets.split(X, y, seed=0)
    print(
        f"{name:>8}: X {X.shape} {X.dtype}, train/valid/test = {len(train[0])}/{len(valid[0])}/{len(test[0])}"
    )
    figure = kt.plots.points(*train)
    kt.plots.save_figure(figure, output / f"toy_{name}.png")

# Above 10000 samples, validation and test get 1000 each; sizes can also be fractions or counts.
X, y = kt.datasets.make_squares(20_000, seed=1)
parts = kt.datasets.split(X, y, seed=0)
print("20000 samples ->", [len(part[0]) for part in parts])
parts = kt.datasets.split(X, y, valid=0.15, test=500, seed=0)
print("valid=0.15, test=500 ->", [len(part[0]) for part in parts])
