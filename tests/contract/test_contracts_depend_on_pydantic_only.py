"""The contracts package is publishable on its own: importing it pulls in pydantic, nothing else
of the platform's stack (docs/architecture.md, "Repository layout")."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("faststream", "aiokafka", "pymongo", "fastapi", "services", "yaml", "typer")
PROBE = """
import importlib, json, pkgutil, sys
import contracts
for module in pkgutil.walk_packages(contracts.__path__, "contracts."):
    importlib.import_module(module.name)
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def test_importing_every_contracts_module_loads_no_platform_dependency() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(result.stdout))
    assert "pydantic" in loaded
    assert sorted(loaded.intersection(FORBIDDEN)) == []
