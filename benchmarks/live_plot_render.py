"""LivePlot's redraw time must not grow with the number of epochs drawn.

Feeds fake logs (loss, accuracy and their validation twins, a decaying
learning rate) straight to `LivePlot` hooks, no training, then times
`render_png()` on a plot holding 10 epochs and one holding 1000 epochs,
alternating between the two. Two kinds of redraw are timed separately:

- fast: lines and value readouts over the cached background (what most
  redraws are);
- full: the background too (axes, ticks, labels), what a redraw costs when an
  axis limit moves or a panel appears.

A third pair adds per-batch lines (63 batches per epoch, so 63 000 points at
epoch 1000, downsampled to `max_points`). The target (issue 7): p95 at epoch
1000 within 20% of p95 at epoch 10.

    .venv/bin/python benchmarks/live_plot_render.py             # 200 redraws per kind and size
    .venv/bin/python benchmarks/live_plot_render.py --quick     # smoke run
"""

from __future__ import annotations

import argparse
import math
import os
import time

import numpy as np

os.environ.pop("KERASTOOLS_LIVEPLOT", None)

from kerastools.callbacks.live_plot import LivePlot  # noqa: E402

TARGET = 1.20
STEPS_PER_EPOCH = 63  # the squares workload: 2000 samples, batch 32


def fake_logs(epoch: int, rng: np.random.Generator) -> dict[str, float]:
    decay = math.exp(-epoch / 200)
    noise = rng.normal(0, 0.01, 4)
    return {
        "loss": 0.05 + 0.6 * decay + abs(noise[0]),
        "val_loss": 0.06 + 0.6 * decay + abs(noise[1]),
        "accuracy": 0.98 - 0.4 * decay + noise[2] / 10,
        "val_accuracy": 0.97 - 0.4 * decay + noise[3] / 10,
        "learning_rate": 0.01 / (1 + epoch / 10),
    }


def filled_plot(epochs: int, per_batch: bool) -> LivePlot:
    """A LivePlot that has seen `epochs` epochs of fake logs (mode off: nothing written)."""
    rng = np.random.default_rng(epochs)
    plot = LivePlot(targets={"val_accuracy": 0.95}, mode="off", per_batch=per_batch)
    plot.params = {"epochs": epochs, "steps": STEPS_PER_EPOCH}
    plot.on_train_begin()
    for epoch in range(epochs):
        plot.on_epoch_begin(epoch)
        if per_batch:
            for batch in range(STEPS_PER_EPOCH):
                plot.on_train_batch_end(batch, {"loss": 0.6 * math.exp(-epoch / 200) + rng.random() * 0.05})
        plot.on_epoch_end(epoch, fake_logs(epoch, rng))
    plot.render_png()  # layout and first background, not timed
    return plot


def time_render(plot: LivePlot, full: bool) -> float:
    if full:
        plot._live_figure.forget_background()  # force the background redraw
    start = time.perf_counter()
    plot.render_png()
    return time.perf_counter() - start


def p95(values: list[float]) -> float:
    return float(np.percentile(values, 95))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200, help="timed redraws per kind and size")
    parser.add_argument("--quick", action="store_true", help="smoke run: 10 redraws")
    args = parser.parse_args(argv)
    repeats = 10 if args.quick else args.repeats
    print(f"{'case':<22} {'p95 @10 ms':>11} {'p95 @1000 ms':>13} {'ratio':>7} {'target':>8} {'median ratio':>13}")
    for label, per_batch, full in [
        ("fast redraw", False, False),
        ("full redraw", False, True),
        ("fast, per-batch lines", True, False),
    ]:
        small, large = filled_plot(10, per_batch), filled_plot(1000, per_batch)
        times: dict[int, list[float]] = {10: [], 1000: []}
        for _ in range(repeats):  # alternate, so load on the machine hits both alike
            times[10].append(time_render(small, full))
            times[1000].append(time_render(large, full))
        ratio = p95(times[1000]) / p95(times[10])
        median_ratio = float(np.median(times[1000]) / np.median(times[10]))
        print(
            f"{label:<22} {p95(times[10]) * 1e3:>11.1f} {p95(times[1000]) * 1e3:>13.1f} "
            f"{ratio:>7.2f} {f'<= {TARGET:.2f}':>8} {median_ratio:>13.2f}"
        )


if __name__ == "__main__":
    main()
