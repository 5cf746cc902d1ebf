"""Twelve-factor settings shared by every service.

Each service reads ``REVMENTOR_<SERVICE>_<FIELD>`` first; the connection URLs also fall back to the
platform-wide ``KAFKA_BOOTSTRAP_SERVERS`` and ``MONGODB_URI`` so that one environment can point all
four services at the same infrastructure tier while a deployment can still split them. The
environment always beats a code default, e.g. ``REVMENTOR_ENROLMENT_MONGODB_DATABASE`` beats the
database named after the service (see :meth:`ServiceSettings.for_service`).
"""

from __future__ import annotations

import os
from typing import Any, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _env(name: str, default: str) -> Any:
    return lambda: os.environ.get(name, default)


class ServiceSettings(BaseSettings):
    """Settings of one service; build with :meth:`for_service` to get its env prefix."""

    model_config = SettingsConfigDict(extra="ignore", env_nested_delimiter="__")

    service_name: str = "revmentor"
    kafka_bootstrap_servers: str = Field(
        default_factory=_env("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092")
    )
    kafka_enable_idempotence: bool = Field(
        default=False,
        description="Idempotent producer; off by default because the embedded Tansu lacks it.",
    )
    kafka_acks: Literal["all", "1", "0"] = "all"
    kafka_linger_ms: int = 5
    kafka_session_timeout_ms: int = Field(
        default=10_000, ge=1000,
        description="Consumer group session timeout; Tansu also waits half of it on each join.",
    )
    kafka_heartbeat_interval_ms: int = Field(default=3000, ge=100)
    kafka_create_topics: bool = Field(
        default=True,
        description="Create missing declared topics at start; off where topics are managed "
        "elsewhere (Strimzi KafkaTopic resources, a platform team).",
    )
    kafka_topic_replication_factor: int | None = Field(
        default=None, ge=1,
        description="Replicas of each topic the service creates; default min(3, brokers).",
    )
    mongodb_uri: str = Field(default_factory=_env("MONGODB_URI", "mongodb://localhost:27017"))
    mongodb_database: str = ""
    mongodb_server_selection_timeout_ms: int = Field(default=5000, ge=1)
    http_host: str = "0.0.0.0"
    http_port: int = 8000
    http_max_body_bytes: int = Field(
        default=1024 * 1024, ge=1024,
        description="Largest request body; routes that stream uploads set their own limit.",
    )
    readiness_timeout_s: float = Field(
        default=1.0, gt=0, description="How long /readyz waits for each dependency's ping.",
    )

    consumer_start_from: Literal["earliest", "latest"] = Field(
        default="earliest",
        description="Where a new consumer group starts; earliest replays the history.",
    )
    consumer_batch_size: int = Field(default=500, ge=1)
    consumer_batch_timeout_ms: int = Field(default=50, ge=0)
    retry_attempts: int = Field(default=6, ge=1, description="In-process tries before a nack.")
    retry_initial_backoff_s: float = Field(default=0.05, gt=0)
    retry_max_backoff_s: float = Field(default=2.0, gt=0)
    handler_failures_before_dead_letter: int = Field(default=3, ge=1)

    outbox_batch_size: int = Field(default=500, ge=1)
    outbox_poll_interval_s: float = Field(default=0.5, gt=0)
    outbox_lease_ttl_s: float = Field(default=10.0, gt=0)
    outbox_retention_days: int = Field(default=7, ge=1)

    jwt_secret: SecretStr = Field(
        default_factory=_env("REVMENTOR_JWT_SECRET", "revmentor-dev-secret-change-me-0123456789")
    )
    jwt_algorithms: list[str] = ["HS256"]
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    jwt_jwks_url: str | None = None

    log_level: str = "INFO"
    log_json: bool = True

    @classmethod
    def for_service(cls, service: str, **overrides: Any) -> ServiceSettings:
        """Settings of ``service``: ``overrides``, else ``REVMENTOR_<SERVICE>_*``, else defaults.

        Precedence, highest first: values passed here (a caller that names a value means it,
        as tests do), the service's environment variables, the platform-wide URLs, then the
        defaults, including those derived from the service (its name, its database named after
        it), which the environment must be able to change.
        """
        settings = cls(_env_prefix=f"REVMENTOR_{service.upper()}_", **overrides)  # type: ignore[call-arg]
        derived = {"service_name": service, "mongodb_database": service}
        unset = {k: v for k, v in derived.items() if k not in settings.model_fields_set}
        return settings.model_copy(update=unset)
