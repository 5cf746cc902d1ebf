"""``revmentor deploy``: regenerate the deployment files that are derived from the code.

Strimzi KafkaTopics come from ``contracts/topics.py`` and the Grafana dashboards from the
metrics the services register; tests fail when the committed files differ from what these
commands write.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from services.stack import dashboards as dashboards_module
from services.stack import kafka_topics as kafka_topics_module

app = typer.Typer(help="Deployment files derived from the code.", no_args_is_help=True)


@app.callback()
def deploy() -> None:
    """Deployment files derived from the code."""


@app.command("kafka-topics")
def kafka_topics(
    overlays: Annotated[Path, typer.Argument(
        help="The Kustomize overlays directory, normally deploy/k8s/overlays.",
        file_okay=False)],
) -> None:
    """Write <overlay>/kafka-topics.yaml (Strimzi KafkaTopic per declared topic)."""
    for path in kafka_topics_module.write(overlays):
        typer.echo(f"wrote {path}")


@app.command("dashboards")
def dashboards(
    directory: Annotated[Path, typer.Argument(
        help="Where to write, normally deploy/grafana.", file_okay=False)],
) -> None:
    """Write one Grafana dashboard JSON per service."""
    for path in dashboards_module.write(directory):
        typer.echo(f"wrote {path}")
