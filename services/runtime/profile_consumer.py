"""The consumer of the compacted profile topic: copies of contact details, erased on tombstones.

It is the runtime's :class:`~services.runtime.consumer.EventConsumer` with two handlers instead
of one per event type: ``on_profiles`` for a run of profiles (upsert them) and ``on_erased`` for
a run of tombstones (delete what the service keeps of those enrolments). The guarantees are the
event consumer's: a batch is applied in ONE transaction, offsets are committed only after it
committed, profiles are deduplicated by the inbox, a malformed record (a value that is no
profile, a key that names no enrolment or another one) goes to the dead-letter topic and the
consumer goes on. Tombstones need no inbox row: erasing twice erases nothing more.

Records are applied in the order they were consumed, so a profile written again after a
withdrawal (the person enrolled anew) survives the earlier tombstone in the same batch.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from contracts.profiles import (
    ParticipantProfile,
    decode_profile,
    decode_tombstone,
)
from services.runtime.consumer import EventConsumer, Item
from services.runtime.log import bound
from services.runtime.outbox import UnitOfWork

OnProfiles = Callable[[list[ParticipantProfile], UnitOfWork], Awaitable[None]]
OnErased = Callable[[list[tuple[str, str]], UnitOfWork], Awaitable[None]]
"""Receives ``(cohort_id, participant_id)`` of each erased enrolment."""


class ProfileConsumer(EventConsumer):
    def __init__(self, name: str, topics: list[str], on_profiles: OnProfiles,
                 on_erased: OnErased, **kwargs: Any) -> None:
        super().__init__(name, topics, {}, **kwargs)
        self.on_profiles = on_profiles
        self.on_erased = on_erased

    def item(self, record: Any) -> Item | None:
        if record.value is None:
            decode_tombstone(record.key)
            return Item(record, None)
        return Item(record, decode_profile(record.key, record.value))

    async def dispatch(self, items: list[Item], uow: UnitOfWork) -> None:
        for run in _runs_of_one_kind(items):
            if run[0].envelope is None:
                await self.on_erased([decode_tombstone(i.record.key) for i in run], uow)
                continue
            envelopes = [i.envelope for i in run if i.envelope is not None]
            uow.cause = envelopes[-1]
            profiles = [e.event for e in envelopes if isinstance(e.event, ParticipantProfile)]
            with bound(cohort_id=envelopes[0].cohort_id, event_id=envelopes[0].id):
                await self.on_profiles(profiles, uow)


def _runs_of_one_kind(items: list[Item]) -> list[list[Item]]:
    """Consecutive profiles, consecutive tombstones, keeping the order across the two."""
    runs: list[list[Item]] = []
    for item in items:
        if runs and (runs[-1][-1].envelope is None) == (item.envelope is None):
            runs[-1].append(item)
        else:
            runs.append([item])
    return runs
