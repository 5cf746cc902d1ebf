"""The console's settings, read from ``REVMENTOR_CONSOLE_<FIELD>``."""

from __future__ import annotations

import os
import secrets

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET_DEFAULT = "revmentor-dev-secret-change-me-0123456789"
"""The services' default dev secret (``REVMENTOR_JWT_SECRET``); the embedded stack sets its own."""


def _dev_secret() -> SecretStr:
    return SecretStr(os.environ.get("REVMENTOR_JWT_SECRET", DEV_SECRET_DEFAULT))


class ConsoleSettings(BaseSettings):
    """Where the services answer, how people sign in, and how the browser session is kept."""

    model_config = SettingsConfigDict(env_prefix="REVMENTOR_CONSOLE_", extra="ignore")

    http_host: str = "127.0.0.1"
    http_port: int = 8000
    public_url: str | None = Field(
        None, description="The console's address as browsers see it; default from the request.")

    enrolment_url: str = "http://127.0.0.1:8001"
    matching_url: str = "http://127.0.0.1:8002"
    sessions_url: str = "http://127.0.0.1:8003"
    notifications_url: str = "http://127.0.0.1:8004"
    service_timeout_s: float = Field(30.0, gt=0)

    cookie_secret: SecretStr = Field(default_factory=lambda: SecretStr(secrets.token_urlsafe(32)),
                                     description="Signs the session cookie; random per start.")
    session_hours: float = Field(8.0, gt=0)

    sign_in: str = Field("dev", pattern="^(dev|oidc)$",
                         description="dev: pick a unit and a role (embedded stack only); oidc")
    dev_jwt_secret: SecretStr = Field(default_factory=_dev_secret)
    dev_business_units: list[str] = ["bu-privatkunden-de", "bu-corporate-uk"]

    oidc_issuer: str | None = Field(None, description="The IdP's issuer URL (discovery).")
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_scope: str = "openid profile email"

    def service_urls(self) -> dict[str, str]:
        return {"enrolment": self.enrolment_url, "matching": self.matching_url,
                "sessions": self.sessions_url, "notifications": self.notifications_url}
