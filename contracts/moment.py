"""``Moment``: a date and time the platform accepts, bounded to what every store can hold.

ISO 8601 allows ``9999-12-31T23:59:59-14:00``, which is year 10000 in UTC: Python cannot convert
it to UTC, so BSON encoding (in the producing service or in any consumer that stores the date)
fails with ``OverflowError`` long after validation passed. A ``Moment`` is an aware datetime
whose instant lies in [1970-01-01, 2200-01-01) UTC: wide enough for any cohort window, consent
or session, narrow enough for every database and language runtime (Unix time, 64-bit
milliseconds), and refused where the value enters (a 422, a dead letter) instead of at encode.

It lives in ``contracts`` because events carry dates too, and both the HTTP bodies of every
service and the event models must refuse the same values; services share it without importing
each other.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def _within_range(value: datetime) -> datetime:
    # Comparing aware datetimes never converts them, so it cannot overflow as astimezone() would.
    if not EARLIEST <= value < LATEST:
        raise ValueError(
            f"must lie between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d} (UTC)")
    return value


Moment = Annotated[AwareDatetime, AfterValidator(_within_range)]
"""An aware datetime in [1970-01-01, 2200-01-01) UTC; the offset it was given is kept."""
