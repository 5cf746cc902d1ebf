"""The `revmentor` command: one entry point for developers, demos and service launchers."""

from __future__ import annotations

import signal
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from services.stack.contracts_cli import app as contracts_app
from services.stack.infra import EmbeddedInfra, InfraError

app = typer.Typer(no_args_is_help=True, help="revmentor: reverse-mentoring platform tooling.")
app.add_typer(contracts_app, name="contracts")
console = Console(stderr=True)  # stdout stays machine-readable


def _interrupt_on_sigterm() -> None:
    """Turn SIGTERM into KeyboardInterrupt so `with` blocks unwind exactly as on Ctrl-C.

    Later SIGINT/SIGTERM are ignored, so impatience cannot cut the (bounded) shutdown short
    and leave a server behind.
    """

    def interrupt(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)


@app.command()
def infra(
    kafka_port: Annotated[int, typer.Option(help="Broker port; 0 picks a free one.")] = 0,
    mongo_port: Annotated[int, typer.Option(help="Database port; 0 picks a free one.")] = 0,
) -> None:
    """Run the embedded broker and database in the foreground until Ctrl-C or SIGTERM.

    Prints KAFKA_BOOTSTRAP_SERVERS=… and MONGODB_URI=… on stdout, one per line as in a .env file.
    """
    _interrupt_on_sigterm()
    try:
        with EmbeddedInfra(kafka_port=kafka_port, mongo_port=mongo_port) as running:
            for name, value in running.infra.env().items():
                print(f"{name}={value}", flush=True)
            took = ", ".join(f"{k} {v:.2f}s" for k, v in running.startup_seconds.items())
            console.print(f"[green]embedded infrastructure up[/] ({took}); "
                          "export the lines above; Ctrl-C stops it.")
            while True:
                signal.pause()
    except KeyboardInterrupt:
        console.print("[yellow]embedded infrastructure stopped[/]")
    except InfraError as exc:
        console.print(f"[red]could not start the embedded infrastructure:[/] {escape(str(exc))}")
        raise typer.Exit(1) from None
