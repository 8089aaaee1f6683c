"""The article's speed table across Keras backends: a bare `fit` against kerastools' bundle.

Workload (the background article's job): the two-ring set (`kt.datasets.make_circles`, 2,500
points, seed 0), Adam at 0.01, batch 100 (the article's `trainFCNN` default), binary
cross-entropy, for each net: 2-16-16-1, 5 hidden layers of 64, 5 of 128. Per backend (each in
its own interpreter: the backend is fixed per process) and net, two variants:

- (a) `bare`: a hand-written `keras.Sequential`, `model.fit` with no callbacks;
- (b) `kt`: the same net from `kt.build_mlp`, compiled by `kt.compile`, with
  `kt.callbacks.standard(checkpoint_dir=tmp, stop_at={"loss": -1.0}, plot=False)`: a checkpoint
  every epoch and a stop rule that runs every epoch and never fires (a loss is never below 0).
  The live plot is left out: it draws a figure per epoch, timed by `live_plot_render.py`.

Each timed run builds, compiles and trains a fresh model (tracing included, the same for both).
The variants alternate, their order swapped every round; the table shows medians over rounds,
the ratio (b)/(a) per backend (target <= 1.03) and, for (a), each backend against TensorFlow.

    .venv/bin/python benchmarks/backends.py                # few epochs, a few minutes on 2 cores
    .venv/bin/python benchmarks/backends.py --epochs 300   # the article's full table
    .venv/bin/python benchmarks/backends.py --backends jax --profile   # where (b)'s time goes
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

NETS = {"2-16-16-1": [16, 16], "5x64": [64] * 5, "5x128": [128] * 5}
BACKENDS = ("tensorflow", "jax", "torch")
TARGET = 1.03
POINTS, BATCH, LEARNING_RATE = 2500, 100, 0.01


def _bare(hidden: list[int]):  # type: ignore[no-untyped-def]
    import keras

    layers = [keras.Input((2,))] + [keras.layers.Dense(units, activation="relu") for units in hidden]
    model = keras.Sequential([*layers, keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), loss="binary_crossentropy")
    return model, []


def _kerastools(hidden: list[int], directory: str):  # type: ignore[no-untyped-def]
    import kerastools as kt

    model = kt.compile(
        kt.build_mlp(2, hidden, output_activation="sigmoid"),
        optimizer="adam", learning_rate=LEARNING_RATE, loss="binary_crossentropy",
    )
    callbacks = kt.callbacks.standard(checkpoint_dir=directory, stop_at={"loss": -1.0}, plot=False)
    return model, callbacks


def _time_one(variant: str, hidden: list[int], x, y, epochs: int, profile: bool) -> float:  # type: ignore[no-untyped-def]
    import keras

    keras.backend.clear_session(free_memory=False)
    keras.utils.set_random_seed(0)
    with tempfile.TemporaryDirectory(prefix="kt-bench-") as directory:
        start = time.perf_counter()
        model, callbacks = _bare(hidden) if variant == "bare" else _kerastools(hidden, directory)
        if profile and variant == "kt":
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.runcall(model.fit, x, y, epochs=epochs, batch_size=BATCH, verbose=0,
                             callbacks=callbacks)
            elapsed = time.perf_counter() - start
            pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(
                r"kerastools", 25)
            return elapsed
        model.fit(x, y, epochs=epochs, batch_size=BATCH, verbose=0, callbacks=callbacks)
        return time.perf_counter() - start


def child(epochs: int, rounds: int, profile: bool) -> None:
    """Time every net and variant on this process's backend; print one JSON object."""
    import keras

    import kerastools as kt

    x, y = kt.datasets.make_circles(POINTS, noise=0.05, seed=0)
    results: dict[str, dict[str, list[float]]] = {}
    for name, hidden in NETS.items():
        times: dict[str, list[float]] = {"bare": [], "kt": []}
        _time_one("bare", hidden, x, y, 1, False)  # warm-up: imports, first compilations
        for round_index in range(rounds):
            order = ("bare", "kt") if round_index % 2 == 0 else ("kt", "bare")
            for variant in order:
                times[variant].append(_time_one(variant, hidden, x, y, epochs, profile and round_index == 0))
        results[name] = times
    print(json.dumps({"backend": keras.backend.backend(), "results": results}))


def _run_backend(backend: str, args: argparse.Namespace) -> dict | None:  # type: ignore[type-arg]
    command = [sys.executable, __file__, "--child", "--epochs", str(args.epochs),
               "--rounds", str(args.rounds)] + (["--profile"] if args.profile else [])
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3", KERASTOOLS_LIVEPLOT="off")
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if args.profile:
        print(result.stderr[-6000:], file=sys.stderr)
    if result.returncode != 0:
        print(f"{backend}: failed\n{result.stderr[-3000:]}", file=sys.stderr)
        return None
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=BACKENDS)
    parser.add_argument("--profile", action="store_true", help="cProfile (b)'s first fit per net")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.epochs, args.rounds, args.profile)
        return
    print(f"{POINTS} points, batch {BATCH}, Adam {LEARNING_RATE}, {args.epochs} epochs, "
          f"{args.rounds} rounds (medians); cpus: {os.cpu_count()}, load: {os.getloadavg()[0]:.1f}")
    medians: dict[str, dict[str, tuple[float, float]]] = {}
    for backend in args.backends:
        data = _run_backend(backend, args)
        if data is not None:
            medians[backend] = {
                net: (statistics.median(t["bare"]), statistics.median(t["kt"]))
                for net, t in data["results"].items()
            }
    print(f"{'backend':<11} {'net':<10} {'(a) bare s':>10} {'(b) kt s':>9} {'(b)/(a)':>8} "
          f"{'(a)/(a) tf':>10}")
    for backend, nets in medians.items():
        for net, (bare, kt_time) in nets.items():
            reference = medians.get("tensorflow", {}).get(net, (float("nan"),))[0]
            flag = "" if kt_time / bare <= TARGET else "  > target"
            print(f"{backend:<11} {net:<10} {bare:>10.2f} {kt_time:>9.2f} {kt_time / bare:>8.3f} "
                  f"{bare / reference:>10.2f}{flag}")


if __name__ == "__main__":
    main()
