"""A training process ended by a `KeyboardInterrupt` that a callback raises (tests/callbacks/test_run_report.py).

No signal is involved, so no guard sees it: the report learns of it at the
exit of the process, from the exception Python kept. `DONE` is printed only
if `fit` returns.

    python tests/callbacks/run_report_worker.py DIRECTORY
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main() -> None:
    import keras
    import numpy as np

    import kerastools as kt

    class RaiseAtEpoch2(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    x = np.random.default_rng(0).uniform(-1, 1, size=(64, 2)).astype("float32")
    model = kt.compile(kt.build_mlp(2, [4]), optimizer="adam", learning_rate=0.01)
    report = kt.callbacks.RunReport(sys.argv[1])
    model.fit(x, x[:, :1], batch_size=16, epochs=5, verbose=0, callbacks=[report, RaiseAtEpoch2()])
    print("DONE", flush=True)


if __name__ == "__main__":
    main()
