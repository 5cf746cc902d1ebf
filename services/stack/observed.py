"""What each service really exposes to operators: its metric names and consumer groups.

Read from the services themselves, built as their ``app.py`` builds them (building connects to
nothing), so dashboards, alerts and autoscalers are generated from and checked against the code
rather than a list someone keeps by hand.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache

from prometheus_client import CollectorRegistry

from services.runtime.service import Service
from services.runtime.settings import ServiceSettings
from services.stack import roster

SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"),
            "summary": ("_sum", "_count"), "gauge": ("",), "info": ("_info",),
            "unknown": ("",)}
"""The series prometheus_client exposes per family type (``_created`` left out: nobody
charts it)."""


@dataclass(frozen=True)
class Observed:
    """One service as an operator sees it."""

    name: str
    families: frozenset[str]
    """Metric family names, e.g. ``revmentor_http_requests``."""
    series: frozenset[str]
    """Names of the series Prometheus scrapes, e.g. ``revmentor_http_requests_total``."""
    consumer_groups: tuple[str, ...]
    """Kafka consumer groups, which are also the ``consumer`` label of consumer metrics."""
    topics: tuple[tuple[str, ...], ...]
    """The topics each consumer group reads, in the order of ``consumer_groups``."""


@cache
def observed(name: str) -> Observed:
    """Build the service ``name`` of the roster (nothing is started) and read what it exposes."""
    entry = roster.entry(name)
    built = importlib.import_module(f"{entry.module}.app").build(
        ServiceSettings.for_service(name))
    service: Service = built.service
    families, series = exported(service.metrics.registry)
    return Observed(name, families, series,
                    tuple(c.name for c in service.consumers),
                    tuple(tuple(c.topics) for c in service.consumers))


def exported(registry: CollectorRegistry) -> tuple[frozenset[str], frozenset[str]]:
    """Family names and series names of every collector in ``registry``."""
    families: set[str] = set()
    series: set[str] = set()
    for family in registry.collect():
        families.add(family.name)
        series.update(family.name + suffix for suffix in SUFFIXES[family.type])
    return frozenset(families), frozenset(series)
