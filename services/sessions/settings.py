"""Settings of the sessions service: the shared ones plus its own knobs.

Read from ``REVMENTOR_SESSIONS_<FIELD>`` like every other service setting, e.g.
``REVMENTOR_SESSIONS_FEEDBACK_WINDOW_HOURS=72``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import Field

from services.runtime.settings import ServiceSettings

SERVICE = "sessions"


class SessionsSettings(ServiceSettings):
    command_attempts: int = Field(
        default=4, ge=1, le=20,
        description="Times a change to a pair's sessions is run again from the start after a "
        "write conflict (both members acting on the pair at the same moment).",
    )
    feedback_window_hours: float = Field(
        default=168, gt=0, le=24 * 90,
        description="How long after a held session its feedback is open; then SessionCompleted "
        "is published with the feedback given so far.",
    )
    feedback_sweep_interval_s: float = Field(
        default=60, gt=0, description="How often lapsed feedback windows are looked for.")
    session_cadence_days: float = Field(
        default=30, gt=0, le=365,
        description="Expected time between two sessions; a mentorship is on track while it "
        "holds at least one per cadence since confirmation, up to the target.",
    )
    http_max_body_bytes: int = Field(
        default=64 * 1024, ge=1024,
        description="Largest request body accepted (413 beyond); a session plan is small.")

    @property
    def feedback_window(self) -> timedelta:
        return timedelta(hours=self.feedback_window_hours)

    @property
    def session_cadence(self) -> timedelta:
        return timedelta(days=self.session_cadence_days)

    @classmethod
    def load(cls, **overrides: Any) -> SessionsSettings:
        """The service's settings from the environment plus ``overrides``."""
        settings = cls.for_service(SERVICE, **overrides)
        assert isinstance(settings, cls)
        return settings

    @classmethod
    def of(cls, settings: ServiceSettings) -> SessionsSettings:
        """Upgrade plain service settings (its fields win) to sessions settings."""
        if isinstance(settings, SessionsSettings):
            return settings
        return cls.load(**dict(settings))
