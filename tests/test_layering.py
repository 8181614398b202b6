"""Every module imports only what its layer may import (see STYLE.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# (package prefix, forbidden import prefixes)
RULES = [
    ("engine", ("flask", "web", "werkzeug.wrappers", "flask_login", "flask_wtf", "flask_babel")),
    ("engine.services", ("flask", "web")),
    ("engine.repositories", ("flask", "engine.services")),
    ("engine.bpmn", ("sqlalchemy", "flask", "engine.models", "engine.repositories", "engine.services")),
    ("engine.models", ("engine.services", "engine.repositories", "engine.bpmn", "flask")),
    ("web", ("engine.models", "engine.repositories", "SpiffWorkflow")),
]


def modules() -> list[tuple[str, Path]]:
    found = []
    for package in ("engine", "web"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts or "node_modules" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            found.append((name, path))
    return found


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize(("module", "path"), modules(), ids=[m for m, _ in modules()])
def test_module_respects_its_layer(module: str, path: Path) -> None:
    imported = imports_of(path)
    for prefix, forbidden in RULES:
        if module == prefix or module.startswith(prefix + "."):
            bad = sorted(i for i in imported for f in forbidden if i == f or i.startswith(f + "."))
            assert not bad, f"{module} imports {bad}"
    if module.startswith("web") and module != "web.db":
        assert not any(i == "sqlalchemy" or i.startswith("sqlalchemy.") for i in imported), (
            f"{module} uses sqlalchemy outside web/db.py"
        )
