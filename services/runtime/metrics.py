"""Prometheus metrics of one service, in a registry of its own.

A registry per service (rather than the process-global one) lets the embedded stack and the test
suite run several services in one process without their metrics colliding.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

from aiokafka import TopicPartition
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector


class ServiceMetrics:
    """What an operator watches: traffic, event flow, handler latency, backlog, dead letters."""

    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry()
        labels = {"service": service}
        self.http_requests = Counter(
            "revmentor_http_requests", "HTTP requests served",
            ["method", "route", "status"], registry=self.registry,
        )
        self.http_request_seconds = Histogram(
            "revmentor_http_request_seconds", "Seconds until an HTTP response starts",
            ["method", "route"], registry=self.registry,
        )
        self.dependency_ready = Gauge(
            "revmentor_dependency_ready",
            "1 when the dependency answered the last /readyz ping in time, else 0",
            ["dependency"], registry=self.registry,
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
            "revmentor_outbox_backlog",
            "Outbox records not yet published, as the relay last saw them (counted up to a cap)",
            registry=self.registry,
        )
        self.outbox_oldest_pending_seconds = Gauge(
            "revmentor_outbox_oldest_pending_seconds",
            "Age of the oldest outbox record not yet published (0 when none)",
            registry=self.registry,
        )
        self.outbox_parked = Counter(
            "revmentor_outbox_parked", "Outbox records the broker can never take, parked",
            ["reason"], registry=self.registry,
        )
        self.consumers = ConsumerProgressCollector()
        self.registry.register(self.consumers)
        self.info = Gauge("revmentor_service_info", "Service identity", ["service"],
                          registry=self.registry)
        self.info.labels(**labels).set(1)


class ConsumerProgress:
    """Where one consumer stands, so that a stuck one shows on a dashboard.

    ``received`` sees every batch the broker hands over, before anything can fail on it;
    ``applied`` is called once its transaction committed (its offsets are committed next).
    A batch that keeps failing, or records FastStream cannot even hand to the handler, leave
    the consumer waiting: its lag stays above zero and its stalled seconds grow.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.client: Any = None
        self.next_offsets: dict[TopicPartition, int] = {}
        self.waiting_since: float | None = None

    def received(self, records: Sequence[Any], client: Any) -> None:
        self.client = client
        if self.waiting_since is None:
            self.waiting_since = time.monotonic()
        for tp, (first, _) in _offset_ranges(records).items():
            self.next_offsets[tp] = first

    def applied(self, records: Sequence[Any]) -> None:
        for tp, (_, last) in _offset_ranges(records).items():
            self.next_offsets[tp] = last + 1
        self.waiting_since = None

    def stalled_seconds(self) -> float:
        """How long records have been waiting for this consumer without progress (0: none)."""
        return 0.0 if self.waiting_since is None else time.monotonic() - self.waiting_since

    def lag(self) -> dict[TopicPartition, int]:
        """Records on the broker not yet applied, per assigned partition the client knows."""
        client = self.client
        if client is None:
            return {}
        lags: dict[TopicPartition, int] = {}
        for tp in client.assignment():
            highwater, next_offset = client.highwater(tp), self.next_offsets.get(tp)
            if highwater is not None and next_offset is not None:
                lags[tp] = max(0, highwater - next_offset)
        return lags


def _offset_ranges(records: Sequence[Any]) -> dict[TopicPartition, tuple[int, int]]:
    ranges: dict[TopicPartition, tuple[int, int]] = {}
    for record in records:
        tp = TopicPartition(record.topic, record.partition)
        first, last = ranges.get(tp, (record.offset, record.offset))
        ranges[tp] = (min(first, record.offset), max(last, record.offset))
    return ranges


class ConsumerProgressCollector(Collector):
    """Exports lag and stalled seconds of every consumer, computed when Prometheus scrapes."""

    def __init__(self) -> None:
        self.progress: dict[str, ConsumerProgress] = {}

    def of(self, consumer: str) -> ConsumerProgress:
        return self.progress.setdefault(consumer, ConsumerProgress(consumer))

    def collect(self) -> Iterator[Metric]:
        lag = GaugeMetricFamily(
            "revmentor_consumer_lag", "Records on the broker the consumer has not applied yet",
            labels=["consumer", "topic", "partition"],
        )
        stalled = GaugeMetricFamily(
            "revmentor_consumer_stalled_seconds",
            "Seconds records have waited for the consumer without progress (0 when caught up)",
            labels=["consumer"],
        )
        for name, progress in self.progress.items():
            try:
                lags = progress.lag()
            except Exception:  # a client mid-rebalance or stopped must not fail the scrape
                lags = {}
            for tp, records in sorted(lags.items()):
                lag.add_metric([name, tp.topic, str(tp.partition)], records)
            stalled.add_metric([name], progress.stalled_seconds())
        yield lag
        yield stalled
