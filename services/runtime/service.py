"""The skeleton every service runs on: database, broker, outbox relay, consumers, HTTP app.

A service's ``app.py`` builds a :class:`Service`, registers its consumers and routes, and hands
:meth:`Service.http_app` to uvicorn. Start-up and graceful shutdown are the same everywhere: stop
consuming, let in-flight batches finish and commit, flush the outbox, close connections.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from fastapi import APIRouter, FastAPI

from contracts import Event
from contracts.topics import PROFILES
from services.runtime.auth import TokenVerifier
from services.runtime.consumer import Bulk, EventConsumer, Handler, RetryPolicy
from services.runtime.http import (
    install_problem_handlers,
    install_request_metrics,
    operations_router,
)
from services.runtime.kafka import RecordProducer, create_broker
from services.runtime.log import get_logger
from services.runtime.metrics import ServiceMetrics
from services.runtime.mongo import connect, ping
from services.runtime.openapi import document_problems
from services.runtime.outbox import Outbox
from services.runtime.profile_consumer import OnErased, OnProfiles, ProfileConsumer
from services.runtime.relay import OutboxRelay
from services.runtime.request_limits import RequestBodyLimit
from services.runtime.settings import ServiceSettings
from services.runtime.topic_setup import ensure_topics

log = get_logger(__name__)
StartupHook = Callable[[], Awaitable[None]]
ShutdownHook = Callable[[], Awaitable[None]]
C = TypeVar("C", bound=EventConsumer)


class Service:
    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self.name = settings.service_name
        self.metrics = ServiceMetrics(self.name)
        self.client = connect(
            settings.mongodb_uri, app_name=f"revmentor-{self.name}",
            server_selection_timeout_ms=settings.mongodb_server_selection_timeout_ms,
        )
        self.db = self.client[settings.mongodb_database]
        self.broker = create_broker(settings)
        self.producer = RecordProducer(settings)
        self.outbox = Outbox(self.client, self.db, source=f"/revmentor/{self.name}")
        self.relay = OutboxRelay(
            self.db,
            self.producer.send,
            wake=self.outbox.committed,
            batch_size=settings.outbox_batch_size,
            poll_interval_s=settings.outbox_poll_interval_s,
            lease_ttl_s=settings.outbox_lease_ttl_s,
            metrics=self.metrics,
        )
        self.consumers: list[EventConsumer] = []
        self._startup_hooks: list[StartupHook] = []
        self._shutdown_hooks: list[ShutdownHook] = []
        self.started = False

    def consume(
        self, name: str, topics: list[str], handlers: Mapping[type[Event], Handler | Bulk]
    ) -> EventConsumer:
        """Subscribe ``handlers`` to ``topics`` as consumer group ``<service>.<name>``."""
        return self._subscribe(EventConsumer(f"{self.name}.{name}", topics, handlers,
                                             **self._consumer_parts()))

    def consume_profiles(self, name: str, on_profiles: OnProfiles, on_erased: OnErased
                         ) -> ProfileConsumer:
        """Keep a copy of the profile topic as consumer group ``<service>.<name>``.

        ``on_profiles(profiles, uow)`` upserts a run of profiles, ``on_erased(keys, uow)``
        deletes what the service keeps of each ``(cohort_id, participant_id)``; both run in
        the consumer's transaction for the batch (see :mod:`services.runtime.profile_consumer`).
        """
        return self._subscribe(ProfileConsumer(f"{self.name}.{name}", [PROFILES], on_profiles,
                                               on_erased, **self._consumer_parts()))

    def _consumer_parts(self) -> dict[str, Any]:
        s = self.settings
        return {"outbox": self.outbox, "publish": self.broker.publish, "metrics": self.metrics,
                "retry": RetryPolicy(s.retry_attempts, s.retry_initial_backoff_s,
                                     s.retry_max_backoff_s,
                                     s.handler_failures_before_dead_letter)}

    def _subscribe(self, consumer: C) -> C:
        s = self.settings
        consumer.subscribe(self.broker, batch_size=s.consumer_batch_size,
                           batch_timeout_ms=s.consumer_batch_timeout_ms,
                           session_timeout_ms=s.kafka_session_timeout_ms,
                           heartbeat_interval_ms=s.kafka_heartbeat_interval_ms,
                           start_from=s.consumer_start_from)
        self.consumers.append(consumer)
        return consumer

    def on_startup(self, hook: StartupHook) -> None:
        """Run ``hook`` (e.g. create the service's indexes) before consuming starts."""
        self._startup_hooks.append(hook)

    def on_shutdown(self, hook: ShutdownHook) -> None:
        """Run ``hook`` (e.g. stop a background task) first on stop, before the outbox flush."""
        self._shutdown_hooks.append(hook)

    async def start(self) -> None:
        """Indexes, the declared topics (before anything can auto-create one without its
        configuration), the service's own start-up hooks, then consuming and relaying."""
        await self.outbox.ensure_indexes(self.settings.outbox_retention_days)
        for consumer in self.consumers:
            await consumer.inbox.ensure_indexes()
        if self.settings.kafka_create_topics:
            await ensure_topics(self.settings)
        for hook in self._startup_hooks:
            await hook()
        await self.broker.start()
        await self.producer.start()
        self.relay.start()
        self.started = True
        log.info("service_started", consumers=[c.name for c in self.consumers])

    async def stop(self) -> None:
        """Graceful: stop consuming (in-flight batches finish and commit), flush, disconnect."""
        if not self.started:  # parts a test or tool started on their own
            await self.producer.stop()
            await self.broker.stop()
            await self.client.close()
            return
        self.started = False
        for hook in reversed(self._shutdown_hooks):
            await hook()
        for subscriber in self.broker.subscribers:
            await subscriber.stop()
        await self.relay.stop(flush=True)
        await self.producer.stop()
        await self.broker.stop()
        await self.client.close()
        log.info("service_stopped")

    async def consuming(self) -> bool:
        """True once every consumer has partitions and knows where it starts reading them.

        With ``consumer_start_from=latest`` a record produced before the start position is
        resolved would be skipped, so a caller that must not miss one awaits this first.
        """
        for subscriber in self.broker.subscribers:
            consumer = getattr(subscriber, "consumer", None)
            if consumer is None or not consumer.assignment():
                return False
            for partition in consumer.assignment():
                await consumer.position(partition)
        return True

    async def readiness(self) -> dict[str, bool]:
        """Both dependencies answer a ping within ``readiness_timeout_s``, whatever the load.

        Nothing heavier runs here: a probe that queries the outbox times out exactly when the
        service is busiest. The backlog is a gauge the relay keeps.
        """
        timeout = self.settings.readiness_timeout_s
        mongo, kafka = await asyncio.gather(ping(self.client, timeout),
                                            self.broker.ping(timeout=timeout))
        return {"mongodb": mongo, "kafka": bool(kafka)}

    def http_app(self, *routers: APIRouter, title: str,
                 body_limits: Mapping[str, int] | None = None, **fastapi_kwargs: Any) -> FastAPI:
        """The FastAPI app with this service in its lifespan, probes, metrics and problem+json.

        Every request body is bounded by ``http_max_body_bytes``; ``body_limits`` (path template
        to bytes) gives a route, such as an upload, a limit of its own.
        """

        @asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[None]:
            await self.start()
            try:
                yield
            finally:
                await self.stop()

        app = FastAPI(title=title, lifespan=lifespan, **fastapi_kwargs)
        app.state.service = self
        app.state.token_verifier = TokenVerifier(self.settings)
        install_problem_handlers(app)
        app.add_middleware(RequestBodyLimit, limit=self.settings.http_max_body_bytes,
                           route_limits=body_limits)  # inside the request metrics, see there
        install_request_metrics(app, self.metrics)
        app.include_router(operations_router(self.metrics, self.readiness))
        for router in routers:
            app.include_router(router)
        document_problems(app)
        return app
