"""Dead letters: messages that can never succeed are parked, with the reason, so the consumer
goes on and nothing is lost.

The parked record keeps its key, value and headers (a header value that is not UTF-8 is kept
with replacement characters, as the producer client takes text); ``dlq-*`` headers say why,
where it came from and which consumer gave up, so an operator can fix and replay it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from contracts.topics import dead_letter_topic

Publish = Callable[..., Awaitable[Any]]


class DeadLetters:
    def __init__(self, publish: Publish, consumer: str) -> None:
        self.publish = publish
        self.consumer = consumer

    async def park(self, record: Any, reason: str, detail: str) -> None:
        """Publish ``record`` (an aiokafka ConsumerRecord) to ``<topic>.dlq``; wait for the ack."""
        headers = {k: (v or b"").decode(errors="replace") for k, v in (record.headers or ())}
        headers.update(
            {
                "dlq-reason": reason,
                "dlq-detail": detail[:1000],
                "dlq-consumer": self.consumer,
                "dlq-original-topic": record.topic,
                "dlq-original-partition": str(record.partition),
                "dlq-original-offset": str(record.offset),
                "dlq-failed-at": datetime.now(UTC).isoformat(),
            }
        )
        await self.publish(
            record.value or b"", topic=dead_letter_topic(record.topic), key=record.key,
            headers=headers,
        )
