"""Prometheus metrics of one service, in a registry of its own.

A registry per service (rather than the process-global one) lets the embedded stack and the test
suite run several services in one process without their metrics colliding.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class ServiceMetrics:
    """What an operator watches: traffic, event flow, handler latency, backlog, dead letters."""

    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry()
        labels = {"service": service}
        self.http_requests = Counter(
            "revmentor_http_requests", "HTTP requests served",
            ["method", "route", "status"], registry=self.registry,
        )
        self.events_consumed = Counter(
            "revmentor_events_consumed", "Events applied by a consumer (after de-duplication)",
            ["consumer", "type"], registry=self.registry,
        )
        self.events_duplicate = Counter(
            "revmentor_events_duplicate", "Redelivered events the inbox skipped",
            ["consumer"], registry=self.registry,
        )
        self.events_published = Counter(
            "revmentor_events_published", "Outbox records published to Kafka",
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "revmentor_dead_letters", "Messages parked in a dead-letter topic",
            ["consumer", "reason"], registry=self.registry,
        )
        self.retries = Counter(
            "revmentor_consumer_retries", "Batches retried after a transient failure",
            ["consumer"], registry=self.registry,
        )
        self.handler_seconds = Histogram(
            "revmentor_handler_seconds", "Time to apply one consumed batch",
            ["consumer"], registry=self.registry,
        )
        self.outbox_backlog = Gauge(
            "revmentor_outbox_backlog", "Outbox records not yet published", registry=self.registry,
        )
        self.info = Gauge("revmentor_service_info", "Service identity", ["service"],
                          registry=self.registry)
        self.info.labels(**labels).set(1)
