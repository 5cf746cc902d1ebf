"""Wiring of the notifications service: runtime service, stores, commands, consumers, the
dispatcher, routes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from fastapi import FastAPI

from services.notifications import consumers
from services.notifications.api import routes
from services.notifications.commands import NotificationsCommands
from services.notifications.composer import Composer, Links
from services.notifications.directory import Directory
from services.notifications.dispatch import Dispatcher, DispatchPolicy
from services.notifications.domain import RetryPolicy
from services.notifications.endpoints import EndpointStore
from services.notifications.mail import MailTransport
from services.notifications.messages import Renderer
from services.notifications.planning import Planner, Timing
from services.notifications.settings import NotificationsSettings
from services.notifications.store import NotificationsStore
from services.notifications.webhooks import WebhookTransport
from services.runtime.clock import Clock, utc_now
from services.runtime.service import Service
from services.runtime.settings import ServiceSettings

TITLE = "revmentor notifications"


@dataclass
class Notifications:
    """The wired service; tests and the benchmark reach its parts through it."""

    settings: NotificationsSettings
    service: Service
    store: NotificationsStore
    directory: Directory
    endpoints: EndpointStore
    commands: NotificationsCommands
    dispatcher: Dispatcher
    app: FastAPI


def build(settings: ServiceSettings | None = None, *, clock: Clock = utc_now,
          dispatching: bool = True) -> Notifications:
    """The service; ``dispatching=False`` leaves sending to explicit ``dispatcher.tick()``."""
    cfg = NotificationsSettings.of(settings) if settings is not None \
        else NotificationsSettings.load()
    service = Service(cfg)
    store = NotificationsStore(service.db)
    directory = Directory(service.db)
    endpoints = EndpointStore(service.db)
    webhooks = WebhookTransport(cfg.webhook_timeout_s)
    planner = Planner(Timing(cfg.reminder_hours_before, cfg.nudge_after_days,
                             cfg.feedback_delay_minutes))
    commands = NotificationsCommands(
        store, directory, endpoints, planner, erase_grace=timedelta(seconds=cfg.erase_grace_s),
        max_endpoints=cfg.webhooks_per_unit, allow_http=cfg.webhook_allow_http,
        post_webhook=webhooks.post, hosts=cfg.webhook_hosts, clock=clock)
    composer = Composer(Renderer(), Links(cfg.portal_url), organiser=cfg.mail_from,
                        domain=cfg.message_id_domain)
    dispatcher = Dispatcher(
        service.outbox, store, directory, endpoints, composer, MailTransport(cfg).send_all,
        webhooks.post, clock=clock,
        retry=RetryPolicy(cfg.delivery_attempts, cfg.delivery_initial_backoff_s,
                          cfg.delivery_max_backoff_s),
        policy=DispatchPolicy(cfg.dispatch_batch_size,
                              timedelta(seconds=cfg.dispatch_claim_ttl_s),
                              cfg.dispatch_poll_interval_s, cfg.webhook_failures_before_disable),
        metrics=service.metrics, sender=cfg.mail_from)
    consumers.register(service, commands)

    async def start() -> None:
        await store.ensure_indexes()
        await directory.ensure_indexes()
        await endpoints.ensure_indexes()
        if dispatching:
            dispatcher.start()

    async def stop() -> None:
        await dispatcher.stop()
        await webhooks.close()

    service.on_startup(start)
    service.on_shutdown(stop)
    app = service.http_app(routes(commands), title=TITLE)
    return Notifications(cfg, service, store, directory, endpoints, commands, dispatcher, app)


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    return build(settings).app
