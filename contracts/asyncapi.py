"""The AsyncAPI 3.0 document of every revmentor event, built from the catalogue.

Built here rather than by FastStream so that the contracts package, which subscribing systems
install on their own, depends on pydantic only; the shape follows what FastStream generates
(channels per topic, one send operation per producer, payload schemas in components/schemas),
except that each payload is the CloudEvents envelope the services actually put on the wire.
"""

from __future__ import annotations

import inspect
import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic.json_schema import models_json_schema

from contracts.base import Event
from contracts.catalogue import ALL_EVENTS, examples_of
from contracts.envelope import (
    CONTENT_TYPE,
    DATA_CONTENT_TYPE,
    REQUIRED_ATTRIBUTES,
    SPECVERSION,
    encode,
)
from contracts.topics import topic_of

ASYNCAPI_VERSION = "3.0.0"
DOCUMENT_VERSION = "1.0.0"
KAFKA_BINDING_VERSION = "0.5.0"
SCHEMA_REF = "#/components/schemas/{model}"
EXAMPLE_TIME = datetime(2025, 10, 1, 12, 0, tzinfo=UTC)
"""Fixed, so the generated document is byte-for-byte reproducible."""

_STRING: dict[str, Any] = {"type": "string"}


def build_asyncapi(events: tuple[type[Event], ...] = ALL_EVENTS) -> dict[str, Any]:
    """The AsyncAPI document as a plain dict, in a deterministic order."""
    _, top = models_json_schema([(cls, "validation") for cls in events], ref_template=SCHEMA_REF)
    schemas = top.get("$defs", {})
    producers: dict[str, list[type[Event]]] = {}
    for cls in events:
        producers.setdefault(cls.producer, []).append(cls)
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for producer, classes in producers.items():
        topic = topic_of(classes[0])
        channels[producer] = {
            "address": topic,
            "title": f"{producer} events",
            "description": f"Facts published by the {producer} service; record key = cohort id, "
            f"dead letters go to {topic}.dlq.",
            "messages": {
                cls.__name__: {"$ref": f"#/components/messages/{cls.__name__}"} for cls in classes
            },
            "bindings": {"kafka": {"topic": topic, "bindingVersion": KAFKA_BINDING_VERSION}},
        }
        operations[f"send_{producer}_events"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{producer}"},
            "title": f"The {producer} service publishes",
            "messages": [
                {"$ref": f"#/channels/{producer}/messages/{cls.__name__}"} for cls in classes
            ],
        }
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "revmentor events",
            "version": DOCUMENT_VERSION,
            "description": "Events of the revmentor reverse-mentoring platform, as CloudEvents "
            "1.0 in structured JSON mode. Within a major version changes are backward "
            "compatible (optional fields only); a breaking change is a new .v2 type and topic.",
            "license": {"name": "Apache-2.0"},
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": {
            "development": {
                "host": "localhost:9092",
                "protocol": "kafka",
                "description": "The embedded broker of `revmentor up`.",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": {name: schemas[name] for name in sorted(schemas)},
            "messages": {cls.__name__: _message(cls) for cls in events},
        },
    }


def _message(cls: type[Event]) -> dict[str, Any]:
    doc = inspect.cleandoc(cls.__doc__ or cls.__name__)
    return {
        "name": cls.__name__,
        "title": _words(cls.__name__),
        "summary": doc.split("\n\n", 1)[0].replace("\n", " "),
        "description": f"CloudEvents type `{cls.event_type()}`.",
        "contentType": CONTENT_TYPE,
        "correlationId": {"location": "$message.payload#/correlationid"},
        "headers": _headers(cls),
        "payload": _envelope(cls),
        "bindings": {
            "kafka": {
                "key": {
                    **_STRING,
                    "description": "The cohort id: a cohort's events stay in order.",
                },
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
        "examples": _examples(cls),
    }


def _headers(cls: type[Event]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["ce_id", "ce_type"],
        "properties": {
            "ce_id": {**_STRING, "description": "Copy of the CloudEvents id, for routing."},
            "ce_type": {**_STRING, "const": cls.event_type(), "description": "Copy of the type."},
            "content-type": {**_STRING, "const": CONTENT_TYPE},
        },
    }


def _envelope(cls: type[Event]) -> dict[str, Any]:
    def attribute(description: str, **extra: Any) -> dict[str, Any]:
        return {**_STRING, **extra, "description": description}

    return {
        "type": "object",
        "required": list(REQUIRED_ATTRIBUTES),
        "properties": {
            "specversion": attribute("CloudEvents version.", const=SPECVERSION),
            "id": attribute("Unique event id; consumers deduplicate on it.", minLength=1),
            "source": attribute("Producing service instance.", format="uri-reference"),
            "type": attribute("Versioned event type.", const=cls.event_type()),
            "time": attribute("When the fact happened.", format="date-time"),
            "subject": attribute("Entity the fact is about, e.g. a participant or pair id."),
            "datacontenttype": attribute("Encoding of data.", const=DATA_CONTENT_TYPE),
            "tenantid": attribute("Business unit; equals data.tenant_id."),
            "cohortid": attribute("Cohort; equals data.cohort_id and the record key."),
            "correlationid": attribute("Id shared by all events of one business flow."),
            "causationid": attribute("Id of the event that caused this one."),
            "data": {"$ref": SCHEMA_REF.format(model=cls.__name__)},
        },
    }


def _examples(cls: type[Event]) -> list[dict[str, Any]]:
    result = []
    for index, example in enumerate(examples_of(cls)):
        event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{cls.event_type()}#{index}"))
        record = encode(
            cls.model_validate(example),
            source=f"/revmentor/{cls.producer}",
            event_id=event_id,
            time=EXAMPLE_TIME,
            correlation_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{cls.__name__}#flow")),
        )
        result.append(
            {
                "name": f"{cls.__name__}Example{index + 1 if index else ''}",
                "headers": record.headers,
                "payload": json.loads(record.value),
            }
        )
    return result


def _words(name: str) -> str:
    words = re.findall(r"[A-Z][a-z]*", name)
    return " ".join([words[0], *(word.lower() for word in words[1:])])
