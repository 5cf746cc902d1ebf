"""Settings of the notifications service: the shared ones plus mail, webhook and timing knobs.

Read from ``REVMENTOR_NOTIFICATIONS_<FIELD>`` like every other service setting, e.g.
``REVMENTOR_NOTIFICATIONS_SMTP_HOST=mail.example.com``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, SecretStr

from services.runtime.settings import ServiceSettings

SERVICE = "notifications"


class NotificationsSettings(ServiceSettings):
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_security: Literal["none", "starttls", "tls"] = Field(
        default="none", description="starttls upgrades a plain connection; tls is implicit TLS "
        "(port 465). none only for a local sink.")
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_s: float = Field(default=10.0, gt=0)
    smtp_connections: int = Field(default=4, ge=1, le=64,
                                  description="SMTP connections one dispatch pass sends over.")
    mail_from: str = Field(default="revmentor <noreply@revmentor.invalid>", max_length=320)
    message_id_domain: str = Field(default="revmentor.invalid", max_length=253,
                                   description="Right-hand side of every Message-ID.")
    portal_url: str = Field(default="http://localhost:8000", max_length=2000,
                            description="Where participants answer proposals and give feedback.")

    reminder_hours_before: int = Field(default=24, ge=1, le=168)
    nudge_after_days: int = Field(default=3, ge=1, le=60,
                                  description="Days a proposal waits unanswered before a nudge.")
    feedback_delay_minutes: int = Field(default=30, ge=0, le=10_080,
                                        description="After a session's planned end.")
    erase_grace_s: float = Field(
        default=3600.0, gt=0,
        description="How long a tombstoned directory entry waits for its withdrawal event (a "
        "different topic) so the confirmation can still be sent; erased then at the latest.")

    delivery_attempts: int = Field(default=6, ge=1, le=1000)
    delivery_initial_backoff_s: float = Field(default=30.0, gt=0)
    delivery_max_backoff_s: float = Field(default=3600.0, gt=0)
    dispatch_batch_size: int = Field(default=200, ge=1, le=5000)
    dispatch_poll_interval_s: float = Field(default=1.0, gt=0)
    dispatch_claim_ttl_s: float = Field(
        default=120.0, gt=0,
        description="A claimed delivery not settled within this is taken by another dispatcher.")

    webhook_timeout_s: float = Field(default=10.0, gt=0)
    webhook_allow_http: bool = Field(
        default=False, description="Accept http:// endpoint URLs (local receivers, tests).")
    webhook_hosts: list[str] = Field(
        default_factory=list, max_length=1000,
        description="Hosts endpoints may point at (``.example.com`` admits its subdomains); "
        "empty admits any. Keeps a unit's admin from aiming the platform at internal systems.")
    webhook_failures_before_disable: int = Field(default=20, ge=1, le=10_000)
    webhooks_per_unit: int = Field(default=50, ge=1, le=1000)

    @classmethod
    def load(cls, **overrides: Any) -> NotificationsSettings:
        """The service's settings from the environment plus ``overrides``."""
        settings = cls.for_service(SERVICE, **overrides)
        assert isinstance(settings, cls)
        return settings

    @classmethod
    def of(cls, settings: ServiceSettings) -> NotificationsSettings:
        """Upgrade plain service settings (its fields win) to notifications settings."""
        if isinstance(settings, NotificationsSettings):
            return settings
        return cls.load(**dict(settings))
