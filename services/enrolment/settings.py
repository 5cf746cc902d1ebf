"""Settings of the enrolment service: the shared ones plus its own knobs.

Read from ``REVMENTOR_ENROLMENT_<FIELD>`` like every other service setting, e.g.
``REVMENTOR_ENROLMENT_IMPORT_CHUNK_SIZE=1000``.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, SecretStr

from services.runtime.settings import ServiceSettings

SERVICE = "enrolment"


class EnrolmentSettings(ServiceSettings):
    import_chunk_size: int = Field(
        default=500, ge=1, le=5000,
        description="Rows per import transaction: one lookup, one insert_many, one outbox write.",
    )
    import_max_rows: int = Field(default=100_000, ge=1, description="Rows one upload may hold.")
    import_max_record_bytes: int = Field(
        default=64 * 1024, ge=256, description="Longest accepted CSV record or JSON line."
    )
    import_max_body_bytes: int = Field(
        default=128 * 1024 * 1024, ge=1024,
        description="Largest upload: import_max_rows rows of 1.3 KiB on average (HRIS exports "
        "run at 200 to 500 bytes a row); a larger file is refused with 413, split it.",
    )
    window_check_interval_s: float = Field(
        default=30.0, gt=0, description="How often cohorts whose enrolment window ended close."
    )
    email_hash_key: SecretStr = Field(
        default=SecretStr("revmentor-dev-email-hash-key-change-me"),
        description="HMAC key of the e-mail hash used for duplicate detection; rotating it "
        "disables duplicate detection against records enrolled before.",
    )

    @classmethod
    def load(cls, **overrides: Any) -> EnrolmentSettings:
        """The service's settings from the environment plus ``overrides``."""
        settings = cls.for_service(SERVICE, **overrides)
        assert isinstance(settings, cls)
        return settings

    @classmethod
    def of(cls, settings: ServiceSettings) -> EnrolmentSettings:
        """Upgrade plain service settings (its fields win) to enrolment settings."""
        if isinstance(settings, EnrolmentSettings):
            return settings
        return cls.load(**dict(settings))
