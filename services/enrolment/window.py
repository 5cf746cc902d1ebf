"""Closes cohorts whose enrolment window has ended: a background task of the enrolment service.

One pass (:meth:`WindowCloser.close_due_cohorts`) finds open cohorts with ``closes_at <= now``
and closes each in its own transaction with reason ``window_ended`` and ``closed_at`` = the end
of the window. Closing is conditional on the cohort still being open, so several replicas, or an
admin closing at the same moment, yield exactly one ``CohortClosed``. The task runs a pass at
start-up (cohorts that ended while the service was down close at once) and then every
``window_check_interval_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime

from pymongo.errors import PyMongoError

from contracts.enrolment import CloseReason
from services.enrolment.commands import EnrolmentCommands
from services.runtime.errors import Conflict, NotFound
from services.runtime.log import get_logger

log = get_logger(__name__)


class WindowCloser:
    def __init__(self, commands: EnrolmentCommands, interval_s: float) -> None:
        self.commands = commands
        self.interval_s = interval_s
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def close_due_cohorts(self, now: datetime | None = None) -> list[str]:
        """One pass: close every open cohort whose window ended by ``now``; their ids."""
        now = now or self.commands.clock()
        closed: list[str] = []
        while due := await self.commands.store.due_cohorts(now):
            progressed = False
            for cohort in due:
                try:
                    await self.commands.close_cohort(
                        cohort.tenant_id, cohort.cohort_id, reason=CloseReason.WINDOW_ENDED,
                        closed_at=cohort.closes_at,
                    )
                except (Conflict, NotFound):  # closed meanwhile by an admin or another replica
                    continue
                closed.append(cohort.cohort_id)
                progressed = True
            if not progressed:
                break
        return closed

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.close_due_cohorts()
            except PyMongoError as exc:  # the database is down: try again next interval
                log.warning("window_closer_failed", error=type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.interval_s)

    async def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self.run(), name="enrolment-window-closer")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            await self._task
            self._task = None
