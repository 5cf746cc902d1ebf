"""Wiring of the enrolment service: runtime service, store, commands, importer, closer, routes."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI

from services.enrolment import consumers
from services.enrolment.api import routes
from services.enrolment.bulk_import import BulkImporter
from services.enrolment.commands import EnrolmentCommands
from services.enrolment.settings import EnrolmentSettings
from services.enrolment.store import EnrolmentStore
from services.enrolment.transactions import Transactions
from services.enrolment.window import WindowCloser
from services.runtime.service import Service
from services.runtime.settings import ServiceSettings

TITLE = "revmentor enrolment"
IMPORT_ROUTE = "/cohorts/{cohort_id}/imports"
"""The streamed upload, whose body limit is its own (``import_max_body_bytes``)."""


@dataclass
class Enrolment:
    """The wired service; tests and the benchmark reach its parts through it."""

    settings: EnrolmentSettings
    service: Service
    store: EnrolmentStore
    commands: EnrolmentCommands
    importer: BulkImporter
    closer: WindowCloser
    app: FastAPI


def build(settings: ServiceSettings | None = None) -> Enrolment:
    cfg = EnrolmentSettings.of(settings) if settings is not None else EnrolmentSettings.load()
    service = Service(cfg)
    store = EnrolmentStore(service.db)
    commands = EnrolmentCommands(
        Transactions(service.outbox), store, max_batch=cfg.import_chunk_size,
        email_hash_key=cfg.email_hash_key.get_secret_value().encode())
    importer = BulkImporter(commands, chunk_size=cfg.import_chunk_size,
                            max_rows=cfg.import_max_rows,
                            max_record_bytes=cfg.import_max_record_bytes)
    closer = WindowCloser(commands, cfg.window_check_interval_s)
    consumers.register(service)
    service.on_startup(store.ensure_indexes)
    service.on_startup(closer.start)
    service.on_shutdown(closer.stop)
    app = service.http_app(routes(commands, importer), title=TITLE,
                           body_limits={IMPORT_ROUTE: cfg.import_max_body_bytes})
    return Enrolment(cfg, service, store, commands, importer, closer, app)


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    return build(settings).app
