"""revmentor event contracts: pydantic models, CloudEvents envelope, topics.

Depends on pydantic only, so subscribing systems can install it on its own.
"""

from contracts.base import Event, ReasonCode
from contracts.catalogue import ALL_EVENTS, EVENT_TYPES
from contracts.envelope import ContractError, Envelope, Record, decode, encode

__all__ = [
    "ALL_EVENTS",
    "EVENT_TYPES",
    "ContractError",
    "Envelope",
    "Event",
    "ReasonCode",
    "Record",
    "decode",
    "encode",
]
