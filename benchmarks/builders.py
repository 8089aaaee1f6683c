"""Step time of a `build_cnn` model vs the same net written by hand as `keras.Sequential`.

The builders only assemble standard Keras layers, so the ratio should be 1.00.
Alternates the two models in one process and reports the median of the repeats.

    .venv/bin/python benchmarks/builders.py [--repeats 5] [--steps 30]
"""

from __future__ import annotations

import argparse
import statistics
import time

import keras
import numpy as np

import kerastools as kt


def by_hand() -> keras.Model:
    l2 = keras.regularizers.L2
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(32, 3, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(64, 3, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(128, 3, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(120, activation="relu", kernel_regularizer=l2(1e-3)),
            keras.layers.Dense(10, activation="softmax", kernel_regularizer=l2(1e-3)),
        ]
    )


def by_builder() -> keras.Model:
    return kt.build_cnn(
        (28, 28, 1), [(32, 3), (64, 3), (128, 3)], dense=[120],
        regularizers={"hidden": ("l2", 1e-3), "output": ("l2", 1e-3)},
    )


def step_time(model: keras.Model, x: np.ndarray, y: np.ndarray, steps: int) -> float:
    """Seconds per training step, after one warm-up epoch that traces the graph."""
    model.fit(x[:64], y[:64], batch_size=64, epochs=1, verbose=0)
    start = time.perf_counter()
    model.fit(x, y, batch_size=64, epochs=1, verbose=0)
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.random((64 * args.steps, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, len(x))
    models = {}
    for name, make in (("sequential", by_hand), ("build_cnn", by_builder)):
        keras.utils.set_random_seed(0)
        models[name] = make()
        models[name].compile(optimizer=keras.optimizers.RMSprop(1e-3), loss="sparse_categorical_crossentropy")
    assert models["sequential"].count_params() == models["build_cnn"].count_params()
    for model in models.values():  # a warm-up round, not counted: first runs are slower
        step_time(model, x, y, args.steps)
    times: dict[str, list[float]] = {name: [] for name in models}
    order = list(models)
    for _ in range(args.repeats):
        for name in order:
            times[name].append(step_time(models[name], x, y, args.steps))
        order.reverse()  # ABBA: neither model always runs first
    base = statistics.median(times["sequential"])
    built = statistics.median(times["build_cnn"])
    print(f"backend={keras.backend.backend()} repeats={args.repeats} steps={args.steps} batch=64")
    print(f"sequential by hand: {base * 1e3:.2f} ms/step (median), {min(times['sequential']) * 1e3:.2f} (min)")
    print(f"build_cnn:          {built * 1e3:.2f} ms/step (median), {min(times['build_cnn']) * 1e3:.2f} (min)")
    print(f"ratio build_cnn / sequential: {built / base:.3f} (median), "
          f"{min(times['build_cnn']) / min(times['sequential']):.3f} (min/min)")


if __name__ == "__main__":
    main()
