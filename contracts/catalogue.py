"""Every event revmentor publishes, indexed by its versioned CloudEvents type.

The order is the catalogue's (docs/architecture.md); exported schemas and the AsyncAPI
document follow it, so the generated files stay stable.
"""

from __future__ import annotations

import copy
from typing import Any

from contracts.base import Event
from contracts.enrolment import (
    CohortClosed,
    CohortOpened,
    ParticipantEnrolled,
    ParticipantWithdrawn,
)
from contracts.matching import (
    MatchingRoundCompleted,
    PairAccepted,
    PairConfirmed,
    PairDeclined,
    PairProposed,
)
from contracts.notifications import NotificationDelivered, NotificationFailed
from contracts.sessions import (
    MentorshipCompleted,
    SessionCancelled,
    SessionCompleted,
    SessionScheduled,
)

ALL_EVENTS: tuple[type[Event], ...] = (
    CohortOpened,
    CohortClosed,
    ParticipantEnrolled,
    ParticipantWithdrawn,
    PairProposed,
    PairAccepted,
    PairDeclined,
    PairConfirmed,
    MatchingRoundCompleted,
    SessionScheduled,
    SessionCompleted,
    SessionCancelled,
    MentorshipCompleted,
    NotificationDelivered,
    NotificationFailed,
)

EVENT_TYPES: dict[str, type[Event]] = {cls.event_type(): cls for cls in ALL_EVENTS}


def examples_of(event_cls: type[Event]) -> list[dict[str, Any]]:
    """The event's documented examples (``json_schema_extra``) as fresh copies of JSON data."""
    extra = event_cls.model_config.get("json_schema_extra")
    examples = extra.get("examples") if isinstance(extra, dict) else None
    if not isinstance(examples, list):
        return []
    return [copy.deepcopy(example) for example in examples if isinstance(example, dict)]


def example_data(event_cls: type[Event], index: int = 0) -> dict[str, Any]:
    """The ``index``-th documented example of an event, as JSON data."""
    examples = examples_of(event_cls)
    if len(examples) <= index:
        raise LookupError(f"{event_cls.__name__} documents no example {index}")
    return examples[index]


def example_event(event_cls: type[Event], index: int = 0) -> Event:
    """The documented example as a validated event: realistic test data for every service."""
    return event_cls.model_validate(example_data(event_cls, index))
