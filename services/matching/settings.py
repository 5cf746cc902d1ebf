"""Settings of the matching service: the shared ones plus its own knobs.

Read from ``REVMENTOR_MATCHING_<FIELD>`` like every other service setting, e.g.
``REVMENTOR_MATCHING_ANSWER_ATTEMPTS=8``.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from services.runtime.settings import ServiceSettings

SERVICE = "matching"


class MatchingSettings(ServiceSettings):
    answer_attempts: int = Field(
        default=4, ge=1, le=20,
        description="Times a round or an answer is run again from the start after a write "
        "conflict (both sides of a pair answering at the same moment).",
    )

    @classmethod
    def load(cls, **overrides: Any) -> MatchingSettings:
        """The service's settings from the environment plus ``overrides``."""
        settings = cls.for_service(SERVICE, **overrides)
        assert isinstance(settings, cls)
        return settings

    @classmethod
    def of(cls, settings: ServiceSettings) -> MatchingSettings:
        """Upgrade plain service settings (its fields win) to matching settings."""
        if isinstance(settings, MatchingSettings):
            return settings
        return cls.load(**dict(settings))
