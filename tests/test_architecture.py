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
# The per-backend modules: the only ones that import a backend (inside functions).
BACKEND_MODULES = {f"kerastools.backend.{name}" for name in ("tensorflow", "jax", "torch")}


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
def test_only_the_backend_modules_import_a_backend(source):
    if _module_name(source) in BACKEND_MODULES:
        return
    wrong = [n for n in _imports(source) if any(_is_under(n, b) for b in BACKENDS)]
    assert not wrong, f"{_ids(source)} imports {wrong}; only {sorted(BACKEND_MODULES)} may"


@pytest.mark.parametrize("source", sorted((PACKAGE / "callbacks").rglob("*.py")), ids=_ids)
def test_callbacks_do_not_import_device_or_backend(source):
    wrong = [n for n in _imports(source) if _is_under(n, "kerastools.device") or _is_under(n, "kerastools.backend")]
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


# -- the import graph ---------------------------------------------------------------
# Edges are every import of a kerastools module, lazy ones inside functions included:
# a module that imports another only when called still cannot work without it, and a
# cycle hidden in a function is still two modules that need each other. Imports under
# `if TYPE_CHECKING:` are left out: they never run. `from package import module` is an
# edge to the module. The package `__init__` that every import of a submodule runs
# first is not an edge of its own: `kerastools/__init__.py` imports every subpackage,
# so counting it would join every module in one cycle; what an `__init__` imports
# itself is counted, like any module's imports.

MODULES = {_module_name(source): source for source in SOURCES}


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """The ids of every node under an `if TYPE_CHECKING:` body (its `else` runs, so it counts)."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for statement in node.body:
                skipped.update(id(child) for child in ast.walk(statement))
    return skipped


def _resolve(name: str) -> str | None:
    """The kerastools module `name` is or lies in (`kerastools.a.b.f` -> `kerastools.a.b`)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _kerastools_imports(
    source: Path, *, type_checking: bool, module: str | None = None
) -> list[tuple[str, int]]:
    """(module, line) for each kerastools module `source` imports; with or without type-only ones.

    `module` is the importing module's name; by default, from `source`'s place in the tree.
    """
    tree = ast.parse(source.read_text())
    skipped = set() if type_checking else _type_checking_nodes(tree)
    module = module or _module_name(source)
    package = module.split(".")
    if source.name != "__init__.py":
        package = package[:-1]
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        else:
            continue
        for name in names:
            target = _resolve(name) if _is_under(name, "kerastools") else None
            if target is not None and target != module:
                found.append((target, node.lineno))
    return found


def _import_graph() -> dict[str, dict[str, int]]:
    """module -> {module it imports at run time: the line of the first such import}."""
    graph: dict[str, dict[str, int]] = {}
    for name, source in MODULES.items():
        edges: dict[str, int] = {}
        for target, line in _kerastools_imports(source, type_checking=False):
            edges.setdefault(target, line)
        graph[name] = edges
    return graph


def _strongly_connected(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Tarjan's components of more than one module: each holds at least one cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _one_cycle(graph: dict[str, dict[str, int]], component: list[str]) -> str:
    """A shortest cycle through the component's first module, each import with its line."""
    start = component[0]
    members = set(component)
    came_from: dict[str, str] = {}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for target in sorted(graph[node]):
            if target not in members or target in came_from:
                continue
            came_from[target] = node
            if target == start:
                queue = []
                break
            queue.append(target)
    path = [start]
    while True:
        path.append(came_from[path[-1]])
        if path[-1] == start:
            break
    path.reverse()
    steps = [f"{a} (line {graph[a][b]}) imports {b}" for a, b in zip(path, path[1:], strict=False)]
    return "; ".join(steps)


def test_no_import_cycles():
    graph = _import_graph()
    cycles = [
        f"cycle among {component}: {_one_cycle(graph, component)}"
        for component in _strongly_connected(graph)
    ]
    assert not cycles, "import cycles (break them: docs/architecture.md):\n" + "\n".join(cycles)


def test_the_import_graph_counts_lazy_imports_and_not_type_only_ones(tmp_path):
    """The graph's own check, on a module written here: what is an edge and what is not."""
    source = tmp_path / "example.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "from kerastools import errors\n"
        "from . import improvement\n"
        "if TYPE_CHECKING:\n"
        "    from kerastools.device.cluster import tf_config\n"
        "else:\n"
        "    import kerastools.log_keys\n"
        "def later():\n"
        "    from kerastools.live.sinks import open_sinks\n"
    )
    runtime = {name for name, _ in _kerastools_imports(source, type_checking=False, module="kerastools.example")}
    assert runtime == {"kerastools.errors", "kerastools.improvement", "kerastools.log_keys", "kerastools.live.sinks"}
    typed = {name for name, _ in _kerastools_imports(source, type_checking=True, module="kerastools.example")}
    assert typed == runtime | {"kerastools.device.cluster"}


def test_a_cycle_is_found_and_named():
    graph = {"a": {"b": 3}, "b": {"c": 7}, "c": {"a": 1, "d": 2}, "d": {}}
    assert _strongly_connected(graph) == [["a", "b", "c"]]
    assert _one_cycle(graph, ["a", "b", "c"]) == "a (line 3) imports b; b (line 7) imports c; c (line 1) imports a"


def _private_owner(module: str) -> str | None:
    """The package a private module belongs to (`kerastools.a._x` -> `kerastools.a`), else None."""
    parts = module.split(".")
    for position, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            return ".".join(parts[:position])
    return None


def test_a_private_module_belongs_to_its_package():
    assert _private_owner("kerastools.callbacks.live_plot._callback") == "kerastools.callbacks.live_plot"
    assert _private_owner("kerastools._atomic") == "kerastools"  # any kerastools module may import it
    assert _private_owner("kerastools.live.sinks") is None


@pytest.mark.parametrize("source", SOURCES, ids=_ids)
def test_no_import_of_another_packages_private_module(source):
    """A module `kerastools/a/_x.py` is imported only from inside `kerastools/a/`.

    Type-only imports count too: they reach into another package's insides just the same.
    Two packages that need the same private engine want it as a package of its own.
    """
    importer = _module_name(source)
    wrong = sorted({
        f"{target} (line {line})"
        for target, line in _kerastools_imports(source, type_checking=True)
        if (owner := _private_owner(target)) is not None and not _is_under(importer, owner)
    })
    assert not wrong, f"{_ids(source)} imports another package's private modules: {wrong}"


# A smell guard, not a shape: a module this long usually holds two concerns. Split it
# by concern when it trips, never by trimming docstrings to a number.
MAX_MODULE_LINES = 800
MAX_FUNCTION_LINES = 60


@pytest.mark.parametrize("source", SOURCES, ids=_ids)
def test_modules_hold_one_concern(source):
    lines = len(source.read_text().splitlines())
    assert lines <= MAX_MODULE_LINES, (
        f"{_ids(source)} has {lines} lines (over {MAX_MODULE_LINES}): a module that long "
        "usually holds two concerns; split it by concern (docs/architecture.md)"
    )


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


# -- the private-read table ------------------------------------------------------------


def _private_table() -> list[tuple[str, list[str], str]]:
    """(function, attributes it reads, guard test) per row of docs/architecture.md's table."""
    page = (ROOT / "docs" / "architecture.md").read_text()
    section = page.split("## Private APIs", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        function = cells[0].strip("`")
        attributes = re.findall(r"`\w+\.(_\w+)`", cells[1])
        rows.append((function, attributes, cells[2].strip("`")))
    return rows


def _function_node(qualified: str) -> tuple[Path, ast.AST] | None:
    """The file and node of `a.b.f` or `a.b.Class.method` (relative to kerastools), if any."""
    parts = qualified.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        module = "kerastools." + ".".join(parts[:cut])
        if module not in MODULES:
            continue
        node: ast.AST = ast.parse(MODULES[module].read_text())
        for name in parts[cut:]:
            children = [
                child for child in ast.iter_child_nodes(node)
                if isinstance(child, ast.FunctionDef | ast.ClassDef) and child.name == name
            ]
            if not children:
                return None
            node = children[0]
        return MODULES[module], node
    return None


def _foreign_private_reads() -> list[tuple[str, int, str]]:
    """(file, line, attribute) for each `x._name` / `getattr(x, "_name")` whose `_name` kerastools
    never defines: a read of another library's private attribute."""
    trees = {source: ast.parse(source.read_text()) for source in SOURCES}
    defined: set[str] = set()
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                defined.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                defined.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                defined.add(node.id)
            elif isinstance(node, ast.arg):
                defined.add(node.arg)
    reads = []
    for source, tree in trees.items():
        for node in ast.walk(tree):
            name = None
            if isinstance(node, ast.Attribute):
                name = node.attr
            elif (
                isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("getattr", "hasattr")
                and len(node.args) > 1 and isinstance(node.args[1], ast.Constant)
            ):
                name = str(node.args[1].value)
            if name and name.startswith("_") and not name.startswith("__") and name not in defined:
                reads.append((_ids(source), node.lineno, name))
    return reads


def test_the_private_read_table_is_true():
    """Each row names a function that exists and reads what the row says, and a guard test that
    exists; each read of another library's private attribute is in a function the table names."""
    rows = _private_table()
    assert rows, "docs/architecture.md has no private-read table"
    wrong = []
    covered: dict[tuple[str, str], tuple[int, int]] = {}
    for function, attributes, guard in rows:
        found = _function_node(function)
        if found is None:
            wrong.append(f"{function}: no such function")
            continue
        source, node = found
        text = ast.unparse(node)
        wrong += [f"{function} does not read {name}" for name in attributes if name not in text]
        for name in attributes:
            covered[(_ids(source), name)] = (node.lineno, node.end_lineno or node.lineno)
        test_file, _, test_name = guard.partition("::")
        if not (ROOT / test_file).is_file() or f"def {test_name}(" not in (ROOT / test_file).read_text():
            wrong.append(f"{function}: guard test {guard} does not exist")
    for file, line, name in _foreign_private_reads():
        span = covered.get((file, name))
        if span is None or not span[0] <= line <= span[1]:
            wrong.append(f"{file}:{line} reads {name}, in no function of the table")
    assert not wrong, "docs/architecture.md's private-read table is not true: " + "; ".join(wrong)
