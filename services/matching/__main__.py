"""Run the matching service: ``python -m services.matching`` (settings from the environment)."""

from __future__ import annotations

import uvicorn

from services.matching.app import create_app
from services.matching.settings import MatchingSettings
from services.runtime.log import configure_logging


def main() -> None:
    settings = MatchingSettings.load()
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    uvicorn.run(create_app(settings), host=settings.http_host, port=settings.http_port,
                log_config=None)


if __name__ == "__main__":
    main()
