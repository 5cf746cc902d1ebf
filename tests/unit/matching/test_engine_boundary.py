"""The service reaches the engine through its facade only, so the stages can change freely."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import services.matching

SERVICE = Path(services.matching.__file__).parent
FACADE = "services.matching.engine"


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            if node.module == "services.matching":
                found.update(f"services.matching.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize("module", sorted(p.name for p in SERVICE.glob("*.py")))
def test_service_module_imports_the_engine_only_through_its_facade(module: str) -> None:
    inside = {m for m in _imported_modules(SERVICE / module) if m.startswith(f"{FACADE}.")}
    assert inside == set()
