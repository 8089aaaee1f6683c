"""The command line's quiet start: the backend's start-up notices off before Keras loads.

`python -m kerastools` and the `kerastools` script import the package, and so
Keras and its backend, before `__main__` runs: TensorFlow then prints its
oneDNN notice, absl's "All log messages before absl::InitializeLog()" line and
its CPU-feature notice before the command's first line. The package's
`__init__` imports this module first, which calls `quiet_if_command_line()`: it
changes the environment only in a process started as the command line, never in
a program that imports kerastools, and never a variable the user has set.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

__all__ = ["QUIET_ENVIRONMENT", "launched_as_command_line", "quiet_if_command_line"]

# TF_CPP_MIN_LOG_LEVEL=1 drops TensorFlow's INFO lines (cpu_feature_guard) and keeps its
# warnings and errors. The oneDNN notice is printed whenever oneDNN's custom operations are on,
# whatever the log level, so they are off in the command line (the demo's small MLP does not
# use them); absl's line comes with the first message printed, so it goes with them.
QUIET_ENVIRONMENT = {"TF_CPP_MIN_LOG_LEVEL": "1", "TF_ENABLE_ONEDNN_OPTS": "0"}

_MODULES = ("kerastools", "kerastools.__main__")
_SCRIPTS = ("kerastools", "kerastools.exe", "kerastools-script.py")
_OPTIONS_WITH_VALUE = ("-X", "-W", "--check-hash-based-pycs")


def launched_as_command_line(orig_argv: Sequence[str] | None = None) -> bool:
    """Whether the interpreter's command line (`sys.orig_argv`) runs kerastools' command line.

    Examples:
        >>> launched_as_command_line(["python", "-m", "kerastools", "demo"])
        True
        >>> launched_as_command_line(["/venv/bin/python", "/venv/bin/kerastools", "devices"])
        True
        >>> launched_as_command_line(["python", "-m", "pytest"]), launched_as_command_line(["python", "train.py"])
        (False, False)
    """
    arguments = list(sys.orig_argv if orig_argv is None else orig_argv)[1:]
    skip = False
    for position, argument in enumerate(arguments):
        if skip:
            skip = False
        elif argument in _OPTIONS_WITH_VALUE:
            skip = True
        elif argument == "-m":
            return position + 1 < len(arguments) and arguments[position + 1] in _MODULES
        elif argument.startswith("-m"):
            return argument[2:] in _MODULES
        elif argument == "-c" or argument == "-":
            return False
        elif not argument.startswith("-"):  # the script: the `kerastools` console script?
            return os.path.basename(argument) in _SCRIPTS
    return False


def quiet_if_command_line(orig_argv: Sequence[str] | None = None) -> dict[str, str]:
    """Set `QUIET_ENVIRONMENT`'s variables the user has not set, in the command line only.

    Returns the variables it set (none outside the command line).

    Examples:
        >>> quiet_if_command_line(["python", "train.py"])
        {}
    """
    if not launched_as_command_line(orig_argv):
        return {}
    changed = {name: value for name, value in QUIET_ENVIRONMENT.items() if name not in os.environ}
    os.environ.update(changed)
    return changed


quiet_if_command_line()
