"""Layering of the solver packages: no import cycles, no outer layer imported."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("routing", "matching")
OUTER = ("sqlalchemy", "flask", "engine", "web")


def modules(package: str) -> dict[str, Path]:
    """Dotted name -> file of every module of ``package`` (``__init__`` as the package)."""
    out = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def imports(path: Path, name: str, known: set[str]) -> set[str]:
    """Modules in ``known`` that the module at ``path`` imports, anywhere in it
    (functions' lazy imports and ``TYPE_CHECKING`` blocks included)."""
    is_package = path.name == "__init__.py"
    here = name if is_package else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = here.split(".")[: len(here.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # "from a import b": b is a module of its own, or a name in a.
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        found.update(t for t in targets if t in known)
    found.discard(name)
    return found


def import_graph() -> dict[str, set[str]]:
    files = {n: p for package in PACKAGES for n, p in modules(package).items()}
    known = set(files)
    return {n: imports(p, n, known) for n, p in files.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of ``graph`` as a path of names, or None (depth-first search)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_the_graph_sees_lazy_imports() -> None:
    # routing.portfolio imports its backends inside a function.
    assert "routing.backends.pyvrp_backend" in import_graph()["routing.portfolio"]


def test_no_import_cycle_in_routing_or_matching() -> None:
    graph = import_graph()
    # The package __init__ modules import their whole package by design: a
    # module importing its own package ("from routing import x") would close
    # a cycle through them, and that is a cycle too.
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_only_the_package_imports_the_solver_entry_points() -> None:
    graph = import_graph()
    for top in ("routing.solver", "matching.solver"):
        users = sorted(n for n, targets in graph.items() if top in targets)
        assert users == [top.partition(".")[0]], f"{top} imported by {users}"


@pytest.mark.parametrize("package", PACKAGES)
def test_the_solver_packages_import_no_outer_layer(package: str) -> None:
    # Every module, backends included: a process that only solves never
    # loads the engine, the web layer or a database library.
    names = sorted(modules(package))
    code = (
        f"import importlib, sys; [importlib.import_module(m) for m in {names!r}]; "
        f"bad = [m for m in sys.modules if m.split('.')[0] in {OUTER!r}]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
