"""Running the demo: against a stack that runs already, or one started for it and stopped after."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from services.stack import roster
from services.stack.demo.client import Platform
from services.stack.demo.invariants import violations
from services.stack.demo.observe import Observed, observe
from services.stack.demo.programme import CohortPlay, Scenario, play
from services.stack.demo.progress import Steps
from services.stack.demo.report import summary
from services.stack.local_stack import StackInfo, jwt_secret
from services.stack.mail_sink import Mailbox


@dataclass(frozen=True)
class Target:
    """Where the services answer, the dev-token secret, and where the mail sink keeps mail."""

    services: dict[str, str]
    secret: str
    mail_dir: Path | None

    @classmethod
    def of_stack(cls, info: StackInfo) -> Target:
        return cls(dict(info.services), info.jwt_secret, Path(info.mail_dir))

    @classmethod
    def of_urls(cls, urls: Sequence[str], mail_dir: Path | None) -> Target:
        """``name=URL`` per service, or one bare URL of the enrolment service, the others then
        on the roster's ports of the same host."""
        services: dict[str, str] = {}
        for given in urls:
            name, sep, url = given.partition("=")
            if not sep:
                parts = urlsplit(given)
                for entry in roster.ROSTER:
                    services[entry.name] = urlunsplit(parts._replace(
                        netloc=f"{parts.hostname}:{entry.port}"))
                services["enrolment"] = given.rstrip("/")
            else:
                roster.entry(name)  # KeyError names the known services
                services[name] = url.rstrip("/")
        return cls(services, jwt_secret(), mail_dir)


async def reachable(services: dict[str, str]) -> dict[str, str]:
    """The services that answer ``/readyz``; enrolment and matching must."""
    answering = {}
    async with httpx.AsyncClient(timeout=2.0) as http:
        for name, url in services.items():
            try:
                if (await http.get(f"{url}/readyz")).status_code == 200:
                    answering[name] = url
            except httpx.HTTPError:
                pass
    return answering


@dataclass(frozen=True)
class DemoRun:
    """What the demo did, what the platform answered afterwards, and the summary of both."""

    plays: list[CohortPlay]
    seen: Observed
    summary: dict[str, Any]


async def run(target: Target, scenario: Scenario, *, quiet: bool = False,
              concurrency: int = 16) -> DemoRun:
    """Play the programme, let the platform settle, read it back, judge it."""
    started = time.monotonic()
    services = await reachable(target.services)
    missing = {"enrolment", "matching"} - set(services)
    if missing:
        raise RuntimeError(f"the demo needs {', '.join(sorted(missing))}; none answers at "
                           f"{', '.join(target.services[m] for m in sorted(missing))}")
    mailbox = Mailbox(target.mail_dir) if target.mail_dir else None
    async with Platform(services, target.secret, concurrency=concurrency) as platform:
        with Steps(quiet=quiet) as steps:
            plays = await play(platform, scenario, steps)
            with steps.step("settling and reading back", 1):
                seen = await observe(platform, plays, mailbox)
    problems = violations(plays, seen)
    return DemoRun(plays, seen, summary(plays, seen, problems, time.monotonic() - started,
                                        str(target.mail_dir) if target.mail_dir else None,
                                        sorted(services)))


def run_sync(target: Target, scenario: Scenario, **options: Any) -> dict[str, Any]:
    """The summary of :func:`run`, for the command line."""
    return asyncio.run(run(target, scenario, **options)).summary
