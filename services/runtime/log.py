"""Structured JSON logging for every service.

Log lines carry the ids an operator needs to follow one event across services (service, tenant,
cohort, event, correlation) and never an e-mail address: participants' personal data must not leak
into log storage that GDPR erasure cannot reach.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import structlog

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
REDACTED = "[redacted]"
DRIVER_COMMANDS = "pymongo.command"
PERSONAL_KEYS = frozenset({"email", "e_mail", "mail", "name", "display_name"})


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return EMAIL.sub(REDACTED, value)
    if isinstance(value, Mapping):
        return {k: REDACTED if k in PERSONAL_KEYS else _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_scrub(v) for v in value]
    return value


def redact_personal_data(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: mask e-mail addresses anywhere and values under personal keys."""
    return {k: REDACTED if k in PERSONAL_KEYS else _scrub(v) for k, v in event_dict.items()}


def configure_logging(service: str, level: str = "INFO", json: bool = True) -> None:
    """Route structlog and the standard library through one JSON renderer."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact_personal_data,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(foreign_pre_chain=shared, processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer,
        ])
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # the driver logs every command WITH its documents at DEBUG: names, goals, private notes
    logging.getLogger(DRIVER_COMMANDS).setLevel(max(logging.INFO, root.level))
    structlog.contextvars.bind_contextvars(service=service)


@contextmanager
def bound(**ids: str | None) -> Iterator[None]:
    """Bind tenant/cohort/event/correlation ids to every log line written inside the block."""
    present = {k: v for k, v in ids.items() if v}
    with structlog.contextvars.bound_contextvars(**present):
        yield


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
