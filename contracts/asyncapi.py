"""The AsyncAPI 3.0 document of every revmentor event, built from the catalogue.

Built here rather than by FastStream so that the contracts package, which subscribing systems
install on their own, depends on pydantic only; the shape follows what FastStream generates
(channels per topic, one send operation per producer, payload schemas in components/schemas),
except that each payload is the CloudEvents envelope the services actually put on the wire.
The compacted profile topic is a channel of its own, with its two messages (a profile, and the
tombstone that erases it) defined in the channel, apart from the events in components/messages.
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
    encode_as,
)
from contracts.profiles import ParticipantProfile
from contracts.topics import DAY_MS, PROFILES, SPEC_OF, TopicSpec, record_key, topic_of

ASYNCAPI_VERSION = "3.0.0"
DOCUMENT_VERSION = "1.0.0"
KAFKA_BINDING_VERSION = "0.5.0"
SCHEMA_REF = "#/components/schemas/{model}"
EXAMPLE_TIME = datetime(2025, 10, 1, 12, 0, tzinfo=UTC)
"""Fixed, so the generated document is byte-for-byte reproducible."""

_STRING: dict[str, Any] = {"type": "string"}
PROFILE_CHANNEL = "profiles"
TOMBSTONE = "ParticipantProfileErased"


def build_asyncapi(events: tuple[type[Event], ...] = ALL_EVENTS) -> dict[str, Any]:
    """The AsyncAPI document as a plain dict, in a deterministic order."""
    models: list[type[Event]] = [*events, ParticipantProfile]
    _, top = models_json_schema([(cls, "validation") for cls in models], ref_template=SCHEMA_REF)
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
            "bindings": {"kafka": _topic_binding(SPEC_OF[topic])},
            "x-revmentor-topic-config": dict(SPEC_OF[topic].config),
        }
        operations[f"send_{producer}_events"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{producer}"},
            "title": f"The {producer} service publishes",
            "messages": [
                {"$ref": f"#/channels/{producer}/messages/{cls.__name__}"} for cls in classes
            ],
        }
    channels[PROFILE_CHANNEL] = _profile_channel()
    operations["send_enrolment_profiles"] = {
        "action": "send",
        "channel": {"$ref": f"#/channels/{PROFILE_CHANNEL}"},
        "title": "The enrolment service publishes profiles and erases them",
        "messages": [{"$ref": f"#/channels/{PROFILE_CHANNEL}/messages/{name}"}
                     for name in channels[PROFILE_CHANNEL]["messages"]],
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


def _topic_binding(spec: TopicSpec) -> dict[str, Any]:
    """The Kafka channel binding: partitions and the standard topic configuration keys (the
    binding has no ``max.compaction.lag.ms``; ``x-revmentor-topic-config`` has every key)."""
    config: dict[str, Any] = {"cleanup.policy": spec.config["cleanup.policy"].split(",")}
    for key in ("retention.ms", "delete.retention.ms"):
        if key in spec.config:
            config[key] = int(spec.config[key])
    return {"topic": spec.name, "partitions": spec.partitions, "topicConfiguration": config,
            "bindingVersion": KAFKA_BINDING_VERSION}


_PROFILE_KEY: dict[str, Any] = {
    **_STRING,
    "pattern": "^.+/[^/]+$",
    "description": "`<cohort_id>/<participant_id>`: one enrolment (a participant id is a "
    "directory id, the same in several cohorts). Compaction keeps the latest record per key.",
}


def _profile_channel() -> dict[str, Any]:
    spec = SPEC_OF[PROFILES]
    lag_days = int(spec.config["max.compaction.lag.ms"]) // DAY_MS
    tombstone_days = int(spec.config["delete.retention.ms"]) // DAY_MS
    profile = _message(ParticipantProfile, key=_PROFILE_KEY,
                       cohort="Cohort; equals data.cohort_id, the key's first part.")
    return {
        "address": PROFILES,
        "title": "enrolment profiles",
        "description": "Contact details and free text of each enrolment, the only place they "
        "travel: a compacted topic keyed `<cohort_id>/<participant_id>`. Withdrawal writes a "
        "tombstone (the key with a null value); every consumer deletes its copy when it "
        f"arrives, and the log cleaner removes the earlier values within {lag_days} days "
        f"(`max.compaction.lag.ms`); the tombstone stays readable {tombstone_days} more days "
        f"(`delete.retention.ms`). Dead letters go to {PROFILES}.dlq, which expires within "
        "the same bound.",
        "messages": {ParticipantProfile.__name__: profile, TOMBSTONE: _tombstone_message()},
        "bindings": {"kafka": _topic_binding(spec)},
        "x-revmentor-topic-config": dict(spec.config),
    }


def _tombstone_message() -> dict[str, Any]:
    return {
        "name": TOMBSTONE,
        "title": "Profile erased (tombstone)",
        "summary": "The enrolment was withdrawn: erase every copy of its profile.",
        "description": "A Kafka tombstone: a record with the profile's key and a null value "
        "(not an empty body, which compaction would keep). No headers, no CloudEvent.",
        "payload": {"type": "null"},
        "bindings": {"kafka": {"key": _PROFILE_KEY, "bindingVersion": KAFKA_BINDING_VERSION}},
        "examples": [{"name": f"{TOMBSTONE}Example", "payload": None}],
    }


def _message(cls: type[Event], *, key: dict[str, Any] | None = None,
             cohort: str = "Cohort; equals data.cohort_id and the record key.") -> dict[str, Any]:
    doc = inspect.cleandoc(cls.__doc__ or cls.__name__)
    return {
        "name": cls.__name__,
        "title": _words(cls.__name__),
        "summary": doc.split("\n\n", 1)[0].replace("\n", " "),
        "description": f"CloudEvents type `{cls.event_type()}`.",
        "contentType": CONTENT_TYPE,
        "correlationId": {"location": "$message.payload#/correlationid"},
        "headers": _headers(cls),
        "payload": _envelope(cls, cohort),
        "bindings": {
            "kafka": {
                "key": key or {
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


def _envelope(cls: type[Event], cohort: str) -> dict[str, Any]:
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
            "cohortid": attribute(cohort),
            "correlationid": attribute("Id shared by all events of one business flow."),
            "causationid": attribute("Id of the event that caused this one."),
            "data": {"$ref": SCHEMA_REF.format(model=cls.__name__)},
        },
    }


def _examples(cls: type[Event]) -> list[dict[str, Any]]:
    result = []
    for index, example in enumerate(examples_of(cls)):
        event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{cls.event_type()}#{index}"))
        event = cls.model_validate(example)
        is_profile = isinstance(event, ParticipantProfile)
        record = encode_as(
            event,
            topic=PROFILES if is_profile else topic_of(cls),
            key=event.key.encode() if isinstance(event, ParticipantProfile) else record_key(event),
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
