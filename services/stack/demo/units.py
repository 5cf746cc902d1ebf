"""The two business units of the demo, and the tokens their programme admins work with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from services.runtime.auth import PARTICIPANT, PROGRAMME_ADMIN, issue_dev_token


@dataclass(frozen=True)
class Unit:
    """A business unit (tenant) running one cohort of the demo programme."""

    business_unit: str
    title: str
    locale: str
    """``de`` or ``en``: the language of its people's names, departments and cohort."""


UNITS = (
    Unit("bu-privatkunden-de", "Privatkunden Deutschland", "de"),
    Unit("bu-corporate-uk", "Corporate Banking UK", "en"),
)


def admin_token(secret: str, business_unit: str, ttl: timedelta = timedelta(hours=12)) -> str:
    """A programme admin of ``business_unit``, signed with the stack's dev secret."""
    return issue_dev_token(secret, subject=f"admin-{business_unit}", business_unit=business_unit,
                           roles=[PROGRAMME_ADMIN], ttl=ttl)


def participant_token(secret: str, business_unit: str, participant_id: str,
                      ttl: timedelta = timedelta(hours=2)) -> str:
    """An employee of ``business_unit`` acting for themself."""
    return issue_dev_token(secret, subject=f"sub-{participant_id}", business_unit=business_unit,
                           roles=[PARTICIPANT], participant_id=participant_id, ttl=ttl)
