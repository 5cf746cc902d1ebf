"""What the readiness alert and the latency panels read: /readyz outcomes and request durations
as metrics, not only as HTTP answers."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from services.runtime.http import install_request_metrics, operations_router
from services.runtime.metrics import ServiceMetrics


def app_with(checks: dict[str, bool]) -> tuple[httpx.AsyncClient, ServiceMetrics]:
    metrics = ServiceMetrics("probe")

    async def ready() -> dict[str, bool]:
        return checks

    app = FastAPI()
    install_request_metrics(app, metrics)
    app.include_router(operations_router(metrics, ready))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://probe")
    return client, metrics


def sample(metrics: ServiceMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


async def test_each_dependency_readyz_pinged_is_exported_as_ready_or_not() -> None:
    client, metrics = app_with({"mongodb": True, "kafka": False})
    async with client:
        assert (await client.get("/readyz")).status_code == 503
    assert sample(metrics, "revmentor_dependency_ready", dependency="mongodb") == 1
    assert sample(metrics, "revmentor_dependency_ready", dependency="kafka") == 0


async def test_every_request_is_timed_per_route_template() -> None:
    client, metrics = app_with({"mongodb": True, "kafka": True})
    async with client:
        await client.get("/healthz")
        await client.get("/healthz")
    assert sample(metrics, "revmentor_http_request_seconds_count",
                  method="GET", route="/healthz") == 2
