"""The house rules of the code base, checked from the source text: no import cycle, a ground floor
(``popsync.core``) that imports nothing above it, parts that import only what they may, and no
source file over about 400 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("popsync", "transforms", "matching", "expectations")
MAX_LINES = 400
# What each part may import of ours (itself always): the layers, bottom up.
ALLOWED = {
    "popsync.core": set(),
    "transforms": {"popsync.core"},
    "matching": {"popsync.core", "transforms"},
    "expectations": {"popsync.core", "transforms"},
    "popsync.warehouse": {"popsync.core"},
    "popsync.report": {"popsync.core"},
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            found[_module_name(path)] = path
    return found


def _imports(path: Path, name: str, modules: dict[str, Path]) -> set[str]:
    """Our modules that ``path`` imports anywhere (functions included): ``from a import b`` is
    ``a.b`` when that is a module, else ``a``."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                for alias in node.names
            ]
        else:
            continue
        found.update(t for t in targets if t.split(".")[0] in PACKAGES and t in modules)
    found.discard(name)
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, name, modules) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
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


def test_no_import_cycle(graph):
    assert _cycles(graph) == []


def test_a_cycle_is_seen():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def _part(module: str) -> str | None:
    return next((p for p in ALLOWED if module == p or module.startswith(p + ".")), None)


@pytest.mark.parametrize("part", list(ALLOWED))
def test_each_part_imports_only_the_floors_below_it(graph, part):
    wrong = {
        module: sorted(t for t in targets if _part(t) != part and _part(t) not in ALLOWED[part])
        for module, targets in graph.items()
        if _part(module) == part
    }
    assert {m: t for m, t in wrong.items() if t} == {}


def test_no_source_file_is_over_the_limit():
    sources = [
        path
        for pattern in ("*.py", "*.sql", "*.j2")
        for path in REPO.rglob(pattern)
        if not {".venv", "tests", "build", ".git"} & set(path.relative_to(REPO).parts)
    ]
    long = {
        str(p.relative_to(REPO)): n
        for p in sources
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}
