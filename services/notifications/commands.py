"""The notifications service's use cases.

Those called by the consumers run inside the consumer's transaction for the batch (``uow``):
they keep the projections (cohorts, sessions, the directory) and CLAIM deliveries, one document
per (channel, recipient, template, causing event) under a unique index, so a redelivered event
claims nothing new. Nothing is sent here: the dispatcher sends what these transactions
committed. Those called over HTTP (the delivery log, webhook endpoints, preferences) apply the
business unit's scope; another unit's delivery or endpoint is a 404.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from contracts import Envelope, encode
from contracts.enrolment import CohortOpened, ParticipantEnrolled, ParticipantWithdrawn
from contracts.matching import PairAccepted, PairConfirmed, PairDeclined, PairProposed
from contracts.notifications import Channel
from contracts.sessions import (
    MentorshipCompleted,
    SessionCancelled,
    SessionCompleted,
    SessionScheduled,
)
from services.notifications.directory import Contact, Directory, Enrolment, Key
from services.notifications.domain import Cohort, Delivery, Outcome, Template
from services.notifications.endpoints import Endpoint, EndpointStore, WebhookFormat, new_secret
from services.notifications.planning import Planner
from services.notifications.store import LogFilter, NotificationsStore
from services.notifications.webhooks import body_for
from services.runtime.clock import Clock, utc_now
from services.runtime.errors import Conflict, Invalid, NotFound
from services.runtime.outbox import UnitOfWork

PING_TYPE = "revmentor.notifications.WebhookPing.v1"
PostWebhook = Callable[[Endpoint, str, str], Awaitable[Outcome]]
NUDGE = [Template.PAIR_NUDGE.value]
SCHEDULED_FOR_SESSION = [Template.SESSION_REMINDER.value, Template.FEEDBACK_REQUEST.value]


class NotificationsCommands:
    def __init__(self, store: NotificationsStore, directory: Directory, endpoints: EndpointStore,
                 planner: Planner, *, erase_grace: timedelta, max_endpoints: int,
                 allow_http: bool, post_webhook: PostWebhook, hosts: Iterable[str] = (),
                 clock: Clock = utc_now) -> None:
        self.store, self.directory, self.endpoints = store, directory, endpoints
        self.planner = planner
        self.erase_grace = erase_grace
        self.max_endpoints = max_endpoints
        self.allow_http = allow_http
        self.post_webhook = post_webhook
        self.hosts = tuple(h.lower() for h in hosts)
        self.clock = clock
        self.claimed = 0
        """Deliveries claimed by this process; the dispatcher is woken when it grows."""

    async def _claim(self, uow: UnitOfWork, deliveries: Iterable[Delivery], now: datetime
                     ) -> None:
        batch = list(deliveries)
        await self.store.claim(batch, now, uow.session)
        self.claimed += len(batch)

    def _news(self, env: Envelope, now: datetime, deliveries: list[Delivery]) -> list[Delivery]:
        return deliveries if self.planner.is_news(env, now) else []

    # enrolment facts -----------------------------------------------------------------------
    async def cohorts_opened(self, uow: UnitOfWork, events: list[CohortOpened]) -> None:
        for e in events:
            await self.store.save_cohort(Cohort(e.tenant_id, e.cohort_id, e.name,
                                                tuple(e.languages)), uow.session)

    async def enrolled(self, uow: UnitOfWork, envs: list[Envelope]) -> None:
        """Directory entries and welcome messages for a run of enrolments."""
        now = self.clock()
        events = [env.event for env in envs if isinstance(env.event, ParticipantEnrolled)]
        await self.directory.record_enrolments(
            [Enrolment(e.tenant_id, e.cohort_id, e.participant_id, e.role.value, e.time_zone,
                       tuple(e.languages)) for e in events], uow.session)
        # until the profile feed exists, the enrolment event carries the contact details
        contacts = [Contact(e.tenant_id, e.cohort_id, e.participant_id, name, email)
                    for e in events
                    if (name := getattr(e, "name", None)) and (email := getattr(e, "email", None))]
        await self.directory.record_contacts(contacts, uow.session)
        await self._claim(uow, [d for env in envs if isinstance(env.event, ParticipantEnrolled)
                                for d in self._news(env, now, self.planner.welcome(
                                    env, env.event, now))], now)

    async def contacts(self, uow: UnitOfWork, contacts: list[Contact]) -> None:
        await self.directory.record_contacts(contacts, uow.session)

    async def profiles_erased_by_key(self, keys: list[Key], uow: UnitOfWork) -> None:
        """The runtime's tombstone callback (keys first, like ``consume_profiles`` passes)."""
        await self.profiles_erased(uow, keys)

    async def profiles_erased(self, uow: UnitOfWork, keys: list[Key]) -> None:
        """The tombstone: erased once the withdrawal is confirmed, by the grace at the latest."""
        await self.directory.erase_later(keys, self.clock() + self.erase_grace, uow.session)

    async def withdrawn(self, uow: UnitOfWork, env: Envelope) -> None:
        """Confirm the withdrawal; nothing else still waiting for the person is sent."""
        event = env.event
        assert isinstance(event, ParticipantWithdrawn)
        now = self.clock()
        await self.directory.mark_withdrawn(event.tenant_id, event.cohort_id,
                                            event.participant_id, uow.session)
        await self.store.cancel(event.tenant_id, event.cohort_id,
                                templates=[t.value for t in Template
                                           if t is not Template.WITHDRAWAL_CONFIRMED],
                                recipient_id=event.participant_id, now=now, session=uow.session)
        await self._claim(uow, self.planner.withdrawal(env, event, now), now)

    # matching facts ------------------------------------------------------------------------
    async def pairs_proposed(self, uow: UnitOfWork, envs: list[Envelope]) -> None:
        now = self.clock()
        await self._claim(uow, [d for env in envs if isinstance(env.event, PairProposed)
                                for d in self._news(env, now, self.planner.pair_proposed(
                                    env, env.event, now))], now)

    async def pair_answered(self, uow: UnitOfWork, env: Envelope) -> None:
        """An answer ends the nudge: the accepting side's own, or both on a decline."""
        event = env.event
        assert isinstance(event, PairAccepted | PairDeclined)
        who = event.by_participant_id if isinstance(event, PairAccepted) else None
        await self.store.cancel(event.tenant_id, event.cohort_id, templates=NUDGE,
                                subject_id=event.pair_id, recipient_id=who, now=self.clock(),
                                session=uow.session)

    async def pair_confirmed(self, uow: UnitOfWork, env: Envelope) -> None:
        event = env.event
        assert isinstance(event, PairConfirmed)
        now = self.clock()
        await self.store.cancel(event.tenant_id, event.cohort_id, templates=NUDGE,
                                subject_id=event.pair_id, now=now, session=uow.session)
        await self._claim(uow, self._news(env, now, self.planner.pair_confirmed(env, event, now)),
                          now)

    # sessions facts ------------------------------------------------------------------------
    async def session_scheduled(self, uow: UnitOfWork, env: Envelope) -> None:
        """Invitation or update; the old reminder and feedback request give way to new ones."""
        event = env.event
        assert isinstance(event, SessionScheduled)
        now = self.clock()
        previous = await self.store.slot(event.tenant_id, event.session_id, uow.session)
        slot, deliveries = self.planner.session_scheduled(env, event, previous, now)
        await self.store.save_slot(slot, uow.session)
        await self.store.cancel(event.tenant_id, event.cohort_id, templates=SCHEDULED_FOR_SESSION,
                                subject_id=event.session_id, keep_cause=env.id, now=now,
                                session=uow.session)
        await self._claim(uow, self._news(env, now, deliveries), now)

    async def session_cancelled(self, uow: UnitOfWork, env: Envelope) -> None:
        event = env.event
        assert isinstance(event, SessionCancelled)
        now = self.clock()
        await self.store.cancel(event.tenant_id, event.cohort_id, templates=SCHEDULED_FOR_SESSION,
                                subject_id=event.session_id, now=now, session=uow.session)
        slot = await self.store.slot(event.tenant_id, event.session_id, uow.session)
        if slot is None or slot.cancelled:
            return  # never scheduled here, or already cancelled: nothing in any calendar
        cancelled, deliveries = self.planner.session_cancelled(env, event, slot, now)
        await self.store.save_slot(cancelled, uow.session)
        await self._claim(uow, self._news(env, now, deliveries), now)

    async def session_completed(self, uow: UnitOfWork, env: Envelope) -> None:
        """Its feedback is in (or its window closed): no more requests for it."""
        event = env.event
        assert isinstance(event, SessionCompleted)
        await self.store.cancel(event.tenant_id, event.cohort_id,
                                templates=[Template.FEEDBACK_REQUEST.value],
                                subject_id=event.session_id, now=self.clock(),
                                session=uow.session)

    async def mentorship_completed(self, uow: UnitOfWork, env: Envelope) -> None:
        event = env.event
        assert isinstance(event, MentorshipCompleted)
        now = self.clock()
        await self._claim(uow, self._news(env, now, self.planner.mentorship_completed(
            env, event, now)), now)

    # webhooks ------------------------------------------------------------------------------
    async def fan_out(self, uow: UnitOfWork, envs: list[Envelope]) -> None:
        """A webhook delivery per subscribed endpoint of the event's business unit."""
        now = self.clock()
        fresh = [env for env in envs if self.planner.is_news(env, now)]
        if not fresh:
            return
        endpoints = await self.endpoints.subscribed({e.tenant_id for e in fresh}, uow.session)
        deliveries = []
        for env in fresh:
            for endpoint in endpoints:
                if endpoint.tenant_id == env.tenant_id and env.type in endpoint.event_types:
                    deliveries.append(Delivery(
                        env.tenant_id, env.cohort_id, Channel.WEBHOOK, endpoint.endpoint_id,
                        env.type, env.id, now, subject_id=env.subject or "",
                        context={"cloudevent": _cloudevent(env)}))
        await self._claim(uow, deliveries, now)

    # HTTP: the delivery log ----------------------------------------------------------------
    async def log(self, tenant_id: str, where: LogFilter, limit: int, before: str | None
                  ) -> list[Delivery]:
        return await self.store.log(tenant_id, where, limit, before)

    async def delivery(self, tenant_id: str, delivery_id: str) -> Delivery:
        found = await self.store.delivery(tenant_id, delivery_id)
        if found is None:
            raise NotFound("delivery-not-found", f"no delivery {delivery_id} in your unit")
        return found

    # HTTP: webhook endpoints ---------------------------------------------------------------
    async def register(self, tenant_id: str, url: str, event_types: list[str],
                       format: WebhookFormat, description: str) -> Endpoint:
        if not (url.startswith("https://") or (self.allow_http and url.startswith("http://"))):
            raise Invalid("endpoint-url-not-https", "webhook endpoints must use https://")
        if self.hosts and not _admitted(urlsplit(url).hostname or "", self.hosts):
            raise Invalid("endpoint-host-not-allowed", "this deployment sends webhooks only to "
                          "its admitted hosts", allowed_hosts=list(self.hosts))
        if await self.endpoints.count(tenant_id) >= self.max_endpoints:
            raise Conflict("too-many-endpoints", "your business unit has the most endpoints it "
                           "may register", limit=self.max_endpoints)
        endpoint = Endpoint(endpoint_id=f"wh-{secrets.token_hex(8)}", tenant_id=tenant_id,
                            url=url, event_types=sorted(set(event_types)), format=format,
                            secret=new_secret(), description=description,
                            created_at=self.clock())
        await self.endpoints.add(endpoint)
        return endpoint

    async def endpoints_of(self, tenant_id: str) -> list[Endpoint]:
        return await self.endpoints.of_unit(tenant_id)

    async def endpoint(self, tenant_id: str, endpoint_id: str) -> Endpoint:
        found = await self.endpoints.get(tenant_id, endpoint_id)
        if found is None:
            raise NotFound("endpoint-not-found", f"no webhook endpoint {endpoint_id} in your unit")
        return found

    async def remove(self, tenant_id: str, endpoint_id: str) -> None:
        if not await self.endpoints.remove(tenant_id, endpoint_id):
            raise NotFound("endpoint-not-found", f"no webhook endpoint {endpoint_id} in your unit")

    async def enable(self, tenant_id: str, endpoint_id: str) -> Endpoint:
        found = await self.endpoints.set_enabled(tenant_id, endpoint_id, True)
        if found is None:
            raise NotFound("endpoint-not-found", f"no webhook endpoint {endpoint_id} in your unit")
        return found

    async def ping(self, tenant_id: str, endpoint_id: str) -> Outcome:
        """Send a signed test event now and say how the endpoint answered."""
        endpoint = await self.endpoint(tenant_id, endpoint_id)
        ping_id = f"ping-{secrets.token_hex(8)}"
        event = {"specversion": "1.0", "id": ping_id, "source": "/revmentor/notifications",
                 "type": PING_TYPE, "time": self.clock().isoformat(), "subject": endpoint_id,
                 "datacontenttype": "application/json", "tenantid": tenant_id,
                 "data": {"endpoint_id": endpoint_id}}
        body = body_for(endpoint, json.dumps(event, separators=(",", ":")))
        return await self.post_webhook(endpoint, ping_id, body)

    # HTTP: preferences ---------------------------------------------------------------------
    async def preferences(self, tenant_id: str, participant_id: str) -> dict[str, bool]:
        return await self.directory.preferences_of(tenant_id, participant_id)

    async def set_preferences(self, tenant_id: str, participant_id: str,
                              opt_out: dict[str, bool]) -> dict[str, bool]:
        await self.directory.save_preferences(tenant_id, participant_id, opt_out)
        return opt_out


def _admitted(host: str, hosts: tuple[str, ...]) -> bool:
    host = host.lower()
    return any(host == h or (h.startswith(".") and host.endswith(h)) for h in hosts)


def _cloudevent(env: Envelope) -> str:
    """The consumed CloudEvent as JSON, re-encoded from the typed event under its own id."""
    record = encode(env.event, source=env.source, event_id=env.id,
                    time=env.time if env.time.tzinfo else env.time.replace(tzinfo=UTC),
                    correlation_id=env.correlation_id, causation_id=env.causation_id)
    return record.value.decode()
