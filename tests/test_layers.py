"""The layers stay apart: parsers import no Scrapy or SQLAlchemy; db imports no alerts or CLI;
scheduler/ touches no table (db/ owns them all); and no package imports itself round in a circle."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("crawler", "scheduler", "db", "alerts")

# Module prefixes each folder must not import (a prefix matches the module and its children).
RULES = {
    "crawler/parsers": ("scrapy", "twisted", "sqlalchemy", "db", "alerts", "scheduler"),
    "crawler": ("sqlalchemy", "db", "alerts", "scheduler"),
    "db": ("alerts", "scheduler", "scrapy"),
    "alerts": ("scheduler", "scrapy"),
    # Only db/ reads and writes tables; a Session type for annotations is allowed under
    # TYPE_CHECKING.
    "scheduler": ("sqlalchemy", "db.models"),
}


def _type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(nodes: list[ast.stmt], functions: bool) -> Iterator[str]:
    """Modules imported by these statements, leaving out `if TYPE_CHECKING:` blocks (and the
    bodies of functions, unless `functions`)."""
    for node in nodes:
        if _type_checking(node):
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)
        elif functions or not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield from _imports(_children(node), functions)


def _children(node: ast.AST) -> list[ast.stmt]:
    return [child for child in ast.iter_child_nodes(node) if isinstance(child, ast.stmt)]


def imported_modules(path: Path, functions: bool = True) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return set(_imports(tree.body, functions))


def layer_files() -> list[tuple[str, Path]]:
    return [(folder, path) for folder in RULES for path in sorted((REPO / folder).rglob("*.py"))]


def _forbidden(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(f"{p}.") for p in prefixes)


@pytest.mark.parametrize(("folder", "path"), layer_files(), ids=lambda v: str(v))
def test_layer_imports(folder: str, path: Path) -> None:
    bad = sorted(m for m in imported_modules(path) if _forbidden(m, RULES[folder]))
    assert not bad, f"{path.relative_to(REPO)} imports {bad}"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_graph() -> dict[str, set[str]]:
    """Module-level imports between our own modules (lazy imports inside functions excluded)."""
    paths = {_module_name(p): p for pkg in PACKAGES for p in (REPO / pkg).rglob("*.py")}
    return {
        name: {m for m in imported_modules(path, functions=False) if m in paths} - {name}
        for name, path in paths.items()
    }


def _cycle_from(start: str, graph: dict[str, set[str]]) -> list[str] | None:
    path: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        path.append(node)
        for nxt in sorted(graph[node]):
            found = visit(nxt)
            if found:
                return found
        path.pop()
        done.add(node)
        return None

    return visit(start)


def test_no_import_cycles() -> None:
    graph = _import_graph()
    for module in sorted(graph):
        cycle = _cycle_from(module, graph)
        assert cycle is None, " -> ".join(cycle or [])


def test_the_layer_check_sees_what_it_must() -> None:
    # The rules must be able to fail: run.py imports the db layer's modules, not its tables.
    modules = imported_modules(REPO / "scheduler" / "run.py")
    assert "db.pages" in modules and not any(_forbidden(m, RULES["scheduler"]) for m in modules)
    assert "crawler.parsers.article.reader" in _import_graph()["crawler.parsers.article"]
