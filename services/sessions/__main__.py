"""Run the sessions service: ``python -m services.sessions`` (settings from the environment)."""

from __future__ import annotations

import uvicorn

from services.runtime.log import configure_logging
from services.sessions.app import create_app
from services.sessions.settings import SessionsSettings


def main() -> None:
    settings = SessionsSettings.load()
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    uvicorn.run(create_app(settings), host=settings.http_host, port=settings.http_port,
                log_config=None)


if __name__ == "__main__":
    main()
