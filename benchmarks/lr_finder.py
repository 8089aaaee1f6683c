"""Does the finder's suggestion train better than rates 10x above and below it?

For each task: run `kt.find_learning_rate`, then train three times from the
same initial weights, with the suggested rate, a tenth of it and ten times
it, for the same number of epochs, and compare the final validation losses.

- circles: the two-ring toy set, an MLP with Adam.
- fashion: a small CNN (`kt.build_cnn`) with Adam on a 6000-image
  Fashion-MNIST subset (skipped when the dataset is not installed).

    python benchmarks/lr_finder.py                      # both tasks, ~5 min on 2 cores
    python benchmarks/lr_finder.py --tasks circles --method steepest
"""

import argparse
import time

import keras
import numpy as np

import kerastools as kt
from kerastools.errors import DatasetError

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument(
    "--tasks", nargs="+", default=["circles", "fashion"], choices=["circles", "fashion"]
)
parser.add_argument("--method", default="valley", choices=["valley", "steepest", "minimum"])
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()


def circles_task():
    x, y = kt.datasets.make_circles(3000, noise=0.08, seed=args.seed)
    train, valid, _ = kt.datasets.split(x, y, valid=0.3, test=0, seed=args.seed)
    return (lambda: kt.build_mlp(2, [32, 32], output_activation="sigmoid")), train, valid, 10


def fashion_task():
    (x_train, y_train), (x_test, y_test) = kt.datasets.load_fashion_mnist()
    rng = np.random.default_rng(args.seed)
    rows = rng.choice(len(x_train), 6000, replace=False)
    train = (x_train[rows[:5000]], y_train[rows[:5000]])
    valid = (x_train[rows[5000:]], y_train[rows[5000:]])

    def build():
        return kt.build_cnn((28, 28, 1), [(16, 3), (32, 3)], dense=[64])

    return build, train, valid, 3


def run(name, task):
    build, train, valid, epochs = task()
    keras.utils.set_random_seed(args.seed)
    initial = build().get_weights()

    def fresh(rate):
        model = build()
        model.set_weights(initial)
        return kt.compile(model, optimizer="adam", learning_rate=rate)

    start = time.perf_counter()
    result = kt.find_learning_rate(
        fresh(1e-3), *train, min_lr=1e-6, max_lr=10.0, num_steps=100, seed=args.seed
    )
    suggested = result.suggestion(args.method)
    print(
        f"\n{name}: sweep {len(result.losses)} steps ({result.stop_reason}) in "
        f"{time.perf_counter() - start:.1f} s; suggestions: "
        + ", ".join(f"{m} {result.suggestion(m):.3g}" for m in ("valley", "steepest", "minimum"))
    )
    losses = {}
    for label, rate in (
        ("suggested / 10", suggested / 10),
        ("suggested", suggested),
        ("suggested x 10", suggested * 10),
    ):
        keras.utils.set_random_seed(args.seed)
        history = (
            fresh(rate)
            .fit(*train, validation_data=valid, epochs=epochs, batch_size=32, verbose=0)
            .history
        )
        losses[label] = history["val_loss"][-1]
        print(f"  {label:>15} lr={rate:<10.3g} val_loss after {epochs} epochs: {losses[label]:.4f}")
    won = min(losses, key=losses.get) == "suggested"
    print(
        f"  the suggestion ({args.method}) {'won' if won else 'did not win'}: "
        f"ratio to the best other {losses['suggested'] / min(v for k, v in losses.items() if k != 'suggested'):.3f}"
    )


for task_name in args.tasks:
    try:
        run(task_name, {"circles": circles_task, "fashion": fashion_task}[task_name])
    except DatasetError as error:
        print(f"\n{task_name}: skipped ({error})")
