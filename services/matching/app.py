"""Wiring of the matching service: runtime service, store, commands, consumers, routes."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI

from services.matching import consumers
from services.matching.api import routes
from services.matching.commands import MatchingCommands
from services.matching.settings import MatchingSettings
from services.matching.store import MatchingStore
from services.runtime.service import Service
from services.runtime.settings import ServiceSettings

TITLE = "revmentor matching"


@dataclass
class Matching:
    """The wired service; tests and the benchmark reach its parts through it."""

    settings: MatchingSettings
    service: Service
    store: MatchingStore
    commands: MatchingCommands
    app: FastAPI


def build(settings: ServiceSettings | None = None) -> Matching:
    cfg = MatchingSettings.of(settings) if settings is not None else MatchingSettings.load()
    service = Service(cfg)
    store = MatchingStore(service.db)
    commands = MatchingCommands(service.outbox, store, attempts=cfg.answer_attempts)
    consumers.register(service, commands)
    service.on_startup(store.ensure_indexes)
    app = service.http_app(routes(commands), title=TITLE)
    return Matching(cfg, service, store, commands, app)


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    return build(settings).app
