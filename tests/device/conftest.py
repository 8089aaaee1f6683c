"""Fresh interpreters for device checks: device settings are process-wide and fixed once a backend starts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _environment(backend: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3", PYTHONUNBUFFERED="1")
    env["MPLBACKEND"] = "Agg"
    for key in ("TF_CONFIG", "KERASTOOLS_LIVEPLOT"):
        env.pop(key, None)
    env.update(extra)
    return env


def _run_program(code: str, *, backend: str, args: tuple[str, ...] = (), timeout: int = 180) -> dict:
    """Run `code` in a fresh interpreter; it prints one JSON object as its last line."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        cwd=ROOT,
        env=_environment(backend),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, f"program failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def backend_environment() -> Callable[..., dict[str, str]]:
    """`environment(backend, **extra)`: this process's environment, set for a child on `backend`."""
    return _environment


@pytest.fixture
def run_program() -> Callable[..., dict]:
    """`run_program(code, backend=..., args=())`: the JSON a fresh interpreter prints last."""
    return _run_program


@pytest.fixture
def repository_root() -> Path:
    return ROOT
