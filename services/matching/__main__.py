"""``python -m services.matching``: serve the matching service."""

from __future__ import annotations

import uvicorn

from services.matching.app import create_app
from services.runtime.log import configure_logging
from services.runtime.settings import ServiceSettings


def main() -> None:
    settings = ServiceSettings.for_service("matching")
    configure_logging("matching", settings.log_level, settings.log_json)
    uvicorn.run(
        create_app(settings), host=settings.http_host, port=settings.http_port, log_config=None
    )


if __name__ == "__main__":
    main()
