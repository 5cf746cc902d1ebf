"""The `revmentor` command: one entry point for developers, demos and service launchers."""

from __future__ import annotations

import json
import os
import runpy
import signal
import sys
import tempfile
from contextlib import nullcontext as _nothing
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from services.stack import roster
from services.stack.contracts_cli import app as contracts_app
from services.stack.demo.client import PlatformError
from services.stack.demo.programme import Scenario
from services.stack.demo.report import render
from services.stack.demo.run import Target, run_sync
from services.stack.demo.units import UNITS, admin_token
from services.stack.deploy_cli import app as deploy_app
from services.stack.dlq_cli import app as dlq_app
from services.stack.infra import KAFKA_ENV, MONGO_ENV, EmbeddedInfra, InfraError
from services.stack.local_stack import LocalStack, StackInfo
from services.stack.mail_sink import Mailbox

app = typer.Typer(no_args_is_help=True, help="revmentor: reverse-mentoring platform tooling.")
app.add_typer(contracts_app, name="contracts")
app.add_typer(dlq_app, name="dlq")
app.add_typer(deploy_app, name="deploy")
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


@app.command()
def service(
    name: Annotated[str, typer.Argument(help=f"One of: {', '.join(roster.NAMES)}.")],
    port: Annotated[int | None, typer.Option(
        help="HTTP port; default REVMENTOR_<SERVICE>_HTTP_PORT, else the roster's.")] = None,
    host: Annotated[str | None, typer.Option(
        help="Interface to listen on; default REVMENTOR_<SERVICE>_HTTP_HOST, else 0.0.0.0.")
    ] = None,
) -> None:
    """Run one service in the foreground, as a container does; SIGTERM stops it gracefully.

    Settings come from the environment (`REVMENTOR_<SERVICE>_*`, `KAFKA_BOOTSTRAP_SERVERS`,
    `MONGODB_URI`). On SIGTERM or Ctrl-C the service stops consuming, lets in-flight batches
    commit, flushes its outbox and exits 0.
    """
    try:
        chosen = roster.entry(name)
    except KeyError as exc:
        console.print(f"[red]{escape(exc.args[0])}[/]")
        raise typer.Exit(2) from None
    if not chosen.installed():
        console.print(f"[red]the {name} service is not installed in this checkout[/] "
                      f"(no module {chosen.module})")
        raise typer.Exit(2)
    if port is not None:
        os.environ[f"{chosen.env_prefix}HTTP_PORT"] = str(port)
    else:
        os.environ.setdefault(f"{chosen.env_prefix}HTTP_PORT", str(chosen.port))
    if host is not None:
        os.environ[f"{chosen.env_prefix}HTTP_HOST"] = host
    # uvicorn handles the signal (graceful shutdown), then restores this handler and raises the
    # signal again: the process then ends with 0, the stop it was asked for.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: sys.exit(0))
    runpy.run_module(chosen.module, run_name="__main__", alter_sys=True)


@app.command()
def up(
    kafka: Annotated[str | None, typer.Option(
        envvar=KAFKA_ENV, help="External Kafka bootstrap servers (with --mongodb).")] = None,
    mongodb: Annotated[str | None, typer.Option(
        envvar=MONGO_ENV, help="External MongoDB replica set URI (with --kafka).")] = None,
    data_dir: Annotated[Path | None, typer.Option(
        help="Keep the database, the mail and the logs here between runs "
        "(default: a temporary directory, removed on stop).")] = None,
    free_ports: Annotated[bool, typer.Option(
        help="Take free ports instead of the usual 8001-8004 and 8025.")] = False,
) -> None:
    """Run the whole platform: broker, database, mail sink and every service, until Ctrl-C.

    Prints the services' URLs, the mail sink's address and a dev token for a programme admin of
    each demo business unit; SIGTERM or Ctrl-C stops every process it started.
    """
    _interrupt_on_sigterm()
    out = Console(width=None if sys.stdout.isatty() else 160)
    stack = LocalStack(data_dir=data_dir, kafka=kafka, mongodb=mongodb,
                       fixed_ports=not free_ports)
    for entry in stack.skipped:
        console.print(f"[yellow]{entry.name}[/]: not installed in this checkout, not started")
    try:
        with stack:
            _print_stack(out, stack)
            while True:
                signal.pause()
    except KeyboardInterrupt:
        console.print("[yellow]revmentor stopped[/]")
    except InfraError as exc:
        console.print(f"[red]could not start the platform:[/] {escape(str(exc))}")
        raise typer.Exit(1) from None


def _print_stack(out: Console, stack: LocalStack) -> None:
    info = stack.info
    table = Table(title=f"revmentor is up ({info.tier} infrastructure, "
                  f"{stack.startup_seconds['total']:.1f} s)")
    for column in ("service", "URL", "API docs", "metrics"):
        table.add_column(column, no_wrap=True)
    for name, url in info.services.items():
        table.add_row(name, url, f"{url}/docs", f"{url}/metrics")
    table.add_row("mail sink", f"smtp://{info.smtp}", "", "")
    out.print(table)
    if info.console:
        out.print(f"console: {info.console}  (sign in as a programme admin or a participant "
                  "of a demo unit)", soft_wrap=True, highlight=False)
    out.print(f"mail kept in {info.mail_dir}; logs in {Path(next(iter(info.logs.values()))).parent}"
              if info.logs else f"mail kept in {info.mail_dir}", soft_wrap=True)
    out.print(f"{KAFKA_ENV}={info.kafka_bootstrap_servers}", soft_wrap=True)
    out.print(f"{MONGO_ENV}={info.mongodb_uri}", soft_wrap=True)
    for entry in roster.ROSTER:
        if uri := info.databases.get(entry.name):
            out.print(f"{entry.env_prefix}{MONGO_ENV}={uri}", soft_wrap=True)
    out.print(f"stack file: {stack.stack_file}  (revmentor demo --stack {stack.stack_file}; "
              f"revmentor mail {info.mail_dir})", soft_wrap=True)
    out.print("dev tokens of a programme admin (valid 12 h; Authorization: Bearer …):")
    for unit in UNITS:
        token = admin_token(info.jwt_secret, unit.business_unit)
        out.print(f"  {unit.business_unit}: {token}", soft_wrap=True, highlight=False)
    out.print("[green]ready[/]; Ctrl-C stops everything.")


@app.command()
def mail(
    directory: Annotated[Path, typer.Argument(
        help="The mail sink's directory, or a data directory / stack file naming it.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List the messages the mail sink kept, oldest first."""
    if directory.is_file():
        directory = Path(StackInfo.read(directory).mail_dir)
    elif (directory / "mail").is_dir():
        directory = directory / "mail"
    kept = list(Mailbox(directory))
    if as_json:
        for m in kept:
            print(json.dumps({"file": str(m.path), "to": list(m.envelope_to),
                              "subject": m.subject, "message_id": m.message_id}))
        return
    table = Table(title=f"{len(kept)} messages in {directory}")
    for column in ("to", "subject", "file"):
        table.add_column(column, overflow="fold")
    for m in kept:
        table.add_row(", ".join(m.envelope_to), m.subject, m.path.name)
    Console().print(table)


@app.command()
def demo(
    participants: Annotated[int, typer.Option(min=8, max=20_000,
                                              help="People in both cohorts together.")] = 500,
    seed: Annotated[int, typer.Option(help="Same seed, same people and answers.")] = 7,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON summary.")] = False,
    url: Annotated[list[str] | None, typer.Option(
        help="A running stack: the enrolment service's URL (the others on the usual ports of "
        "that host), or NAME=URL per service; repeatable.")] = None,
    stack_file: Annotated[Path | None, typer.Option(
        "--stack", help="The stack.json of a running `revmentor up`.")] = None,
    mail_dir: Annotated[Path | None, typer.Option(
        help="With --url: the mail sink's directory, to count and check the e-mails.")] = None,
    concurrency: Annotated[int, typer.Option(min=1, max=256,
                                             help="Requests in flight at once.")] = 16,
) -> None:
    """Play a whole reverse-mentoring programme through the public HTTP APIs and judge it.

    Without --url or --stack it starts the platform for itself and stops it afterwards (the
    mail and the logs stay in a temporary directory). Exit 1 when an invariant breaks, 2 when
    the programme could not be played.
    """
    _interrupt_on_sigterm()
    scenario = Scenario(participants=participants, seed=seed)
    out = Console(width=None if sys.stdout.isatty() else 160)
    try:
        if stack_file is not None:
            result = run_sync(Target.of_stack(StackInfo.read(stack_file)), scenario,
                              quiet=as_json, concurrency=concurrency)
        elif url:
            result = run_sync(Target.of_urls(url, mail_dir), scenario, quiet=as_json,
                              concurrency=concurrency)
        else:
            result = _demo_on_own_stack(scenario, as_json, concurrency)
    except (PlatformError, InfraError, RuntimeError, KeyError) as exc:
        console.print(f"[red]the demo could not be played:[/] {escape(str(exc))}")
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        console.print("[yellow]demo interrupted[/]")
        raise typer.Exit(130) from None
    if as_json:
        print(json.dumps(result, indent=2))
    else:
        render(out, result)
    if result["violations"]:
        raise typer.Exit(1)


def _demo_on_own_stack(scenario: Scenario, quiet: bool, concurrency: int) -> dict[str, object]:
    data_dir = Path(tempfile.mkdtemp(prefix="revmentor-demo-"))
    stack = LocalStack(data_dir=data_dir, fixed_ports=False, persist_database=False,
                       console=False)
    for entry in stack.skipped:
        console.print(f"[yellow]{entry.name}[/]: not installed in this checkout, not started")
    with console.status("starting the platform", spinner="dots") if not quiet else _nothing():
        stack.start()
    try:
        if not quiet:
            console.print(f"platform up in {stack.startup_seconds['total']:.1f} s "
                          f"({', '.join(stack.info.services)}); logs and mail in {data_dir}")
        return run_sync(Target.of_stack(stack.info), scenario, quiet=quiet,
                        concurrency=concurrency)
    finally:
        stack.stop()
