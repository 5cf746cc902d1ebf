"""``revmentor contracts export DIR`` writes every contract file a subscriber needs."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from contracts.export import ASYNCAPI_FILE, SCHEMA_SUFFIX
from services.stack.contracts_cli import app


def test_export_writes_sixteen_schemas_and_the_asyncapi_document(tmp_path: Path) -> None:
    target = tmp_path / "schemas"
    result = CliRunner().invoke(app, ["export", str(target)])
    assert result.exit_code == 0, result.output
    assert len(list(target.glob(f"*{SCHEMA_SUFFIX}"))) == 16  # 15 events, the profile
    assert (target / ASYNCAPI_FILE).is_file()
    assert f"wrote {target / ASYNCAPI_FILE}" in result.output
    assert "17 files written" in result.output


def test_export_is_listed_in_the_help() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "export" in result.output
