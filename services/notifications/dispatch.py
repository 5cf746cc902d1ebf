"""The dispatcher: sends due deliveries after their claim committed, and records the outcome.

Like the outbox relay, it works on what a transaction already committed: the consumer claimed
each delivery (one document per fact, unique), the dispatcher takes it (``pending`` to
``sending`` with a claim that expires), sends it, and settles it in one transaction together
with the ``NotificationDelivered`` or ``NotificationFailed`` fact. Two dispatchers never take
the same delivery; a dispatcher that dies leaves a claim that expires, and the delivery is sent
again with the same Message-ID or webhook-id: a duplicate the receiver can recognise, never a
loss. Scheduled messages (reminders, nudges, feedback requests) are deliveries whose due time
lies ahead; "now" is the injected clock, so tests pin it.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage

from prometheus_client import Counter, Gauge

from contracts.notifications import Channel
from services.notifications.composer import Composer
from services.notifications.directory import Directory, Recipient
from services.notifications.domain import (
    MANDATORY,
    Delivery,
    DeliveryStatus,
    Outcome,
    RetryPolicy,
    Template,
    settle,
)
from services.notifications.endpoints import EndpointStore
from services.notifications.mail import mime_of, valid_address
from services.notifications.store import NotificationsStore
from services.notifications.webhooks import body_for
from services.runtime.clock import Clock
from services.runtime.log import bound, get_logger
from services.runtime.metrics import ServiceMetrics
from services.runtime.outbox import Outbox, UnitOfWork

log = get_logger(__name__)
SendMail = Callable[[list[tuple[str, EmailMessage]]], Awaitable[dict[str, Outcome]]]
PostWebhook = Callable[..., Awaitable[Outcome]]


@dataclass(frozen=True)
class DispatchPolicy:
    batch_size: int = 200
    claim_ttl: timedelta = timedelta(minutes=2)
    poll_interval_s: float = 1.0
    webhook_failures_before_disable: int = 20
    webhook_concurrency: int = 16


class Dispatcher:
    def __init__(self, outbox: Outbox, store: NotificationsStore, directory: Directory,
                 endpoints: EndpointStore, composer: Composer, send_mail: SendMail,
                 post_webhook: PostWebhook, *, clock: Clock, retry: RetryPolicy,
                 policy: DispatchPolicy, metrics: ServiceMetrics, sender: str,
                 owner: str | None = None) -> None:
        self.outbox, self.store, self.directory = outbox, store, directory
        self.endpoints = endpoints
        self.composer, self.send_mail, self.post_webhook = composer, send_mail, post_webhook
        self.clock, self.retry, self.policy = clock, retry, policy
        self.sender = sender
        self.owner = owner or uuid.uuid4().hex
        self.wake = asyncio.Event()
        self.outcomes = Counter("revmentor_notifications_total",
                                "Deliveries settled, by channel and status",
                                ["channel", "status"], registry=metrics.registry)
        self.due = Gauge("revmentor_notifications_due",
                         "Deliveries due and not yet taken, as the dispatcher's last pass found "
                         "them (at most a batch; replicas see the same: take the maximum)",
                         registry=metrics.registry)
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    async def tick(self) -> int:
        """One pass: take what is due, send it, settle it; returns the deliveries taken."""
        now = self.clock()
        due = await self.store.due(now, self.policy.batch_size)
        self.due.set(len(due))
        taken = await self.store.take(due, now, self.owner, self.policy.claim_ttl)
        if taken:
            outcomes = await self._send_mail([d for d in taken if d.channel is Channel.EMAIL])
            outcomes |= await self._post_webhooks(
                [d for d in taken if d.channel is Channel.WEBHOOK])
            await self._settle(taken, outcomes)
        await self._erase_due()
        return len(taken)

    async def _send_mail(self, deliveries: list[Delivery]) -> dict[str, Outcome | None]:
        if not deliveries:
            return {}
        now = self.clock()
        keys = {(d.tenant_id, d.cohort_id, d.recipient_id) for d in deliveries}
        keys |= {(d.tenant_id, d.cohort_id, str(d.context["partner_id"]))
                 for d in deliveries if d.context.get("partner_id")}
        people = await self.directory.recipients(sorted(keys))
        cohorts = await self.store.cohorts_of({(d.tenant_id, d.cohort_id) for d in deliveries})
        opted_out: set[tuple[str, str]] = set()
        for tenant in {d.tenant_id for d in deliveries}:
            ids = sorted({d.recipient_id for d in deliveries if d.tenant_id == tenant})
            opted_out |= {(tenant, p) for p in await self.directory.opted_out(
                tenant, ids, Channel.EMAIL.value)}
        outcomes: dict[str, Outcome | None] = {}
        messages: list[tuple[str, EmailMessage]] = []
        for d in deliveries:
            recipient = people.get((d.tenant_id, d.cohort_id, d.recipient_id))
            refusal = _refusal(d, recipient)
            if refusal is not None:
                outcomes[d.delivery_id] = refusal
                continue
            assert recipient is not None
            if (d.tenant_id, d.recipient_id) in opted_out and d.template not in MANDATORY:
                outcomes[d.delivery_id] = None  # suppressed
                continue
            partner_id = d.context.get("partner_id")
            partner = people.get((d.tenant_id, d.cohort_id, str(partner_id))) if partner_id \
                else None
            try:
                mail = self.composer.compose(d, recipient,
                                             partner, cohorts.get((d.tenant_id, d.cohort_id)), now)
            except Exception as exc:  # a template that cannot render never will
                log.error("notification_render_failed", delivery_id=d.delivery_id,
                          template=d.template, error=type(exc).__name__)
                outcomes[d.delivery_id] = Outcome.refused(f"render_failed: {type(exc).__name__}")
                continue
            messages.append((d.delivery_id, mime_of(mail, self.sender, self.composer.domain,
                                                    now)))
        if messages:
            outcomes.update(await self.send_mail(messages))
        return outcomes

    async def _post_webhooks(self, deliveries: list[Delivery]) -> dict[str, Outcome | None]:
        if not deliveries:
            return {}
        endpoints = await self.endpoints.by_ids(sorted({d.recipient_id for d in deliveries}))
        gate = asyncio.Semaphore(self.policy.webhook_concurrency)

        async def post(d: Delivery) -> tuple[str, Outcome]:
            endpoint = endpoints.get(d.recipient_id)
            if endpoint is None or endpoint.tenant_id != d.tenant_id:
                return d.delivery_id, Outcome.refused("endpoint_removed")
            if not endpoint.enabled:
                return d.delivery_id, Outcome.refused("endpoint_disabled")
            async with gate:
                body = body_for(endpoint, str(d.context["cloudevent"]))
                return d.delivery_id, await self.post_webhook(endpoint, d.delivery_id, body)

        return dict(await asyncio.gather(*(post(d) for d in deliveries)))

    async def _settle(self, taken: list[Delivery], outcomes: dict[str, Outcome | None]) -> None:
        now = self.clock()
        facts = []
        for d in taken:
            outcome = outcomes.get(d.delivery_id, Outcome.transient("not_sent"))
            if outcome is None:
                d.suppressed(now)
                continue
            fact = settle(d, outcome, now, self.retry)
            if fact is not None:
                facts.append((d, fact))
            if not outcome.ok:
                with bound(tenant_id=d.tenant_id, cohort_id=d.cohort_id):
                    log.warning("notification_attempt_failed", delivery_id=d.delivery_id,
                                channel=d.channel.value, template=d.template,
                                attempt=d.attempts, error=outcome.error,
                                final=d.status is DeliveryStatus.FAILED)
        erased = [(d.cohort_id, d.recipient_id) for d in taken
                  if d.template == Template.WITHDRAWAL_CONFIRMED and d.status in
                  (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED, DeliveryStatus.SUPPRESSED)]

        async def work(uow: UnitOfWork) -> set[str]:
            held = await self.store.settle(taken, self.owner, uow.session)
            for d, fact in facts:
                if d.delivery_id in held:
                    uow.publish(fact)
            for d in taken:
                if d.channel is Channel.WEBHOOK and d.delivery_id in held and d.status in (
                        DeliveryStatus.DELIVERED, DeliveryStatus.FAILED):
                    disabled = await self.endpoints.record_result(
                        d.recipient_id, d.status is DeliveryStatus.DELIVERED, now=now,
                        disable_after=self.policy.webhook_failures_before_disable,
                        session=uow.session)
                    if disabled:
                        log.error("webhook_endpoint_disabled", endpoint_id=d.recipient_id,
                                  tenant_id=d.tenant_id)
            await self.directory.erase(erased, uow.session)
            return held

        held = await self.outbox.retrying(work)
        for d in taken:
            if d.delivery_id in held:
                self.outcomes.labels(d.channel.value, d.status.value).inc()

    async def _erase_due(self) -> None:
        due = await self.directory.due_for_erasure(self.clock())
        if due:
            await self.directory.erase(due, None)

    # the loop ------------------------------------------------------------------------------
    async def run(self) -> None:
        backoff = self.policy.poll_interval_s
        while not self._stopping:
            try:
                taken = await self.tick()
                backoff = self.policy.poll_interval_s
            except Exception as exc:  # database or mail server down: the claims expire, retry
                log.warning("dispatch_retry", error=repr(exc), backoff_s=backoff)
                taken = 0
                backoff = min(backoff * 2, 30.0)
            if taken == self.policy.batch_size:
                continue
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), backoff)

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self.run(), name="notifications-dispatcher")

    async def stop(self) -> None:
        self._stopping = True
        self.wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self._task, timeout=30)
            self._task = None


def _refusal(d: Delivery, recipient: Recipient | None) -> Outcome | None:
    """Why a message cannot go to this recipient, or ``None`` if it can."""
    if recipient is None:
        return Outcome.refused("recipient_unknown")
    if recipient.withdrawn and d.template != Template.WITHDRAWAL_CONFIRMED:
        return Outcome.refused("recipient_withdrawn")
    if not recipient.email:
        return Outcome.transient("contact_pending")
    if not valid_address(recipient.email):
        return Outcome.refused("address_invalid")
    return None
