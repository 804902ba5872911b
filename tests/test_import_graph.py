"""The package's import graph has no cycle and no upward import (issue 23).

Every ``import`` of a skinlesion module counts, at module level or deferred inside
a function, except those under ``if TYPE_CHECKING:`` (they never run). An import
is upward when a module imports a package above it (``from skinlesion import X``
inside ``skinlesion.cli``); a package's ``__init__`` importing its own submodules
(its re-exports) is downward and fine.
"""

from __future__ import annotations

import ast
from pathlib import Path

import skinlesion

ROOT = Path(skinlesion.__file__).parent


def _modules() -> dict[str, tuple[Path, bool]]:
    """``{dotted name: (file, is a package)}`` for every module of skinlesion."""
    modules = {}
    for path in ROOT.rglob("*.py"):
        parts = ["skinlesion", *path.relative_to(ROOT).with_suffix("").parts]
        is_package = parts[-1] == "__init__"
        modules[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return modules


def _import_graph() -> dict[str, dict[str, int]]:
    """``{module: {imported module: line of its first import}}``, skinlesion only."""
    modules = _modules()

    def known(name: str) -> str:  # the module that ``name`` is, or an attribute of
        while name not in modules:
            name = name.rpartition(".")[0]
        return name

    graph: dict[str, dict[str, int]] = {}
    for name, (path, is_package) in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        type_checking = {
            id(node)
            for block in ast.walk(tree)
            if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
            for node in ast.walk(block)
        }
        package = name if is_package else name.rpartition(".")[0]
        edges: dict[str, int] = {}
        for node in ast.walk(tree):
            if id(node) in type_checking:
                continue
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: resolve against this module's package
                    parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parent, *([node.module] if node.module else [])])
                targets = [f"{base}.{alias.name}" for alias in node.names]
                targets = [t if t in modules else base for t in targets]
            else:
                continue
            for target in targets:
                if target.split(".")[0] == "skinlesion" and known(target) != name:
                    edges.setdefault(known(target), node.lineno)
        graph[name] = edges
    return graph


def _cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while not component or component[-1] != v:
                component.append(stack.pop())
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_and_no_upward_import():
    graph = _import_graph()
    assert len(graph) > 50 and "skinlesion.model._classifier" in graph  # the walk saw the package
    upward = [
        f"{module}:{line} imports {target}"
        for module, edges in sorted(graph.items())
        for target, line in edges.items()
        if module.startswith(target + ".")
    ]
    cycles = [
        "\n".join(
            f"  {a}:{graph[a][b]} imports {b}"
            for a in component
            for b in graph[a]
            if b in component
        )
        for component in _cycles(graph)
    ]
    message = []
    if upward:
        message += ["upward imports (import the module itself, not its package):", *upward]
    if cycles:
        message += ["import cycles (move the shared piece down):", *cycles]
    assert not message, "\n".join(message)
