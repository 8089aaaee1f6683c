"""RunReport: report.json (schema version 1) and report.html after a finished, stopped or interrupted fit."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

import kerastools as kt
from kerastools.__main__ import main
from kerastools.callbacks.interruption import InterruptionGuard
from kerastools.callbacks.run_report_schema import SCHEMA, check_report, read_report
from kerastools.errors import ConfigError, ConfigTypeError
from tests.callbacks.test_interruption import handlers  # noqa: F401 (the fixture)

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("run_report_worker.py")
# Python's default SIGINT/SIGTERM handlers in each test, the earlier ones after it.
pytestmark = pytest.mark.usefixtures("handlers")


def tiny_model():
    keras.utils.set_random_seed(0)
    return kt.compile(kt.build_mlp(2, [4]), optimizer="adam", learning_rate=0.01, metrics=["mae"])


def tiny_data():
    x = np.random.default_rng(0).uniform(-1, 1, size=(64, 2)).astype("float32")
    return x, x[:, :1] ** 2


def fit(callbacks, epochs=3, **kwargs):
    x, y = tiny_data()
    return tiny_model().fit(
        x, y, batch_size=16, validation_split=0.25, epochs=epochs, verbose=0, callbacks=callbacks, **kwargs
    )


class SendAt(keras.callbacks.Callback):
    """Sends `signum` to this process when batch `batch` of epoch `epoch` begins."""

    def __init__(self, epoch, batch, signum=signal.SIGINT):
        super().__init__()
        self.at, self.signum = (epoch, batch), signum

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            os.kill(os.getpid(), self.signum)


def test_standard_with_a_checkpoint_dir_writes_a_valid_report(tmp_path):
    history = fit(kt.callbacks.standard(checkpoint_dir=tmp_path, plot=False), epochs=3)
    report = tmp_path / "report"
    assert sorted(p.name for p in report.iterdir()) == ["report.html", "report.json"]
    document = check_report(json.loads((report / "report.json").read_text()))
    assert document["schema_version"] == 1 and set(SCHEMA) <= set(document)
    assert document["status"] == "finished" and document["stop"] is None
    assert document["epochs_run"] == 3 and document["epochs"] == [1, 2, 3]
    assert document["final_metrics"]["val_loss"] == pytest.approx(history.history["val_loss"][-1])
    best = int(np.argmin(history.history["val_loss"]))
    assert document["monitor"] == {"key": "val_loss", "mode": "min", "best_epoch": best + 1,
                                   "best_value": pytest.approx(history.history["val_loss"][best])}
    assert document["learning_rate"] == {"start": pytest.approx(0.01), "end": pytest.approx(0.01)}
    assert document["samples_per_s"]["last"] == pytest.approx(history.history["samples_per_s"][-1])
    files = document["checkpoints"][0]["files"]
    expected = kt.checkpoints.list_checkpoints(tmp_path, include_best=True)
    assert [(f["path"], f["epoch"], f["sha256"]) for f in files] == [
        (str(info.path), info.epoch, info.sha256) for info in expected
    ]
    assert document["fit"]["epochs"] == 3 and document["fit"]["steps"] == 3
    assert document["compile"]["optimizer"]["class"] == "Adam"
    assert document["compile"]["optimizer"]["config"]["learning_rate"] == pytest.approx(0.01)
    assert document["compile"]["metrics"] == ["loss", "mae"]
    assert document["versions"]["backend"] == keras.backend.backend()
    assert document["device"]["backend"] == keras.backend.backend()
    # The checkpoint's clean-up at the next fit leaves the report alone.
    fit(kt.callbacks.standard(checkpoint_dir=tmp_path, plot=False, report=False), epochs=1)
    assert read_report(report)["epochs_run"] == 3


def test_the_html_embeds_its_plot_and_links_nowhere(tmp_path):
    fit([kt.callbacks.RunReport(tmp_path)], epochs=2)
    page = (tmp_path / "report.html").read_text()
    assert '<img alt="training curves" src="data:image/png;base64,' in page
    assert "://" not in page and "<link" not in page and "<script" not in page


@pytest.mark.parametrize("kind", ["threshold", "keras"])
def test_an_early_stop_gives_the_status_and_reason(tmp_path, kind):
    if kind == "threshold":
        stopper = kt.callbacks.ThresholdEarlyStopping("val_loss", threshold=100.0, patience=0)
    else:  # no epoch improves by 100: patience 1 stops after epoch 2
        stopper = keras.callbacks.EarlyStopping("val_loss", patience=1, min_delta=100.0)
    history = fit([stopper, kt.callbacks.RunReport(tmp_path, callbacks=[stopper])], epochs=6)
    document = read_report(tmp_path)
    assert document["status"] == "stopped"
    assert document["epochs_run"] == len(history.history["loss"]) < 6
    if kind == "threshold":
        assert document["stop"] == {"by": "ThresholdEarlyStopping", "reason": "THRESHOLD_REACHED",
                                    "message": stopper.stopping_message, "epoch": 1}
    else:
        assert document["stop"]["by"] == "EarlyStopping" and document["stop"]["epoch"] == 2
        assert "did not improve" in document["stop"]["message"]


def test_ctrl_c_with_the_checkpoint_leaves_an_interrupted_report_after_its_last_save(tmp_path):
    bundle = kt.callbacks.standard(checkpoint_dir=tmp_path, plot=False)
    with pytest.raises(KeyboardInterrupt):
        fit([SendAt(epoch=1, batch=1), *bundle], epochs=4)
    document = read_report(tmp_path / "report")
    assert document["status"] == "interrupted" and document["stop"]["reason"] == "SIGINT"
    assert document["epochs_run"] == 1
    names = [Path(f["path"]).name for f in document["checkpoints"][0]["files"]]
    assert "step-00000004.weights.h5" in names  # the checkpoint's save at the signal: 3 + 1 steps
    assert "interrupted" in (tmp_path / "report" / "report.html").read_text()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_without_a_checkpoint_is_held_back_by_the_report(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        fit([SendAt(epoch=0, batch=1), kt.callbacks.RunReport(tmp_path)], epochs=3)
    document = read_report(tmp_path)
    assert document["status"] == "interrupted" and document["epochs_run"] == 0
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    # Reusable: the next fit starts a new report.
    fit([kt.callbacks.RunReport(tmp_path)], epochs=1)
    assert read_report(tmp_path)["status"] == "finished"


def test_sigterm_to_a_handler_of_the_user_is_reported_and_fit_stops(tmp_path):
    calls = []
    signal.signal(signal.SIGTERM, lambda signum, frame: calls.append(signum))
    history = fit([SendAt(epoch=0, batch=1, signum=signal.SIGTERM), kt.callbacks.RunReport(tmp_path)],
                  epochs=3)
    assert calls == [signal.SIGTERM] and len(history.history["loss"]) == 1
    document = read_report(tmp_path)
    assert (document["status"], document["stop"]["reason"], document["epochs_run"]) == (
        "interrupted", "SIGTERM", 1)


def test_a_guard_tells_its_listeners_once_before_it_delivers():
    heard = []
    guard = InterruptionGuard()
    guard.install()
    guard.add_listener(heard.append)
    guard.add_listener(heard.append)  # once only
    os.kill(os.getpid(), signal.SIGINT)
    assert heard == []  # noted, not delivered
    with pytest.raises(KeyboardInterrupt):
        guard.deliver()
    assert heard == [signal.SIGINT]
    guard.install()  # a new fit: the listeners are forgotten
    os.kill(os.getpid(), signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        guard.deliver()
    assert heard == [signal.SIGINT]


def test_a_keyboard_interrupt_raised_in_fit_is_reported_at_exit_and_shown_by_the_command(tmp_path, capsys):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    run = subprocess.run([sys.executable, str(WORKER), str(tmp_path)], capture_output=True, text=True,
                         env=env, timeout=300)
    assert "DONE" not in run.stdout and "KeyboardInterrupt" in run.stderr, run.stderr[-3000:]
    document = read_report(tmp_path)
    assert document["status"] == "interrupted" and document["epochs_run"] == 1
    assert document["stop"]["by"] == "exception" and document["stop"]["reason"] == "KeyboardInterrupt"
    # `kerastools report` in this interpreter: the training needed a process of its own, the
    # reading does not (make wheel-check runs `python -m kerastools` in a fresh one).
    assert main(["report", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["status", "interrupted"]
    assert any(line.split()[:2] == ["stop", "reason"] and "KeyboardInterrupt" in line for line in lines)


def test_the_command_refuses_a_missing_or_invalid_report_in_one_line(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    (tmp_path / "report.json").write_text('{"schema_version": 1, "status": "finished"}')
    assert main(["report", str(tmp_path)]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 2 and errors[0].startswith("kerastools report: error: No run report at")
    assert "has no" in errors[1]


@pytest.fixture(scope="module")
def one_report(tmp_path_factory):
    """A report of a one-epoch fit, shared by the schema tests (they change a copy)."""
    directory = tmp_path_factory.mktemp("report")
    fit([kt.callbacks.RunReport(directory)], epochs=1)
    return directory


@pytest.mark.parametrize(
    "change, match",
    [
        ({"schema_version": 2}, "reads version 1"),
        ({"status": "exploded"}, "status must be one of"),
        ({"epochs_run": "3"}, "'epochs_run' must be integer"),
        ({"monitor": {"key": "loss"}}, "has no"),
    ],
)
def test_the_schema_check_names_what_is_wrong(one_report, change, match):
    document = read_report(one_report)
    document.update(change)
    with pytest.raises(ConfigError, match=match):
        check_report(document)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"path": 3}, ConfigTypeError, "path"),
        ({"mode": "sideways"}, ConfigError, "mode"),
        ({"html_every_seconds": -1.0}, ConfigError, "html_every_seconds"),
        ({"callbacks": "stopper"}, ConfigTypeError, "callbacks"),
        ({"monitor": 3}, ConfigTypeError, "monitor"),
    ],
)
def test_bad_arguments_raise_kerastools_errors(tmp_path, kwargs, error, match):
    arguments = {"path": tmp_path, **kwargs}
    with pytest.raises(error, match=match):
        kt.callbacks.RunReport(arguments.pop("path"), **arguments)


def test_standard_refuses_a_bad_report_argument(tmp_path):
    with pytest.raises(ConfigTypeError, match="report"):
        kt.callbacks.standard(checkpoint_dir=tmp_path, report=3)
    assert "RunReport" not in [type(c).__name__ for c in kt.callbacks.standard(checkpoint_dir=tmp_path,
                                                                                  report=False)]
    assert "RunReport" in [type(c).__name__ for c in kt.callbacks.standard(report=tmp_path / "r")]
