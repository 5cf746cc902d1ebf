"""What a dead-letter replay may touch: the event streams only."""

from __future__ import annotations

import pytest

from contracts.topics import EVENT_STREAMS, PROFILES
from services.runtime.dead_letter_replay import ReplayRequest


def test_the_profile_topic_is_never_replayed() -> None:
    with pytest.raises(ValueError, match="erased personal data"):
        ReplayRequest(topics=(PROFILES,))


def test_a_topic_that_is_no_event_stream_is_refused() -> None:
    with pytest.raises(ValueError, match="not an event stream"):
        ReplayRequest(topics=("revmentor.billing.v1",))


def test_by_default_every_event_stream_is_replayed() -> None:
    assert ReplayRequest().topics == EVENT_STREAMS
