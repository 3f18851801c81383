"""The layout of flask_httpcache: imports that run one way (no cycle, no lazy import that
hides one), the fast paths below the handlers, and small modules."""

from __future__ import annotations

import ast
from pathlib import Path

import flask_httpcache

PACKAGE = Path(flask_httpcache.__file__).parent
#: the most lines a module of the package may have (issue 12)
MAX_LINES = 400


def module_name(path: Path) -> str:
    """``flask_httpcache.rules.fields`` for ``rules/fields.py``; a package by its ``__init__``."""
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(["flask_httpcache", *parts])


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imported_modules(name: str) -> set[str]:
    """The package's modules that module ``name`` imports, anywhere in it (also inside
    functions and ``TYPE_CHECKING`` blocks: a lazy import is still an edge)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in MODULES)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            if source not in MODULES:
                continue
            # ``from . import rules`` imports the module rules, not only the package
            subs = {f"{source}.{alias.name}" for alias in node.names}
            modules = subs & MODULES.keys()
            found.update(modules or {source})
            if subs - modules:
                found.add(source)
    found.discard(name)
    return found


GRAPH = {name: imported_modules(name) for name in MODULES}


def find_cycle() -> list[str] | None:
    """One import cycle of the package, as a list of modules, or None."""
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> list[str] | None:
        if name in path:
            return [*path[path.index(name) :], name]
        if name in done:
            return None
        for target in sorted(GRAPH[name]):
            cycle = visit(target, [*path, name])
            if cycle is not None:
                return cycle
        done.add(name)
        return None

    for name in sorted(GRAPH):
        cycle = visit(name, [])
        if cycle is not None:
            return cycle
    return None


def reaches(start: str, goal: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name == goal:
            return True
        if name not in seen:
            seen.add(name)
            todo.extend(GRAPH[name])
    return False


def test_the_walk_sees_the_imports_it_must_see() -> None:
    """The walker itself: it finds the handlers' imports of the fast path and of the rules."""
    assert "flask_httpcache.lane" in GRAPH["flask_httpcache.handlers"]
    assert "flask_httpcache.rules" in GRAPH["flask_httpcache.handlers"]
    assert "flask_httpcache.rules.fields" in GRAPH["flask_httpcache.rules.freshness"]


def test_the_package_has_no_import_cycle() -> None:
    assert find_cycle() is None


def test_a_made_up_cycle_is_found() -> None:
    """The cycle finder fails on a cycle (a test that can fail)."""
    GRAPH["flask_httpcache.config"].add("flask_httpcache.handlers")
    try:
        cycle = find_cycle()
    finally:
        GRAPH["flask_httpcache.config"].discard("flask_httpcache.handlers")
    assert cycle is not None
    assert "flask_httpcache.config" in cycle


def test_the_fast_paths_and_the_steps_do_not_import_the_handlers() -> None:
    for lower in (
        "lane",
        "middleware",
        "fresh",
        "environ",
        "policy",
        "conditional",
        "revalidation",
        "storing",
        "invalidation",
        "refresh",
        "speedups",
        "store",
        "rules",
    ):
        assert not reaches(f"flask_httpcache.{lower}", "flask_httpcache.handlers"), lower


def test_the_rules_import_nothing_of_the_package_but_rules() -> None:
    for name, targets in GRAPH.items():
        if name.startswith("flask_httpcache.rules"):
            assert all(t.startswith("flask_httpcache.rules") for t in targets), (name, targets)


def test_no_module_is_over_400_lines() -> None:
    sizes = {
        name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in MODULES.items()
    }
    assert {name: size for name, size in sizes.items() if size > MAX_LINES} == {}
