"""FastStream's Kafka broker, configured the same way for every service."""

from __future__ import annotations

import asyncio
from typing import Any

from faststream.kafka import KafkaBroker

from services.runtime.settings import ServiceSettings


def create_broker(settings: ServiceSettings) -> KafkaBroker:
    """A broker whose producer waits for all in-sync replicas.

    Producer idempotence is a setting because the embedded Tansu broker does not support it; on a
    real Kafka cluster turn it on (``REVMENTOR_<SERVICE>_KAFKA_ENABLE_IDEMPOTENCE=true``).
    """
    acks: Any = "all" if settings.kafka_acks == "all" else int(settings.kafka_acks)
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        client_id=f"revmentor-{settings.service_name}",
        acks=acks,
        enable_idempotence=settings.kafka_enable_idempotence,
        linger_ms=settings.kafka_linger_ms,
        graceful_timeout=15.0,
        logger=None,
    )


def record_sender(broker: KafkaBroker) -> Any:
    """Adapt the broker for the outbox relay: send one outbox document, return its ack future."""

    async def send(doc: dict[str, Any]) -> asyncio.Future[Any]:
        return await broker.publish(
            doc["value"],
            topic=doc["topic"],
            key=doc["key"],
            headers=doc["headers"],
            no_confirm=True,
        )

    return send
