"""Wiring of the matching service: runtime service, store, matchmaker, consumers, routes."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI

from services.matching.api import router
from services.matching.consumers import EnrolmentFacts
from services.matching.matchmaking import Matchmaker
from services.matching.store import MatchingStore
from services.runtime.service import Service
from services.runtime.settings import ServiceSettings

TITLE = "revmentor matching"


@dataclass
class Matching:
    """The wired service; tests and the demo reach its parts through it."""

    settings: ServiceSettings
    service: Service
    store: MatchingStore
    matchmaker: Matchmaker
    app: FastAPI


def build(settings: ServiceSettings | None = None) -> Matching:
    settings = settings or ServiceSettings.for_service("matching")
    service = Service(settings)
    store = MatchingStore(service.db)
    matchmaker = Matchmaker(store)
    EnrolmentFacts(store, matchmaker).subscribe(service)
    service.on_startup(store.ensure_indexes)
    app = service.http_app(router, title=TITLE)
    app.state.store = store
    app.state.matchmaker = matchmaker
    return Matching(settings, service, store, matchmaker, app)


def create_service(settings: ServiceSettings | None = None) -> Service:
    return build(settings).service


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    return build(settings).app
