"""Every script in examples/ runs as a user would run it, on a fresh install.

Each runs as `python examples/x.py --output-dir DIR` would, from DIR, in a process forked from
one that imported TensorFlow once (tests/example_worker.py): a fresh interpreter per script cost
about 4 s of start-up each, a third of this file's time.

Recipe pages include these scripts (see test_docs.py), so this is what keeps the
docs true. Each script accepts `--output-dir`; full-size runs are behind flags.
"""

from __future__ import annotations

import importlib.util
import json
import os
import runpy
import select
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((ROOT / "examples").glob("*.py"))
# Scripts too slow for every run even in their quick mode.
SLOW: set[str] = set()
# Scripts that need something a machine may lack: skipped, with the reason.
NEEDS = {
    "fashion_mnist_cnn.py": (
        Path("/usr/share/datasets/fashion-mnist").is_dir(),
        "Debian's dataset-fashion-mnist is not installed (make test installs it as root)",
    ),
    "keras_tuner_search.py": (
        importlib.util.find_spec("keras_tuner") is not None,
        "keras-tuner is not installed (extra `tune`)",
    ),
}


def marks(script: Path) -> list[pytest.MarkDecorator]:
    found = [pytest.mark.slow] if script.name in SLOW else []
    if script.name in NEEDS and not NEEDS[script.name][0]:
        found.append(pytest.mark.skip(reason=NEEDS[script.name][1]))
    return found


@pytest.fixture(scope="module")
def example_server():
    """tests/example_worker.py: TensorFlow imported once, one forked child per script."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONPATH=str(ROOT))
    server = subprocess.Popen(
        [sys.executable, str(Path(__file__).parent / "example_worker.py")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )
    assert server.stdout.readline().strip() == "READY"
    yield server
    server.stdin.close()
    server.wait(timeout=60)


@pytest.mark.parametrize("script", [pytest.param(s, id=s.name, marks=marks(s)) for s in SCRIPTS])
def test_example_runs(script, tmp_path, example_server):
    example_server.stdin.write(f"{script}\t{tmp_path}\n")
    example_server.stdin.flush()
    ready, _, _ = select.select([example_server.stdout], [], [], 300)
    if not ready:  # a script that hangs: stop the server (its child with it) and fail
        example_server.kill()
        pytest.fail(f"{script.name} ran for more than 300 s")
    done = example_server.stdout.readline().split()
    output = (tmp_path / ".output").read_text(errors="replace")
    assert done[:1] == ["DONE"] and done[1] == "0", f"{script.name} failed ({done}):\n{output[-6000:]}"


def _run_script(script: str, *args: str) -> int:
    """Run `script` as `python script args...` would, in this interpreter; its exit status."""
    saved = sys.argv
    sys.argv = [script, *args]
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else 1
    finally:
        sys.argv = saved
    return 0


def test_fashion_mnist_seeds_are_summarized_as_make_full_does(tmp_path, capsys):
    """`make fashion-mnist-full` runs one directory per seed, then `--summarize` over them.

    The summaries are written here (the runs themselves are test_example_runs' quick mode).
    `--summarize` runs in this interpreter: test_example_runs already starts the script in a
    fresh one, and two more starts of TensorFlow would cost more than the rest of this test.
    """
    accuracies = {3: 0.9301, 4: 0.9356, 5: 0.9322}
    for seed, accuracy in accuracies.items():
        (tmp_path / f"seed-{seed}").mkdir()
        summary = {"seed": seed, "test_accuracy": accuracy, "epochs_trained": 20, "fit_seconds": 900.0}
        (tmp_path / f"seed-{seed}" / "summary.json").write_text(json.dumps(summary))
    script = str(ROOT / "examples" / "fashion_mnist_cnn.py")
    assert _run_script(script, "--summarize", str(tmp_path)) == 0
    stdout = capsys.readouterr().out
    assert "seed 4: test accuracy 0.9356, 20 epochs, 900 s" in stdout
    values = list(accuracies.values())
    assert (
        f"3 seeds: mean {statistics.mean(values):.4f}, standard deviation {statistics.stdev(values):.4f}, "
        "min 0.9301, max 0.9356"
    ) in stdout
    assert _run_script(script, "--summarize", str(tmp_path / "none")) == 2
    assert "no seed-*/summary.json" in capsys.readouterr().err
