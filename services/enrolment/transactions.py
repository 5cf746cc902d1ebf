"""Outbox transactions that retry, and the per-cohort turn that keeps them from colliding.

Changes to one cohort's membership all write its fence document (see :mod:`store`). Within a
replica they take turns (:meth:`Transactions.cohort_turn`) rather than abort each other; between
replicas MongoDB aborts one of two colliding transactions with a write conflict and
:meth:`Transactions.run` runs it again (the runtime's ``Outbox.retrying``).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from typing import TypeVar

from services.runtime.outbox import Outbox, UnitOfWork

T = TypeVar("T")


class Transactions:
    def __init__(self, outbox: Outbox, attempts: int = 10) -> None:
        self.outbox = outbox
        self.attempts = attempts
        self._turns: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary())

    async def run(self, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        """``work`` in one outbox transaction, run again from the start on a write conflict."""
        return await self.outbox.retrying(work, attempts=self.attempts)

    def cohort_turn(self, cohort_id: str) -> asyncio.Lock:
        """This replica's turn to change ``cohort_id``."""
        turn = self._turns.get(cohort_id)
        if turn is None:
            turn = self._turns[cohort_id] = asyncio.Lock()
        return turn
