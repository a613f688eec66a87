"""The package has no import cycles, type-only imports included: each room stands above what it
imports (core → ports/standard → hooks → engine → parts → kit → testing/cli), so a part can be
read, tested and replaced without the rest."""

from __future__ import annotations

import ast
from pathlib import Path

import complaintkit

ROOT = Path(complaintkit.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in ROOT.rglob("*.py") if "migrations" not in p.parts}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        if path.name == "__init__.py" or name == "complaintkit._moved":
            continue  # a package's face only hands names on
        targets: set[str] = set()
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            found: list[str] = []
            if isinstance(node, ast.Import):
                found = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + [base]).strip(".")
                found = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            for target in found:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target.startswith("complaintkit") and target != name and modules[target].name != "__init__.py":
                    targets.add(target)
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles_in_the_package() -> None:
    graph = imports()
    assert "complaintkit.engine.commands" in graph and graph["complaintkit.kit"]
    assert cycles(graph) == []


def test_the_core_imports_no_part_and_the_engine_imports_no_part() -> None:
    graph = imports()
    for name, targets in graph.items():
        if name.startswith(("complaintkit.core.", "complaintkit.engine.", "complaintkit.hooks.")):
            assert not {t for t in targets if t.startswith("complaintkit.parts.")}, name
        # a part's rules, commands, timers, queries and store never need the facade; only its
        # part.py may type its kit.parts.<name> namespace against ComplaintKit
        if name.startswith("complaintkit.parts.") and not name.endswith(".part"):
            assert "complaintkit.kit" not in targets, f"{name} imports the facade"
