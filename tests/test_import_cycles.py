"""The package's imports form no cycle: every module under mlsbom/ is parsed (never imported) and
every import in it counts, wherever it sits — at module level, inside functions and methods, and
under `if TYPE_CHECKING:` (a type-only import is still a dependency of the design: two modules
that name each other's types are one unit, whatever runs first).

`import a.b.c` and `from a.b import c` (c a submodule) are edges to `a.b.c`; `from a.b import
name` is an edge to `a.b`; relative imports are resolved. Importing a submodule also runs its
parents' `__init__`, but that is not counted: a package whose `__init__` gathers its own modules
(a registry) would otherwise be a cycle with each of them. Imports by name at run time
(`importlib.import_module(...)`) are not seen.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import mlsbom

ROOT = Path(mlsbom.__file__).parent

# Cycle edges left in code other work is restructuring; each is (importer, imported). Remove an
# entry when its cycle is gone. A cycle whose edges are not all listed here fails the test.
ALLOWED: frozenset[tuple[str, str]] = frozenset()


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = ("mlsbom", *path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, known: set[str]) -> Iterator[str]:
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in known:
                    yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            for alias in node.names:
                if f"{module}.{alias.name}" in known:
                    yield f"{module}.{alias.name}"
                elif module in known:
                    yield module


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: set(_imports(name, path, known)) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module, and modules importing themselves
    (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
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
                    if len(component) > 1 or node in graph[node]:
                        found.append(sorted(component))
    return sorted(found)


def test_the_graph_sees_every_kind_of_import() -> None:
    graph = import_graph()
    assert len(graph) > 100
    assert "mlsbom.facts" in graph["mlsbom.models"]  # module level
    assert "mlsbom.provenance" in graph["mlsbom.analyzers.inspect_hooks"]  # inside a function
    assert "mlsbom.analyzers.pickle_machine" in graph["mlsbom.analyzers.joblib_reads"]  # typing
    assert "mlsbom.analyzers.pickle_ops" in graph["mlsbom.analyzers.pickle_vm"]  # from-import
    assert "mlsbom.zipfmt" in graph["mlsbom.analyzers.archives"]  # `from mlsbom import zipfmt`


def test_cycles_are_found() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"d"}, "e": {"a"}, "f": set()}
    assert cycles(graph) == [["a", "b", "c"], ["d"]]


def test_no_import_cycles() -> None:
    graph = import_graph()
    pruned = {m: {t for t in ts if (m, t) not in ALLOWED} for m, ts in graph.items()}
    problems = []
    for component in cycles(pruned):
        members = set(component)
        edges = sorted(f"{m} -> {t}" for m in component for t in graph[m] if t in members)
        problems.append(f"cycle of {len(component)} modules:\n    " + "\n    ".join(edges))
    assert not problems, "\n".join(problems)


def test_allowed_edges_still_exist() -> None:
    """An allowance for an edge that is gone is stale: remove it."""
    graph = import_graph()
    stale = sorted(f"{m} -> {t}" for m, t in ALLOWED if t not in graph.get(m, set()))
    assert not stale, stale
