"""Package-level promises: public API shape, import cost, and no unsafe loading."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import kerastools

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "kerastools"
SOURCES = sorted(PACKAGE.rglob("*.py"))
def test_version_and_typed_marker():
    assert re.fullmatch(r"\d+\.\d+\.\d+", kerastools.__version__)
    assert (PACKAGE / "py.typed").is_file()


def test_the_version_is_written_once_and_the_changelog_dates_it():
    """`__version__` is the one source: the build reads it, the changelog's newest entry is it."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"] and project["project"]["dynamic"] == ["version"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "kerastools.__version__"}
    # A plain string literal, so setuptools reads it without importing kerastools (and Keras).
    tree = ast.parse((PACKAGE / "__init__.py").read_text())
    literal = [
        node.value.value for node in tree.body
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["__version__"]
        and isinstance(node.value, ast.Constant)
    ]
    assert literal == [kerastools.__version__]
    newest = re.search(r"^## (\S+) \((.+)\)$", (ROOT / "docs" / "changelog.md").read_text(), re.M)
    assert newest is not None and newest.group(1) == kerastools.__version__
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", newest.group(2)), f"undated: {newest.group(0)}"
    # An SPDX expression, not the table setuptools warns about on every install.
    assert isinstance(project["project"]["license"], str)
    assert not any("License ::" in c for c in project["project"].get("classifiers", []))


@pytest.mark.parametrize("init", sorted(PACKAGE.rglob("__init__.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_init_declares_all_and_exports_exist(init):
    tree = ast.parse(init.read_text())
    names = [
        node.value for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets)
    ]
    assert names, f"{init} has no __all__"
    module_name = ".".join(init.relative_to(ROOT).with_suffix("").parts[:-1])
    module = __import__(module_name, fromlist=["*"])
    for name in module.__all__:
        assert hasattr(module, name), f"{module_name}.__all__ names missing {name}"


def public_modules():
    modules = [kerastools]
    for name in kerastools.__all__:
        value = getattr(kerastools, name)
        if isinstance(value, type(kerastools)):
            modules.append(value)
    return modules


def test_public_names_have_docstrings_with_examples():
    missing = []
    for module in public_modules():
        for name in getattr(module, "__all__", []):
            value = getattr(module, name)
            # Exceptions are documented, with an example, in kerastools.errors' module docstring.
            if isinstance(value, type(kerastools)) or not callable(value) or (
                isinstance(value, type) and issubclass(value, BaseException)
            ):
                continue
            if "Examples:" not in (value.__doc__ or ""):
                missing.append(f"{module.__name__}.{name}")
    assert not missing, f"public names without an Examples: section: {missing}"


UNSAFE = re.compile(r"\bimport pickle\b|\bpickle\.loads?\(|allow_pickle\s*=\s*True|(?<![\w.])eval\(|(?<![\w.])exec\(")


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_unsafe_loading(source):
    text = source.read_text()
    assert not UNSAFE.findall(text), f"{source.name} uses pickle/eval/exec"
    for call in re.finditer(r"load_model\(([^)]*)\)", text):
        assert "safe_mode=True" in call.group(1), f"{source.name}: load_model without safe_mode=True"


def test_import_stays_light():
    """`import kerastools` pulls in nothing heavy beyond what `import keras` already does."""
    code = (
        "import sys, keras\n"
        "candidates = ('matplotlib', 'IPython', 'ipywidgets', 'pandas', 'keras_tuner', 'h5py', 'jax')\n"
        "before = {m for m in candidates if m in sys.modules}\n"
        "import kerastools\n"
        "print(','.join(m for m in candidates if m in sys.modules and m not in before))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "", f"import kerastools imported: {result.stdout.strip()}"


def test_the_demo_command_prints_its_own_line_first(tmp_path):
    """`python -m kerastools demo` (what `make demo` runs): the first line of its output, stdout
    and stderr together, is kerastools' own, not the backend's start-up notices; then the summary."""
    from kerastools._quiet_start import QUIET_ENVIRONMENT

    env = {name: value for name, value in os.environ.items() if name not in QUIET_ENVIRONMENT}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    output = tmp_path / "demo"
    run = subprocess.run(
        [sys.executable, "-m", "kerastools", "demo", "--epochs", "1", "--output-dir", str(output)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=tmp_path, timeout=300,
    )
    assert run.returncode == 0, run.stdout[-3000:]
    lines = run.stdout.splitlines()
    assert lines[0] == (
        f"kerastools {kerastools.__version__} demo: a small MLP on the circles set (epochs=1), "
        f"output in {output}"
    ), run.stdout[:3000]
    summary = dict(line.strip().split(": ", 1) for line in lines[1:] if ": " in line)
    assert summary["epochs"] == "1" and 0.5 <= float(summary["test_accuracy"]) <= 1.0, run.stdout
    assert (output / "training_curves.png").stat().st_size > 0
