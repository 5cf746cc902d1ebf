"""The platform's services, listed once: name, Python package, port on a developer's machine.

`revmentor service`, `revmentor up`, the demo, the end-to-end test and the benchmarks all read
this list. A service whose package is not in this checkout (sessions or notifications before
they land) is skipped, so the stack runs with whichever services exist.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceEntry:
    """One service of the platform and how to run it."""

    name: str
    module: str
    port: int
    sends_mail: bool = False
    """Needs the mail server's address (``REVMENTOR_<SERVICE>_SMTP_HOST`` and ``_SMTP_PORT``)."""

    @property
    def env_prefix(self) -> str:
        """Where the service reads its settings: ``REVMENTOR_<SERVICE>_<FIELD>``."""
        return f"REVMENTOR_{self.name.upper()}_"

    def installed(self) -> bool:
        """True when ``python -m <module>`` can run here."""
        try:
            return importlib.util.find_spec(f"{self.module}.__main__") is not None
        except ModuleNotFoundError:
            return False


ROSTER: tuple[ServiceEntry, ...] = (
    ServiceEntry("enrolment", "services.enrolment", 8001),
    ServiceEntry("matching", "services.matching", 8002),
    ServiceEntry("sessions", "services.sessions", 8003),
    ServiceEntry("notifications", "services.notifications", 8004, sends_mail=True),
)
NAMES = tuple(entry.name for entry in ROSTER)
CONSOLE = ServiceEntry("console", "console", 8000)
"""The web console: no service of the platform but a client of all four, started after them
with their URLs (``REVMENTOR_CONSOLE_<SERVICE>_URL``)."""
MAIL_PORT = 8025
"""The mail sink's SMTP port on a developer's machine."""


def entry(name: str) -> ServiceEntry:
    """The roster's entry called ``name``; KeyError names the known ones."""
    for candidate in ROSTER:
        if candidate.name == name:
            return candidate
    raise KeyError(f"no service {name!r}; the platform's services are {', '.join(NAMES)}")


def installed(roster: tuple[ServiceEntry, ...] = ROSTER) -> tuple[ServiceEntry, ...]:
    """The entries whose package exists in this checkout, in roster order."""
    return tuple(e for e in roster if e.installed())
