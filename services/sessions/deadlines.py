"""The feedback deadline: held sessions whose window closed are announced without waiting more.

A background task of the service runs :meth:`SessionsCommands.close_lapsed_feedback` every
``feedback_sweep_interval_s``. Replicas may sweep at the same moment: each session is announced
in a transaction that also marks it, so a second sweeper conflicts, re-runs and finds nothing.
"""

from __future__ import annotations

import asyncio
import contextlib

from services.runtime.log import get_logger
from services.sessions.commands import SessionsCommands

log = get_logger(__name__)


class FeedbackDeadlines:
    def __init__(self, commands: SessionsCommands, interval_s: float) -> None:
        self.commands = commands
        self.interval_s = interval_s
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="feedback-deadlines")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                if closed := await self.commands.close_lapsed_feedback():
                    log.info("feedback_windows_closed", sessions=closed)
            except Exception as exc:  # the next sweep tries again; the loop must not die
                log.warning("feedback_sweep_failed", error=repr(exc))
            await asyncio.sleep(self.interval_s)
