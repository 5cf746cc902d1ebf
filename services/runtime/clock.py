"""The clock a service's application layer is given, so rules and tests agree on "now".

Commands take the time from an injected :data:`Clock` rather than calling ``datetime.now``: a
test can then pin the moment a cohort closes or a session starts, and every timestamp is cut to
the database's millisecond precision, so an event and the stored document say the same instant.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def to_millis(moment: datetime) -> datetime:
    """``moment`` at the database's precision, so events and stored documents agree exactly."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def utc_now() -> datetime:
    """Now in UTC, at the database's millisecond precision: the default :data:`Clock`."""
    return to_millis(datetime.now(UTC))
