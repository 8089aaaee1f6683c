"""Good training practices, end to end, on a noisy two-rings classification set.

1. Split the data three ways (`kt.datasets.split`): train on one part, judge
   and tune on the validation part, and only report the test part, which no
   decision has seen.
2. Size the hidden layers with a rule of thumb
   (`kt.suggest_hidden_units`: N_s / ((N_i + N_o) * gamma), a power of two,
   halved for each further layer).
3. Watch more than the loss: accuracy, AUC, precision and recall.
4. Stop early (`ThresholdEarlyStopping`) once the validation accuracy reaches
   a target and stops improving, and say why it stopped.
5. Save the weights every K epochs and keep the best one apart
   (`PeriodicCheckpoint(save_best=...)`), then load the epoch that
   generalised best (`load_checkpoint(..., ("max", "val_accuracy"))`) into a
   fresh model, as a later session would, instead of keeping the last epoch.

    python examples/good_practices.py                     # quick
    python examples/good_practices.py --samples 20000 --max-epochs 200 --target 0.99

Writes the checkpoints to `good_practices_checkpoints/` under `--output-dir`.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import keras

import kerastools as kt


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--output-dir", default="examples_output")
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--max-epochs", type=int, default=30)
    parser.add_argument("--target", type=float, default=0.97)
    parser.add_argument("--save-every", type=int, default=2)
    parser.add_argument("--gamma", type=float, default=5.0)
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    X, y = kt.datasets.make_circles(args.samples, noise=0.1, seed=0)
    # None, None: the default rule (10% each below 10000 samples, else 1000 each).
    train, valid, test = kt.datasets.split(X, y, seed=0)
    print(f"samples: {len(train[0])} train, {len(valid[0])} valid, {len(test[0])} test")

    hidden = kt.suggest_hidden_units(
        len(train[0]), n_inputs=2, n_outputs=1, gamma=args.gamma, depth=2
    )
    print(f"suggested hidden units (gamma={args.gamma:g}): {hidden}")

    def build() -> keras.Model:
        model = kt.build_mlp(2, hidden, output_activation="sigmoid")
        metrics = [
            "accuracy",
            keras.metrics.AUC(name="auc"),
            keras.metrics.Precision(name="precision"),
            keras.metrics.Recall(name="recall"),
        ]
        return kt.compile(model, optimizer="adam", learning_rate=0.003, metrics=metrics)

    directory = Path(args.output_dir) / "good_practices_checkpoints"
    # A fresh run: the callback would otherwise carry on the records of an earlier one.
    shutil.rmtree(directory, ignore_errors=True)
    checkpoint = kt.callbacks.PeriodicCheckpoint(
        directory, every_epochs=args.save_every, save_best="val_accuracy"
    )
    stopper = kt.callbacks.ThresholdEarlyStopping(
        "val_accuracy",
        threshold=args.target,
        patience=1,
        start_from_epoch=2,  # the first epochs are noisy; do not judge them
    )
    model = build()
    history = model.fit(
        *train,
        validation_data=valid,
        batch_size=32,
        epochs=args.max_epochs,
        callbacks=[checkpoint, stopper],
        verbose=0,
    )
    trained = len(history.history["loss"])
    curve = " ".join(f"{value:.2f}" for value in history.history["val_accuracy"])
    print(f"\ntrained {trained} of {args.max_epochs} epochs; val_accuracy by epoch: {curve}")
    print(f"stopping reason: {stopper.stopping_reason.name}")
    print(f"stopping message: {stopper.stopping_message or '(did not stop early)'}")

    print(f"\n{'file':<22}  {'epoch':>5}  {'val_accuracy':>12}  {'val_auc':>7}  {'val_loss':>8}")
    for info in kt.checkpoints.list_checkpoints(directory):
        metrics = info.metrics
        print(
            f"{info.path.name:<22}  {info.epoch:>5}  {metrics['val_accuracy']:>12.3f}  "
            f"{metrics['val_auc']:>7.3f}  {metrics['val_loss']:>8.4f}"
        )

    best = build()  # a fresh model, as in a later session
    info = kt.checkpoints.load_checkpoint(best, directory, ("max", "val_accuracy"))
    print(
        f"\nloaded {info.path.name} (epoch {info.epoch}, "
        f"val_accuracy {info.metrics['val_accuracy']:.3f})"
    )
    # The test set is the number to advertise: validation chose the epoch.
    scores = best.evaluate(*test, verbose=0, return_dict=True)
    print("test set: " + ", ".join(f"{name} {value:.4f}" for name, value in scores.items()))


if __name__ == "__main__":
    main()
