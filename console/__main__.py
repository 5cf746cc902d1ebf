"""``python -m console``: the console on ``REVMENTOR_CONSOLE_HTTP_HOST``:``_HTTP_PORT``."""

from __future__ import annotations

import argparse
import logging

import uvicorn

from console.app import create_app
from console.settings import ConsoleSettings


def main() -> None:
    settings = ConsoleSettings()
    parser = argparse.ArgumentParser(prog="python -m console")
    parser.add_argument("--host", default=settings.http_host)
    parser.add_argument("--port", type=int, default=settings.http_port)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # the access log would write query strings (a participant search holds names): ours
    # writes method, path and status only
    uvicorn.run(create_app(settings), host=args.host, port=args.port, access_log=False,
                log_level="info")


if __name__ == "__main__":
    main()
