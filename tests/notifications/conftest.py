"""Fixtures for the notifications service: the real service on the real broker and database, a
real SMTP server (aiosmtpd) it sends to over the network, a pinned clock, and facts announced on
the broker as the other services would."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn
from aiokafka import AIOKafkaProducer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contracts import Event, Record, encode
from contracts.catalogue import example_data
from contracts.enrolment import CohortOpened, ParticipantEnrolled
from services.notifications.app import Notifications, build
from services.notifications.settings import NotificationsSettings
from services.notifications.sink import MailSink
from tests.harness import BU_RETAIL, Tokens, eventually, free_port, probe_settings

TENANT = BU_RETAIL
E = TypeVar("E", bound=Event)


class PinnedClock:
    """The service's "now": moves only when a test says so."""

    def __init__(self, now: datetime) -> None:
        self.now = now.replace(microsecond=now.microsecond // 1000 * 1000)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def notifications_settings(infra: Any, name: str, sink: MailSink, **overrides: Any
                           ) -> NotificationsSettings:
    base = probe_settings(infra, name, consumer_start_from="latest")
    return NotificationsSettings.load(**{
        **dict(base), "smtp_host": sink.host, "smtp_port": sink.port,
        "webhook_allow_http": True, "dispatch_poll_interval_s": 0.05,
        "delivery_initial_backoff_s": 60.0, "portal_url": "https://mentoring.example.com",
        "mail_from": "revmentor <noreply@mentoring.example.com>",
        "message_id_domain": "mentoring.example.com", **overrides})


class NotificationsHarness(Tokens):
    def __init__(self, n: Notifications, http: httpx.AsyncClient, producer: AIOKafkaProducer,
                 sink: MailSink, clock: PinnedClock, cohort_id: str, bootstrap: str) -> None:
        super().__init__(n.settings.jwt_secret.get_secret_value())
        self.n, self.http, self.producer, self.sink, self.clock = n, http, producer, sink, clock
        self.cohort_id = cohort_id
        self.bootstrap = bootstrap

    async def announce(self, *events: Event | Record) -> list[Record]:
        """Put facts on the broker as their producers would; a Record is sent as it is."""
        records = []
        for event in events:
            record = event if isinstance(event, Record) else encode(
                event, source=f"/revmentor/{event.producer}")
            await self.producer.send_and_wait(
                record.topic, record.value, key=record.key,
                headers=[(k, v.encode()) for k, v in record.headers.items()])
            records.append(record)
        return records

    async def open_cohort(self, languages: list[str] | None = None, cohort_id: str | None = None,
                          tenant: str = TENANT) -> None:
        now = datetime.now(UTC)
        await self.announce(CohortOpened.model_validate({
            **example_data(CohortOpened), "tenant_id": tenant,
            "cohort_id": cohort_id or self.cohort_id, "name": "AI at work",
            "languages": languages or ["en"], "opens_at": now.isoformat(),
            "closes_at": (now + timedelta(days=14)).isoformat()}))

    def person(self, participant_id: str, role: str = "mentor", **fields: Any
               ) -> ParticipantEnrolled:
        data = {**example_data(ParticipantEnrolled), "tenant_id": TENANT,
                "cohort_id": self.cohort_id, "participant_id": participant_id, "role": role,
                "name": f"Person {participant_id}", "email": f"{participant_id}@example.com",
                "time_zone": "Europe/Berlin", "consent_given_at": self.clock().isoformat()}
        data.update(fields)
        return ParticipantEnrolled.model_validate(data)

    def fact(self, cls: type[E], **fields: Any) -> E:
        """The event's documented example in this test's cohort, with ``fields``."""
        return cls.model_validate({**example_data(cls), "tenant_id": TENANT,
                                   "cohort_id": self.cohort_id, **fields})

    async def enrol(self, *people: ParticipantEnrolled) -> None:
        """Enrol ``people`` and wait until each one's welcome reached the sink."""
        await self.announce(*people)
        await self.mails_to(*(str(p.email) for p in people))

    async def mails_to(self, *addresses: str, count: int = 1, what: str = "the e-mails"
                       ) -> list[EmailMessage]:
        async def arrived() -> bool:
            return all(len(self.sink.to(a)) >= count for a in addresses)

        await eventually(arrived, what=what)
        return [m for a in addresses for m in self.sink.to(a)]

    async def settled(self, condition: Callable[[dict[str, Any]], bool], count: int = 1,
                      what: str = "the deliveries to settle") -> list[dict[str, Any]]:
        async def done() -> bool:
            docs = [d async for d in self.n.store.deliveries.find({})]
            return len([d for d in docs if condition(d)]) >= count

        await eventually(done, what=what)
        return [d async for d in self.n.store.deliveries.find({}) if condition(d)]

    async def tick(self) -> None:
        """Let the dispatcher look at the (advanced) clock now."""
        await self.n.dispatcher.tick()


@pytest.fixture
def sink() -> Any:
    running = MailSink().start()
    yield running
    running.stop()


@pytest.fixture
def clock() -> PinnedClock:
    return PinnedClock(datetime.now(UTC))


@pytest.fixture
async def harness(infra: Any, unique: str, sink: MailSink, clock: PinnedClock
                  ) -> AsyncIterator[NotificationsHarness]:
    n = build(notifications_settings(infra, f"notifications-{unique}", sink), clock=clock)
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap_servers)
    await producer.start()
    async with n.app.router.lifespan_context(n.app):
        await eventually(n.service.consuming, what="the consumer group to be assigned")
        transport = httpx.ASGITransport(app=n.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://notifications") as c:
            yield NotificationsHarness(n, c, producer, sink, clock, f"cohort-{unique}",
                                       infra.kafka_bootstrap_servers)
    await producer.stop()


class Receiver:
    """A real HTTP server on loopback that records what it receives; ``answers`` gives a path
    a list of statuses to answer in turn (the last one repeats)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.answers: dict[str, list[int]] = {}
        app = Starlette(routes=[Route("/{name}", self._receive, methods=["POST"])])
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port,
                                                    log_level="warning", lifespan="off"))
        self._task: asyncio.Task[None] | None = None

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def to(self, name: str) -> list[tuple[dict[str, str], bytes]]:
        return [(h, b) for n, h, b in self.requests if n == name]

    async def _receive(self, request: Request) -> Response:
        name = request.path_params["name"]
        self.requests.append((name, dict(request.headers), await request.body()))
        statuses = self.answers.get(name, [204])
        status = statuses.pop(0) if len(statuses) > 1 else statuses[0]
        return Response(status_code=status)

    async def __aenter__(self) -> Receiver:
        self._task = asyncio.create_task(self.server.serve())
        await eventually(lambda: _true(self.server.started), what="the receiver to listen")
        return self

    async def __aexit__(self, *_: object) -> None:
        self.server.should_exit = True
        if self._task is not None:
            await self._task


async def _true(value: bool) -> bool:
    return value


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with Receiver() as running:
        yield running
