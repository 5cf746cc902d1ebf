"""The broker's log lines are the service's JSON lines: ids only, e-mail addresses redacted."""

from __future__ import annotations

import json
import logging

import pytest

from services.runtime.kafka import BrokerLog
from services.runtime.log import configure_logging


def test_a_broker_error_is_one_redacted_json_line_with_its_ids_and_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("enrolment")
    try:
        raise ValueError("duplicate of bob@example.org")
    except ValueError as exc:
        BrokerLog().log(logging.ERROR, f"ValueError: {exc}", exc_info=exc, extra={
            "topic": "revmentor.enrolment.v1", "group_id": "matching.pool",
            "message_id": "41-1700000000", "payload": "anything else is dropped"})
    BrokerLog().log(logging.DEBUG, "Received", extra={"topic": "revmentor.enrolment.v1"})
    [line] = [json.loads(text) for text in capsys.readouterr().out.splitlines() if text]
    assert line["level"] == "error"
    assert (line["topic"], line["group_id"], line["message_id"]) == (
        "revmentor.enrolment.v1", "matching.pool", "41-1700000000")
    assert "payload" not in line
    assert "ValueError" in line["exception"]
    assert "@example.org" not in json.dumps(line)
