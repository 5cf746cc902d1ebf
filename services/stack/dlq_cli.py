"""``revmentor dlq``: move dead letters back onto their topic once the cause is fixed.

The mechanism is :mod:`services.runtime.dead_letter_replay`; this is its command line, run
where the broker is reachable (``kubectl exec deploy/matching -- revmentor dlq replay …``).
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer
from aiokafka.errors import KafkaError
from rich.console import Console
from rich.table import Table

from contracts.topics import EVENT_STREAMS
from services.runtime.dead_letter_replay import (
    DEFAULT_GROUP,
    ReplayReport,
    ReplayRequest,
    replay_dead_letters,
)
from services.stack.infra import KAFKA_ENV

app = typer.Typer(help="Dead letters: replay what was parked once the cause is fixed.",
                  no_args_is_help=True)


@app.callback()
def dlq() -> None:
    """Dead letters: replay what was parked once the cause is fixed."""


@app.command()
def replay(
    topic: Annotated[list[str] | None, typer.Option(
        help=f"An event stream whose <topic>.dlq to replay; repeatable. Default: "
        f"{', '.join(EVENT_STREAMS)}.")] = None,
    consumer: Annotated[str | None, typer.Option(
        help="Only dead letters of this consumer (dlq-consumer), e.g. "
        "matching.enrolment-facts.")] = None,
    reason: Annotated[list[str] | None, typer.Option(
        help="Only this dlq-reason, e.g. handler_failed; repeatable.")] = None,
    limit: Annotated[int | None, typer.Option(
        min=1, help="Replay at most this many; the rest stays for the next run.")] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Count what would be replayed; publish and commit nothing.")] = False,
    group: Annotated[str, typer.Option(
        help="The replay's consumer group: where the last run stopped.")] = DEFAULT_GROUP,
    from_beginning: Annotated[bool, typer.Option(
        "--from-beginning",
        help="Review every retained dead letter, also those an earlier run passed.")] = False,
    kafka: Annotated[str, typer.Option(
        envvar=KAFKA_ENV, help="Kafka bootstrap servers.")] = "localhost:9092",
    within: Annotated[float, typer.Option(
        min=1, help="Stop reading after this many seconds (exit 1 if not done).")] = 60.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Republish dead letters (value, key, original headers) to their original topic.

    Each consumer's inbox skips an event it already applied, so replaying is safe to repeat.
    Replay the dead letters of the consumer whose handler you fixed (--consumer, --reason
    handler_failed); a malformed record replayed is only dead-lettered again.
    """
    try:
        request = ReplayRequest(
            topics=tuple(topic) if topic else EVENT_STREAMS, consumer=consumer,
            reasons=frozenset(reason or ()), limit=limit, dry_run=dry_run, group=group,
            from_beginning=from_beginning)
    except ValueError as exc:
        Console(stderr=True).print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    try:
        report = asyncio.run(replay_dead_letters(kafka, request, within_s=within))
    except KafkaError as exc:
        Console(stderr=True).print(f"[red]Kafka at {kafka} refused or did not answer:[/] {exc!r}")
        raise typer.Exit(2) from None
    if as_json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        _render(report)
    if not report.complete:
        raise typer.Exit(1)


def _render(report: ReplayReport) -> None:
    out = Console()
    verb = "would replay" if report.dry_run else "replayed"
    table = Table(title=f"{verb} {report.replayed} of {report.read} dead letters read")
    for column in ("topic", "consumer", "reason", "count"):
        table.add_column(column)
    for (topic, consumer, reason), count in sorted(report.by_cause.items()):
        table.add_row(topic, consumer, reason, str(count))
    out.print(table)
    out.print(f"filtered out {report.filtered_out}, duplicates {report.duplicates}, "
              f"unreplayable {len(report.unreplayable)}")
    for coordinates in report.unreplayable:
        out.print(f"  value dropped; original at {coordinates}")
    if not report.complete:
        out.print("[yellow]stopped before the end; run again to go on[/]")
