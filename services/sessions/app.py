"""Wiring of the sessions service: runtime service, store, commands, consumers, routes."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI

from services.runtime.service import Service
from services.runtime.settings import ServiceSettings
from services.sessions import consumers
from services.sessions.api import routes
from services.sessions.commands import SessionsCommands
from services.sessions.deadlines import FeedbackDeadlines
from services.sessions.settings import SessionsSettings
from services.sessions.store import SessionsStore

TITLE = "revmentor sessions"


@dataclass
class Sessions:
    """The wired service; tests and the benchmark reach its parts through it."""

    settings: SessionsSettings
    service: Service
    store: SessionsStore
    commands: SessionsCommands
    app: FastAPI


def build(settings: ServiceSettings | None = None) -> Sessions:
    cfg = SessionsSettings.of(settings) if settings is not None else SessionsSettings.load()
    service = Service(cfg)
    store = SessionsStore(service.db)
    commands = SessionsCommands(service.outbox, store, attempts=cfg.command_attempts,
                                feedback_window=cfg.feedback_window,
                                cadence=cfg.session_cadence)
    consumers.register(service, commands)
    deadlines = FeedbackDeadlines(commands, cfg.feedback_sweep_interval_s)
    service.on_startup(store.ensure_indexes)
    service.on_startup(deadlines.start)
    service.on_shutdown(deadlines.stop)
    app = service.http_app(routes(commands), title=TITLE)
    return Sessions(cfg, service, store, commands, app)


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    return build(settings).app
