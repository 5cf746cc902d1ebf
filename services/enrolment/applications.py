"""What people state to the enrolment service, and its bounds: a programme admin opening a
cohort (:class:`CohortSpec`) and a volunteer applying (:class:`Application`).

Every string, list and number is bounded here, once, for the API, the imports and the rules
alike; the rules that judge a statement live in :mod:`services.enrolment.domain`.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from contracts.enrolment import LanguageCode, MatchingPolicy, PreferredFormat, Role
from contracts.moment import Moment

MIN_LEVEL, MAX_LEVEL = 1, 10
PARTICIPANT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,99}$"
"""A participant id is the person's directory id (the one other people's ``manager_chain``
names); pseudonymous, so an e-mail address is refused."""


def is_participant_id(value: str) -> bool:
    return re.fullmatch(PARTICIPANT_ID_PATTERN, value) is not None


ONE_LINE = r"^[^\x00-\x1f\x7f]*$"
"""Names, departments, topics: no control characters (no NUL, no line break)."""
FREE_TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
"""Goals: line breaks and tabs, but no other control characters."""
EMAIL_PATTERN = r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$"
TIME_ZONE_PATTERN = r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*$"
"""The shape of an IANA name, as ``ParticipantEnrolled`` requires; the zone must also exist."""


def _label(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


DirectoryId = Annotated[str, Field(pattern=PARTICIPANT_ID_PATTERN)]
Language = Annotated[LanguageCode, Field(max_length=35)]
"""A BCP 47 tag; 35 characters is the length RFC 5646 asks every implementation to support."""
TopicLabel = Annotated[str, Field(min_length=1, max_length=80, pattern=ONE_LINE),
                       BeforeValidator(_label)]
"""A topic label, lower-cased BEFORE its length is checked: ``"İ".lower()`` is two characters,
so a label within bounds as sent could exceed them as stored."""


class CohortSpec(BaseModel):
    """What a programme admin states when opening a cohort."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200, pattern=ONE_LINE)
    languages: list[Language] = Field(min_length=1, max_length=20)
    opens_at: Moment | None = Field(None, description="Window start; default now.")
    closes_at: Moment = Field(description="Window end; must lie in the future.")
    session_target: int = Field(6, ge=1, le=52)
    matching_policy: MatchingPolicy = Field(default_factory=MatchingPolicy)


class Application(BaseModel):
    """What a person states when volunteering: role, wishes, expectations and consent."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    employee_id: str | None = Field(
        None, pattern=PARTICIPANT_ID_PATTERN,
        description="Directory id of the person; required when an admin enrols someone.",
    )
    role: Role
    name: str = Field(min_length=1, max_length=200, pattern=ONE_LINE)
    email: str = Field(pattern=EMAIL_PATTERN, max_length=320)
    department: str = Field(min_length=1, max_length=200, pattern=ONE_LINE)
    manager_id: str | None = Field(None, pattern=PARTICIPANT_ID_PATTERN)
    manager_chain: list[DirectoryId] = Field(
        default_factory=list, max_length=30,
        description="Directory ids of the reporting line, direct manager first.")
    career_level: int = Field(ge=MIN_LEVEL, le=MAX_LEVEL)
    topics_offered: list[TopicLabel] = Field(default_factory=list, max_length=30)
    topics_wanted: list[TopicLabel] = Field(default_factory=list, max_length=30)
    languages: list[Language] = Field(min_length=1, max_length=20)
    time_zone: str = Field(min_length=1, max_length=64, pattern=TIME_ZONE_PATTERN)
    preferred_format: PreferredFormat = PreferredFormat.EITHER
    goals: str = Field("", max_length=2000, pattern=FREE_TEXT)
    locale: Language | None = Field(
        None, description="Language of notifications (BCP 47); default the cohort's first.")
    consent: bool = Field(False, description="Explicit opt-in; without it nobody is enrolled.")
    consent_given_at: Moment | None = Field(None, description="When; default now.")
