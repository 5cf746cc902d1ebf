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
from services.runtime.refusals import never_accepted

Publish = Callable[..., Awaitable[Any]]


class DeadLetters:
    def __init__(self, publish: Publish, consumer: str) -> None:
        self.publish = publish
        self.consumer = consumer

    async def park(self, record: Any, reason: str, detail: str) -> None:
        """Publish ``record`` (an aiokafka ConsumerRecord) to ``<topic>.dlq``; wait for the ack.

        A copy the broker can never take (the original was close to the size limit and the
        ``dlq-*`` headers push it over) goes without its value, then without its own headers,
        marked ``dlq-value-dropped``: its coordinates still point at the original. Anything
        else propagates, so the batch is retried rather than the record lost.
        """
        original = {k: (v or b"").decode(errors="replace") for k, v in (record.headers or ())}
        why = {
            "dlq-reason": reason,
            "dlq-detail": detail[:1000],
            "dlq-consumer": self.consumer,
            "dlq-original-topic": record.topic,
            "dlq-original-partition": str(record.partition),
            "dlq-original-offset": str(record.offset),
            "dlq-failed-at": datetime.now(UTC).isoformat(),
        }
        copies = [(record.value or b"", {**original, **why}), (b"", {**original, **why}),
                  (b"", why)]
        refused = ""
        for attempt, (value, headers) in enumerate(copies):
            if refused:
                headers = {**headers, "dlq-value-dropped": refused}
            try:
                await self.publish(value, topic=dead_letter_topic(record.topic), key=record.key,
                                   headers=headers)
                return
            except Exception as exc:
                refused = never_accepted(exc) or ""
                if not refused or attempt == len(copies) - 1:
                    raise
