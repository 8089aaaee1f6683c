"""The module boundaries docs/architecture.md promises, checked on the source."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "kerastools"
SOURCES = sorted(PACKAGE.rglob("*.py"))
BACKENDS = ("tensorflow", "jax", "jaxlib", "torch")


def _module_name(source: Path) -> str:
    parts = source.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(source: Path) -> list[str]:
    """Every module `source` imports, at any depth (lazy imports included)."""
    package = _module_name(source).split(".")
    if source.name != "__init__.py":
        package = package[:-1]
    names = []
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            names.append(base)
            names.extend(f"{base}.{alias.name}" for alias in node.names)
    return names


def _ids(source: Path) -> str:
    return str(source.relative_to(ROOT))


def _is_under(name: str, top: str) -> bool:
    return name == top or name.startswith(top + ".")


@pytest.mark.parametrize("source", SOURCES, ids=_ids)
def test_only_device_imports_a_backend(source):
    if _module_name(source).startswith("kerastools.device"):
        return
    wrong = [n for n in _imports(source) if any(_is_under(n, b) for b in BACKENDS)]
    assert not wrong, f"{_ids(source)} imports {wrong}; only kerastools/device/ may"


@pytest.mark.parametrize("source", sorted((PACKAGE / "callbacks").rglob("*.py")), ids=_ids)
def test_callbacks_do_not_import_device(source):
    wrong = [n for n in _imports(source) if _is_under(n, "kerastools.device")]
    assert not wrong, f"{_ids(source)} imports {wrong}"


@pytest.mark.parametrize("source", SOURCES, ids=_ids)
def test_nothing_imports_the_command_line(source):
    wrong = [n for n in _imports(source) if _is_under(n, "kerastools.__main__")]
    assert not wrong, f"{_ids(source)} imports {wrong}"


@pytest.mark.parametrize("source", SOURCES, ids=_ids)
def test_library_never_imports_pyplot(source):
    wrong = [n for n in _imports(source) if _is_under(n, "matplotlib.pyplot")]
    assert not wrong, f"{_ids(source)} imports {wrong}: user figures must stay untouched"


@pytest.mark.parametrize("source", SOURCES, ids=_ids)
def test_no_private_keras_imports(source):
    wrong = [n for n in _imports(source) if _is_under(n, "keras.src")]
    assert not wrong, f"{_ids(source)} imports {wrong}"


MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


@pytest.mark.parametrize("source", SOURCES, ids=_ids)
def test_modules_stay_small(source):
    lines = len(source.read_text().splitlines())
    assert lines <= MAX_MODULE_LINES, f"{_ids(source)} has {lines} lines (at most {MAX_MODULE_LINES})"


def _code_lines(function: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str]) -> int:
    """Lines of code in a function's body: the docstring and blank or comment lines not counted."""
    body = function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
        body = body[1:]
    if not body:
        return 0
    source_lines = lines[body[0].lineno - 1 : function.end_lineno]
    return sum(1 for line in source_lines if line.strip() and not line.strip().startswith("#"))


@pytest.mark.parametrize("source", SOURCES, ids=_ids)
def test_functions_stay_short(source):
    text = source.read_text()
    lines = text.splitlines()
    long = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if (count := _code_lines(node, lines)) > MAX_FUNCTION_LINES:
                long.append(f"{node.name} ({count} lines)")
    assert not long, f"{_ids(source)}: functions over {MAX_FUNCTION_LINES} lines of code: {long}"


def test_every_module_is_named_on_the_architecture_page():
    page = (ROOT / "docs" / "architecture.md").read_text()
    missing = [_ids(source) for source in SOURCES if f"`{_ids(source)}`" not in page]
    assert not missing, f"docs/architecture.md does not name {missing}"
    named = set(re.findall(r"`(kerastools/[\w/]+\.py)`", page))
    stale = sorted(name for name in named if not (ROOT / name).is_file())
    assert not stale, f"docs/architecture.md names modules that do not exist: {stale}"
