"""The service's MongoDB database through PyMongo's native async API.

Motor reached end of life in May 2026; ``AsyncMongoClient`` is its successor. Transactions need a
replica set, which every tier provides (a single-node one in tests and the embedded stack).
"""

from __future__ import annotations

from typing import Any

import pymongo
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import (
    ConnectionFailure,
    NetworkTimeout,
    OperationFailure,
    PyMongoError,
    ServerSelectionTimeoutError,
)
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

Database = AsyncDatabase[dict[str, Any]]


def connect(
    uri: str, *, app_name: str, server_selection_timeout_ms: int = 5000
) -> AsyncMongoClient[dict[str, Any]]:
    """A client with majority reads and writes, so committed means durable on the replica set."""
    return AsyncMongoClient(
        uri,
        appname=app_name,
        tz_aware=True,
        serverSelectionTimeoutMS=server_selection_timeout_ms,
        w="majority",
        readConcernLevel="majority",
    )


TRANSACTION_OPTIONS: dict[str, Any] = {
    "read_concern": ReadConcern("snapshot"),
    "write_concern": WriteConcern("majority"),
}


def is_transient(exc: BaseException) -> bool:
    """True when retrying may succeed: the database is unreachable or a transaction conflicted."""
    if isinstance(exc, ConnectionFailure | NetworkTimeout | ServerSelectionTimeoutError):
        return True
    if isinstance(exc, PyMongoError) and (
        exc.has_error_label("TransientTransactionError")
        or exc.has_error_label("UnknownTransactionCommitResult")
        or exc.has_error_label("RetryableWriteError")
    ):
        return True
    return isinstance(exc, OperationFailure) and exc.code in {112, 189, 91, 11600, 11602, 10107}


async def ping(client: AsyncMongoClient[dict[str, Any]], timeout_s: float = 1.0) -> bool:
    """The server answers a ping within ``timeout_s`` (server selection included)."""
    try:
        with pymongo.timeout(timeout_s):
            await client.admin.command("ping")
    except PyMongoError:
        return False
    return True
