"""The database driver never copies documents into the log.

PyMongo logs every command with its documents on ``pymongo.command`` at DEBUG (truncated to
1,000 characters): with ``LOG_LEVEL=DEBUG`` a service would write names, goals and private
notes into log storage that no erasure reaches. :func:`keep_documents_out_of_logs` raises that
one logger above DEBUG; connection and server-selection logs stay available.
"""

from __future__ import annotations

import logging

COMMAND_LOGGER = "pymongo.command"


def keep_documents_out_of_logs() -> None:
    logging.getLogger(COMMAND_LOGGER).setLevel(logging.INFO)
