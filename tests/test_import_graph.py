"""The import graph of rlzoo/, envs/ (rlzoo.envs) and agents/ (rlzoo.agents): one-way, no circles.

``make lint`` checks the layers with import-linter (setup.cfg's ``[importlinter]``), which
reads only ``rlzoo/``: the wheel maps ``envs/`` and ``agents/`` into the package, so this
test reads all three folders itself, every import counted (module level, function level and
``TYPE_CHECKING`` alike).
"""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
#: Source folder -> the package it installs as (setup.cfg's package_dir).
FOLDERS = {"rlzoo": "rlzoo", "envs": "rlzoo.envs", "agents": "rlzoo.agents"}


def _modules() -> dict[str, pathlib.Path]:
    found = {}
    for folder, package in FOLDERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join([package, *parts])] = path
    return found


MODULES = _modules()


def _package_of(module: str, path: pathlib.Path) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _targets(module: str, path: pathlib.Path, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The rlzoo modules an import statement loads (``from rlzoo import checks`` is ``rlzoo.checks``)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = _package_of(module, path)
            for _ in range(node.level - 1):
                package = package.rpartition(".")[0]
            base = f"{package}.{base}" if base else package
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
    result = []
    for name in names:
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name:
            result.append(name)
    return result


def _imports() -> dict[str, list[tuple[str, ast.Import | ast.ImportFrom, bool]]]:
    """Per module: ``(imported rlzoo module, statement, inside a function)``."""
    graph: dict[str, list[tuple[str, ast.Import | ast.ImportFrom, bool]]] = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(), str(path))
        local: set[int] = set()
        for function in ast.walk(tree):
            if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                local.update(id(node) for node in ast.walk(function) if isinstance(node, (ast.Import, ast.ImportFrom)))
        edges = []
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                edges += [(target, node, id(node) in local) for target in _targets(module, path, node) if target != module]
        graph[module] = edges
    return graph


GRAPH = _imports()


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return components


def test_the_graph_finder_sees_a_circle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_is_in_an_import_circle() -> None:
    graph = {module: {target for target, _, _ in edges if not _is_package_face(target)} for module, edges in GRAPH.items()}
    assert _cycles(graph) == []


def _is_package_face(module: str) -> bool:
    """A package's ``__init__`` reached only because Python runs it before its submodules."""
    return module in ("rlzoo.envs", "rlzoo.agents")


def test_nothing_under_rlzoo_envs_or_agents_imports_the_rlzoo_face() -> None:
    offenders = [
        f"{module}:{node.lineno}" for module, edges in GRAPH.items() if module != "rlzoo" for target, node, _ in edges if target == "rlzoo"
    ]
    assert offenders == []


@pytest.mark.parametrize("module", sorted(set(MODULES) - {"rlzoo"}))
def test_function_local_imports_of_rlzoo_modules_say_why(module: str) -> None:
    """A function-local import of one of rlzoo's own modules usually hides a circle; one that is
    there to keep a heavy optional dependency out of an import says so with "heavy" on its line
    or the line above. (The package face, ``rlzoo``, sits above every layer: its lazy
    ``rlzoo.sweep``/``report``/``tune`` keep ``import rlzoo`` from loading the upper layers.)"""
    lines = MODULES[module].read_text().splitlines()
    offenders = [
        f"line {node.lineno}: {target}"
        for target, node, local in GRAPH[module]
        if local and "heavy" not in lines[node.lineno - 1] + lines[node.lineno - 2]
    ]
    assert offenders == [], "import these at the top of the module, or say which heavy dependency the local import keeps out"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_source_file_is_over_400_lines(module: str) -> None:
    lines = len(MODULES[module].read_text().splitlines())
    assert lines <= 400, f"{MODULES[module].relative_to(ROOT)} has {lines} lines: split it by job"
