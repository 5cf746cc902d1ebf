"""Log lines carry the tracing ids and never an e-mail address or a name."""

from __future__ import annotations

import json
import logging

import pytest

from services.runtime.log import bound, configure_logging, get_logger


def lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]


def test_log_lines_are_json_bound_with_service_tenant_cohort_event_and_correlation_ids(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("enrolment")
    with bound(tenant_id="bu-1", cohort_id="c-1", event_id="e-1", correlation_id="corr-1"):
        get_logger("test").info("participant_enrolled", role="mentor")
    [line] = lines(capsys)
    assert line["event"] == "participant_enrolled"
    assert {k: line[k] for k in ("service", "tenant_id", "cohort_id", "event_id",
                                 "correlation_id")} == {
        "service": "enrolment", "tenant_id": "bu-1", "cohort_id": "c-1", "event_id": "e-1",
        "correlation_id": "corr-1",
    }


def test_email_addresses_are_never_logged_in_messages_values_or_nested_data(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("enrolment")
    log = get_logger("test")
    log.warning("enrolment of ada.lovelace@example.com rejected",
                detail={"contact": "ada.lovelace@example.com", "name": "Ada Lovelace"},
                email="ada.lovelace@example.com", name="Ada Lovelace")
    logging.getLogger("stdlib").warning("from the standard library: bob@example.org")
    output = capsys.readouterr().out
    assert "@example" not in output
    assert "Ada Lovelace" not in output
    assert output.count("[redacted]") >= 5


def test_ids_bound_in_a_block_are_gone_after_it(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("matching")
    with bound(cohort_id="c-1"):
        pass
    get_logger("test").info("after")
    [line] = lines(capsys)
    assert "cohort_id" not in line
