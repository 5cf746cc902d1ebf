"""``revmentor contracts``: regenerate the committed JSON Schemas and AsyncAPI document.

A separate Typer app so that the main CLI mounts it with ``add_typer`` and the contracts package
itself stays free of CLI dependencies.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from contracts.export import export_schemas

app = typer.Typer(
    help="Event contracts: export JSON Schemas and the AsyncAPI document.",
    no_args_is_help=True,
)


@app.callback()
def contracts() -> None:
    """Event contracts: export JSON Schemas and the AsyncAPI document."""


@app.command("export")
def export(
    directory: Annotated[
        Path,
        typer.Argument(
            metavar="DIR",
            help="Where to write the files, normally contracts/schemas.",
            file_okay=False,
        ),
    ],
) -> None:
    """Write <EventName>.schema.json for every event and asyncapi.yaml into DIR."""
    written = export_schemas(directory)
    for path in written:
        typer.echo(f"wrote {path}")
    typer.echo(f"{len(written)} files written to {directory}")
