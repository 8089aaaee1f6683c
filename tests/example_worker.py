"""Runs the scripts of examples/ for tests/test_examples.py, importing TensorFlow once.

Each script is run as a user runs it (`python examples/x.py --output-dir DIR`, in DIR), but
starting an interpreter and importing TensorFlow costs seconds per script. So this small fork
server imports Keras, kerastools and matplotlib once (running no TensorFlow op, so forking stays
safe, as tests/crash_training_worker.py does), prints READY, and for each line `SCRIPT<TAB>DIR`
on stdin forks a child that runs SCRIPT as `__main__` with that command line, its output in
DIR/.output; it prints `DONE <exit status>` when the child ends.
"""

from __future__ import annotations

import os
import runpy
import sys
import traceback

os.environ["MPLBACKEND"] = "Agg"
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
os.environ.pop("KERASTOOLS_LIVEPLOT", None)  # the suite turns live plots off; examples run as users run them


def run(script: str, directory: str) -> int:
    """In the forked child: `python script --output-dir directory`, from `directory`."""
    output = os.open(os.path.join(directory, ".output"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(output, 1)
    os.dup2(output, 2)
    os.chdir(directory)
    sys.argv = [script, "--output-dir", directory]
    sys.path[0] = os.path.dirname(script)  # what `python script` puts first
    try:
        runpy.run_path(script, run_name="__main__")
        return 0
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    except BaseException:  # noqa: BLE001 - reported in the output, as an interpreter would
        traceback.print_exc()
        return 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


def main() -> None:
    import keras  # noqa: F401 - imported once, before any fork
    import matplotlib.pyplot  # noqa: F401

    import kerastools  # noqa: F401

    print("READY", flush=True)
    for line in sys.stdin:
        script, directory = line.rstrip("\n").split("\t")
        pid = os.fork()
        if pid == 0:
            os._exit(run(script, directory))
        _, status = os.waitpid(pid, 0)
        print("DONE", os.waitstatus_to_exitcode(status), flush=True)


if __name__ == "__main__":
    main()
