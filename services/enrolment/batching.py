"""Group commit: concurrent requests for one cohort share a transaction instead of queueing.

Every change to a cohort's membership writes the cohort's fence document, so a replica applies
them one transaction at a time. Rather than committing each waiting enrolment on its own, whoever
gets the turn writes everything queued meanwhile (up to ``max_batch``) in one transaction and
hands each caller its own result. Alone, a request costs one transaction as before; with 50 in
flight for one cohort, they cost a few.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Generic[T, R]):
    def __init__(self, flush: Callable[[list[T]], Awaitable[list[R]]], max_batch: int) -> None:
        self._flush = flush
        self.max_batch = max_batch
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._turn = asyncio.Lock()

    async def submit(self, item: T) -> R:
        """``item``'s result; it may have been written by another caller's flush."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        while not future.done():
            async with self._turn:
                if not future.done():
                    batch = self._pending[:self.max_batch]
                    del self._pending[:len(batch)]
                    # shielded: a caller that goes away must not abort the others' transaction
                    await asyncio.shield(self._run(batch))
        return future.result()

    async def _run(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            results = await self._flush([item for item, _ in batch])
        except Exception as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)
