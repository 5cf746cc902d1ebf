"""Grafana dashboards, one per service, on the metric names the services really export.

Generated rather than drawn so that every dashboard has the same layout and a panel exists
only where the service has something to show: the consumer rows only for a service with
consumers (see :mod:`services.stack.observed`). ``revmentor deploy dashboards deploy/grafana``
writes them; a test fails when the committed JSON differs, and another when a query names a
metric no service registers.

Queries select by the ``namespace``, ``service`` and ``pod`` labels the Prometheus Operator sets
from the ServiceMonitor (the Kubernetes Service is named after the service).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.stack import roster
from services.stack.observed import Observed, observed

RATE = "$__rate_interval"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
SERVICE_PANELS: dict[str, tuple[str, str, str, str]] = {
    "revmentor_notifications": (
        "Deliveries settled per second, by channel and outcome",
        'sum by (channel, status) (rate(revmentor_notifications_total{SEL}[RATE]))',
        "{{channel}} {{status}}", "ops"),
    "revmentor_notifications_due": (
        "Deliveries due and not yet taken (dispatch backlog, at most a batch)",
        "max(revmentor_notifications_due{SEL})", "due", "short"),
}
"""Panels of metrics one service registers beyond the runtime's: family → title, query,
legend, unit."""


@dataclass
class Panel:
    title: str
    description: str
    queries: list[tuple[str, str]]
    """(PromQL with SEL for the label selector and RATE for the rate window, legend)."""
    unit: str = "short"


@dataclass
class Row:
    title: str
    panels: list[Panel] = field(default_factory=list)


def rows(service: Observed) -> Iterator[Row]:
    yield Row("HTTP", [
        Panel("Requests per second, by route and status",
              "Throughput of the HTTP API; probes and /metrics included.",
              [("sum by (route, status) (rate(revmentor_http_requests_total{SEL}[RATE]))",
                "{{route}} {{status}}")], "reqps"),
        Panel("Error ratio",
              "Share of responses that are server errors (5xx) and client errors (4xx).",
              [(f'sum(rate(revmentor_http_requests_total{{SEL, status=~"{c}.."}}[RATE])) '
                "/ sum(rate(revmentor_http_requests_total{SEL}[RATE]))", f"{c}xx")
               for c in "54"], "percentunit"),
        Panel("Latency",
              "Seconds until the response starts, over all routes.",
              [(f"histogram_quantile({q}, sum by (le) "
                "(rate(revmentor_http_request_seconds_bucket{SEL}[RATE])))", f"p{p}")
               for q, p in (("0.5", "50"), ("0.95", "95"), ("0.99", "99"))], "s"),
        Panel("p99 latency, by route", "The slowest routes.",
              [("histogram_quantile(0.99, sum by (le, route) "
                "(rate(revmentor_http_request_seconds_bucket{SEL}[RATE])))", "{{route}}")],
              "s"),
    ])
    yield Row("Events published (outbox)", [
        Panel("Events published per second",
              "Outbox records the relay handed to Kafka and the broker acknowledged.",
              [("sum(rate(revmentor_events_published_total{SEL}[RATE]))", "published")],
              "ops"),
        Panel("Outbox backlog",
              "Records committed but not yet published (counted up to a cap). Grows when "
              "Kafka is unreachable or the relay lost its lease.",
              [("max(revmentor_outbox_backlog{SEL})", "backlog")]),
        Panel("Oldest unpublished record",
              "Age of the oldest outbox record not yet published; 0 when none.",
              [("max(revmentor_outbox_oldest_pending_seconds{SEL})", "oldest")], "s"),
        Panel("Parked outbox records (last hour)",
              "Records the broker can never take (too large, refused), set aside.",
              [("sum by (reason) (increase(revmentor_outbox_parked_total{SEL}[1h]))",
                "{{reason}}")]),
    ])
    if service.consumer_groups:
        yield Row("Events consumed", [
            Panel("Events applied per second, by consumer and type",
                  "After de-duplication by the inbox.",
                  [("sum by (consumer, type) (rate(revmentor_events_consumed_total{SEL}[RATE]))",
                    "{{consumer}} {{type}}")], "ops"),
            Panel("Batch latency, by consumer",
                  "Seconds to apply one consumed batch in its transaction.",
                  [("histogram_quantile(0.99, sum by (le, consumer) "
                    "(rate(revmentor_handler_seconds_bucket{SEL}[RATE])))", "p99 {{consumer}}"),
                   ("histogram_quantile(0.5, sum by (le, consumer) "
                    "(rate(revmentor_handler_seconds_bucket{SEL}[RATE])))", "p50 {{consumer}}")],
                  "s"),
            Panel("Consumer lag, by consumer and topic",
                  "Records on the broker not yet applied.",
                  [("sum by (consumer, topic) (revmentor_consumer_lag{SEL})",
                    "{{consumer}} {{topic}}")]),
            Panel("Stalled seconds, by consumer",
                  "How long records have waited without progress; 0 when caught up.",
                  [("max by (consumer) (revmentor_consumer_stalled_seconds{SEL})",
                    "{{consumer}}")], "s"),
            Panel("Retries and duplicates per second, by consumer",
                  "Batches retried after a transient failure; redeliveries the inbox skipped.",
                  [("sum by (consumer) (rate(revmentor_consumer_retries_total{SEL}[RATE]))",
                    "retries {{consumer}}"),
                   ("sum by (consumer) (rate(revmentor_events_duplicate_total{SEL}[RATE]))",
                    "duplicates {{consumer}}")], "ops"),
            Panel("Dead letters (last hour), by consumer and reason",
                  "Messages parked in <topic>.dlq. Replay them once the cause is fixed: "
                  "docs/operations.md.",
                  [("sum by (consumer, reason) (increase(revmentor_dead_letters_total{SEL}[1h]))",
                    "{{consumer}} {{reason}}")]),
        ])
    extra = [Panel(title, "Specific to this service.", [(query, legend)], unit)
             for family, (title, query, legend, unit) in SERVICE_PANELS.items()
             if family in service.families]
    if extra:
        yield Row(service.name.capitalize(), extra)
    yield Row("Health", [
        Panel("Replicas reporting", "Pods Prometheus scrapes.",
              [("count(revmentor_service_info{SEL})", "replicas")]),
        Panel("Dependencies ready",
              "1 when the dependency answered the pod's last /readyz ping in time; "
              "the lowest over the selected pods.",
              [("min by (dependency) (revmentor_dependency_ready{SEL})", "{{dependency}}")]),
    ])


def dashboard(service: Observed) -> dict[str, Any]:
    selector = f'namespace="$namespace", service="{service.name}", pod=~"$pod"'
    panels: list[dict[str, Any]] = []
    y = 0
    for row in rows(service):
        panels.append({"id": len(panels) + 1, "type": "row", "title": row.title,
                       "collapsed": False, "gridPos": {"h": 1, "w": 24, "x": 0, "y": y},
                       "panels": []})
        y += 1
        for index, panel in enumerate(row.panels):
            x = 12 * (index % 2)
            panels.append(_panel(len(panels) + 1, panel, selector, x, y))
            y += 8 if x else 0
        y += 8 if len(row.panels) % 2 else 0
    info = f'revmentor_service_info{{service="{service.name}"}}'
    return {
        "uid": f"revmentor-{service.name}",
        "title": f"revmentor / {service.name}",
        "description": f"The {service.name} service: throughput, latency, errors, consumer "
                       "lag, outbox backlog, dead letters. Generated by revmentor deploy "
                       "dashboards.",
        "tags": ["revmentor"],
        "editable": True,
        "graphTooltip": 1,
        "refresh": "30s",
        "schemaVersion": 39,
        "version": 1,
        "time": {"from": "now-6h", "to": "now"},
        "timezone": "utc",
        "annotations": {"list": []},
        "links": [{"title": "revmentor", "type": "dashboards", "tags": ["revmentor"],
                   "asDropdown": True}],
        "templating": {"list": [
            {"name": "datasource", "label": "Data source", "type": "datasource",
             "query": "prometheus", "current": {}, "hide": 0},
            _variable("namespace", f"label_values({info}, namespace)"),
            _variable("pod", f'label_values(revmentor_service_info{{service="{service.name}", '
                             'namespace="$namespace"}, pod)', everything=True),
        ]},
        "panels": panels,
    }


def _panel(ident: int, panel: Panel, selector: str, x: int, y: int) -> dict[str, Any]:
    return {
        "id": ident,
        "type": "timeseries",
        "title": panel.title,
        "description": panel.description,
        "datasource": DATASOURCE,
        "gridPos": {"h": 8, "w": 12, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": panel.unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"},
                    "tooltip": {"mode": "multi", "sort": "desc"}},
        "targets": [{"refId": chr(ord("A") + i), "datasource": DATASOURCE,
                     "expr": query.replace("SEL", selector).replace("RATE", RATE),
                     "legendFormat": legend}
                    for i, (query, legend) in enumerate(panel.queries)],
    }


def _variable(name: str, query: str, everything: bool = False) -> dict[str, Any]:
    variable: dict[str, Any] = {
        "name": name, "label": name, "type": "query", "datasource": DATASOURCE,
        "query": {"query": query, "refId": name}, "definition": query,
        "refresh": 2, "sort": 1, "current": {}, "hide": 0,
    }
    if everything:
        variable |= {"includeAll": True, "multi": True, "allValue": ".*"}
    return variable


def dashboards() -> dict[str, dict[str, Any]]:
    """File name → dashboard of every service of the roster."""
    return {f"{entry.name}.json": dashboard(observed(entry.name)) for entry in roster.ROSTER}


def render(board: dict[str, Any]) -> str:
    return json.dumps(board, indent=2) + "\n"


def write(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, board in dashboards().items():
        path = directory / name
        path.write_text(render(board))
        written.append(path)
    return written
