"""The layers stay apart: parsers import no Scrapy or SQLAlchemy; db imports no alerts or CLI."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

RULES = {
    "crawler/parsers": ("scrapy", "twisted", "sqlalchemy", "db", "alerts", "scheduler"),
    "crawler": ("sqlalchemy", "db", "alerts", "scheduler"),
    "db": ("alerts", "scheduler", "scrapy"),
    "alerts": ("scheduler", "scrapy"),
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def layer_files() -> list[tuple[str, Path]]:
    pairs = []
    for folder in RULES:
        for path in sorted((REPO / folder).rglob("*.py")):
            pairs.append((folder, path))
    return pairs


@pytest.mark.parametrize(("folder", "path"), layer_files(), ids=lambda v: str(v))
def test_layer_imports(folder: str, path: Path) -> None:
    forbidden = RULES[folder]
    bad = sorted(m for m in imported_modules(path) if m.split(".")[0] in forbidden)
    assert not bad, f"{path.relative_to(REPO)} imports {bad}"
