"""FastStream's Kafka broker, configured the same way for every service."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker

from services.runtime.log import get_logger
from services.runtime.settings import ServiceSettings

BROKER_LOGGER = "revmentor.broker"
_CONTEXT = ("topic", "group_id", "message_id")


class BrokerLog:
    """FastStream's log calls as the service's structured, redacted log lines.

    FastStream logs an exception that escapes a subscriber, a consume loop's Kafka errors and
    subscriber start-up here; without a logger they vanish. Its context (topic, group id,
    message id, which is offset and timestamp) holds ids only, never a payload. Per-message
    "Received"/"Processed" lines are DEBUG (see :func:`create_broker`). The structlog logger is
    looked up per line, so configuration applied after the broker was built still holds.
    """

    def __init__(self, name: str = BROKER_LOGGER) -> None:
        self.name = name
        self._gate = logging.getLogger(name)

    def log(self, level: int, msg: Any, /, *, exc_info: Any = None,
            extra: Mapping[str, Any] | None = None) -> None:
        if not self._gate.isEnabledFor(level):
            return
        context = {k: str(v) for k, v in (extra or {}).items() if k in _CONTEXT and v}
        get_logger(self.name).log(level, str(msg), exc_info=exc_info, **context)


def create_broker(settings: ServiceSettings) -> KafkaBroker:
    """A broker whose producer waits for all in-sync replicas and whose errors are logged.

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
        logger=BrokerLog(),
        log_level=logging.DEBUG,
    )


class RecordProducer:
    """The outbox relay's own aiokafka producer, configured like the broker's.

    The relay sends every record through it, tombstones (a null value) included: FastStream's
    ``publish`` has turned ``None`` into an empty body in released versions, and an empty body
    is a value, which compaction keeps for good. One producer for every record also keeps a
    profile and its later tombstone in order on their partition.
    """

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self.producer: AIOKafkaProducer | None = None
        self._starting: asyncio.Lock | None = None

    @property
    def started(self) -> bool:
        return self.producer is not None

    async def start(self) -> None:
        """Create and start the producer (aiokafka wants the running loop for both)."""
        self._starting = self._starting or asyncio.Lock()
        async with self._starting:
            if self.producer is None:
                s = self.settings
                producer = AIOKafkaProducer(
                    bootstrap_servers=s.kafka_bootstrap_servers,
                    client_id=f"revmentor-{s.service_name}-relay",
                    acks="all" if s.kafka_acks == "all" else int(s.kafka_acks),
                    enable_idempotence=s.kafka_enable_idempotence,
                    linger_ms=s.kafka_linger_ms,
                )
                await producer.start()
                self.producer = producer

    async def stop(self) -> None:
        producer, self.producer = self.producer, None
        if producer is not None:
            await producer.stop()

    async def send(self, doc: dict[str, Any]) -> asyncio.Future[Any]:
        """Hand one outbox document to the producer; the future resolves on the broker's ack.

        Starts the producer on first use, so a relay drained outside a started service (tools,
        tests) sends too.
        """
        if self.producer is None:
            await self.start()
        assert self.producer is not None
        headers = [(k, v.encode()) for k, v in doc["headers"].items()]
        future: asyncio.Future[Any] = await self.producer.send(
            doc["topic"], doc["value"], key=doc["key"], headers=headers)
        return future


def record_sender(broker: KafkaBroker) -> Any:
    """Adapt the broker for an outbox relay that sends values only (tests, tools): send one
    outbox document, return its ack future. A service's relay uses :class:`RecordProducer`."""

    async def send(doc: dict[str, Any]) -> asyncio.Future[Any]:
        return await broker.publish(
            doc["value"],
            topic=doc["topic"],
            key=doc["key"],
            headers=doc["headers"],
            no_confirm=True,
        )

    return send
