"""Run the notifications service: ``python -m services.notifications`` (settings from the
environment)."""

from __future__ import annotations

import uvicorn

from services.notifications.app import create_app
from services.notifications.settings import NotificationsSettings
from services.runtime.log import configure_logging


def main() -> None:
    settings = NotificationsSettings.load()
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    uvicorn.run(create_app(settings), host=settings.http_host, port=settings.http_port,
                log_config=None)


if __name__ == "__main__":
    main()
