"""The profile topic's contract: its key names one enrolment, a tombstone is a null value, and
the AsyncAPI document says both, with the topic's compaction settings."""

from __future__ import annotations

import pytest

from contracts import ContractError
from contracts.asyncapi import build_asyncapi
from contracts.catalogue import example_data
from contracts.profiles import (
    ParticipantProfile,
    decode_profile,
    decode_tombstone,
    encode_profile,
    encode_tombstone,
    profile_key,
)
from contracts.topics import (
    EVENT_STREAMS,
    MAX_COMPACTION_LAG_MS,
    PROFILES,
    SPEC_OF,
    TOPIC_SPECS,
    dead_letter_topic,
)

PROFILE = ParticipantProfile.model_validate(example_data(ParticipantProfile))


def test_a_profile_is_keyed_by_its_enrolment_and_decodes_back():
    record = encode_profile(PROFILE, source="/tests")
    assert (record.topic, record.key) == (PROFILES, b"coh-2025-autumn/p-4f1c9e2a")
    assert decode_profile(record.key, record.value).event == PROFILE


def test_a_cohort_id_may_hold_the_separator_a_participant_id_may_not():
    assert decode_tombstone(profile_key("unit/coh-1", "p-1").encode()) == ("unit/coh-1", "p-1")
    with pytest.raises(ValueError):
        ParticipantProfile.model_validate({**example_data(ParticipantProfile),
                                           "participant_id": "p/1"})


@pytest.mark.parametrize("key", [None, b"no-separator", b"/p-1", b"coh-1/", b"\xff/p", b"k" * 2000])
def test_a_key_that_names_no_enrolment_is_a_contract_error(key: bytes | None):
    with pytest.raises(ContractError) as caught:
        decode_tombstone(key)
    assert caught.value.reason == "invalid_key"


def test_a_profile_under_another_enrolments_key_is_refused():
    """A tombstone for its key would not erase it."""
    record = encode_profile(PROFILE, source="/tests")
    with pytest.raises(ContractError) as caught:
        decode_profile(profile_key("coh-2025-autumn", "p-other").encode(), record.value)
    assert caught.value.reason == "invalid_key"


def test_a_tombstone_is_the_key_with_a_null_value():
    tombstone = encode_tombstone("coh-1", "p-1")
    assert (tombstone.topic, tombstone.key, tombstone.value) == (PROFILES, b"coh-1/p-1", None)


def test_the_profile_topic_is_in_asyncapi_with_its_key_tombstone_and_compaction():
    channel = build_asyncapi()["channels"]["profiles"]
    assert channel["address"] == PROFILES
    assert list(channel["messages"]) == ["ParticipantProfile", "ParticipantProfileErased"]
    profile, tombstone = channel["messages"].values()
    assert profile["bindings"]["kafka"]["key"]["pattern"] == "^.+/[^/]+$"
    assert tombstone["payload"] == {"type": "null"}
    assert tombstone["bindings"]["kafka"]["key"] == profile["bindings"]["kafka"]["key"]
    assert "tombstone" in channel["description"]
    binding = channel["bindings"]["kafka"]
    assert binding["topicConfiguration"]["cleanup.policy"] == ["compact"]
    assert channel["x-revmentor-topic-config"]["max.compaction.lag.ms"] == str(
        MAX_COMPACTION_LAG_MS)


def test_every_topic_has_a_dead_letter_topic_and_the_profiles_one_expires_within_the_bound():
    names = {s.name for s in TOPIC_SPECS}
    assert {dead_letter_topic(t) for t in (*EVENT_STREAMS, PROFILES)} <= names
    profile_dlq = SPEC_OF[dead_letter_topic(PROFILES)]
    assert int(profile_dlq.config["retention.ms"]) <= MAX_COMPACTION_LAG_MS
    assert not any(SPEC_OF[t].compacted for t in EVENT_STREAMS) and SPEC_OF[PROFILES].compacted
