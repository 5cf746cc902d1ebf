"""Per-service settings from the environment; backoff that grows and is capped."""

from __future__ import annotations

import pytest

from contracts.enrolment import CohortClosed, ParticipantEnrolled
from services.enrolment.settings import EnrolmentSettings
from services.runtime.consumer import RetryPolicy, _runs_of_one_type
from services.runtime.settings import ServiceSettings
from tests.harness import example


def test_service_prefix_wins_over_the_platform_wide_urls(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MONGODB_URI", "mongodb://shared:27017")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "shared:9092")
    monkeypatch.setenv("REVMENTOR_MATCHING_MONGODB_URI", "mongodb://matching:27017")
    monkeypatch.setenv("REVMENTOR_MATCHING_HTTP_PORT", "8081")
    matching = ServiceSettings.for_service("matching")
    enrolment = ServiceSettings.for_service("enrolment")
    assert matching.mongodb_uri == "mongodb://matching:27017"
    assert matching.http_port == 8081
    assert matching.mongodb_database == "matching"
    assert enrolment.mongodb_uri == "mongodb://shared:27017"
    assert enrolment.kafka_bootstrap_servers == "shared:9092"


def test_producer_idempotence_is_a_setting_off_by_default(monkeypatch: pytest.MonkeyPatch):
    assert ServiceSettings.for_service("sessions").kafka_enable_idempotence is False
    monkeypatch.setenv("REVMENTOR_SESSIONS_KAFKA_ENABLE_IDEMPOTENCE", "true")
    assert ServiceSettings.for_service("sessions").kafka_enable_idempotence is True


def test_backoff_grows_exponentially_and_is_capped() -> None:
    policy = RetryPolicy(attempts=10, initial_backoff_s=0.1, max_backoff_s=1.0)
    for attempt, ceiling in [(1, 0.1), (2, 0.2), (3, 0.4), (8, 1.0)]:
        delays = [policy.backoff(attempt) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)


def test_consecutive_events_of_one_type_form_runs_in_order() -> None:
    from contracts import decode, encode

    def env(cls: type, pid: str = "p") -> object:
        extra = {"participant_id": pid} if cls is ParticipantEnrolled else {}
        return decode(encode(example(cls, cohort_id="c", **extra), source="/t").value)

    a, b, c, d = (env(ParticipantEnrolled, "1"), env(ParticipantEnrolled, "2"),
                  env(CohortClosed), env(ParticipantEnrolled, "3"))
    runs = _runs_of_one_type([a, b, c, d])  # type: ignore[list-item]
    assert [[id(e) for e in run] for run in runs] == [[id(a), id(b)], [id(c)], [id(d)]]


@pytest.mark.parametrize("service", ["enrolment", "matching"])
def test_the_environment_names_the_database_over_the_service_derived_default(
    monkeypatch: pytest.MonkeyPatch, service: str
):
    assert ServiceSettings.for_service(service).mongodb_database == service
    monkeypatch.setenv(f"REVMENTOR_{service.upper()}_MONGODB_DATABASE", f"{service}_eu")
    assert ServiceSettings.for_service(service).mongodb_database == f"{service}_eu"


def test_enrolment_settings_read_the_database_and_their_own_knobs_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setenv("REVMENTOR_ENROLMENT_MONGODB_DATABASE", "enrolment_eu")
    monkeypatch.setenv("REVMENTOR_ENROLMENT_SERVICE_NAME", "enrolment-eu")
    monkeypatch.setenv("REVMENTOR_ENROLMENT_IMPORT_CHUNK_SIZE", "250")
    settings = EnrolmentSettings.load()
    assert (settings.mongodb_database, settings.service_name, settings.import_chunk_size) == (
        "enrolment_eu", "enrolment-eu", 250)


def test_a_value_passed_in_code_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("REVMENTOR_ENROLMENT_MONGODB_DATABASE", "enrolment_eu")
    monkeypatch.setenv("REVMENTOR_ENROLMENT_OUTBOX_BATCH_SIZE", "50")
    settings = ServiceSettings.for_service("enrolment", mongodb_database="enrolment_test",
                                           outbox_batch_size=7)
    assert (settings.mongodb_database, settings.outbox_batch_size) == ("enrolment_test", 7)
    assert settings.service_name == "enrolment"
